package ledger

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ReportFields are the dimensions a report can be grouped by, in output order.
var ReportFields = []string{"type", "method", "category", "contractor", "site"}

var reportColumn = map[string]string{
	"type": "d.type", "method": "x.method", "category": "x.category", "contractor": "c.name", "site": "d.site",
}

// ReportQuery selects and groups a report. Only each device's final
// disposition counts.
type ReportQuery struct {
	Years         []int    // empty: every year
	FinancialYear bool     // UK April-to-March years instead of calendar years
	By            []string // subset of ReportFields
}

// ReportRow is one line of a report: counts and weights for a year and
// one combination of the grouped fields.
type ReportRow struct {
	Year          int
	FinancialYear bool
	Fields        map[string]string // grouped field -> value
	Count         int64
	WeightG       int64 // sum of the recorded weights
	WeighedCount  int64 // how many of Count have a recorded weight
}

// YearLabel shows the row's year: "2020", or "2020/21" for financial years.
func (r ReportRow) YearLabel() string {
	if r.FinancialYear {
		return FormatFinancialYear(r.Year)
	}
	return strconv.Itoa(r.Year)
}

// ParseBy checks a --by list ("type,method") against ReportFields.
func ParseBy(list []string) ([]string, error) {
	seen := map[string]bool{}
	for _, item := range list {
		for _, f := range strings.Split(item, ",") {
			f = strings.ToLower(strings.TrimSpace(f))
			if f == "" {
				continue
			}
			if _, ok := reportColumn[f]; !ok {
				return nil, fmt.Errorf("%w: cannot group by %q (one of %s)", ErrInvalid, f, strings.Join(ReportFields, ", "))
			}
			seen[f] = true
		}
	}
	var out []string
	for _, f := range ReportFields { // canonical order
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// Report computes counts and weights per year of each device's final
// disposition, grouped by q.By. No weight is invented: WeighedCount says
// how many items WeightG covers.
func (s *Store) Report(q ReportQuery) ([]ReportRow, error) {
	yearCol := "x.year"
	if q.FinancialYear {
		yearCol = "x.fin_year"
	}
	cols := []string{yearCol}
	for _, f := range q.By {
		c, ok := reportColumn[f]
		if !ok {
			return nil, fmt.Errorf("%w: cannot group by %q", ErrInvalid, f)
		}
		cols = append(cols, c)
	}
	query := `SELECT ` + strings.Join(cols, ", ") + `, count(*), coalesce(sum(x.weight_g), 0), count(x.weight_g)
		FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id
		WHERE x.is_final = 1`
	var args []any
	if len(q.Years) > 0 {
		query += ` AND ` + yearCol + ` IN (` + strings.TrimSuffix(strings.Repeat("?,", len(q.Years)), ",") + `)`
		for _, y := range q.Years {
			args = append(args, y)
		}
	}
	query += ` GROUP BY ` + strings.Join(cols, ", ") + ` ORDER BY ` + strings.Join(cols, ", ")
	rows, err := s.db.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer rows.Close()
	var out []ReportRow
	for rows.Next() {
		r := ReportRow{FinancialYear: q.FinancialYear, Fields: map[string]string{}}
		vals := make([]string, len(q.By))
		dest := []any{&r.Year}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &r.Count, &r.WeightG, &r.WeighedCount)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, f := range q.By {
			r.Fields[f] = vals[i]
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarshalJSON writes only the grouped fields, in a stable order:
// {"year":2020,"method":"shred","count":3,"weight_grams":1854,"weighed_count":2}.
// Financial years are written as "year":"2020/21".
func (r ReportRow) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"year":`)
	if r.FinancialYear {
		b.WriteString(strconv.Quote(r.YearLabel()))
	} else {
		b.WriteString(strconv.Itoa(r.Year))
	}
	for _, f := range ReportFields {
		if v, ok := r.Fields[f]; ok {
			enc, _ := json.Marshal(v)
			fmt.Fprintf(&b, `,%q:%s`, f, enc)
		}
	}
	fmt.Fprintf(&b, `,"count":%d,"weight_grams":%d,"weighed_count":%d}`, r.Count, r.WeightG, r.WeighedCount)
	return b.Bytes(), nil
}

// WriteReport writes rows as text, csv or json. by names the grouped
// fields (the columns of text and csv).
func WriteReport(w io.Writer, format string, by []string, rows []ReportRow) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []ReportRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(append(append([]string{"year"}, by...), "count", "weight_grams", "weighed_count"))
		for _, r := range rows {
			rec := []string{r.YearLabel()}
			for _, f := range by {
				rec = append(rec, r.Fields[f])
			}
			rec = append(rec, strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.WeightG, 10), strconv.FormatInt(r.WeighedCount, 10))
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "text", "":
		return writeReportText(w, by, rows)
	}
	return fmt.Errorf("%w: format %q (one of text, csv, json)", ErrInvalid, format)
}

func writeReportText(w io.Writer, by []string, rows []ReportRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No disposals recorded for the years asked.")
		return err
	}
	head := []string{"YEAR"}
	for _, f := range by {
		head = append(head, strings.ToUpper(f))
	}
	head = append(head, "ITEMS", "WEIGHT (KG)", "COVERAGE")
	right := make([]bool, len(head))
	right[len(head)-3], right[len(head)-2] = true, true
	type tot struct{ count, weight, weighed int64 }
	var totals []tot
	var labels []string
	var cells [][]string
	for i, r := range rows {
		line := []string{r.YearLabel()}
		for _, f := range by {
			line = append(line, orDash(r.Fields[f]))
		}
		cells = append(cells, append(line, Thousands(r.Count), weightCell(r.WeightG, r.WeighedCount), coverage(r.WeighedCount, r.Count)))
		if i == 0 || rows[i-1].Year != r.Year {
			totals = append(totals, tot{})
			labels = append(labels, r.YearLabel())
		}
		t := &totals[len(totals)-1]
		t.count += r.Count
		t.weight += r.WeightG
		t.weighed += r.WeighedCount
	}
	if len(by) > 0 {
		cells = append(cells, nil) // blank separator row
		for i, t := range totals {
			line := []string{labels[i], "all"}
			for range by[1:] {
				line = append(line, "")
			}
			cells = append(cells, append(line, Thousands(t.count), weightCell(t.weight, t.weighed), coverage(t.weighed, t.count)))
		}
	}
	return WriteTable(w, head, right, cells)
}

// WriteTable writes an aligned plain-text table: columns two spaces apart,
// right-aligned where right[i] is set, trailing spaces trimmed. A nil row
// is a blank line.
func WriteTable(w io.Writer, head []string, right []bool, rows [][]string) error {
	width := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			if n := utf8.RuneCountInString(c); n > width[i] {
				width[i] = n
			}
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{head}, rows...) {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < len(right) && right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// weightCell shows a weight in kg, or "not recorded" when no item in the
// group was weighed (never 0).
func weightCell(g, weighed int64) string {
	if weighed == 0 {
		return "not recorded"
	}
	return FormatKg(g)
}

// coverage says how many items a weight covers.
func coverage(weighed, count int64) string {
	return fmt.Sprintf("weight recorded for %s of %s items", Thousands(weighed), Thousands(count))
}
