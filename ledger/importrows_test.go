package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRowHash_Golden pins the bytes a row hash covers (importrows.go).
// The wanted hashes were computed independently from the documented
// format with Python's hashlib.
func TestRowHash_Golden(t *testing.T) {
	devs := []struct {
		d    devFields
		want string
	}{
		{devFields{UUID: "0190f5d2-1111-7000-8000-000000000001", Serial: "SN-Ü1", AssetTag: "NC01", Type: "hdd", Make: "Seagate",
			Model: "ST4000", Cap: 4000, Site: "DC-North"}, "1c3b5e0591df6a431d8a6315ca4cba5c3378de7911ab3ff4ad96d2035feb45d2"},
		{devFields{UUID: "u", Serial: "SN-2", Type: "phone", CapNull: true}, "1cd21a4a5b3dd5354849815813db84a64ecf972e44bccaf10e71be38e3c8d8ae"},
	}
	for _, tc := range devs {
		if h, _ := deviceRowHash(nil, &tc.d); fmt.Sprintf("%x", h) != tc.want {
			t.Errorf("deviceRowHash(%+v) = %x, want %s", tc.d, h, tc.want)
		}
	}
	disps := []struct {
		x    dispExp
		want string
	}{
		{dispExp{f: dispFields{UUID: "0190f5d2-2222-7000-8000-000000000002", Method: "shred", Category: "destroy", Standard: "DIN 66399 H-5",
			Verified: "yes", DisposedOn: "2021-03-01", Weight: 650, Operator: "A. Patel", Witness: "M. Lewis", Notes: "note",
			Contractor: "not hashed: the id is"}, contractorID: 3, batchNull: true},
			"9c7d839761597e49bf9135b846cdaa757df3963ba3ab88d9926940ae0901e7a2"},
		{dispExp{f: dispFields{UUID: "v", Method: "overwrite", Category: "clear", Tool: "nwipe", Verified: "sample", DisposedOn: "2021-04-02",
			WeightNull: true}, contractorID: 1, batchID: 7},
			"25ea0138588cc57a65a5ce37083b0b3d3873309dfa02c9f69c4007989bd2c282"},
	}
	for _, tc := range disps {
		if h, _ := disposalRowHash(nil, &tc.x); fmt.Sprintf("%x", h) != tc.want {
			t.Errorf("disposalRowHash(%+v) = %x, want %s", tc.x, h, tc.want)
		}
	}
}

// importRows returns the import.rows events of s, decoded.
func importRows(t *testing.T, s *Store) ([]Event, []importRowsPayload) {
	t.Helper()
	evs, err := s.Events(EventFilter{Action: ImportRowsAction})
	must(t, err)
	var ps []importRowsPayload
	for _, e := range evs {
		var p importRowsPayload
		must(t, decodeImportRows(e.Payload, &p))
		ps = append(ps, p)
	}
	return evs, ps
}

