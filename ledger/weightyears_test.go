package ledger

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// spanCSV has destruction runs whose items span the years asked and not
// asked: SPAN (gross 1001 g) has items in 2020 and 2021, and X-1, recorded
// in SPAN in 2021, was finally incinerated in NEXT (gross 50 g) in 2022;
// OLD (gross 500 g) is all in 2019; L-1 is in no run.
const spanCSV = `serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes
S-1,,hdd,Seagate,ST4000,4000,DC-North,shred,,,yes,Albion ITAD plc,2020-12-30,0.100,SPAN,A. Patel,,
S-2,,hdd,Seagate,ST4000,4000,DC-North,shred,,,yes,Albion ITAD plc,2020-12-31,,SPAN,A. Patel,,
S-3,,hdd,Seagate,ST4000,4000,DC-North,shred,,,yes,Albion ITAD plc,2021-01-02,,SPAN,A. Patel,,
S-4,,hdd,Seagate,ST4000,4000,DC-North,shred,,,yes,Albion ITAD plc,2021-01-03,,SPAN,A. Patel,,
X-1,,hdd,Seagate,ST4000,4000,DC-North,degauss,,,yes,Albion ITAD plc,2021-01-04,,SPAN,A. Patel,,
X-1,,hdd,Seagate,ST4000,4000,DC-North,incinerate,,,yes,Albion ITAD plc,2022-02-01,,NEXT,A. Patel,,
N-1,,hdd,Seagate,ST4000,4000,DC-North,incinerate,,,yes,Albion ITAD plc,2022-02-01,0.020,NEXT,A. Patel,,
O-1,,hdd,Seagate,ST4000,4000,DC-South,shred,,,yes,Albion ITAD plc,2019-06-01,,OLD,A. Patel,,
O-2,,hdd,Seagate,ST4000,4000,DC-South,shred,,,yes,Albion ITAD plc,2019-06-01,,OLD,A. Patel,,
L-1,,laptop,Dell,E7450,,DC-South,overwrite,,,yes,Albion ITAD plc,2021-05-01,1.000,,A. Patel,,
`

