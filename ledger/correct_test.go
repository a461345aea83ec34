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

// finals returns the uuids of a device's final dispositions.
func finals(t *testing.T, s *Store, serial string) []string {
	t.Helper()
	h, err := s.History(serial)
	must(t, err)
	var out []string
	for _, p := range h.Disposals {
		if p.Final {
			out = append(out, p.UUID)
		}
	}
	return out
}

func reportCounts(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	rows, err := s.Report(ReportQuery{Years: []int{2021}, By: []string{"category"}})
	must(t, err)
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Fields["category"]] += r.Count
	}
	return got
}

func TestVoidDisposal(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, shred, wipe := amendFixture(t)
		must(t, s.Init("Northshire Constabulary"))
		_, err := s.CloseBatch("SR-1", nil)
		must(t, err)
		p, err := s.VoidDisposal(strings.ToUpper(shred.UUID), "recorded against the wrong serial")
		if err != nil {
			t.Fatal(err)
		}
		if p.Void == nil || p.Void.Reason != "recorded against the wrong serial" || p.Void.Actor != "tester" || p.Final {
			t.Fatalf("voided disposal %+v", p)
		}
		// It stays in the history, marked void, with who, when and why;
		// the wipe is now the final disposition.
		h, err := s.History("SN-1")
		must(t, err)
		if len(h.Disposals) != 2 || h.Disposals[1].UUID != shred.UUID || h.Disposals[1].Void == nil ||
			h.Disposals[1].Void.Seq != p.Void.Seq || h.Disposals[1].Void.At.IsZero() {
			t.Fatalf("history %+v", h.Disposals)
		}
		if f := finals(t, s, "SN-1"); len(f) != 1 || f[0] != wipe.UUID {
			t.Fatalf("finals %v, want the wipe %s", f, wipe.UUID)
		}
		last := h.Events[len(h.Events)-1]
		if last.Action != VoidAction || last.Reason != "recorded against the wrong serial" {
			t.Fatalf("last event %+v", last)
		}
		// Reports, exports, batch totals and certificates leave it.
		if got := reportCounts(t, s); got["destroy"] != 1 || got["clear"] != 1 {
			t.Fatalf("report %v", got)
		}
		var exported []string
		must(t, s.Export(ExportQuery{}, func(r *ExportRow) error {
			exported = append(exported, r.Serial+" "+r.Method)
			return nil
		}))
		if strings.Join(exported, ",") != "SN-1 overwrite,SN-2 shred" {
			t.Fatalf("export %v", exported)
		}
		bd, err := s.Batch("SR-1")
		must(t, err)
		if len(bd.Disposals) != 1 || bd.Disposals[0].Serial != "SN-2" {
			t.Fatalf("batch %+v", bd.Disposals)
		}
		cd, err := s.CertificateData(CertBatch, "SR-1")
		must(t, err)
		if len(cd.Items) != 1 || cd.Items[0].Device.Serial != "SN-2" {
			t.Fatalf("batch certificate data %+v", cd.Items)
		}
		cd, err = s.CertificateData(CertDevice, "SN-1")
		must(t, err)
		if len(cd.Items) != 1 || cd.Items[0].Disposal.UUID != wipe.UUID {
			t.Fatalf("device certificate data %+v", cd.Items)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a void: %v", err)
		}
		// Voiding a device's only disposal leaves it without one.
		h2, _ := s.History("SN-2")
		_, err = s.VoidDisposal(h2.Disposals[0].UUID, "never happened")
		must(t, err)
		if f := finals(t, s, "SN-2"); len(f) != 0 {
			t.Fatalf("finals %v", f)
		}
		// Re-importing the row that recorded it does not bring it back.
		res, err := importString(s, "a.csv", header+"SN-2,,ssd,Samsung,MZ7,960,DC-North,shred,,,yes,Shredwell,2021-03-01,0.058,SR-1,A. Patel,M. Lewis,\n")
		if err != nil || res.Unchanged != 1 || len(finals(t, s, "SN-2")) != 0 {
			t.Fatalf("re-import after a void: %+v %v", res, err)
		}
		if _, err := s.CertificateData(CertDevice, "SN-2"); !errors.Is(err, ErrNoDisposal) {
			t.Fatalf("certificate data of a device with only a void disposal: %v", err)
		}
		if got := reportCounts(t, s); got["destroy"] != 0 || got["clear"] != 1 {
			t.Fatalf("report %v", got)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after voiding an only disposal: %v", err)
		}
		// A new disposal can be recorded after the void.
		_, err = s.RecordDisposal(Disposal{Serial: "SN-2", Method: "shred", DisposedOn: "2021-03-02", Contractor: "Shredwell"})
		must(t, err)
		if f := finals(t, s, "SN-2"); len(f) != 1 {
			t.Fatalf("finals %v", f)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a disposal recorded after a void: %v", err)
		}
	})
	for _, tc := range []struct {
		name   string
		uuid   func(shred Disposal) string
		reason string
		want   error
		text   string
	}{
		{"ErrNoReason", func(p Disposal) string { return p.UUID }, " ", ErrInvalid, "reason is required"},
		{"ErrNotFound", func(Disposal) string { return "0190f5d2-0000-7000-8000-000000000000" }, "r", ErrNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, shred, _ := amendFixture(t)
			before := dumpTables(t, s.DB())
			_, err := s.VoidDisposal(tc.uuid(shred), tc.reason)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused void changed the ledger")
			}
		})
	}
	t.Run("ErrVoidedTwiceOrAmended", func(t *testing.T) {
		s, shred, _ := amendFixture(t)
		p, err := s.VoidDisposal(shred.UUID, "wrong serial")
		must(t, err)
		before := dumpTables(t, s.DB())
		_, err = s.VoidDisposal(shred.UUID, "again")
		if !errors.Is(err, ErrVoided) || !strings.Contains(err.Error(), fmt.Sprintf("event #%d", p.Void.Seq)) {
			t.Fatalf("void twice: %v", err)
		}
		_, _, err = s.AmendDisposal(shred.UUID, map[string]string{"notes": "x"}, "r")
		if !errors.Is(err, ErrVoided) || !strings.Contains(err.Error(), "itad dispose") {
			t.Fatalf("amend a void disposal: %v", err)
		}
		if dumpTables(t, s.DB()) != before {
			t.Fatal("a refused change changed the ledger")
		}
	})
}