// TestImport_RowsEvents: an import writes one import.rows event for each
// 256 new rows, naming the file, with the rows' ids in order; every row
// of the two tables carries its event's seq; the device's history and
// log --serial include it.
func TestImport_RowsEvents(t *testing.T) {
	s := mustOpen(t)
	var b strings.Builder
	b.WriteString(header)
	n := 2*importChunk + 10
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "E%05d,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-01-05,0.5,,,,\n", i)
	}
	res, err := importString(s, "many.csv", b.String())
	must(t, err)
	if res.DevicesAdded != n {
		t.Fatalf("added %d", res.DevicesAdded)
	}
	evs, ps := importRows(t, s)
	if len(evs) != 3 {
		t.Fatalf("%d import.rows events, want 3", len(evs))
	}
	db := s.DB()
	var next int64 = 1
	for i, p := range ps {
		want := []int{importChunk, importChunk, 10}[i]
		if evs[i].Subject != "many.csv" || p.Rows != want || p.FirstDevice != next || p.FirstDisposal != next {
			t.Fatalf("event %d: subject %q, %+v", evs[i].Seq, evs[i].Subject, p)
		}
		var devs, disps int64
		db.QueryRow(`SELECT count(*) FROM devices WHERE seq = ? AND id BETWEEN ? AND ?`, evs[i].Seq, next, next+int64(want)-1).Scan(&devs)
		db.QueryRow(`SELECT count(*) FROM disposals WHERE seq = ? AND id BETWEEN ? AND ?`, evs[i].Seq, next, next+int64(want)-1).Scan(&disps)
		if devs != int64(want) || disps != int64(want) {
			t.Fatalf("event %d: %d devices and %d disposals rows carry its seq, want %d", evs[i].Seq, devs, disps, want)
		}
		next += int64(want)
	}
	h, err := s.History("E00300")
	must(t, err)
	found := false
	for _, e := range h.Events {
		found = found || e.Seq == evs[1].Seq
	}
	if !found {
		t.Fatalf("history of E00300 lacks its import event %d: %+v", evs[1].Seq, h.Events)
	}
	var logged []int64
	must(t, s.AuditLog(LogFilter{Serial: "e00300"}, func(e Event) error { logged = append(logged, e.Seq); return nil }))
	if len(logged) != 1 || logged[0] != evs[1].Seq {
		t.Fatalf("log --serial E00300: events %v, want [%d]", logged, evs[1].Seq)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestImport_RepeatedSerialsKeepChunksWhole: rows about a device already
// recorded (earlier in the file, or in the ledger) wait until the rows
// before them are written instead of cutting the pending chunk short, so
// a file of new devices, some with a second disposal on the next line,
// still writes full import.rows events; the second disposals are recorded
// in file order, the later one final, and the ledger verifies. A repeat
// with other device data names both lines; importing again changes
// nothing.
func TestImport_RepeatedSerialsKeepChunksWhole(t *testing.T) {
	s := mustOpen(t)
	_, err := importString(s, "old.csv", header+"OLD1,,hdd,WDC,W1,,DC1,overwrite,,nwipe,yes,Acme,2020-01-05,0.5,,,,\n")
	must(t, err)
	var b strings.Builder
	b.WriteString(header)
	n, repeats := 2*importChunk+10, 0
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "R%05d,,hdd,WDC,W1,,DC1,overwrite,,nwipe,yes,Acme,2021-01-05,0.5,,,,\n", i)
		if i%20 == 7 {
			fmt.Fprintf(&b, "R%05d,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-03-05,0.5,,,,later\n", i)
			repeats++
		}
		if i == 300 { // a device recorded before this import
			b.WriteString("OLD1,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-02-01,0.5,,,,\n")
			repeats++
		}
	}
	file := b.String()
	res, err := importString(s, "rep.csv", file)
	must(t, err)
	if res.DevicesAdded != n || res.DisposalsAdded != n+repeats {
		t.Fatalf("added %d devices and %d disposals, want %d and %d", res.DevicesAdded, res.DisposalsAdded, n, n+repeats)
	}
	evs, ps := importRows(t, s)
	if len(evs) != 4 { // old.csv's, then three of this file
		t.Fatalf("%d import.rows events, want 4", len(evs))
	}
	for i, p := range ps[1:] {
		if want := []int{importChunk, importChunk, 10}[i]; p.Rows != want {
			t.Errorf("import.rows event %d has %d rows, want %d: a repeated serial cut the chunk short", evs[i+1].Seq, p.Rows, want)
		}
	}
	recs, err := s.Events(EventFilter{Action: "disposal.record"})
	must(t, err)
	if len(recs) != repeats {
		t.Fatalf("%d disposal.record events, want %d", len(recs), repeats)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Subject <= recs[i-1].Subject && recs[i].Subject != "OLD1" && recs[i-1].Subject != "OLD1" {
			t.Errorf("second disposals out of file order: %s after %s", recs[i].Subject, recs[i-1].Subject)
		}
	}
	for _, serial := range []string{"R00007", "R00507", "OLD1"} {
		h, err := s.History(serial)
		must(t, err)
		if len(h.Disposals) != 2 || h.Disposals[1].Method != Shred || !h.Disposals[1].Final || h.Disposals[0].Final {
			t.Errorf("%s: disposals %+v, want the later shred final", serial, h.Disposals)
		}
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	again, err := importString(s, "rep.csv", file)
	must(t, err)
	if again.DevicesAdded+again.DisposalsAdded != 0 || again.Unchanged != n+repeats {
		t.Fatalf("importing again: %+v", again)
	}
	bad := header + "Q1,,hdd,WDC,W1,,DC1,overwrite,,nwipe,yes,Acme,2021-01-05,0.5,,,,\n" +
		"Q2,,hdd,WDC,W1,,DC1,overwrite,,nwipe,yes,Acme,2021-01-05,0.5,,,,\n" +
		"Q1,,ssd,WDC,W1,,DC1,shred,,,yes,Acme,2021-03-05,0.5,,,,\n"
	_, err = importString(s, "bad.csv", bad)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Errors) != 1 || ie.Errors[0].Line != 4 || ie.Errors[0].Field != "serial" ||
		!strings.Contains(ie.Errors[0].Problem, "also on line 2") {
		t.Fatalf("repeat with other device data: %v", err)
	}
}

