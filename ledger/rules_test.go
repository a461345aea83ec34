package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// recordLegacy records p as itad did before the life rules: ledgers
// written then may hold a wipe after a shredding, or two destructions,
// and must still report and verify.
func recordLegacy(tb testing.TB, s *Store, p Disposal) {
	tb.Helper()
	must(tb, p.Validate())
	must(tb, s.write("", func(t *txn) error {
		d, devID, err := t.deviceBySerial(p.Serial)
		if err != nil {
			return err
		}
		cID, err := t.contractorID(p.Contractor)
		if err != nil {
			return err
		}
		p.Serial = d.Serial
		return t.insertDisposal(&p, devID, d.UUID, cID, nil, "disposal.record", false)
	}))
}

func grams(g int64) *int64 { return &g }

func TestPlausibleWeights_EveryType(t *testing.T) {
	for _, dt := range DeviceTypes {
		r, ok := PlausibleWeights[dt]
		if !ok {
			t.Errorf("no plausible weight range for type %s: add one to PlausibleWeights and README", dt)
			continue
		}
		if r.Min < 1 || r.Max <= r.Min || r.Max > MaxWeightGrams {
			t.Errorf("type %s: range %v", dt, r)
		}
	}
	// The demo's models are plausible (the demo imports without overrides).
	for _, m := range demoModels {
		if err := CheckWeight(m.t, grams(m.weightG), false); err != nil {
			t.Errorf("demo model %s %s: %v", m.make, m.model, err)
		}
	}
}

func TestCheckWeight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		t     DeviceType
		g     *int64
		allow bool
		want  error
		text  string
	}{
		{"NotWeighed", SSD, nil, false, nil, ""},
		{"SSDAtMin", SSD, grams(3), false, nil, ""},
		{"SSDAtMax", SSD, grams(2000), false, nil, ""},
		{"ErrSSD620kg", SSD, grams(620_000), false, ErrUnusualWeight,
			"weight 620 kg is outside the plausible range for type ssd (3 g to 2 kg): check the unit"},
		{"ErrSSD5000kg", SSD, grams(5_000_000), false, ErrUnusualWeight, "5,000 kg"},
		{"ErrServer600g", Server, grams(600), false, ErrUnusualWeight, "for type server (3 kg to 60 kg)"},
		{"ErrLaptop2g", Laptop, grams(2), false, ErrUnusualWeight, "2 g is outside"},
		{"AllowUnusual", SSD, grams(620_000), true, nil, ""},
		{"ErrZero", SSD, grams(0), false, ErrZeroWeight, "a zero weight is not a measurement"},
		{"ErrZeroEvenAllowed", SSD, grams(0), true, ErrZeroWeight, "weight 0 g"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckWeight(tc.t, tc.g, tc.allow)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RuleError
			if !errors.Is(err, tc.want) || !errors.As(err, &re) || !strings.Contains(err.Error(), tc.text) || re.Hint == "" {
				t.Fatalf("err %v, want %v containing %q with a hint", err, tc.want, tc.text)
			}
			if tc.want == ErrUnusualWeight && !strings.Contains(re.Hint, "--allow-unusual-weight") {
				t.Errorf("hint %q does not say how to override", re.Hint)
			}
		})
	}
}

func TestCheckRecordDate(t *testing.T) {
	now := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		now  time.Time
		want error
		text string
	}{
		{"2026-12-01", now, nil, ""},
		{"2026-12-02", now, nil, ""}, // one day of grace
		{"2026-12-03", now, ErrDateOutOfRange, "date 2026-12-03 is in the future (today is 2026-12-01 UTC, one day of grace)"},
		{"2099-01-01", now, ErrDateOutOfRange, "in the future"},
		// Another zone's late evening is already UTC tomorrow: still today + 1.
		{"2026-12-03", time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), nil, ""},
		{"1990-01-01", now, nil, ""},
		{"1989-12-31", now, ErrDateOutOfRange, "date 1989-12-31 is before 1990"},
		{"2021-02-30", now, ErrInvalid, "not a valid ISO 8601 date"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := CheckRecordDate("date", tc.in, tc.now)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
		})
	}
}

