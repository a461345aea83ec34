package evidence

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itad/itad/ledger"
)

// TestVerify_EvidenceTampered changes the evidence tables behind itad's
// back, one way a case, and expects verify to name the table, the row and
// the event it should match.
func TestVerify_EvidenceTampered(t *testing.T) {
	for _, tc := range []struct {
		name, sql, table, problem string
	}{
		{"file bytes changed", `UPDATE evidence SET data = CAST(replace(CAST(data AS TEXT), 'Erased', 'Failed') AS BLOB) WHERE kind = 'nwipe-log'`,
			"evidence", "the evidence was changed after it was kept"},
		{"file hash rewritten with the bytes", `UPDATE evidence SET data = X'00', sha256 = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d' WHERE id = 1`,
			"evidence", "no row, but event"},
		{"file name changed", `UPDATE evidence SET name = 'other.txt' WHERE kind = 'nwipe-log'`, "evidence", `name is "other.txt"`},
		{"failed erasure made a success", `UPDATE erasures SET outcome = 'sanitised' WHERE outcome = 'failed'`, "erasures", `outcome is "sanitised", events say "failed"`},
		{"erasure moved to another device", `UPDATE erasures SET device_id = (SELECT max(id) FROM devices) WHERE outcome = 'failed'`, "erasures", "device is"},
		{"erasure deleted", `DELETE FROM erasures WHERE outcome = 'failed'`, "erasures", "no row, but event"},
		{"erasure inserted", `INSERT INTO erasures(uuid, device_id, evidence_id, outcome, status, seq) SELECT 'forged', device_id, evidence_id, 'sanitised', 'Erased', seq FROM erasures LIMIT 1`,
			"erasures", "no event wrote this row"},
		{"attachment deleted", `DELETE FROM evidence_devices`, "evidence_devices", "no row, but event"},
		{"attachment forged", `INSERT INTO evidence_devices(evidence_id, device_id, seq) SELECT min(e.id), max(d.id), 1 FROM evidence e, devices d`,
			"evidence_devices", "no event wrote this row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLedger(t)
			importFiles(t, s, []string{filepath.Join(fixtures, "nwipe_log_20250402-140010.txt"), filepath.Join(fixtures, "nwipe_log_20250520-083000.txt")},
				Options{}, ledger.EvidenceImportOptions{Type: ledger.HDD})
			if _, _, err := s.AttachEvidence("S4EVNX0N123456A", "ticket.pdf", ledger.EvidenceWeighbridgeTicket, []byte("%PDF-1.4 ticket")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verify(ledger.VerifyOptions{}); err != nil {
				t.Fatalf("before: %v", err)
			}
			if _, err := s.DB().Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			_, err := s.Verify(ledger.VerifyOptions{})
			var te *ledger.TableError
			if !errors.Is(err, ledger.ErrTampered) || !errors.As(err, &te) {
				t.Fatalf("verify: %v, want a TableError", err)
			}
			if !strings.Contains(err.Error(), "table "+tc.table+" ") || !strings.Contains(err.Error(), tc.problem) || te.Seq == 0 {
				t.Errorf("verify: %v (seq %d), want table %s: %s", err, te.Seq, tc.table, tc.problem)
			}
		})
	}
}

// TestAttachEvidence: kinds, the size limit (evidence_max_bytes), the
// same file twice, an unknown device; the file comes back byte for byte.
func TestAttachEvidence(t *testing.T) {
	s := mustLedger(t)
	if _, err := s.AddDevice(ledger.Device{Serial: "SN1", Type: ledger.HDD}); err != nil {
		t.Fatal(err)
	}
	doc := []byte("Certificate of destruction, contractor's own, job 42")
	for _, tc := range []struct {
		name, serial, kind string
		data               []byte
		added              bool
		err                error
	}{
		{"OK", "SN1", ledger.EvidenceContractorCertificate, doc, true, nil},
		{"Again", "sn1", ledger.EvidenceContractorCertificate, doc, false, nil},
		{"ErrKind", "SN1", "selfie", doc, false, ledger.ErrInvalid},
		{"ErrEmpty", "SN1", ledger.EvidencePhoto, nil, false, ledger.ErrInvalid},
		{"ErrNotFound", "NOPE", ledger.EvidencePhoto, doc, false, ledger.ErrNotFound},
		{"ErrTooLarge", "SN1", ledger.EvidencePhoto, make([]byte, 65), false, ledger.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == ledger.ErrTooLarge {
				if err := s.SetSetting(ledger.SettingEvidenceMaxBytes, "64", ""); err != nil {
					t.Fatal(err)
				}
			}
			rec, added, err := s.AttachEvidence(tc.serial, "doc.pdf", tc.kind, tc.data)
			if !errors.Is(err, tc.err) || added != tc.added {
				t.Fatalf("added %v, err %v; want %v, %v", added, err, tc.added, tc.err)
			}
			if err == nil {
				back, err := s.EvidenceData(rec.SHA256)
				if err != nil || string(back) != string(doc) {
					t.Fatalf("evidence data %q, %v", back, err)
				}
			}
		})
	}
	h, err := s.History("SN1")
	if err != nil || len(h.Evidence) != 1 || h.Evidence[0].Kind != ledger.EvidenceContractorCertificate {
		t.Fatalf("history evidence %+v, %v", h.Evidence, err)
	}
	if _, err := s.DB().Exec(`UPDATE evidence SET data = X'00'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EvidenceData(h.Evidence[0].SHA256); !errors.Is(err, ledger.ErrTampered) {
		t.Errorf("changed bytes exported: %v", err)
	}
}