// TestImport_LookupFullChunk: a chunk whose every serial has a legacy key
// of its own looks up twice as many keys as rows (lookup's fixed
// statement, exactly full); importing again finds every row.
func TestImport_LookupFullChunk(t *testing.T) {
	s := mustOpen(t)
	var b strings.Builder
	b.WriteString(header)
	n := importChunk + 44
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Ｆ%05d,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-01-05,0.5,,,,\n", i) // fullwidth F
	}
	if k := "Ｆ00001"; legacySerialKey(k) == SerialKey(k) {
		t.Fatal("the serials need a legacy key of their own")
	}
	res, err := importString(s, "fw.csv", b.String())
	must(t, err)
	again, err := importString(s, "fw.csv", b.String())
	must(t, err)
	if res.DevicesAdded != n || again.Unchanged != n || again.DevicesAdded+again.DisposalsAdded != 0 {
		t.Fatalf("first %+v, again %+v", res, again)
	}
}

// TestVerify_ImportedRows: tampering with one row in the middle of an
// import names that row alone (the ids in the event keep the rows after
// it in step); amendments of imported rows, of every kind, verify.
func TestVerify_ImportedRows(t *testing.T) {
	fixture := func(t *testing.T) *Store {
		s := mustOpen(t)
		var b strings.Builder
		b.WriteString(header)
		for i := 0; i < 600; i++ {
			batch := ""
			if i%2 == 0 {
				batch = "SR-1"
			}
			fmt.Fprintf(&b, "M%04d,,hdd,WDC,W1,500,DC1,shred,,,yes,Acme,2021-01-05,0.5,%s,,,\n", i, batch)
		}
		_, err := importString(s, "m.csv", b.String())
		must(t, err)
		_, err = s.AddContractor(Contractor{Name: "Shredwell"})
		must(t, err)
		_, err = s.AddBatch(Batch{Ref: "SR-2"})
		must(t, err)
		return s
	}
	t.Run("AmendEveryKind", func(t *testing.T) {
		s := fixture(t)
		_, _, err := s.AmendDevice("M0300", map[string]string{"model": "W2", "capacity_gb": "", "site": "DC2"}, "label misread")
		must(t, err)
		_, _, err = s.AmendDevice("M0300", map[string]string{"capacity_gb": "1000"}, "measured")
		must(t, err)
		h, err := s.History("M0300")
		must(t, err)
		_, _, err = s.AmendDisposal(h.Disposals[0].UUID, map[string]string{"method": "overwrite", "contractor": "Shredwell",
			"batch": "SR-2", "weight_grams": "", "disposed_on": "2021-04-06"}, "wrong run")
		must(t, err)
		_, _, err = s.AmendDisposal(h.Disposals[0].UUID, map[string]string{"batch": "", "notes": "moved"}, "no batch after all")
		must(t, err)
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
		// The amended row changed behind itad's back.
		db := rawDB(t, s)
		_, err = db.Exec(`UPDATE disposals SET notes = 'forged' WHERE device_id = (SELECT id FROM devices WHERE serial = 'M0300')`)
		must(t, err)
		_, err = s.Verify(VerifyOptions{})
		var te *TableError
		if !errors.As(err, &te) || te.Table != "disposals" || te.RowID != 301 || !strings.Contains(te.Problem, "with the amendments of events") {
			t.Fatalf("verify: %v", err)
		}
	})
	cases := []struct {
		name, sql string
		table     string
		rowID     int64
		text      string
	}{
		{"UpdateDevice", `UPDATE devices SET site = 'DC9' WHERE id = 300`, "devices", 300, "do not hash to what event"},
		{"DeleteDevice", `DELETE FROM devices WHERE id = 300`, "devices", 0, "no row for row 44 of 256 of event"},
		{"DeleteDisposal", `DELETE FROM disposals WHERE id = 300`, "disposals", 0, "no row for row 44 of 256 of event"},
		{"MoveToOtherEvent", `UPDATE devices SET seq = seq + 1 WHERE id = 300`, "devices", 300, "seq is 5, but event 4 (import.rows m.csv) created it, as its row 44 of 256"},
		{"MoveToEarlierEvent", `UPDATE disposals SET seq = seq - 1 WHERE id = 300`, "disposals", 300, "seq is 3, but event 4"},
		{"Insert", `INSERT INTO devices(id, uuid, serial, serial_key, type, seq) SELECT 100000, 'u', 'X', 'x', 'hdd', seq FROM devices WHERE id = 300`,
			"devices", 100000, "no event created this row"},
		{"DisposalDevice", `UPDATE disposals SET device_id = 299 WHERE id = 300`, "disposals", 300, "device_id is 299, event"},
		{"DisposalBatch", `UPDATE disposals SET batch_id = NULL WHERE id = 299`, "disposals", 299, "do not hash to what event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t)
			if _, err := rawDB(t, s).Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			_, err := s.Verify(VerifyOptions{})
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("verify: %v", err)
			}
			want := 1
			if tc.name == "DeleteDevice" { // its disposal is left without its device: foreign_key_check says so last
				want = 2
				if fk, ok := ve.Problems[len(ve.Problems)-1].(*DatabaseError); !ok || fk.Check != "foreign_key_check" {
					t.Errorf("last problem %v, want foreign_key_check's", ve.Problems[len(ve.Problems)-1])
				}
			}
			if len(ve.Problems) != want && tc.name != "DisposalDevice" { // which also makes two final disposals of device 299
				t.Errorf("%d problems, want %d: %v", len(ve.Problems), want, ve.Problems)
			}
			te, ok := ve.Problems[0].(*TableError)
			if !ok || te.Table != tc.table || te.RowID != tc.rowID || !strings.Contains(te.Problem, tc.text) {
				t.Fatalf("first problem %v, want table %s row %d: %q", ve.Problems[0], tc.table, tc.rowID, tc.text)
			}
		})
	}
}

