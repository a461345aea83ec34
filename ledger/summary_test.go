package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// summaryLedger is a way of building a ledger for the equality tests: by
// import, by single commands, and with each kind of change that moves a
// disposal's figures (amendment, void, serial correction, run changes).
type summaryLedger struct {
	name  string
	build func(t testing.TB) *Store
}

// dispUUID finds the uuid of serial's disposal recorded by method.
func dispUUID(t testing.TB, s *Store, serial, method string) string {
	t.Helper()
	var u string
	if err := s.DB().QueryRow(`SELECT x.uuid FROM disposals x JOIN devices d ON d.id = x.device_id
		WHERE d.serial = ? AND x.method = ?`, serial, method).Scan(&u); err != nil {
		t.Fatalf("disposal of %s by %s: %v", serial, method, err)
	}
	return u
}

func summaryLedgers() []summaryLedger {
	amend := func(t testing.TB, s *Store) {
		t.Helper()
		// A device's type and site (its cells), a disposal's date (its
		// year), weight (its run's shares) and method.
		if _, _, err := s.AmendDevice("S-3", map[string]string{"type": "ssd", "site": "DC-East"}, "typed wrong"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendDisposal(dispUUID(t, s, "S-2", "shred"), map[string]string{"disposed_on": "2021-02-01", "weight_grams": "50"}, "weighed after all"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendDisposal(dispUUID(t, s, "O-2", "shred"), map[string]string{"method": "incinerate"}, "burnt"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendDisposal(dispUUID(t, s, "L-1", "overwrite"), map[string]string{"disposed_on": "2020-05-01"}, "a year out"); err != nil {
			t.Fatal(err)
		}
		// O-2 leaves OLD (O-1 then takes all of its weight) for an open
		// run already weighed.
		if _, err := s.AddBatch(Batch{Ref: "R3", Site: "DC-South", Contractor: foiContractors[0].Name}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendBatch("R3", map[string]string{"gross_weight_grams": "900"}, "weighed early"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendDisposal(dispUUID(t, s, "O-2", "incinerate"), map[string]string{"batch": "R3"}, "wrong run"); err != nil {
			t.Fatal(err)
		}
	}
	void := func(t testing.TB, s *Store) {
		t.Helper()
		// X-1's final disposition goes back to its SPAN degaussing: SPAN's
		// shares change, NEXT's go.
		if _, err := s.VoidDisposal(dispUUID(t, s, "X-1", "incinerate"), "recorded in error"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VoidDisposal(dispUUID(t, s, "O-1", "shred"), "not ours"); err != nil {
			t.Fatal(err)
		}
	}
	reserial := func(t testing.TB, s *Store) {
		t.Helper()
		// Z-2 now sorts last in SPAN: the remainder gram moves.
		if _, _, err := s.AmendDevice("S-2", map[string]string{"serial": "Z-2"}, "label misread"); err != nil {
			t.Fatal(err)
		}
	}
	runs := func(t testing.TB, s *Store) {
		t.Helper()
		if _, _, err := s.AmendBatch("SPAN", map[string]string{"gross_weight_grams": "2003"}, "reweighed"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendBatch("OLD", map[string]string{"gross_weight_grams": ""}, "scale broken"); err != nil {
			t.Fatal(err)
		}
	}
	then := func(fs ...func(testing.TB, *Store)) func(testing.TB) *Store {
		return func(t testing.TB) *Store {
			s := spanLedger(t)
			for _, f := range fs {
				f(t, s)
			}
			return s
		}
	}
	return []summaryLedger{
		{"import", foiLedger},
		{"import with runs across years", spanLedger},
		{"single commands", commandLedger},
		{"amended", then(amend)},
		{"voided", then(void)},
		{"serial corrected", then(reserial)},
		{"run changes", then(runs)},
		{"everything", then(runs, amend, reserial, void)},
	}
}

// commandLedger is built one command at a time: devices, disposals (one
// device disposed of twice, its final disposition moving to a weighed
// run), runs opened, joined and closed with a gross weight.
func commandLedger(t testing.TB) *Store {
	t.Helper()
	s := mustOpen(t)
	must(t, s.Init("Test Constabulary"))
	_, err := s.AddContractor(foiContractors[0])
	must(t, err)
	c := foiContractors[0].Name
	for _, ref := range []string{"R1", "R2"} {
		_, err := s.AddBatch(Batch{Ref: ref, Site: "DC-North", Contractor: c})
		must(t, err)
	}
	w := func(g int64) *int64 { return &g }
	for _, d := range []struct {
		serial, typ, site string
		method            Method
		on, batch         string
		weight            *int64
	}{
		{"C-1", "hdd", "DC-North", "shred", "2020-03-01", "R1", w(600)},
		{"C-2", "hdd", "DC-North", "shred", "2020-04-01", "R1", nil},
		{"C-3", "ssd", "DC-South", "shred", "2021-01-01", "R1", nil},
		{"C-4", "laptop", "DC-South", "overwrite", "2021-02-01", "", w(2000)},
		{"C-4", "laptop", "DC-South", "shred", "2021-06-01", "R2", nil},
		{"C-5", "hdd", "DC-North", "degauss", "2022-01-01", "R2", nil},
	} {
		if _, err := s.Device(d.serial); errors.Is(err, ErrNotFound) {
			_, err := s.AddDevice(Device{Serial: d.serial, Type: DeviceType(d.typ), Site: d.site})
			must(t, err)
		}
		_, err := s.RecordDisposalOpts(Disposal{Serial: d.serial, Method: d.method, Contractor: c, DisposedOn: d.on,
			Batch: d.batch, WeightG: d.weight}, RecordOptions{AllowUnusualWeight: true})
		must(t, err)
	}
	_, err = s.CloseBatchOpts("R1", w(1601), RecordOptions{AllowUnusualWeight: true})
	must(t, err)
	_, err = s.CloseBatchOpts("R2", w(3000), RecordOptions{AllowUnusualWeight: true})
	must(t, err)
	return s
}

// summaryDump is the three summary tables as text, in key order.
func summaryDump(t testing.TB, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT disposal_id, share_g FROM weight_shares ORDER BY 1`,
		`SELECT year, fin_year, type, method, category, contractor_id, site, standard, count, weight_g, weighed_count,
			batch_weighed_count FROM summary ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
		`SELECT disposed_on, count FROM summary_dates ORDER BY 1`,
	} {
		rows, err := db.Query(q)
		must(t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(t, rows.Scan(ptrs...))
			fmt.Fprintln(&b, vals...)
		}
		must(t, rows.Err())
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// TestSummary_MatchesRows: on every way of building a ledger, the summary
// maintained with each change is what rebuilding it from the rows gives,
// verify accepts it, and report (grouped by every field, calendar and
// financial years), export and an independent SQL computation of final
// dispositions and WeightRule agree to the item and the gram.
func TestSummary_MatchesRows(t *testing.T) {
	for _, sl := range summaryLedgers() {
		t.Run(sl.name, func(t *testing.T) {
			s := sl.build(t)
			kept := summaryDump(t, s.DB())
			must(t, s.RebuildSummary())
			if rebuilt := summaryDump(t, s.DB()); kept != rebuilt {
				t.Fatalf("maintained summary differs from the rows':\n--- maintained\n%s--- rebuilt\n%s", kept, rebuilt)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			checkReportsAgree(t, s)
		})
	}
}

// checkReportsAgree compares Report, Export and independentItems on s.
func checkReportsAgree(t *testing.T, s *Store) {
	t.Helper()
	items := independentItems(t, s)
	for _, fy := range []bool{false, true} {
		key := func(year int, typ, method, category, contractor, site string) string {
			return fmt.Sprint(year, "|", typ, "|", method, "|", category, "|", contractor, "|", site)
		}
		want := map[string]Tally{}
		for _, it := range items {
			y := it.year
			if fy {
				y = it.finYear
			}
			k := key(y, it.typ, it.method, it.category, it.contractor, it.site)
			tl := want[k]
			tl.add(it.tally())
			want[k] = tl
		}
		rows, err := s.Report(ReportQuery{FinancialYear: fy, By: ReportFields})
		must(t, err)
		got := map[string]Tally{}
		for _, r := range rows {
			f := r.Fields
			got[key(r.Year, f["type"], f["method"], f["category"], f["contractor"], f["site"])] = Tally{Count: r.Count,
				WeightG: r.WeightG, WeighedCount: r.WeighedCount, BatchWeighedCount: r.BatchWeighedCount}
		}
		exp := map[string]Tally{}
		must(t, s.Export(ExportQuery{}, func(r *ExportRow) error {
			y := r.Year
			if fy {
				fmt.Sscanf(r.FinancialYear, "%d", &y)
			}
			k := key(y, r.Type, r.Method, r.Category, r.Contractor, r.Site)
			tl := exp[k]
			tl.Count++
			if r.WeightG != nil {
				tl.WeighedCount++
				tl.WeightG += *r.WeightG
			}
			if r.WeightSource == WeightBatch {
				tl.BatchWeighedCount++
			}
			exp[k] = tl
			return nil
		}))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("fy=%v: report %v\nindependent SQL %v", fy, got, want)
		}
		if fmt.Sprint(exp) != fmt.Sprint(want) {
			t.Errorf("fy=%v: export %v\nindependent SQL %v", fy, exp, want)
		}
	}
}

// TestSummary_Tamper edits each summary table behind itad's back: verify
// fails, naming the table and the cell, share or date.
func TestSummary_Tamper(t *testing.T) {
	cases := []struct {
		name, sql, table, want string
	}{
		{"CellCount", `UPDATE summary SET count = count + 1 WHERE year = 2022`, "summary", "the disposals give count"},
		{"CellWeight", `UPDATE summary SET weight_g = weight_g + 1000 WHERE year = 2021 AND type = 'hdd' AND method = 'shred'`, "summary", "holds count"},
		{"CellBatchCount", `UPDATE summary SET batch_weighed_count = 0 WHERE batch_weighed_count > 0`, "summary", "batch_weighed_count 0;"},
		{"CellDeleted", `DELETE FROM summary WHERE year = 2019`, "summary", "missing: the disposals give count 2"},
		{"CellAdded", `INSERT INTO summary VALUES (1999, 1998, 'hdd', 'shred', 'destroy', 1, '', '', 5, 0, 0, 0)`, "summary", "no final disposition is in this cell"},
		{"ShareChanged", `UPDATE weight_shares SET share_g = share_g + 1 WHERE disposal_id IN (SELECT min(disposal_id) FROM weight_shares)`, "weight_shares", "the weight rule gives"},
		{"ShareDeleted", `DELETE FROM weight_shares WHERE disposal_id IN (SELECT min(disposal_id) FROM weight_shares)`, "weight_shares", "missing: the weight rule gives"},
		{"ShareAdded", `INSERT INTO weight_shares SELECT x.id, 999 FROM disposals x WHERE x.batch_id IS NULL LIMIT 1`, "weight_shares", "gives this disposal no share"},
		{"DateCount", `UPDATE summary_dates SET count = count + 1 WHERE disposed_on = '2022-02-01'`, "summary_dates", "count is 3; the disposals give 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spanLedger(t)
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify before: %v", err)
			}
			res, err := rawDB(t, s).Exec(tc.sql)
			must(t, err)
			if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("%s changed nothing: the test no longer performs its attack", tc.sql)
			}
			_, err = s.Verify(VerifyOptions{})
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("verify: %v, want it to fail", err)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("verify: %v, want a *VerifyError", err)
			}
			found := false
			for _, p := range ve.Problems {
				var te *TableError
				if errors.As(p, &te) && te.Table == tc.table && strings.Contains(te.Problem, tc.want) {
					found = true
				}
				if te == nil || !strings.HasPrefix(te.Table, "summary") && te.Table != "weight_shares" {
					t.Errorf("problem %v: only the summary was changed", p)
				}
			}
			if !found {
				t.Fatalf("verify: %v, want a problem in table %s saying %q", err, tc.table, tc.want)
			}
			// Rebuilt from the rows, it verifies again.
			must(t, s.RebuildSummary())
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify after rebuild: %v", err)
			}
		})
	}
}

// TestSummary_OldLedgers: ledgers written by earlier itad versions get
// their summary built by the migration, verify, and their reports agree
// with their exports and the independent SQL.
func TestSummary_OldLedgers(t *testing.T) {
	for _, f := range []string{"../testdata/ledger/v1-device-import.db", "../testdata/ledger/v4-certificates/itad.db"} {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			must(t, err)
			path := filepath.Join(t.TempDir(), "itad.db")
			must(t, os.WriteFile(path, data, 0o600))
			s, err := Open(path, Options{})
			must(t, err)
			defer s.Close()
			var n int64
			must(t, s.DB().QueryRow(`SELECT coalesce(sum(count), 0) FROM summary`).Scan(&n))
			var finals int64
			must(t, s.DB().QueryRow(`SELECT count(*) FROM disposals WHERE is_final = 1`).Scan(&finals))
			if n != finals || n == 0 {
				t.Fatalf("summary counts %d final dispositions, the ledger has %d", n, finals)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			checkReportsAgree(t, s)
		})
	}
}

// TestSummary_TouchPlan: what a change takes off and adds back reaches
// disposals by their device's and run's indexes, never by a scan, so a
// change costs the size of its devices and runs, not the ledger's.
func TestSummary_TouchPlan(t *testing.T) {
	s := spanLedger(t)
	for _, q := range []string{sumContribSQL, sumDatesSQL} {
		for _, n := range explain(t, s, q, []any{"[1]", "[1]"}[:strings.Count(q, "?")]) {
			if strings.HasPrefix(n.detail, "SCAN x") || strings.HasPrefix(n.detail, "SCAN disposals") ||
				strings.Contains(n.detail, "disposals_final_year") {
				t.Errorf("%.60s…: plan has %q", q, n.detail)
			}
		}
	}
}