func TestCorrectSerial(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		d, cs, err := s.AmendDevice("sn-1", map[string]string{"serial": "SN-10"}, "digits transposed")
		if err != nil {
			t.Fatal(err)
		}
		if d.Serial != "SN-10" || FormatChanges(cs) != `serial "SN-1" -> "SN-10"` {
			t.Fatalf("device %+v, changes %v", d, cs)
		}
		if _, err := s.Device("SN-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the old serial is no longer the device's: %v", err)
		}
		// The old serial still finds the device, with its whole history.
		h, err := s.History("SN-1")
		must(t, err)
		if h.Device.Serial != "SN-10" || strings.Join(h.FormerSerials, ",") != "SN-1" {
			t.Fatalf("history by old serial: %+v %v", h.Device, h.FormerSerials)
		}
		actions := func(evs []Event) string {
			var a []string
			for _, e := range evs {
				a = append(a, e.Action)
			}
			return strings.Join(a, ",")
		}
		const want = "import.rows,disposal.record,device.serial"
		if got := actions(h.Events); got != want {
			t.Fatalf("history events %s, want %s", got, want)
		}
		var logged []Event
		must(t, s.AuditLog(LogFilter{Serial: "SN-1"}, func(e Event) error { logged = append(logged, e); return nil }))
		if got := actions(logged); got != want {
			t.Fatalf("log --serial SN-1: %s, want %s", got, want)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a serial correction of an imported device: %v", err)
		}
		// A serial and another field corrected at once: two events.
		_, cs, err = s.AmendDevice("SN-10", map[string]string{"serial": "SN-11", "model": "ST2"}, "label misread")
		must(t, err)
		if FormatChanges(cs) != `serial "SN-10" -> "SN-11"; model "ST1" -> "ST2"` {
			t.Fatalf("changes %v", FormatChanges(cs))
		}
		h, _ = s.History("SN-1")
		if got := actions(h.Events); got != want+",device.serial,device.amend" || strings.Join(h.FormerSerials, ",") != "SN-1,SN-10" {
			t.Fatalf("history events %s, former %v", got, h.FormerSerials)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after two corrections: %v", err)
		}
		// An import still naming the old serial is refused for that row.
		before := dumpTables(t, s.DB())
		_, err = importString(s, "again.csv", header+"SN-1,,hdd,Seagate,ST1,4000,DC-North,overwrite,,nwipe,yes,Albion,2021-03-01,,,A. Patel,,\n")
		var ie *ImportError
		if !errors.As(err, &ie) || !strings.Contains(ie.Errors[0].Problem, "serial SN-1 was corrected to SN-10") {
			t.Fatalf("import of the old serial: %v", err)
		}
		if dumpTables(t, s.DB()) != before {
			t.Fatal("a refused import changed the ledger")
		}
		// Another device may take the old serial deliberately; the
		// serial then finds it, and each device keeps its own events.
		_, err = s.AddDevice(Device{Serial: "SN-1", Type: "ssd"})
		must(t, err)
		h, _ = s.History("SN-1")
		if h.Device.Type != "ssd" || actions(h.Events) != "device.add" {
			t.Fatalf("the new SN-1: %+v %s", h.Device, actions(h.Events))
		}
		h, _ = s.History("SN-11")
		if got := actions(h.Events); got != want+",device.serial,device.amend" {
			t.Fatalf("the corrected device's events %s", got)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a device took a former serial: %v", err)
		}
	})
	for _, tc := range []struct {
		name, serial string
		want         error
		text         string
	}{
		{"ErrDuplicate", "sn-2", ErrDuplicateSerial, "SN-2 ssd"},
		{"ErrSame", "SN-1", ErrInvalid, "nothing to change"},
		{"ErrEmpty", " ", ErrInvalid, "serial is required"},
		{"ErrControl", "SN\n1", ErrInvalid, "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := amendFixture(t)
			before := dumpTables(t, s.DB())
			_, _, err := s.AmendDevice("SN-1", map[string]string{"serial": tc.serial}, "r")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused correction changed the ledger")
			}
		})
	}
	t.Run("CaseOnly", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		if _, _, err := s.AmendDevice("SN-1", map[string]string{"serial": "sn-1"}, "as printed"); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Device("SN-1"); d.Serial != "sn-1" {
			t.Fatalf("device %+v", d)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAmendBatch(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		gross := int64(1_500)
		_, err := s.CloseBatch("SR-1", &gross)
		must(t, err)
		if _, err := s.CloseBatch("SR-1", &gross); !errors.Is(err, ErrBatchClosed) {
			t.Fatalf("close twice: %v", err)
		}
		b, cs, err := s.AmendBatch("sr-1", map[string]string{"gross_weight_grams": "1520", "witness": "R. Hughes",
			"run_on": "2021-03-01", "contractor": "shredwell"}, "weighbridge ticket misread")
		if err != nil {
			t.Fatal(err)
		}
		got := FormatChanges(cs) // run_on is unchanged: not listed
		if !strings.Contains(got, `gross_weight_grams "1500" -> "1520"`) || !strings.Contains(got, `witness "M. Lewis" -> "R. Hughes"`) ||
			!strings.Contains(got, `contractor "Albion" -> "Shredwell"`) || strings.Contains(got, "run_on") {
			t.Fatalf("changes %s", got)
		}
		if *b.GrossWeightG != 1520 || b.ClosedAt == "" || b.Contractor != "Shredwell" {
			t.Fatalf("batch %+v", b)
		}
		bd, err := s.Batch("SR-1")
		must(t, err)
		if *bd.Batch.GrossWeightG != 1520 || bd.Batch.Witness != "R. Hughes" || bd.Batch.Contractor != "Shredwell" {
			t.Fatalf("stored batch %+v", bd.Batch)
		}
		evs, _ := s.Events(EventFilter{Action: BatchAmendAction})
		if len(evs) != 1 || evs[0].Subject != "SR-1" || evs[0].Reason != "weighbridge ticket misread" {
			t.Fatalf("events %+v", evs)
		}
		if cs2, ok := EventChanges(evs[0]); !ok || FormatChanges(cs2) != got {
			t.Fatalf("EventChanges %v", cs2)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a batch amendment: %v", err)
		}
		// Clearing values replays too.
		_, _, err = s.AmendBatch("SR-1", map[string]string{"gross_weight_grams": "", "contractor": "", "site": "HQ"}, "not weighed after all")
		must(t, err)
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after clearing batch fields: %v", err)
		}
	})
	for _, tc := range []struct {
		name, ref string
		set       map[string]string
		reason    string
		want      error
		text      string
	}{
		{"ErrNoReason", "SR-1", map[string]string{"witness": "X"}, "", ErrInvalid, "reason is required"},
		{"ErrNotFound", "SR-9", map[string]string{"witness": "X"}, "r", ErrNotFound, "not found"},
		{"ErrUnknownField", "SR-1", map[string]string{"ref": "X"}, "r", ErrInvalid, `cannot amend "ref"`},
		{"ErrNothing", "SR-1", map[string]string{"witness": "M. Lewis"}, "r", ErrInvalid, "nothing to change"},
		{"ErrBadDate", "SR-1", map[string]string{"run_on": "2021-13-01"}, "r", ErrInvalid, "not a valid"},
		{"ErrBadWeight", "SR-1", map[string]string{"gross_weight_grams": "1.5"}, "r", ErrInvalid, "not a whole number"},
		{"ErrUnknownContractor", "SR-1", map[string]string{"contractor": "Nobody"}, "r", ErrNotFound, "Nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := amendFixture(t)
			before := dumpTables(t, s.DB())
			_, _, err := s.AmendBatch(tc.ref, tc.set, tc.reason)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused amendment changed the ledger")
			}
		})
	}
}

