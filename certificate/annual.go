package certificate

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/ledger"
)

// AnnualReport is what the annual summary PDF shows: ledger reports of the
// same years, all computed by ledger.Store.Reports from one snapshot.
type AnnualReport struct {
	Org           string
	FinancialYear bool
	// AsOf is the time of the latest change to the ledger's data
	// (ledger.Store.DataAsOf). It is the PDF's creation date, so that the
	// same ledger always gives the same bytes.
	AsOf       time.Time
	ByYear     []ledger.ReportRow // not grouped
	ByType     []ledger.ReportRow // grouped by type
	ByMethod   []ledger.ReportRow // grouped by method
	ByCategory []ledger.ReportRow // grouped by category
	// WeightRule explains the weights (ledger.WeightRule).
	WeightRule string
}

// annualEpoch is the creation date of the report of an empty ledger:
// gofpdf would otherwise use the current time.
var annualEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Page geometry, in millimetres on A4 portrait.
const (
	annualMargin = 15.0
	annualWidth  = 210.0 - 2*annualMargin
	annualRow    = 5.5
)

// The category colours of the chart (RGB): clear, purge, destroy.
var annualColours = map[string][3]int{
	"clear":   {120, 170, 220},
	"purge":   {240, 170, 60},
	"destroy": {170, 40, 40},
}

var annualCategories = []string{"clear", "purge", "destroy"}

