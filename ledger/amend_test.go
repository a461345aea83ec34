package ledger

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func amendFixture(t *testing.T) (*Store, Disposal, Disposal) {
	t.Helper()
	s := mustOpen(t)
	if _, err := importString(s, "a.csv", header+
		"SN-1,,hdd,Seagate,ST1,4000,DC-North,overwrite,,nwipe,yes,Albion,2021-02-01,,,A. Patel,,\n"+
		"SN-1,,hdd,Seagate,ST1,4000,DC-North,shred,,,yes,Albion,2021-03-01,0.650,SR-1,A. Patel,M. Lewis,\n"+
		"SN-2,,ssd,Samsung,MZ7,960,DC-North,shred,,,yes,Shredwell,2021-03-01,0.058,SR-1,A. Patel,M. Lewis,\n"); err != nil {
		t.Fatal(err)
	}
	h, err := s.History("SN-1")
	if err != nil {
		t.Fatal(err)
	}
	// Ordered by date: the wipe (February), then the shredding (March).
	return s, h.Disposals[1], h.Disposals[0]
}

func TestAmendDevice(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		d, cs, err := s.AmendDevice("sn-1", map[string]string{"model": "ST4000NM0035", "capacity_gb": "", "make": "Seagate"}, "label misread")
		if err != nil {
			t.Fatal(err)
		}
		want := `model "ST1" -> "ST4000NM0035"; capacity_gb "4000" -> ""`
		if FormatChanges(cs) != want || d.Model != "ST4000NM0035" || d.CapacityGB != nil {
			t.Fatalf("changes %q (want %q), device %+v", FormatChanges(cs), want, d)
		}
		got, _ := s.Device("SN-1")
		if got.Model != "ST4000NM0035" || got.CapacityGB != nil {
			t.Fatalf("row not updated: %+v", got)
		}
		evs, _ := s.Events(EventFilter{Action: "device.amend"})
		if len(evs) != 1 || evs[0].Reason != "label misread" || evs[0].Subject != "SN-1" {
			t.Fatalf("events %+v", evs)
		}
		if cs2, ok := EventChanges(evs[0]); !ok || FormatChanges(cs2) != want {
			t.Fatalf("EventChanges: %v", cs2)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after amend: %v", err)
		}
	})
	for _, tc := range []struct {
		name, serial string
		set          map[string]string
		reason       string
		want         error
		text         string
	}{
		{"ErrNoReason", "SN-1", map[string]string{"model": "X"}, "  ", ErrInvalid, "reason is required"},
		{"ErrUnknownField", "SN-1", map[string]string{"uuid": "X"}, "r", ErrInvalid, `cannot amend "uuid"`},
		{"ErrNothing", "SN-1", map[string]string{"model": "ST1"}, "r", ErrInvalid, "nothing to change"},
		{"ErrNoFields", "SN-1", map[string]string{}, "r", ErrInvalid, "nothing to change"},
		{"ErrNotFound", "SN-9", map[string]string{"model": "X"}, "r", ErrNotFound, "not found"},
		{"ErrBadType", "SN-1", map[string]string{"type": "toaster"}, "r", ErrInvalid, "unknown type"},
		{"ErrBadCapacity", "SN-1", map[string]string{"capacity_gb": "lots"}, "r", ErrInvalid, "not a whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := amendFixture(t)
			before := dumpTables(t, s.DB())
			_, _, err := s.AmendDevice(tc.serial, tc.set, tc.reason)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused amendment changed the ledger")
			}
		})
	}
	t.Run("ErrTypeVersusMethod", func(t *testing.T) {
		s := mustOpen(t)
		if _, err := importString(s, "a.csv", header+"SN-D,,hdd,,,,,degauss,,,,Albion,2021-01-01,,,,,\n"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AmendDevice("SN-D", map[string]string{"type": "ssd"}, "r"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "degauss") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestAmendDisposal(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, shred, wipe := amendFixture(t)
		if !shred.Final || wipe.Final {
			t.Fatalf("before: the shredding is final: %+v %+v", shred, wipe)
		}
		// The shredding was really an earlier wipe: the other wipe, now the
		// later, becomes final.
		p, cs, err := s.AmendDisposal(shred.UUID, map[string]string{"method": "overwrite", "weight_grams": "", "batch": "",
			"contractor": "shredwell", "disposed_on": "2021-01-15"}, "recorded against the wrong run")
		if err != nil {
			t.Fatal(err)
		}
		want := `method "shred" -> "overwrite"; disposed_on "2021-03-01" -> "2021-01-15"; contractor "Albion" -> "Shredwell"; weight_grams "650" -> ""; batch "SR-1" -> ""`
		if FormatChanges(cs) != want {
			t.Fatalf("changes\n%s\nwant\n%s", FormatChanges(cs), want)
		}
		if p.Category != Clear || p.Final {
			t.Fatalf("amended disposal %+v", p)
		}
		h, _ := s.History("SN-1")
		finals := 0
		for _, d := range h.Disposals {
			if d.Final {
				finals++
				if d.UUID != wipe.UUID {
					t.Fatalf("final is %s, want the wipe %s", d.UUID, wipe.UUID)
				}
			}
		}
		if finals != 1 {
			t.Fatalf("%d final dispositions", finals)
		}
		// Reports read the corrected rows.
		rows, err := s.Report(ReportQuery{Years: []int{2021}, By: []string{"category"}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[r.Fields["category"]] = r.Count
		}
		if got["clear"] != 1 || got["destroy"] != 1 {
			t.Fatalf("report %v", got)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after amendments: %v", err)
		}
		// A second amendment of the same disposal replays in order.
		if _, _, err := s.AmendDisposal(shred.UUID, map[string]string{"method": "shred", "batch": "SR-1", "disposed_on": "2021-03-01"}, "it was shredded after all"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(VerifyOptions{}); err != nil {
			t.Fatalf("verify after a second amendment: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		set  map[string]string
		want error
		text string
	}{
		{"ErrUnknownContractor", map[string]string{"contractor": "Nobody Ltd"}, ErrNotFound, "Nobody Ltd"},
		{"ErrUnknownBatch", map[string]string{"batch": "SR-99"}, ErrNotFound, "SR-99"},
		{"ErrBadMethod", map[string]string{"method": "microwave"}, ErrInvalid, "unknown method"},
		{"ErrBadDate", map[string]string{"disposed_on": "2021-02-30"}, ErrInvalid, "not a valid"},
		{"ErrBadWeight", map[string]string{"weight_grams": "0.5"}, ErrInvalid, "not a whole number"},
		{"ErrNothing", map[string]string{"method": "shred"}, ErrInvalid, "nothing to change"},
		{"ErrUnknownField", map[string]string{"category": "clear"}, ErrInvalid, `cannot amend "category"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, shred, _ := amendFixture(t)
			before := dumpTables(t, s.DB())
			_, _, err := s.AmendDisposal(shred.UUID, tc.set, "reason")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err %v, want %v containing %q", err, tc.want, tc.text)
			}
			if dumpTables(t, s.DB()) != before {
				t.Fatal("a refused amendment changed the ledger")
			}
		})
	}
	t.Run("ErrDegaussFlash", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		h, _ := s.History("SN-2")
		if _, _, err := s.AmendDisposal(h.Disposals[0].UUID, map[string]string{"method": "degauss"}, "r"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s, _, _ := amendFixture(t)
		if _, _, err := s.AmendDisposal("0190f5d2-0000-7000-8000-000000000000", map[string]string{"notes": "x"}, "r"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestVerify_ForgedAmendment: an amendment event whose old value is not
// what the ledger held is an event itad never wrote. For a device added
// on its own, whose event holds its values, Verify names the amendment;
// for an imported one, whose event holds only its hash, the row as
// imported is not known, and Verify names the row and the amendment.
func TestVerify_ForgedAmendment(t *testing.T) {
	s, _, _ := amendFixture(t)
	if _, err := s.AddDevice(Device{Serial: "SN-3", Type: "hdd", Model: "MZ7"}); err != nil {
		t.Fatal(err)
	}
	forge := func(serial string) int64 {
		d, _ := s.Device(serial)
		var seq int64
		err := s.write("forged", func(tx *txn) error {
			var err error
			seq, err = tx.appendEvent("device.amend", serial, amendPayload{Device: d.UUID, Changes: []Change{{Field: "model", Old: "WRONG", New: "MZ9"}}})
			if err != nil {
				return err
			}
			_, err = tx.exec(`UPDATE devices SET model = 'MZ9' WHERE serial = ?`, serial)
			return err
		})
		must(t, err)
		return seq
	}
	added := forge("SN-3")
	_, err := s.Verify(VerifyOptions{})
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Seq != added || !strings.Contains(ce.Problem, `model was "WRONG"`) {
		t.Fatalf("verify: %v", err)
	}
	imported := forge("SN-2")
	_, err = s.Verify(VerifyOptions{})
	var te *TableError
	if !errors.As(err, &te) || te.Table != "devices" || te.Key != "serial SN-2" ||
		!strings.Contains(te.Problem, fmt.Sprintf("with the amendments of events %d undone", imported)) {
		t.Fatalf("verify: %v", err)
	}
}

// TestAmend_EveryFieldReplays: each amendable field, corrected on its
// own, leaves a ledger that verifies. Verify replays amendments with its
// own field code (ledger/amend.go "replay", over its compact rows), so a
// field added to amend but not to the replay fails here; a field added to
// DeviceAmendFields or DisposalAmendFields needs a sample value below.
func TestAmend_EveryFieldReplays(t *testing.T) {
	deviceValues := map[string]string{"asset_tag": "TAG-9", "type": "tape", "make": "IBM", "model": "LTO-8",
		"capacity_gb": "12000", "site": "HQ Annex"}
	disposalValues := map[string]string{"method": "incinerate", "disposed_on": "2021-02-02", "contractor": "shredwell",
		"standard": "DIN 66399 H-6", "tool": "MDS-10", "verified": "sample", "weight_grams": "700", "batch": "",
		"operator": "J. Okafor", "witness": "R. Hughes", "notes": "corrected"}
	for _, f := range DeviceAmendFields {
		t.Run("device/"+f, func(t *testing.T) {
			v, ok := deviceValues[f]
			if !ok {
				t.Fatalf("no sample value for device field %q: add one to this test", f)
			}
			s, _, _ := amendFixture(t)
			if _, cs, err := s.AmendDevice("SN-1", map[string]string{f: v}, "test "+f); err != nil || len(cs) != 1 {
				t.Fatalf("amend %s: %v %v", f, cs, err)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify after amending %s: %v", f, err)
			}
		})
	}
	for _, f := range DisposalAmendFields {
		t.Run("disposal/"+f, func(t *testing.T) {
			v, ok := disposalValues[f]
			if !ok {
				t.Fatalf("no sample value for disposal field %q: add one to this test", f)
			}
			s, shred, _ := amendFixture(t)
			if _, cs, err := s.AmendDisposal(shred.UUID, map[string]string{f: v}, "test "+f); err != nil || len(cs) != 1 {
				t.Fatalf("amend %s: %v %v", f, cs, err)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify after amending %s: %v", f, err)
			}
		})
	}
}
