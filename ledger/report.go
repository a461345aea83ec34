package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ReportFields are the dimensions a report can be grouped by, in output order.
var ReportFields = []string{"type", "method", "category", "contractor", "site"}

// reportColumn is each field's column in the summary (s) or contractors (c).
var reportColumn = map[string]string{
	"type": "s.type", "method": "s.method", "category": "s.category", "contractor": "c.name", "site": "s.site",
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
	WeightG       int64 // sum of the items' weights under WeightRule
	WeighedCount  int64 // how many of Count have a weight (their own or a run's share)
	// BatchWeighedCount is how many of WeighedCount take their weight from
	// their destruction run's gross weight (see WeightRule).
	BatchWeighedCount int64
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
// disposition, grouped by q.By. Weights follow WeightRule: an item's own
// weight, else its share of its destruction run's gross weight; no other
// weight is invented, and WeighedCount says how many items WeightG covers.
// It returns ErrInvalid for an unknown q.By field.
func (s *Store) Report(q ReportQuery) ([]ReportRow, error) {
	return report(s.db, q)
}

// Reports runs several report queries over one consistent snapshot of the
// ledger, so that their totals agree even while others write. It returns
// ErrInvalid for an unknown By field.
func (s *Store) Reports(qs ...ReportQuery) ([][]ReportRow, error) {
	out := make([][]ReportRow, len(qs))
	err := s.readSnapshot(func(rq readQuerier) error {
		for i, q := range qs {
			var err error
			if out[i], err = report(rq, q); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// readQuerier is what read-only queries need: *sql.DB or a snapshot.
type readQuerier interface {
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

// snapshotConn runs queries on one connection inside a deferred
// transaction: every query sees the same committed state (WAL snapshot).
type snapshotConn struct{ conn *sql.Conn }

func (c snapshotConn) Query(q string, args ...any) (*sql.Rows, error) {
	return c.conn.QueryContext(context.Background(), q, args...)
}

func (c snapshotConn) QueryRow(q string, args ...any) *sql.Row {
	return c.conn.QueryRowContext(context.Background(), q, args...)
}

// readSnapshot runs fn over a read-only snapshot of the ledger. The store
// begins write transactions IMMEDIATE (see Open); a plain deferred BEGIN on
// a dedicated connection takes no write lock, so writers are not held up.
func (s *Store) readSnapshot(fn func(readQuerier) error) error {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return fmt.Errorf("read: begin: %w", err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)
	return fn(snapshotConn{conn})
}

func report(db readQuerier, q ReportQuery) ([]ReportRow, error) {
	query, args, err := reportSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(query, args...)
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
		dest = append(dest, &r.Count, &r.WeightG, &r.WeighedCount, &r.BatchWeighedCount)
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

// reportSQL is the query Report runs for q and its arguments: a GROUP BY
// over the maintained summary (summary.go), never over disposals.
func reportSQL(q ReportQuery) (string, []any, error) {
	yearCol := "s.year"
	if q.FinancialYear {
		yearCol = "s.fin_year"
	}
	cols := []string{yearCol}
	for _, f := range q.By {
		c, ok := reportColumn[f]
		if !ok {
			return "", nil, fmt.Errorf("%w: cannot group by %q", ErrInvalid, f)
		}
		cols = append(cols, c)
	}
	var args []any
	query := `SELECT ` + strings.Join(cols, ", ") + `, sum(s.count), sum(s.weight_g), sum(s.weighed_count), sum(s.batch_weighed_count)
		FROM summary s JOIN contractors c ON c.id = s.contractor_id
		WHERE 1`
	if len(q.Years) > 0 {
		query += ` AND ` + yearCol + ` IN (` + strings.TrimSuffix(strings.Repeat("?,", len(q.Years)), ",") + `)`
		for _, y := range q.Years {
			args = append(args, y)
		}
	}
	query += ` GROUP BY ` + strings.Join(cols, ", ") + ` ORDER BY ` + strings.Join(cols, ", ")
	return query, args, nil
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
		cw := &csvWriter{w: w}
		cw.record(append(append([]string{"year"}, by...), "count", "weight_grams", "weighed_count"))
		for _, r := range rows {
			rec := []string{r.YearLabel()}
			for _, f := range by {
				rec = append(rec, r.Fields[f])
			}
			rec = append(rec, strconv.FormatInt(r.Count, 10), strconv.FormatInt(r.WeightG, 10), strconv.FormatInt(r.WeighedCount, 10))
			cw.record(rec)
		}
		return cw.err
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
	type tot struct{ count, weight, weighed, batch int64 }
	var totals []tot
	var labels []string
	var cells [][]string
	for i, r := range rows {
		line := []string{r.YearLabel()}
		for _, f := range by {
			v := r.Fields[f]
			if f == "type" {
				v = DeviceType(v).Label() // the codes stay in csv and json
			}
			line = append(line, orDash(v))
		}
		cells = append(cells, append(line, Thousands(r.Count), weightCell(r.WeightG, r.WeighedCount), coverage(r.WeighedCount, r.BatchWeighedCount, r.Count)))
		if i == 0 || rows[i-1].Year != r.Year {
			totals = append(totals, tot{})
			labels = append(labels, r.YearLabel())
		}
		t := &totals[len(totals)-1]
		t.count += r.Count
		t.weight += r.WeightG
		t.weighed += r.WeighedCount
		t.batch += r.BatchWeighedCount
	}
	if len(by) > 0 {
		cells = append(cells, nil) // blank separator row
		for i, t := range totals {
			line := []string{labels[i], "all"}
			for range by[1:] {
				line = append(line, "")
			}
			cells = append(cells, append(line, Thousands(t.count), weightCell(t.weight, t.weighed), coverage(t.weighed, t.batch, t.count)))
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

// coverage says how many items a weight covers, and how many of those
// take their weight from a destruction run's gross weight.
func coverage(weighed, batch, count int64) string {
	s := fmt.Sprintf("weight recorded for %s of %s", Thousands(weighed), CountOf(count, "item", "items"))
	if batch > 0 {
		s += fmt.Sprintf(", %s of them from a run's gross weight", Thousands(batch))
	}
	return s
}

// WeightRule explains, for README, --help and the outputs themselves, how
// item weights are counted by Report, FOI and Export.
const WeightRule = "An item with a weight of its own counts that weight. A destruction run (batch) whose\n" +
	"output was weighed counts its gross weight G once: the run's items without a weight of\n" +
	"their own share G - W, where W is the sum of the own weights of the run's items, equally\n" +
	"in whole grams (the remainder one gram each to the first by serial), and count as weighed,\n" +
	"with weight source \"batch\". If G is not more than W, or the run was not weighed, they stay\n" +
	"unweighed. A run's items are the final dispositions recorded in it. No other weight is\n" +
	"ever estimated."

// The weight rule in SQL. Reports, FOI answers and exports read the shares
// it gives from weight_shares, kept with the records (summary.go), which
// it fills and against which verify checks them; certificates and `batch
// show` compute their runs' shares with it directly. weightCTE defines:
//
//	runs(id)               the weighed runs whose shares are needed: every
//	                       weighed run, or those narrowed at /*runs*/
//	bw(batch_id, rest, n)  per run of runs: rest = G - W, where W sums the
//	                       own weights of the run's final dispositions, and
//	                       n = how many of them have no weight
//	alloc(id, share)       per final disposition without a weight in a run
//	                       with rest > 0: rest/n grams, plus one gram for
//	                       the first rest%n of them in serial order
//
// A query using it joins weightJoin (alias a) and reads an item's weight
// as weightExpr (NULL when unweighed) and its source as sourceExpr. The
// /*runs*/ comment is where weightCTEFor narrows runs. A run's shares
// depend only on its own final dispositions, so narrowing runs to those
// with an item among the rows a query reads changes no weight it reads. bw and alloc write +x.is_final so that the planner
// reaches a run's disposals by disposals_batch, never through
// disposals_final_year (every final disposal of every year).
const weightCTE = `WITH runs AS (
	SELECT r.id AS id FROM batches r WHERE r.gross_weight_g IS NOT NULL /*runs*/
), bw AS (
	SELECT x.batch_id AS batch_id, b.gross_weight_g - coalesce(sum(x.weight_g), 0) AS rest,
		count(*) - count(x.weight_g) AS n
	FROM disposals x JOIN batches b ON b.id = x.batch_id
	WHERE +x.is_final = 1 AND b.gross_weight_g IS NOT NULL AND x.batch_id IN (SELECT id FROM runs)
	GROUP BY x.batch_id, b.gross_weight_g
), alloc AS (
	SELECT x.id AS id, bw.rest / bw.n +
		(row_number() OVER (PARTITION BY x.batch_id ORDER BY d.serial_key, x.id) <= bw.rest % bw.n) AS share
	FROM disposals x JOIN devices d ON d.id = x.device_id JOIN bw ON bw.batch_id = x.batch_id
	WHERE +x.is_final = 1 AND x.weight_g IS NULL AND bw.rest > 0 AND bw.n > 0
)`

const (
	weightJoin = `LEFT JOIN alloc a ON a.id = x.id`
	weightExpr = `coalesce(x.weight_g, a.share)`
	sourceExpr = `CASE WHEN x.weight_g IS NOT NULL THEN 'item' WHEN a.share IS NOT NULL THEN 'batch' ELSE '' END`
)

// DataAsOf returns the time of the latest change to the data that reports
// are computed from: the newest event recorded on a contractor, device,
// batch, disposal or setting, amendment or correction, or a batch closing. Consultations
// (reports, exports, FOI answers) do not change it, so a report of an
// unchanged ledger can carry the same date every time. It returns the zero
// time for an empty ledger.
func (s *Store) DataAsOf() (time.Time, error) {
	var at, closed sql.NullString
	err := s.db.QueryRow(`SELECT (SELECT at FROM events WHERE seq = (SELECT max(m) FROM (
			SELECT max(seq) AS m FROM contractors UNION ALL SELECT max(seq) FROM devices
			UNION ALL SELECT max(seq) FROM batches UNION ALL SELECT max(seq) FROM disposals
			UNION ALL SELECT max(seq) FROM settings
			UNION ALL SELECT max(seq) FROM events WHERE action IN (?, ?, ?, ?, ?)))),
		(SELECT max(closed_at) FROM batches)`, "device.amend", "disposal.amend", VoidAction, SerialAction, BatchAmendAction).Scan(&at, &closed)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger date: %w", err)
	}
	latest := at.String
	if closed.String > latest { // both are TimeFormat: text order is time order
		latest = closed.String
	}
	if latest == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(TimeFormat, latest)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger date %q: %w", latest, err)
	}
	return t, nil
}