// rulesFixture: device S1 (ssd) and H1 (hdd), contractor Acme, open
// batch R1; the clock reads 2026-01-02 (mustOpen).
func rulesFixture(t *testing.T) *Store {
	t.Helper()
	s := mustOpen(t)
	_, err := s.AddContractor(Contractor{Name: "Acme"})
	must(t, err)
	for _, d := range []Device{{Serial: "S1", Type: SSD}, {Serial: "H1", Type: HDD}} {
		_, err := s.AddDevice(d)
		must(t, err)
	}
	_, err = s.AddBatch(Batch{Ref: "R1", Contractor: "Acme"})
	must(t, err)
	return s
}

// TestLedger_RecordDisposalRules: each rule refuses with a message naming
// it and a hint saying how to proceed, and leaves the ledger unchanged.
func TestLedger_RecordDisposalRules(t *testing.T) {
	d := func(serial, method, on string) Disposal {
		return Disposal{Serial: serial, Method: Method(method), DisposedOn: on, Contractor: "Acme"}
	}
	withW := func(p Disposal, g int64, notes string) Disposal { p.WeightG, p.Notes = &g, notes; return p }
	for _, tc := range []struct {
		name  string
		prior []Disposal
		p     Disposal
		opts  RecordOptions
		want  error  // nil: accepted
		text  string // in the message
		hint  string // in the hint
	}{
		{"OK", nil, d("S1", "shred", "2021-01-01"), RecordOptions{}, nil, "", ""},
		{"OKWipeThenShredLater", []Disposal{d("H1", "overwrite", "2021-01-01")}, d("H1", "shred", "2021-02-01"), RecordOptions{}, nil, "", ""},
		{"OKWipeThenShredSameDay", []Disposal{d("H1", "overwrite", "2021-01-01")}, d("H1", "shred", "2021-01-01"), RecordOptions{}, nil, "", ""},
		{"OKTomorrow", nil, d("S1", "shred", "2026-01-03"), RecordOptions{}, nil, "", ""},
		{"OKUnusualAllowed", nil, withW(d("S1", "shred", "2021-01-01"), 620_000, ""), RecordOptions{AllowUnusualWeight: true}, nil, "", ""},
		{"OKUnusualInNotes", nil, withW(d("S1", "shred", "2021-01-01"), 620_000, "Unusual: in a lead case"), RecordOptions{}, nil, "", ""},

		{"ErrFutureDate", nil, d("S1", "shred", "2026-01-04"), RecordOptions{}, ErrDateOutOfRange,
			"date 2026-01-04 is in the future (today is 2026-01-02 UTC", "record a disposal once it has taken place"},
		{"ErrFarFuture", nil, d("S1", "shred", "2099-01-01"), RecordOptions{}, ErrDateOutOfRange, "2099-01-01 is in the future", "check the date"},
		{"ErrBefore1990", nil, d("S1", "shred", "1989-06-30"), RecordOptions{}, ErrDateOutOfRange, "before 1990", "check the year"},
		{"ErrZeroWeight", nil, withW(d("S1", "shred", "2021-01-01"), 0, ""), RecordOptions{AllowUnusualWeight: true}, ErrZeroWeight,
			"weight 0 g: a zero weight is not a measurement", "leave it empty"},
		{"ErrUnusualWeight", nil, withW(d("S1", "shred", "2021-01-01"), 620_000, "not unusually heavy"), RecordOptions{}, ErrUnusualWeight,
			"weight 620 kg is outside the plausible range for type ssd (3 g to 2 kg)", "--allow-unusual-weight"},
		{"ErrDuplicate", []Disposal{d("S1", "shred", "2021-01-01")}, d("S1", "shred", "2021-01-01"), RecordOptions{}, ErrDuplicateDisposal,
			"device S1 already has a shred disposal on 2021-01-01 (disposal ", "itad disposal amend UUID"},
		{"ErrDestroyAfterDestroy", []Disposal{d("S1", "incinerate", "2020-01-01")}, d("S1", "shred", "2021-01-01"), RecordOptions{}, ErrAlreadyDestroyed,
			"device S1 was destroyed (incinerate on 2020-01-01, disposal ", "itad disposal void UUID"},
		{"ErrClearAfterDestroy", []Disposal{d("H1", "shred", "2021-01-01")}, d("H1", "overwrite", "2022-01-01"), RecordOptions{}, ErrAlreadyDestroyed,
			"a clear (overwrite) cannot follow its destruction", "void"},
		{"ErrPurgeAfterDestroy", []Disposal{d("H1", "shred", "2021-01-01")}, d("H1", "degauss", "2021-01-01"), RecordOptions{}, ErrAlreadyDestroyed,
			"a purge (degauss) cannot follow its destruction", "void"},
		{"ErrDateBackwards", []Disposal{d("H1", "overwrite", "2022-01-01")}, d("H1", "crypto-erase", "2021-06-01"), RecordOptions{}, ErrOutOfOrder,
			"device H1's latest disposal is dated 2022-01-01 (overwrite on 2022-01-01, disposal ", "check the date"},
		{"ErrDestroyBeforeWipe", []Disposal{d("H1", "overwrite", "2022-01-01")}, d("H1", "shred", "2021-06-01"), RecordOptions{}, ErrOutOfOrder,
			"cannot be dated before it (2021-06-01)", "itad disposal amend UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rulesFixture(t)
			for _, p := range tc.prior {
				_, err := s.RecordDisposal(p)
				must(t, err)
			}
			before := dumpTables(t, s.DB())
			_, err := s.RecordDisposalOpts(tc.p, tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RuleError
			if !errors.Is(err, tc.want) || !errors.As(err, &re) || !strings.Contains(re.Msg, tc.text) || !strings.Contains(re.Hint, tc.hint) {
				t.Fatalf("err %v (hint %q), want %v containing %q, hint containing %q", err, hintOf(err), tc.want, tc.text, tc.hint)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused disposal changed the ledger")
			}
		})
	}
}