// TestAmendBatch_EveryFieldReplays: each field of BatchAmendFields,
// corrected on its own, leaves a ledger that verifies (the replay is
// correct.go's batchAmended).
func TestAmendBatch_EveryFieldReplays(t *testing.T) {
	values := map[string]string{"site": "HQ", "contractor": "shredwell", "run_on": "2021-02-03", "witness": "R. Hughes",
		"gross_weight_grams": "1000"}
	for _, f := range BatchAmendFields {
		t.Run(f, func(t *testing.T) {
			v, ok := values[f]
			if !ok {
				t.Fatalf("no sample value for batch field %q: add one to this test", f)
			}
			s, _, _ := amendFixture(t)
			if _, cs, err := s.AmendBatch("SR-1", map[string]string{f: v}, "test "+f); err != nil || len(cs) != 1 {
				t.Fatalf("amend %s: %v %v", f, cs, err)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify after amending %s: %v", f, err)
			}
		})
	}
}

// correctedFixture is verifyFixture with one correction of each kind:
// a void (of an imported disposal), a serial correction (of a device
// added by hand and of an imported one) and a batch amendment.
type corrected struct {
	voidSeq, serialSeq, importedSerialSeq, batchSeq int64
	voidID                                          int64
}

func correctedFixture(t *testing.T) (*Store, corrected) {
	s, _ := verifyFixture(t)
	var c corrected
	h, err := s.History("SN-A3")
	must(t, err)
	p, err := s.VoidDisposal(h.Disposals[0].UUID, "the wipe was of another drive")
	must(t, err)
	c.voidSeq = p.Void.Seq
	// The correction's own event: certificate.stale events may follow it.
	last := func(action string) int64 {
		return q1(t, s.DB(), `SELECT max(seq) FROM events WHERE action = ?`, action)
	}
	_, _, err = s.AmendDevice("SN-B1", map[string]string{"serial": "SN-B9"}, "label misread")
	must(t, err)
	c.serialSeq = last(SerialAction)
	_, _, err = s.AmendDevice("SN-A2", map[string]string{"serial": "SN-A20"}, "digit dropped")
	must(t, err)
	c.importedSerialSeq = last(SerialAction)
	_, _, err = s.AmendBatch("SR-1", map[string]string{"gross_weight_grams": "820"}, "weighbridge ticket misread")
	must(t, err)
	c.batchSeq = last(BatchAmendAction)
	must(t, s.DB().QueryRow(`SELECT id FROM disposals WHERE voided_seq = ?`, c.voidSeq).Scan(&c.voidID))
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("a ledger corrected only by itad must verify: %v", err)
	}
	return s, c
}