func spanLedger(t testing.TB) *Store {
	t.Helper()
	s := mustOpen(t)
	if err := s.Init("Test Constabulary"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContractor(foiContractors[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import("span.csv", strings.NewReader(spanCSV), ImportOptions{AllowUnusualWeight: true}); err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		ref string
		g   int64
	}{{"SPAN", 1001}, {"NEXT", 50}, {"OLD", 500}} {
		g := run.g
		if _, err := s.CloseBatchOpts(run.ref, &g, RecordOptions{AllowUnusualWeight: true}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestReport_RunsSpanningYears checks that narrowing the weight rule to the
// runs with items in the years asked changes no figure: a run's shares are
// computed over all its items, whatever year is asked, and report, FOI and
// export agree for every choice of years.
func TestReport_RunsSpanningYears(t *testing.T) {
	s := spanLedger(t)
	// Worked by hand from WeightRule. SPAN: 1001 - 100 = 901 g shared by
	// S-2, S-3, S-4 (X-1's final disposition is in NEXT): 301, 300, 300.
	// NEXT: 50 - 20 = 30 g to X-1. OLD: 250 g each.
	calendar := map[int]Tally{
		2019: {Count: 2, WeightG: 500, WeighedCount: 2, BatchWeighedCount: 2},
		2020: {Count: 2, WeightG: 401, WeighedCount: 2, BatchWeighedCount: 1},
		2021: {Count: 3, WeightG: 1600, WeighedCount: 3, BatchWeighedCount: 2},
		2022: {Count: 2, WeightG: 50, WeighedCount: 2, BatchWeighedCount: 1},
	}
	financial := map[int]Tally{
		2019: {Count: 2, WeightG: 500, WeighedCount: 2, BatchWeighedCount: 2},
		2020: {Count: 4, WeightG: 1001, WeighedCount: 4, BatchWeighedCount: 3},
		2021: {Count: 3, WeightG: 1050, WeighedCount: 3, BatchWeighedCount: 1},
	}
	for _, tc := range []struct {
		fy    bool
		years []int
	}{
		{false, []int{2020}}, {false, []int{2021}}, {false, []int{2022}}, {false, []int{2020, 2021}},
		{false, []int{2019}}, {false, []int{1999}}, {false, []int{2019, 2022}}, {false, nil},
		{true, []int{2020}}, {true, []int{2021}}, {true, []int{2019, 2021}}, {true, []int{1999}}, {true, nil},
	} {
		t.Run(fmt.Sprintf("fy=%v/%v", tc.fy, tc.years), func(t *testing.T) {
			want := calendar
			if tc.fy {
				want = financial
			}
			asked := func(y int) bool {
				if len(tc.years) == 0 {
					return true
				}
				for _, a := range tc.years {
					if a == y {
						return true
					}
				}
				return false
			}
			rows, err := s.Report(ReportQuery{Years: tc.years, FinancialYear: tc.fy})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]Tally{}
			for _, r := range rows {
				got[r.Year] = Tally{Count: r.Count, WeightG: r.WeightG, WeighedCount: r.WeighedCount, BatchWeighedCount: r.BatchWeighedCount}
			}
			for y, w := range want {
				if asked(y) && got[y] != w {
					t.Errorf("report %d: %+v, want %+v", y, got[y], w)
				}
			}
			for y := range got {
				if !asked(y) || want[y] == (Tally{}) {
					t.Errorf("report has year %d, not asked or empty", y)
				}
			}
			// Grouped by type and method: the per-year sums are the same.
			by, err := s.Report(ReportQuery{Years: tc.years, FinancialYear: tc.fy, By: []string{"type", "method"}})
			if err != nil {
				t.Fatal(err)
			}
			sums := map[int]Tally{}
			for _, r := range by {
				t := sums[r.Year]
				t.add(Tally{Count: r.Count, WeightG: r.WeightG, WeighedCount: r.WeighedCount, BatchWeighedCount: r.BatchWeighedCount})
				sums[r.Year] = t
			}
			for y, g := range got {
				if sums[y] != g {
					t.Errorf("report --by type,method %d: %+v, want %+v", y, sums[y], g)
				}
			}
			// The export of the same years carries the same weights.
			ex := map[int]Tally{}
			err = s.Export(ExportQuery{Years: tc.years, FinancialYear: tc.fy}, func(r *ExportRow) error {
				y := r.Year
				if tc.fy {
					y, _ = strconv.Atoi(r.FinancialYear[:4]) // "2020/21"
				}
				t := ex[y]
				w := Weight{Grams: r.WeightG, Source: r.WeightSource}
				t.add(Total([]Weight{w}))
				ex[y] = t
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for y, g := range got {
				if ex[y] != g {
					t.Errorf("export %d: %+v, report %+v", y, ex[y], g)
				}
			}
			if len(ex) != len(got) {
				t.Errorf("export years %v, report years %v", ex, got)
			}
			// And so does the FOI answer.
			if len(tc.years) > 0 {
				a, err := s.FOI(FOIQuery{Years: tc.years, FinancialYear: tc.fy})
				if err != nil {
					t.Fatal(err)
				}
				for _, fy := range a.Years {
					if fy.AllDisposed != got[fy.Year] {
						t.Errorf("foi %d: %+v, report %+v", fy.Year, fy.AllDisposed, got[fy.Year])
					}
				}
			}
		})
	}
}

// TestReport_WeightPlan pins the query plan of a report: it reads the
// maintained summary (s, by its primary key when years are asked) and
// contractors (c) only, never disposals nor devices, and runs no weight
// rule: the shares are kept in weight_shares (summary.go).
func TestReport_WeightPlan(t *testing.T) {
	s := spanLedger(t)
	for _, q := range []ReportQuery{
		{Years: []int{2020, 2021}},
		{Years: []int{2021}, FinancialYear: true},
		{By: []string{"type", "method"}},
		{Years: []int{2020}, By: []string{"contractor", "site"}},
	} {
		query, args, err := reportSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		plan := explain(t, s, query, args)
		var b bytes.Buffer
		for _, n := range plan {
			fmt.Fprintf(&b, "\n  %d %d %s", n.id, n.parent, n.detail)
		}
		byKey := false
		for _, n := range plan {
			d := n.detail
			switch {
			case strings.HasPrefix(d, "SEARCH s USING PRIMARY KEY (year=?)"):
				byKey = true
			case d == "SCAN s", strings.HasPrefix(d, "SEARCH c USING INTEGER PRIMARY KEY"), strings.HasPrefix(d, "USE TEMP B-TREE"):
			default:
				t.Errorf("%+v: the report's plan has %q:%s", q, d, b.String())
			}
		}
		if byKey != (len(q.Years) > 0 && !q.FinancialYear) {
			t.Errorf("%+v: the years asked are (not) read by the summary's key:%s", q, b.String())
		}
	}
}

// TestRunWeights_Plan: a certificate's or `batch show`'s weights read only
// the runs' own disposals.
func TestRunWeights_Plan(t *testing.T) {
	s := spanLedger(t)
	var id int64
	if err := s.db.QueryRow(`SELECT id FROM batches WHERE ref = 'SPAN'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, n := range explain(t, s, runWeightsSQL([]int64{id}), nil) {
		if strings.Contains(n.detail, "disposals_final_year") || strings.HasPrefix(n.detail, "SCAN x") {
			t.Errorf("run weights visit disposals by %q", n.detail)
		}
	}
	ws, err := runWeights(s.db, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, w := range ws {
		if w.Grams != nil {
			sum += *w.Grams
		}
	}
	if sum != 1001 { // SPAN's gross weight, counted once
		t.Errorf("SPAN's items weigh %d g, want 1001 g", sum)
	}
}

type planNode struct {
	id, parent int
	detail     string
}

func explain(t *testing.T, s *Store, query string, args []any) []planNode {
	t.Helper()
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []planNode
	for rows.Next() {
		var n planNode
		var unused int
		if err := rows.Scan(&n.id, &n.parent, &unused, &n.detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