func hintOf(err error) string {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Hint
	}
	return ""
}

// TestLedger_RulesIgnoreLegacy: a ledger holding what the rules now
// refuse (written by an earlier itad) still verifies, and the rules judge
// only new records by it.
func TestLedger_RulesIgnoreLegacy(t *testing.T) {
	s := rulesFixture(t)
	_, err := s.RecordDisposal(Disposal{Serial: "H1", Method: Shred, DisposedOn: "2021-01-01", Contractor: "Acme"})
	must(t, err)
	recordLegacy(t, s, Disposal{Serial: "H1", Method: Overwrite, DisposedOn: "2022-01-01", Contractor: "Acme"})
	recordLegacy(t, s, Disposal{Serial: "S1", Method: Shred, DisposedOn: "2021-01-01", Contractor: "Acme", WeightG: grams(620_000)})
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	h, err := s.History("H1")
	must(t, err)
	if len(h.Disposals) != 2 || !h.Disposals[0].Final {
		t.Fatalf("the shredding stays final: %+v", h.Disposals)
	}
	// The wipe's notes can be corrected: no method or date changes.
	if _, _, err := s.AmendDisposal(h.Disposals[1].UUID, map[string]string{"notes": "recorded in error"}, "note"); err != nil {
		t.Fatal(err)
	}
}