// RenderAnnualReport draws the annual summary: a title with the
// organisation, totals by year with weights and their coverage, a bar chart
// of items per year by NIST SP 800-88 category, items by type and by method,
// and notes, with "Page x of y" on every page. The PDF embeds subsets of
// the Go fonts, so that names in Latin, Greek or Cyrillic script print
// (see clean), and has a sorted catalog and AsOf as its dates, so it is
// byte-for-byte reproducible. It returns gofpdf's error if drawing fails.
func RenderAnnualReport(r AnnualReport) ([]byte, error) {
	asOf := r.AsOf.UTC()
	if asOf.IsZero() {
		asOf = annualEpoch
	}
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(asOf)
	pdf.SetModificationDate(asOf)
	pdf.SetMargins(annualMargin, annualMargin, annualMargin)
	pdf.SetAutoPageBreak(true, 18)
	pdf.AliasNbPages("{nb}")
	addGoFonts(pdf, false, "", "B", "I")
	tr := clean
	title := "Annual disposal report"
	pdf.SetTitle(title+": "+r.Org, true)
	pdf.SetAuthor(r.Org, true)
	pdf.SetCreator("itad", true)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-13)
		pdf.SetFont(fontSans, "", 8)
		pdf.SetTextColor(100, 100, 100)
		pdf.CellFormat(annualWidth/2, 5, tr(r.Org+" - "+title), "", 0, "L", false, 0, "")
		pdf.CellFormat(annualWidth/2, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()

	years := annualYears(r.ByYear)
	pdf.SetFont(fontSans, "B", 18)
	pdf.CellFormat(0, 9, title, "", 1, "L", false, 0, "")
	pdf.SetFont(fontSans, "", 13)
	pdf.CellFormat(0, 7, tr(r.Org), "", 1, "L", false, 0, "")
	pdf.SetFont(fontSans, "", 9)
	pdf.SetTextColor(80, 80, 80)
	var ys []int
	for _, y := range years {
		ys = append(ys, y.year)
	}
	span := ledger.YearsPhrase(ys, r.FinancialYear) // "Calendar years 2021 to 2025"
	if len(ys) == 0 {
		span = strings.TrimSuffix(span, ": none") + ": none recorded"
	}
	if r.FinancialYear {
		span = "UK f" + strings.TrimPrefix(span, "F") + " (1 April to 31 March)"
	}
	pdf.MultiCell(0, 4.5, tr(fmt.Sprintf("%s. Figures as of %s, the latest change to the ledger. "+
		"Each device is counted once, by its final disposition: its latest destruction, else its latest wipe.",
		span, asOf.Format("2 January 2006 15:04 MST"))), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	pdf.Ln(4)

	if len(years) == 0 {
		pdf.SetFont(fontSans, "", 11)
		pdf.CellFormat(0, 8, "No disposals are recorded for the years asked.", "", 1, "L", false, 0, "")
	} else {
		byCat := annualPivot(r.ByCategory, "category")
		annualHeading(pdf, "Totals by year")
		head := []string{"Year", "Items", "Cleared", "Purged", "Destroyed", "Weight (kg)", "Weight recorded for"}
		widths := []float64{24, 20, 20, 20, 22, 28, 46}
		var rows [][]string
		var tot ledger.ReportRow
		for _, y := range years {
			row := y.row
			rows = append(rows, []string{y.label, ledger.Thousands(row.Count),
				ledger.Thousands(byCat.count("clear", y.year)), ledger.Thousands(byCat.count("purge", y.year)),
				ledger.Thousands(byCat.count("destroy", y.year)), annualKg(row), annualCoverage(row)})
			tot.Count += row.Count
			tot.WeightG += row.WeightG
			tot.WeighedCount += row.WeighedCount
			tot.BatchWeighedCount += row.BatchWeighedCount
		}
		if len(years) > 1 {
			rows = append(rows, []string{"All", ledger.Thousands(tot.Count), ledger.Thousands(byCat.total("clear")),
				ledger.Thousands(byCat.total("purge")), ledger.Thousands(byCat.total("destroy")), annualKg(tot), annualCoverage(tot)})
		}
		annualTable(pdf, tr, head, widths, rows, len(years) > 1)
		if tot.BatchWeighedCount > 0 {
			pdf.SetFont(fontSans, "I", 8)
			pdf.MultiCell(0, 4, tr(fmt.Sprintf("%s of the weighed items take a share of their destruction run's gross weight (see Notes).",
				ledger.Thousands(tot.BatchWeighedCount))), "", "L", false)
		}
		pdf.Ln(5)

		annualHeading(pdf, "Items disposed of per year by NIST SP 800-88 category")
		annualChart(pdf, years, byCat, r.FinancialYear)
		pdf.Ln(4)

		for _, part := range []struct {
			heading, field, first string
			rows                  []ledger.ReportRow
			label                 func(string) string
		}{
			{"Items by type", "type", "Type", r.ByType, func(v string) string { return ledger.FormatType(ledger.DeviceType(v)) }},
			{"Items by method", "method", "Method", r.ByMethod, func(v string) string { return methodName(ledger.Method(v)) }},
		} {
			annualPivotTables(pdf, tr, part.heading, part.first, annualPivot(part.rows, part.field), years, part.label)
		}
	}

	annualHeading(pdf, "Notes")
	pdf.SetFont(fontSans, "", 8.5)
	notes := []string{
		"Cleared: overwritten (NIST SP 800-88 clear). Purged: block-erased, crypto-erased or degaussed (purge). " +
			"Destroyed: shredded, disintegrated, pulverised or incinerated (destroy).",
		"Weights: " + strings.ReplaceAll(r.WeightRule, "\n", " "),
		"No weight is estimated beyond that rule: \"weight recorded for\" says how many items a weight covers.",
	}
	for _, n := range notes {
		pdf.MultiCell(0, 4.2, tr("- "+n), "", "L", false)
		pdf.Ln(1)
	}

	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("annual report: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("annual report: %w", err)
	}
	return buf.Bytes(), nil
}

// annualYear is a year of the report with its totals.
type annualYear struct {
	year  int
	label string
	row   ledger.ReportRow
}

func annualYears(rows []ledger.ReportRow) []annualYear {
	var ys []annualYear
	for _, r := range rows {
		ys = append(ys, annualYear{r.Year, r.YearLabel(), r})
	}
	sort.Slice(ys, func(i, j int) bool { return ys[i].year < ys[j].year })
	return ys
}

// annualCounts is a report pivoted: value of the grouped field -> year ->
// row, with the values in the ledger's order (see annualPivot).
type annualCounts struct {
	names []string
	cells map[string]map[int]ledger.ReportRow
}

func annualPivot(rows []ledger.ReportRow, field string) annualCounts {
	p := annualCounts{cells: map[string]map[int]ledger.ReportRow{}}
	for _, r := range rows {
		v := r.Fields[field]
		if p.cells[v] == nil {
			p.cells[v] = map[int]ledger.ReportRow{}
			p.names = append(p.names, v)
		}
		p.cells[v][r.Year] = r
	}
	// The ledger's own orders: storage media first, methods by strength,
	// categories clear, purge, destroy; anything else after, by name.
	order := map[string]int{}
	for i, t := range ledger.DeviceTypes {
		order[string(t)] = i + 1
	}
	for i, m := range ledger.Methods {
		order[string(m)] = i + 1
	}
	for i, c := range annualCategories {
		order[c] = i + 1
	}
	sort.SliceStable(p.names, func(i, j int) bool {
		a, b := order[p.names[i]], order[p.names[j]]
		if a == 0 || b == 0 {
			if a != b {
				return b == 0
			}
			return p.names[i] < p.names[j]
		}
		return a < b
	})
	return p
}

func (p annualCounts) count(name string, year int) int64 { return p.cells[name][year].Count }

func (p annualCounts) total(name string) int64 {
	var n int64
	for _, r := range p.cells[name] {
		n += r.Count
	}
	return n
}

func annualKg(r ledger.ReportRow) string {
	if r.WeighedCount == 0 {
		return "not recorded"
	}
	return ledger.FormatKg(r.WeightG)
}

func annualCoverage(r ledger.ReportRow) string {
	return fmt.Sprintf("%s of %s", ledger.Thousands(r.WeighedCount), ledger.CountOf(r.Count, "item", "items"))
}

func annualHeading(pdf *gofpdf.Fpdf, s string) {
	// Keep a heading with at least a few lines of what follows it.
	if pdf.GetY() > 297-18-30 {
		pdf.AddPage()
	}
	pdf.SetFont(fontSans, "B", 12)
	pdf.CellFormat(0, 8, s, "", 1, "L", false, 0, "")
}

// annualTable draws a table with a shaded header row, the first column
// left-aligned and the others right-aligned. When lastBold, the last row is
// a total. The header is repeated after a page break.
func annualTable(pdf *gofpdf.Fpdf, tr func(string) string, head []string, widths []float64, rows [][]string, lastBold bool) {
	header := func() {
		pdf.SetFont(fontSans, "B", 8.5)
		pdf.SetFillColor(230, 230, 230)
		for i, h := range head {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(widths[i], annualRow+0.5, tr(h), "B", 0, align, true, 0, "")
		}
		pdf.Ln(-1)
	}
	header()
	for ri, row := range rows {
		if pdf.GetY()+annualRow > 297-18 {
			pdf.AddPage()
			header()
		}
		style, border := "", ""
		if lastBold && ri == len(rows)-1 {
			style, border = "B", "T"
		}
		pdf.SetFont(fontSans, style, 8.5)
		for i, c := range row {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(widths[i], annualRow, tr(c), border, 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
}

// annualPivotTables draws items per value (type or method) and year, with
// a total, the weight of all the years shown and its coverage. Years are
// split evenly into tables of at most six.
// label shows a value of the grouped field (a type's label for a code).
func annualPivotTables(pdf *gofpdf.Fpdf, tr func(string) string, heading, first string, p annualCounts, years []annualYear, label func(string) string) {
	// At most six year columns fit: more years are split evenly.
	const maxPerTable = 6
	tables := (len(years) + maxPerTable - 1) / maxPerTable
	perTable := (len(years) + tables - 1) / tables
	for start := 0; start < len(years); start += perTable {
		end := min(start+perTable, len(years))
		chunk := years[start:end]
		h := heading
		if tables > 1 {
			h += fmt.Sprintf(" (%s to %s)", chunk[0].label, chunk[len(chunk)-1].label)
			if len(chunk) == 1 {
				h = heading + " (" + chunk[0].label + ")"
			}
		}
		annualHeading(pdf, h)
		head := []string{first}
		widths := []float64{28}
		yearW := (annualWidth - 28 - 18 - 24 - 32) / float64(len(chunk))
		for _, y := range chunk {
			head = append(head, y.label)
			widths = append(widths, yearW)
		}
		head = append(head, "Total", "Weight (kg)", "Weight recorded for")
		widths = append(widths, 18, 24, 32)
		var rows [][]string
		for _, name := range p.names {
			var sum ledger.ReportRow
			row := []string{label(name)}
			if name == "" {
				row[0] = "not recorded"
			}
			for _, y := range chunk {
				c := p.cells[name][y.year]
				row = append(row, annualDash(c.Count))
				sum.Count += c.Count
				sum.WeightG += c.WeightG
				sum.WeighedCount += c.WeighedCount
			}
			if sum.Count == 0 {
				continue
			}
			rows = append(rows, append(row, ledger.Thousands(sum.Count), annualKg(sum), annualCoverage(sum)))
		}
		annualTable(pdf, tr, head, widths, rows, false)
		pdf.Ln(5)
	}
}

func annualDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return ledger.Thousands(n)
}

// annualChart draws grouped bars: for each year, one bar per category,
// with a value axis of round ticks, axis titles and a legend.
func annualChart(pdf *gofpdf.Fpdf, years []annualYear, p annualCounts, financial bool) {
	const (
		chartH = 70.0 // plot area height
		leftW  = 18.0 // room for tick labels and the axis title
		below  = 14.0 // room for year labels and the axis title
	)
	if pdf.GetY()+chartH+below+12 > 297-18 {
		pdf.AddPage()
	}
	// Legend, above the plot on the right.
	pdf.SetFont(fontSans, "", 8)
	x := annualMargin + annualWidth
	for i := len(annualCategories) - 1; i >= 0; i-- {
		c := annualCategories[i]
		name := strings.ToUpper(c[:1]) + c[1:]
		w := pdf.GetStringWidth(name) + 2
		x -= w
		pdf.Text(x+1, pdf.GetY()+3.2, name)
		x -= 4
		col := annualColours[c]
		pdf.SetFillColor(col[0], col[1], col[2])
		pdf.Rect(x, pdf.GetY()+0.8, 3.2, 3.2, "F")
		x -= 3
	}
	top := pdf.GetY() + 7
	left := annualMargin + leftW
	plotW := annualWidth - leftW
	bottom := top + chartH

	var maxV int64
	for _, c := range annualCategories {
		for _, y := range years {
			maxV = max(maxV, p.count(c, y.year))
		}
	}
	step := annualStep(maxV)
	axisMax := step * int64(math.Ceil(float64(maxV)/float64(step)))
	if axisMax == 0 {
		axisMax = step
	}
	scale := chartH / float64(axisMax)

	// Grid lines and tick labels.
	pdf.SetFont(fontSans, "", 7.5)
	pdf.SetLineWidth(0.1)
	for v := int64(0); v <= axisMax; v += step {
		yy := bottom - float64(v)*scale
		pdf.SetDrawColor(210, 210, 210)
		if v == 0 {
			pdf.SetDrawColor(0, 0, 0)
		}
		pdf.Line(left, yy, left+plotW, yy)
		label := ledger.Thousands(v)
		pdf.Text(left-1.5-pdf.GetStringWidth(label), yy+1, label)
	}
	pdf.SetDrawColor(0, 0, 0)
	pdf.Line(left, top, left, bottom)

	// Bars. Year labels are thinned out when they would overlap.
	groupW := plotW / float64(len(years))
	pdf.SetFont(fontSans, "", 8)
	labelEvery := 1
	for labelEvery < len(years) && pdf.GetStringWidth(years[0].label)+2 > groupW*float64(labelEvery) {
		labelEvery++
	}
	barW := math.Min(groupW*0.8/float64(len(annualCategories)), 14)
	for i, y := range years {
		gx := left + groupW*float64(i) + (groupW-barW*float64(len(annualCategories)))/2
		for j, c := range annualCategories {
			v := p.count(c, y.year)
			h := float64(v) * scale
			col := annualColours[c]
			pdf.SetFillColor(col[0], col[1], col[2])
			bx := gx + barW*float64(j)
			if v > 0 {
				pdf.Rect(bx, bottom-h, barW, h, "F")
			}
			if len(years)*len(annualCategories) <= 30 {
				label := ledger.Thousands(v)
				pdf.SetFont(fontSans, "", 6.5)
				pdf.Text(bx+(barW-pdf.GetStringWidth(label))/2, bottom-h-1, label)
			}
		}
		pdf.SetFont(fontSans, "", 8)
		if i%labelEvery == 0 {
			pdf.Text(left+groupW*float64(i)+(groupW-pdf.GetStringWidth(y.label))/2, bottom+4.5, y.label)
		}
	}

	// Axis titles.
	pdf.SetFont(fontSans, "B", 8)
	xTitle := "Year"
	if financial {
		xTitle = "Financial year"
	}
	pdf.Text(left+(plotW-pdf.GetStringWidth(xTitle))/2, bottom+10, xTitle)
	yTitle := "Items (final disposition)"
	ty := top + (chartH+pdf.GetStringWidth(yTitle))/2
	pdf.TransformBegin()
	pdf.TransformRotate(90, annualMargin+3, ty)
	pdf.Text(annualMargin+3, ty, yTitle)
	pdf.TransformEnd()
	pdf.SetY(bottom + below)
}

// annualStep picks a round tick step (1, 2 or 5 times a power of ten) that
// gives at most six intervals up to maxV.
func annualStep(maxV int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if s := m * p; maxV <= 6*s {
				return s
			}
		}
	}
}