// TestVerify_ImportRowsPayload: an import.rows event whose payload does
// not hold a hash for each row cannot be replayed (an event itad never
// wrote, hashed into the chain).
func TestVerify_ImportRowsPayload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *importRowsPayload)
		want   string
	}{
		{"ShortHashes", func(p *importRowsPayload) { p.DeviceSHA256 = p.DeviceSHA256[:40] }, "need 96 bytes of hashes each"},
		{"NoRows", func(p *importRowsPayload) { p.Rows = 0 }, "rows is 0"},
		{"ZeroID", func(p *importRowsPayload) { p.FirstDisposal = 0 }, "ids start at 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t)
			_, err := importString(s, "a.csv", header+
				"SN-1,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\nSN-2,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\nSN-3,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\n")
			must(t, err)
			evs, ps := importRows(t, s)
			tc.change(&ps[0])
			raw, _ := json.Marshal(ps[0])
			db := rawDB(t, s)
			_, err = db.Exec(`UPDATE events SET payload = ? WHERE seq = ?`, raw, evs[0].Seq)
			must(t, err)
			rehash(t, db)
			_, err = s.Verify(VerifyOptions{})
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Seq != evs[0].Seq || !strings.Contains(ce.Problem, "payload cannot be read") ||
				!strings.Contains(ce.Problem, tc.want) {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// TestVerify_LegacyImportEvents: a ledger written before import.rows,
// with one device.import event a row, still verifies, names a changed
// column, and takes new imports.
func TestVerify_LegacyImportEvents(t *testing.T) {
	data, err := os.ReadFile("../testdata/ledger/v1-device-import.db")
	must(t, err)
	open := func(t *testing.T) *Store {
		path := filepath.Join(t.TempDir(), "itad.db")
		must(t, os.WriteFile(path, data, 0o600))
		s, err := Open(path, Options{})
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open(t)
	res, err := s.Verify(VerifyOptions{})
	if err != nil || res.Events != 25 || res.Rows["devices"] != 12 {
		t.Fatalf("verify: %+v %v", res, err)
	}
	if _, err := importString(s, "new.csv", header+"N-1,,hdd,,,,,shred,,,,Acme,2024-01-05,,,,,\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("verify after a new import: %v", err)
	}

	s = open(t)
	_, err = rawDB(t, s).Exec(`UPDATE devices SET make = 'Forged' WHERE serial = 'STOS00021221'`)
	must(t, err)
	_, err = s.Verify(VerifyOptions{})
	var te *TableError
	if !errors.As(err, &te) || te.Table != "devices" || !strings.Contains(te.Problem, `make is "Forged", events say "Toshiba"`) {
		t.Fatalf("verify: %v", err)
	}
}

// TestVerify_BatchesCutByBytes: Verify reads events in batches that end at
// a byte limit (large import.rows payloads) as well as at a count; the
// Merkle tree must come out the same, so that checkpoints taken at many
// sizes (whose roots CreateCheckpoint computes leaf by leaf) all verify.
// The batch limits are made small to cut many batches.
func TestVerify_BatchesCutByBytes(t *testing.T) {
	defer func(n, b int) { evBatchSize, evBatchBytes = n, b }(evBatchSize, evBatchBytes)
	evBatchSize, evBatchBytes = 16, 30000 // two import.rows events of 256 rows
	s := mustOpen(t)
	signer, ver := testNoteKey(t)
	must(t, s.Init("Org"))
	var notes []ExternalCheckpoint
	for round := 0; round < 4; round++ {
		var b strings.Builder
		b.WriteString(header)
		for i := 0; i < 700+round*300; i++ {
			fmt.Fprintf(&b, "B%d-%05d,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\n", round, i)
		}
		_, err := importString(s, fmt.Sprintf("r%d.csv", round), b.String())
		must(t, err)
		for i := 0; i < 5+round*7; i++ {
			must(t, s.LogAccess("report", "report", "", nil))
		}
		cp, err := s.CreateCheckpoint(signer, "")
		must(t, err)
		notes = append(notes, ExternalCheckpoint{Source: fmt.Sprint("cp", round), Note: []byte(cp.Note)})
	}
	res, err := s.Verify(VerifyOptions{Trusted: trust(ver), External: notes})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Checkpoints) != 2*len(notes) {
		t.Fatalf("checked %d checkpoints, want %d", len(res.Checkpoints), 2*len(notes))
	}
}

// TestImport_DeferredIndexes: an import into an empty ledger builds
// deferredIndexes after its rows (importindex.go). Whatever becomes of the
// import, the ledger then has them as its migrations create them (Open
// compares the schema), with every row in them (integrity_check), and
// queries use them.
func TestImport_DeferredIndexes(t *testing.T) {
	good := header + "D1,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-01-05,0.5,SR-1,,,\n" +
		"D2,,hdd,WDC,W1,,DC1,overwrite,,nwipe,yes,Acme,2021-01-05,0.5,,,,\n" +
		"D2,,hdd,WDC,W1,,DC1,shred,,,yes,Acme,2021-02-05,0.5,SR-1,,,\n"
	for _, tc := range []struct {
		name, file string
		opts       ImportOptions
		fails      bool
		disposals  int
	}{
		{"OK", good, ImportOptions{}, false, 3},
		{"BadRow", good + "D3,,hdd,WDC,W1,,DC1,melt,,,yes,Acme,2021-01-05,0.5,,,,\n", ImportOptions{}, true, 0},
		{"HeaderOnly", header, ImportOptions{}, false, 0},
		{"DryRun", good, ImportOptions{DryRun: true}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t)
			_, err := s.Import("d.csv", strings.NewReader(tc.file), tc.opts)
			if (err != nil) != tc.fails {
				t.Fatalf("import: %v", err)
			}
			path := s.Path()
			s.Close()
			s, err = Open(path, Options{})
			must(t, err)
			defer s.Close()
			db := s.DB()
			for _, ix := range deferredIndexes {
				var n int
				must(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, ix).Scan(&n))
				if n != 1 {
					t.Errorf("index %s missing after the import", ix)
				}
			}
			var ok string
			must(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&ok))
			var plan, detail string
			var id, parent, unused int
			must(t, db.QueryRow(`EXPLAIN QUERY PLAN SELECT count(*) FROM disposals WHERE batch_id = 1`).Scan(&id, &parent, &unused, &detail))
			plan = detail
			var n int
			must(t, db.QueryRow(`SELECT count(*) FROM disposals WHERE is_final = 1 AND year = 2021`).Scan(&n))
			if ok != "ok" || !strings.Contains(plan, "disposals_batch") || n != min(tc.disposals, 2) {
				t.Fatalf("integrity_check %q, plan %q, %d final disposals of 2021", ok, plan, n)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