// TestLedger_BatchRules: a run's date and gross weight follow the rules.
func TestLedger_BatchRules(t *testing.T) {
	setup := func(t *testing.T) *Store {
		s := rulesFixture(t)
		for _, serial := range []string{"S1", "H1"} {
			_, err := s.RecordDisposal(Disposal{Serial: serial, Method: Shred, DisposedOn: "2021-01-01", Contractor: "Acme", Batch: "R1"})
			must(t, err)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		run  func(s *Store) error
		want error
		text string
	}{
		{"AddOK", func(s *Store) error {
			_, err := s.AddBatch(Batch{Ref: "R2", RunOn: "2026-01-02", GrossWeightG: grams(5_000)})
			return err
		}, nil, ""},
		{"ErrAddFutureDate", func(s *Store) error {
			_, err := s.AddBatch(Batch{Ref: "R2", RunOn: "2099-01-01"})
			return err
		}, ErrDateOutOfRange, "date 2099-01-01 is in the future"},
		{"ErrAddBefore1990", func(s *Store) error {
			_, err := s.AddBatch(Batch{Ref: "R2", RunOn: "1970-01-01"})
			return err
		}, ErrDateOutOfRange, "before 1990"},
		{"ErrAddZeroGross", func(s *Store) error {
			_, err := s.AddBatch(Batch{Ref: "R2", GrossWeightG: grams(0)})
			return err
		}, ErrZeroWeight, "gross weight 0 g"},
		{"ErrAddHugeGross", func(s *Store) error {
			_, err := s.AddBatch(Batch{Ref: "R2", GrossWeightG: grams(60_000_000)})
			return err
		}, ErrUnusualWeight, "gross weight 60,000 kg is outside the plausible range for a destruction run (1 g to 30,000 kg)"},
		{"AddHugeGrossAllowed", func(s *Store) error {
			_, err := s.AddBatchOpts(Batch{Ref: "R2", GrossWeightG: grams(60_000_000)}, RecordOptions{AllowUnusualWeight: true})
			return err
		}, nil, ""},
		{"CloseOK", func(s *Store) error {
			_, err := s.CloseBatch("R1", grams(700))
			return err
		}, nil, ""},
		{"ErrCloseTooLight", func(s *Store) error {
			_, err := s.CloseBatch("R1", grams(20)) // an ssd (3 g+) and an hdd (40 g+)
			return err
		}, ErrUnusualWeight, "gross weight 20 g is outside the plausible range for the run's 2 items (43 g to 4 kg)"},
		{"ErrCloseTooHeavy", func(s *Store) error {
			_, err := s.CloseBatch("R1", grams(700_000))
			return err
		}, ErrUnusualWeight, "700 kg"},
		{"CloseTooHeavyAllowed", func(s *Store) error {
			_, err := s.CloseBatchOpts("R1", grams(700_000), RecordOptions{AllowUnusualWeight: true})
			return err
		}, nil, ""},
		{"ErrCloseZero", func(s *Store) error {
			_, err := s.CloseBatchOpts("R1", grams(0), RecordOptions{AllowUnusualWeight: true})
			return err
		}, ErrZeroWeight, "zero weight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			before := dumpTables(t, s.DB())
			err := tc.run(s)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || hintOf(err) == "" {
				t.Fatalf("err %v, want %v containing %q with a hint", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused batch change changed the ledger")
			}
		})
	}
}

// TestLedger_AmendRules: a correction keeps the plausibility rules and the
// life rules a correction must keep, but may move a date backwards.
func TestLedger_AmendRules(t *testing.T) {
	setup := func(t *testing.T) (*Store, Disposal, Disposal) {
		s := rulesFixture(t)
		wipe, err := s.RecordDisposal(Disposal{Serial: "H1", Method: Overwrite, DisposedOn: "2021-01-01", Contractor: "Acme"})
		must(t, err)
		shred, err := s.RecordDisposal(Disposal{Serial: "H1", Method: Shred, DisposedOn: "2021-02-01", Contractor: "Acme"})
		must(t, err)
		return s, wipe, shred
	}
	for _, tc := range []struct {
		name   string
		target string // "wipe" or "shred"
		set    map[string]string
		opts   RecordOptions
		want   error
		text   string
	}{
		{"OKDateBackwards", "shred", map[string]string{"disposed_on": "2021-01-01"}, RecordOptions{}, nil, ""},
		{"OKWeight", "shred", map[string]string{"weight_grams": "650"}, RecordOptions{}, nil, ""},
		{"OKUnusualAllowed", "shred", map[string]string{"weight_grams": "620000"}, RecordOptions{AllowUnusualWeight: true}, nil, ""},
		{"OKUnusualNotes", "shred", map[string]string{"weight_grams": "620000", "notes": "unusual: in a safe"}, RecordOptions{}, nil, ""},
		{"ErrUnusualWeight", "shred", map[string]string{"weight_grams": "620000"}, RecordOptions{}, ErrUnusualWeight, "620 kg is outside the plausible range for type hdd"},
		{"ErrZeroWeight", "shred", map[string]string{"weight_grams": "0"}, RecordOptions{}, ErrZeroWeight, "zero weight"},
		{"ErrFutureDate", "shred", map[string]string{"disposed_on": "2030-01-01"}, RecordOptions{}, ErrDateOutOfRange, "2030-01-01 is in the future"},
		{"ErrTwoDestroys", "wipe", map[string]string{"method": "incinerate"}, RecordOptions{}, ErrAlreadyDestroyed, "a device is destroyed once"},
		{"ErrWipeAfterDestroy", "wipe", map[string]string{"disposed_on": "2021-03-01"}, RecordOptions{}, ErrAlreadyDestroyed, "cannot be dated after it"},
		{"ErrDestroyBeforeWipe", "shred", map[string]string{"disposed_on": "2020-12-01"}, RecordOptions{}, ErrAlreadyDestroyed, "dated after this destruction"},
		{"ErrDuplicate", "wipe", map[string]string{"method": "shred", "disposed_on": "2021-02-01"}, RecordOptions{}, ErrDuplicateDisposal, "would duplicate it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, wipe, shred := setup(t)
			target := map[string]Disposal{"wipe": wipe, "shred": shred}[tc.target]
			before := dumpTables(t, s.DB())
			_, _, err := s.AmendDisposalOpts(target.UUID, tc.set, "correction", tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Verify(VerifyOptions{}); err != nil {
					t.Fatalf("verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || hintOf(err) == "" {
				t.Fatalf("err %v, want %v containing %q with a hint", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused amendment changed the ledger")
			}
		})
	}
}

// TestImport_Rules: each import row goes through the rules, rows for one
// device in file order; a problem is named FILE:LINE: field, nothing is
// imported, and an identical re-import is still idempotent.
func TestImport_Rules(t *testing.T) {
	row := func(serial, typ, method, on, kg, notes string) string {
		return serial + ",," + typ + ",,,,," + method + ",,,,Acme," + on + "," + kg + ",,,," + notes + "\n"
	}
	for _, tc := range []struct {
		name  string
		rows  string
		opts  ImportOptions
		lines []string // expected problems; none: accepted
	}{
		{"OK", row("S1", "ssd", "shred", "2021-01-01", "0.058", "") + row("H1", "hdd", "overwrite", "2021-01-01", "", "") +
			row("H1", "hdd", "shred", "2021-02-01", "0.650", ""), ImportOptions{}, nil},
		{"OKIdenticalRowTwice", row("S1", "ssd", "shred", "2021-01-01", "0.058", "") + row("S1", "ssd", "shred", "2021-01-01", "0.058", ""), ImportOptions{}, nil},
		{"OKUnusualMarker", row("S1", "ssd", "shred", "2021-01-01", "620", "unusual"), ImportOptions{}, nil},
		{"OKUnusualFlag", row("S1", "ssd", "shred", "2021-01-01", "620", ""), ImportOptions{AllowUnusualWeight: true}, nil},
		{"ErrUnusualWeight", row("S1", "ssd", "shred", "2021-01-01", "620", ""), ImportOptions{},
			[]string{`r.csv:2: weight_kg: weight 620 kg is outside the plausible range for type ssd (3 g to 2 kg): check the unit (if the weight is right, record it with --allow-unusual-weight or with "unusual" in the notes)`}},
		{"ErrZeroWeight", row("S1", "ssd", "shred", "2021-01-01", "0", ""), ImportOptions{AllowUnusualWeight: true},
			[]string{"r.csv:2: weight_kg: weight 0 g: a zero weight is not a measurement"}},
		{"ErrFuture", row("S1", "ssd", "shred", "2026-01-04", "", ""), ImportOptions{},
			[]string{"r.csv:2: disposed_on: date 2026-01-04 is in the future (today is 2026-01-02 UTC, one day of grace)"}},
		{"ErrBefore1990", row("S1", "ssd", "shred", "1985-01-01", "", ""), ImportOptions{},
			[]string{"r.csv:2: disposed_on: date 1985-01-01 is before 1990"}},
		{"ErrDuplicateInFile", row("S1", "ssd", "shred", "2021-01-01", "0.058", "") + row("S1", "ssd", "shred", "2021-01-01", "0.060", ""), ImportOptions{},
			[]string{"r.csv:3: method: device S1 already has a shred disposal on 2021-01-01"}},
		{"ErrShredFourTimes", row("S1", "ssd", "shred", "2021-01-01", "", "") + row("S1", "ssd", "shred", "2021-01-01", "", "b") +
			row("S1", "ssd", "shred", "2021-01-01", "", "c") + row("S1", "ssd", "shred", "2021-01-01", "", "d"), ImportOptions{},
			[]string{"r.csv:3: method: device S1 already has", "r.csv:4: method: device S1 already has", "r.csv:5: method: device S1 already has"}},
		{"ErrAfterDestroyInFile", row("H1", "hdd", "incinerate", "2020-01-01", "", "") + row("H1", "hdd", "shred", "2021-01-01", "", "") +
			row("H1", "hdd", "overwrite", "2022-01-01", "", ""), ImportOptions{},
			[]string{"r.csv:3: method: device H1 was destroyed (incinerate on 2020-01-01", "r.csv:4: method: device H1 was destroyed (incinerate on 2020-01-01"}},
		{"ErrBackwardsInFile", row("H1", "hdd", "overwrite", "2022-01-01", "", "") + row("H1", "hdd", "crypto-erase", "2021-01-01", "", ""), ImportOptions{},
			[]string{"r.csv:3: disposed_on: device H1's latest disposal is dated 2022-01-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t)
			before := dumpTables(t, s.DB())
			data := header + tc.rows
			res, err := s.Import("r.csv", strings.NewReader(data), tc.opts)
			if len(tc.lines) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				again, err := s.Import("r.csv", strings.NewReader(data), tc.opts)
				if err != nil || again.DevicesAdded+again.DisposalsAdded != 0 || again.Unchanged != res.Rows {
					t.Fatalf("re-import: %+v, %v", again, err)
				}
				return
			}
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Errors) != len(tc.lines) {
				t.Fatalf("err %v, want %d problems", err, len(tc.lines))
			}
			for _, l := range tc.lines {
				if !strings.Contains(err.Error(), "\n"+l) {
					t.Errorf("problems lack %q:\n%v", l, err)
				}
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused import changed the ledger")
			}
		})
	}
	// Rows for a device already in the ledger are checked against it.
	t.Run("ErrAgainstLedger", func(t *testing.T) {
		s := mustOpen(t)
		if _, err := importString(s, "a.csv", header+row("S1", "ssd", "shred", "2021-01-01", "", "")); err != nil {
			t.Fatal(err)
		}
		before := dumpTables(t, s.DB())
		_, err := importString(s, "b.csv", header+row("S1", "ssd", "crypto-erase", "2021-06-01", "", ""))
		if err == nil || !strings.Contains(err.Error(), "b.csv:2: method: device S1 was destroyed (shred on 2021-01-01") {
			t.Fatalf("err %v", err)
		}
		if dumpTables(t, s.DB()) != before {
			t.Fatal("a refused import changed the ledger")
		}
	})
}

// TestDemo_FollowsTheRules: the demo imports under every rule, and on a
// clock before the end of its last year its years move back rather than
// record the future.
func TestDemo_FollowsTheRules(t *testing.T) {
	s := mustOpen(t)
	s.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	res, err := Demo(s, 60, 2021, 2025)
	if err != nil {
		t.Fatal(err)
	}
	if res.FromTo != [2]int{2020, 2024} {
		t.Fatalf("years %v, want 2020-2024", res.FromTo)
	}
	var latest string
	must(t, s.DB().QueryRow(`SELECT max(disposed_on) FROM disposals`).Scan(&latest))
	if latest > "2024-12-31" {
		t.Fatalf("latest disposal %s", latest)
	}
}

// FuzzCheckRecordDate: no panic; a date accepted parses, is not before
// 1990 and not after tomorrow.
func FuzzCheckRecordDate(f *testing.F) {
	for _, s := range []string{"2021-02-28", "2026-12-02", "2026-12-03", "1989-12-31", "", "2021-1-1", "9999-12-31"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if CheckRecordDate("date", s, now) != nil {
			return
		}
		d, err := ParseDate(s)
		if err != nil || d.Year() < EarliestRecordYear || d.After(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("CheckRecordDate accepted %q (%v, %v)", s, d, err)
		}
	})
}