// TestVerify_CorrectionsTampered: after each kind of correction, the row
// it changed is changed again behind itad's back, and Verify names the
// row and the correction's event.
func TestVerify_CorrectionsTampered(t *testing.T) {
	exec := func(t *testing.T, db *sql.DB, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	devID := func(t *testing.T, db *sql.DB, serial string) int64 {
		return q1(t, db, `SELECT id FROM devices WHERE serial = ?`, serial)
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB, c corrected) want
	}{
		{"void/unvoid", func(t *testing.T, db *sql.DB, c corrected) want {
			// Un-void, and make it final again, as it was.
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET voided_seq = 0 WHERE id = %d`, c.voidID))
			return want{kind: "table", table: "disposals", rowID: c.voidID, seq: c.voidSeq,
				text: fmt.Sprintf("voided_seq is 0, events say %d (event %d voided it)", c.voidSeq, c.voidSeq)}
		}},
		{"void/forged", func(t *testing.T, db *sql.DB, c corrected) want {
			id := q1(t, db, `SELECT x.id FROM disposals x JOIN devices d ON d.id = x.device_id WHERE d.serial = 'SN-A1'`)
			seq := q1(t, db, `SELECT seq FROM disposals WHERE id = ?`, id)
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET voided_seq = %d, is_final = 0 WHERE id = %d`, c.voidSeq, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "but no disposal.void event voided it"}
		}},
		{"void/final", func(t *testing.T, db *sql.DB, c corrected) want {
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET is_final = 1 WHERE id = %d`, c.voidID))
			return want{kind: "table", table: "disposals", rowID: c.voidID, text: "is_final is 1, events say 0"}
		}},
		{"serial/added", func(t *testing.T, db *sql.DB, c corrected) want {
			id := devID(t, db, "SN-B9")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET serial = 'SN-B8', serial_key = 'sn-b8' WHERE id = %d`, id))
			return want{kind: "table", table: "devices", rowID: id,
				text: fmt.Sprintf(`serial is "SN-B8", events say "SN-B9" (as corrected by event %d)`, c.serialSeq)}
		}},
		{"serial/key", func(t *testing.T, db *sql.DB, c corrected) want {
			id := devID(t, db, "SN-B9")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET serial_key = 'sn-b1' WHERE id = %d`, id))
			return want{kind: "table", table: "devices", rowID: id, text: `serial_key is "sn-b1", events say "sn-b9"`}
		}},
		{"serial/imported", func(t *testing.T, db *sql.DB, c corrected) want {
			id := devID(t, db, "SN-A20")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET serial = 'SN-A21', serial_key = 'sn-a21' WHERE id = %d`, id))
			return want{kind: "table", table: "devices", rowID: id, text: fmt.Sprintf("with the amendments of events %d undone", c.importedSerialSeq)}
		}},
		{"serial/reverted", func(t *testing.T, db *sql.DB, c corrected) want {
			id := devID(t, db, "SN-A20")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET serial = 'SN-A2', serial_key = 'sn-a2' WHERE id = %d`, id))
			return want{kind: "table", table: "devices", rowID: id,
				text: fmt.Sprintf(`serial is "SN-A2", events say "SN-A20" (as corrected by event %d)`, c.importedSerialSeq)}
		}},
		{"batch/gross", func(t *testing.T, db *sql.DB, c corrected) want {
			id := q1(t, db, `SELECT id FROM batches WHERE ref = 'SR-1'`)
			exec(t, db, `UPDATE batches SET gross_weight_g = 800 WHERE ref = 'SR-1'`)
			return want{kind: "table", table: "batches", rowID: id, seq: c.batchSeq,
				text: fmt.Sprintf("gross_weight_g is 800, events say 820 (set by event %d)", c.batchSeq)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := correctedFixture(t)
			w := tc.tamper(t, rawDB(t, s), c)
			_, err := s.Verify(VerifyOptions{})
			checkFirst(t, err, w)
		})
	}
}

// TestVerify_ForgedCorrections: correction events itad never wrote — an
// old value the ledger did not hold, a serial changed by device.amend,
// a disposal voided twice — are named by their event.
func TestVerify_ForgedCorrections(t *testing.T) {
	for _, tc := range []struct {
		name  string
		forge func(t *testing.T, s *Store, tx *txn) (string, error)
	}{
		{"batch.amend/old", func(t *testing.T, s *Store, tx *txn) (string, error) {
			b, _ := s.Batch("SR-1")
			_, err := tx.appendEvent(BatchAmendAction, "SR-1", batchAmendPayload{Batch: b.Batch.UUID,
				Changes: []Change{{Field: "witness", Old: "WRONG", New: "X"}}})
			if err == nil {
				_, err = tx.exec(`UPDATE batches SET witness = 'X' WHERE ref = 'SR-1'`)
			}
			return `witness was "WRONG"`, err
		}},
		{"device.amend/serial", func(t *testing.T, s *Store, tx *txn) (string, error) {
			d, _ := s.Device("SN-B1")
			_, err := tx.appendEvent("device.amend", "SN-B1", amendPayload{Device: d.UUID,
				Changes: []Change{{Field: "serial", Old: "SN-B1", New: "SN-B7"}}})
			if err == nil {
				_, err = tx.exec(`UPDATE devices SET serial = 'SN-B7', serial_key = 'sn-b7' WHERE serial = 'SN-B1'`)
			}
			return `unknown field "serial"`, err
		}},
		{"disposal.void/twice", func(t *testing.T, s *Store, tx *txn) (string, error) {
			h, _ := s.History("SN-A1")
			for i := 0; i < 2; i++ {
				if _, err := tx.appendEvent(VoidAction, "SN-A1", voidPayload{Device: h.Device.UUID, Disposal: h.Disposals[0].UUID}); err != nil {
					return "", err
				}
			}
			return "voided already by event", nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := verifyFixture(t)
			var text string
			var seq int64
			must(t, s.write("forged", func(tx *txn) error {
				var err error
				text, err = tc.forge(t, s, tx)
				seq = tx.seq
				return err
			}))
			// The row the forged event changed may be named first; the
			// event itself must be named too.
			_, err := s.Verify(VerifyOptions{})
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Seq != seq || !strings.Contains(ce.Problem, text) {
				t.Fatalf("verify: %v, want event %d: ...%s", err, seq, text)
			}
		})
	}
}

// TestCorrections_LegacyLedger: a ledger written before corrections
// existed (schema version 3, one device.import event a row) takes the
// migration, and a void, a serial correction and a batch amendment on
// its rows verify.
func TestCorrections_LegacyLedger(t *testing.T) {
	data, err := os.ReadFile("../testdata/ledger/v1-device-import.db")
	must(t, err)
	path := filepath.Join(t.TempDir(), "itad.db")
	must(t, os.WriteFile(path, data, 0o600))
	s, err := Open(path, Options{})
	must(t, err)
	t.Cleanup(func() { s.Close() })
	s.Actor = "tester"
	var serial, uuid string
	must(t, s.DB().QueryRow(`SELECT d.serial, x.uuid FROM disposals x JOIN devices d ON d.id = x.device_id ORDER BY x.id LIMIT 1`).Scan(&serial, &uuid))
	_, err = s.VoidDisposal(uuid, "legacy void")
	must(t, err)
	_, _, err = s.AmendDevice("STOS00021221", map[string]string{"serial": "STOS00021222"}, "legacy serial")
	must(t, err)
	var ref string
	if err := s.DB().QueryRow(`SELECT ref FROM batches ORDER BY id LIMIT 1`).Scan(&ref); err == nil {
		_, _, err = s.AmendBatch(ref, map[string]string{"witness": "Legacy Witness"}, "legacy batch")
		must(t, err)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("verify a corrected legacy ledger: %v", err)
	}
	h, err := s.History("STOS00021221")
	must(t, err)
	if h.Device.Serial != "STOS00021222" {
		t.Fatalf("history by the old serial: %+v", h.Device)
	}
}
