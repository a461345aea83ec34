package web

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/itad/itad/ledger"
)

// dashboard shows the figures of `itad report` for a range of years
// (calendar or financial), by NIST category with a bar chart drawn here
// as SVG from the same rows shown in the table beside it, and by type,
// method, contractor and site, each with its weight and the weight's
// coverage. Every figure comes from ledger.Store.Dashboard.
func (s *Server) dashboard(req *request) error {
	q, err := dashQuery(req.r)
	if err != nil {
		s.errorPage(req, http.StatusBadRequest, "the year range is not valid: give four-digit years, the first not after the last")
		return nil
	}
	d, err := s.cfg.Store.Dashboard(q)
	if err != nil {
		return err
	}
	data := map[string]any{"D": d, "Q": q, "Chart": categoryChart(d), "Types": ledger.DeviceTypes,
		"Sites": values(d.BySite, "site", q.Site), "Contractors": values(d.ByContractor, "contractor", q.Contractor),
		"CatSection": section{"category", "By year and NIST category", "category", "Category", d.ByCategory},
		"Sections": []section{{"year", "By year", "", "", d.ByYear}, {"type", "By type", "type", "Type", d.ByType},
			{"method", "By method", "method", "Method", d.ByMethod}, {"contractor", "By contractor", "contractor", "Contractor", d.ByContractor},
			{"site", "By site", "site", "Site", d.BySite}}}
	payload := map[string]any{"from": q.FromYear, "to": q.ToYear, "financial_year": q.FinancialYear,
		"type": q.Type, "site": q.Site, "contractor": q.Contractor}
	d2 := ledger.Disclosure{Action: "report", Subject: "dashboard", Reason: s.reason(req), Payload: payload}
	return s.consultPage(req, req.store, d2, http.StatusOK, "dashboard", data)
}

// section is one table of the dashboard.
type section struct {
	ID, Title, Field, Head string
	Rows                   []ledger.ReportRow
}

func dashQuery(r *http.Request) (ledger.DashboardQuery, error) {
	g := r.URL.Query().Get
	from, err := yearParam(g("from"))
	if err != nil {
		return ledger.DashboardQuery{}, err
	}
	to, err := yearParam(g("to"))
	if err != nil {
		return ledger.DashboardQuery{}, err
	}
	if from != 0 && to != 0 && to < from {
		return ledger.DashboardQuery{}, ledger.ErrInvalid
	}
	return ledger.DashboardQuery{FromYear: from, ToYear: to, FinancialYear: g("years") == "financial",
		Type: strings.TrimSpace(g("type")), Site: strings.TrimSpace(g("site")), Contractor: strings.TrimSpace(g("contractor"))}, nil
}

// values lists the distinct values of a field in rows (for a filter's
// choices), with the selected one kept.
func values(rows []ledger.ReportRow, field, selected string) []string {
	seen := map[string]bool{}
	if selected != "" {
		seen[selected] = true
	}
	for _, r := range rows {
		if v := r.Fields[field]; v != "" {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// categoryColours are the chart's fills, dark enough for 3:1 contrast
// on white (WCAG non-text contrast).
var categoryColours = map[string]string{"clear": "#1f5fa8", "purge": "#9a5b00", "destroy": "#a51d2d"}

// categoryChart draws items per year by NIST category as grouped bars:
// an SVG whose only numbers are geometry computed from the dashboard's
// rows; the text table beside it carries the same figures for screen
// readers (the SVG is aria-hidden, described by the table).
func categoryChart(d ledger.Dashboard) template.HTML {
	cats := []string{string(ledger.Clear), string(ledger.Purge), string(ledger.Destroy)}
	count := map[string]int64{}
	var max int64
	for _, r := range d.ByCategory {
		k := fmt.Sprint(r.Year) + "/" + r.Fields["category"]
		count[k] = r.Count
		if r.Count > max {
			max = r.Count
		}
	}
	if len(d.Years) == 0 || max == 0 {
		return ""
	}
	const w, h, left, bottom, top = 640.0, 260.0, 56.0, 36.0, 12.0
	plotH := h - bottom - top
	slot := (w - left - 8) / float64(len(d.Years))
	bar := slot * 0.8 / float64(len(cats))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title" focusable="false">`, w, h)
	b.WriteString(`<title id="chart-title">Items per year by NIST SP 800-88 category (figures in the table)</title>`)
	// Axis and gridlines at 0, half and the maximum.
	for _, f := range []float64{0, 0.5, 1} {
		y := top + plotH*(1-f)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c3cad4" stroke-width="1"/>`, left, y, w-8, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="12" fill="#374151">%s</text>`, left-6, y+4,
			html.EscapeString(ledger.Thousands(int64(f*float64(max)+0.5))))
	}
	for i, y := range d.Years {
		x0 := left + float64(i)*slot + slot*0.1
		for j, c := range cats {
			n := count[fmt.Sprint(y)+"/"+c]
			bh := plotH * float64(n) / float64(max)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x0+float64(j)*bar, top+plotH-bh, bar*0.92, bh, categoryColours[c],
				html.EscapeString(yearLabel(y, d.Query.FinancialYear)), c, html.EscapeString(ledger.Thousands(n)))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#1b1f24">%s</text>`,
			x0+slot*0.4, h-bottom+16, html.EscapeString(yearLabel(y, d.Query.FinancialYear)))
	}
	// Legend.
	for j, c := range cats {
		x := left + float64(j)*110
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f" font-size="12" fill="#1b1f24">%s</text>`,
			x, h-14, categoryColours[c], x+16, h-4, c)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func yearLabel(y int, fin bool) string {
	return ledger.ReportRow{Year: y, FinancialYear: fin}.YearLabel()
}
