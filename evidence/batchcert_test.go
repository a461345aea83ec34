package evidence

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/itad/itad/ledger"
)

// TestBatchCertificate_CitesEvidence: a batch certificate's data carries
// the evidence behind its items (the nwipe report that recorded a
// disposal later put into the run, a photo attached to a shredded
// device), one entry per file and serial, and none for a run whose items
// have no evidence.
func TestBatchCertificate_CitesEvidence(t *testing.T) {
	s := mustLedger(t)
	res := importFiles(t, s, []string{filepath.Join(fixtures, "nwipe_log_20250314-091502.txt")}, Options{}, ledger.EvidenceImportOptions{Type: ledger.HDD})
	if res.Sanitised != 1 {
		t.Fatalf("import: %+v", res)
	}
	var wiped ledger.Disposal
	for _, d := range res.Files[0].Devices {
		if d.Outcome == ledger.OutcomeSanitised {
			h, err := s.History(d.Serial)
			if err != nil {
				t.Fatal(err)
			}
			wiped = h.Disposals[0]
		}
	}
	for _, ref := range []string{"W1", "W2"} {
		if _, err := s.AddBatch(ledger.Batch{Ref: ref, Contractor: "WipeCo", RunOn: "2025-03-14"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.AmendDisposal(wiped.UUID, map[string]string{"batch": "W1"}, "wiped at the run"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ serial, batch string }{{"SHRED-1", "W1"}, {"PLAIN-1", "W1"}, {"PLAIN-2", "W2"}} {
		if _, err := s.AddDevice(ledger.Device{Serial: d.serial, Type: ledger.HDD}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordDisposal(ledger.Disposal{Serial: d.serial, Method: ledger.Shred, Contractor: "WipeCo", DisposedOn: "2025-03-14", Batch: d.batch}); err != nil {
			t.Fatal(err)
		}
	}
	photo, _, err := s.AttachEvidence("SHRED-1", "shred-1.jpg", ledger.EvidencePhoto, []byte("not really a jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"W1", "W2"} {
		if _, err := s.CloseBatch(ref, nil); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.CertificateData(ledger.CertBatch, "W1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Evidence) != 2 {
		t.Fatalf("evidence %+v", d.Evidence)
	}
	rep, ph := d.Evidence[0], d.Evidence[1]
	if rep.Serial != wiped.Serial || rep.Kind != ledger.EvidenceNwipeLog || rep.Name != "nwipe_log_20250314-091502.txt" ||
		len(rep.SHA256) != 64 || !strings.HasPrefix(rep.Tool, "nwipe") || rep.Method == "" || !strings.HasPrefix(rep.Verification, "verified") {
		t.Errorf("report entry %+v", rep)
	}
	if ph.Serial != "SHRED-1" || ph.Kind != ledger.EvidencePhoto || ph.SHA256 != photo.SHA256 || ph.Tool != "" {
		t.Errorf("photo entry %+v (photo %+v)", ph, photo)
	}
	// A device certificate cites the same file the same way.
	dd, err := s.CertificateData(ledger.CertDevice, wiped.Serial)
	if err != nil || len(dd.Evidence) != 1 || dd.Evidence[0] != rep {
		t.Errorf("device certificate evidence %+v, %v", dd.Evidence, err)
	}
	if d2, err := s.CertificateData(ledger.CertBatch, "W2"); err != nil || d2.Evidence != nil {
		t.Errorf("a run without evidence: %+v, %v", d2.Evidence, err)
	}
}
