package ledger

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// certLedger returns a ledger with an organisation, a contractor, two
// disposed devices in a closed batch and one device without a disposal.
func certLedger(t *testing.T) *Store {
	t.Helper()
	s := mustOpen(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Init("Test Constabulary"))
	_, err := s.AddContractor(Contractor{Name: "Shredco", Accreditations: "ADISA, NAID AAA"})
	must(err)
	_, err = s.AddBatch(Batch{Ref: "RUN-1", Site: "DC-1", Contractor: "Shredco", RunOn: "2021-03-04", Witness: "P. Jones"})
	must(err)
	for _, serial := range []string{"S1", "S2", "S3"} {
		_, err := s.AddDevice(Device{Serial: serial, Type: HDD, Make: "Seagate", Site: "DC-1"})
		must(err)
	}
	for _, serial := range []string{"S1", "S2"} {
		_, err := s.RecordDisposal(Disposal{Serial: serial, Method: Shred, DisposedOn: "2021-03-04", Contractor: "Shredco", Batch: "RUN-1"})
		must(err)
	}
	g := int64(1200)
	_, err = s.CloseBatch("RUN-1", &g)
	must(err)
	return s
}

// testSigner signs the checkpoints that revocations and supersessions
// take.
var testSigner = func() note.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	s, err := NewNoteSigner("itad/test", k)
	if err != nil {
		panic(err)
	}
	return s
}()

// fakeHashes returns distinct valid hashes for a draft.
func fakeHashes(d CertificateDraft) (CertificateHashes, error) {
	h := fmt.Sprintf("%064x", len(d.Data.Items))
	return CertificateHashes{ContentHash: h, PDFSHA256: strings.Repeat("ab", 32), SignerFingerprint: strings.Repeat("cd", 32)}, nil
}

func TestLedger_IssueCertificate(t *testing.T) {
	t.Run("OK/Device", func(t *testing.T) {
		s := certLedger(t)
		var draft CertificateDraft
		c, err := s.IssueCertificate(CertDevice, " s1 ", testSigner, func(d CertificateDraft) (CertificateHashes, error) {
			draft = d
			return fakeHashes(d)
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "S1" || c.Kind != CertDevice || c.Devices != 1 || c.Status() != "current" || c.UUID != draft.UUID {
			t.Fatalf("certificate = %+v", c)
		}
		d := draft.Data
		if d.Org != "Test Constabulary" || len(d.Items) != 1 || d.Items[0].Device.Serial != "S1" || d.Items[0].Disposal.Method != Shred ||
			len(d.Contractors) != 1 || d.Contractors[0].Accreditations != "ADISA, NAID AAA" || d.Batch != nil {
			t.Fatalf("draft data = %+v", d)
		}
		if draft.IssuedBy != "tester" || draft.IssuedAt.Format(TimeFormat) != c.IssuedAt {
			t.Errorf("draft issued %v by %s, certificate %s", draft.IssuedAt, draft.IssuedBy, c.IssuedAt)
		}
		// The event, exactly as verify replays it.
		evs, err := s.Events(EventFilter{Action: "certificate.issue"})
		if err != nil || len(evs) != 1 {
			t.Fatalf("events = %v, %v", evs, err)
		}
		e := evs[0]
		want := fmt.Sprintf(`{"uuid":%q,"kind":"device","subject":"S1","content_hash":"%064x","pdf_sha256":"%s","signer_fingerprint":"%s","issued_at":%q,"issued_by":"tester","devices":[%q],"supersedes":[]}`,
			c.UUID, 1, strings.Repeat("ab", 32), strings.Repeat("cd", 32), c.IssuedAt, d.Items[0].Device.UUID)
		if e.Subject != c.UUID || string(e.Payload) != want || e.Seq != c.Seq {
			t.Errorf("event %d %s payload\n%s\nwant\n%s", e.Seq, e.Subject, e.Payload, want)
		}
		got, err := s.CertificateByNumber(strings.ToUpper(c.UUID))
		if err != nil || got.ContentHash != c.ContentHash || got.Devices != 1 {
			t.Errorf("CertificateByNumber = %+v, %v", got, err)
		}
	})
	t.Run("OK/BatchSupersedes", func(t *testing.T) {
		s := certLedger(t)
		first, err := s.IssueCertificate(CertBatch, "run-1", testSigner, fakeHashes)
		if err != nil {
			t.Fatal(err)
		}
		if first.Subject != "RUN-1" || first.Devices != 2 {
			t.Fatalf("certificate = %+v", first)
		}
		second, err := s.IssueCertificate(CertBatch, "RUN-1", testSigner, fakeHashes)
		if err != nil {
			t.Fatal(err)
		}
		if len(second.Supersedes) != 1 || second.Supersedes[0] != first.UUID {
			t.Fatalf("supersedes = %v", second.Supersedes)
		}
		old, _ := s.CertificateByNumber(first.UUID)
		if old.SupersededBy != second.UUID || old.Status() != "superseded" {
			t.Errorf("first certificate = %+v", old)
		}
		// A device certificate of S1 does not supersede the batch's.
		if _, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.CertificateByNumber(second.UUID)
		if cur.Status() != "current" {
			t.Errorf("batch certificate %s after a device certificate", cur.Status())
		}
		list, err := s.Certificates("S1")
		if err != nil || len(list) != 3 {
			t.Fatalf("Certificates(S1) = %d, %v", len(list), err)
		}
		if list, _ := s.Certificates("S2"); len(list) != 2 {
			t.Errorf("Certificates(S2) = %d, want 2", len(list))
		}
		if all, _ := s.Certificates(""); len(all) != 3 {
			t.Errorf("Certificates() = %d, want 3", len(all))
		}
		h, err := s.History("S1")
		if err != nil || len(h.Certificates) != 3 {
			t.Errorf("History(S1).Certificates = %d, %v", len(h.Certificates), err)
		}
		var n int
		s.DB().QueryRow(`SELECT count(*) FROM certificate_devices`).Scan(&n)
		if n != 5 {
			t.Errorf("certificate_devices rows = %d, want 5", n)
		}
	})
	refusals := []struct {
		name          string
		setup         func(t *testing.T, s *Store)
		kind, subject string
		render        func(CertificateDraft) (CertificateHashes, error)
		want          error
	}{
		{"ErrNoDisposal/Device", nil, CertDevice, "S3", fakeHashes, ErrNoDisposal},
		{"ErrNotFound/Device", nil, CertDevice, "nope", fakeHashes, ErrNotFound},
		{"ErrNotFound/Batch", nil, CertBatch, "nope", fakeHashes, ErrNotFound},
		{"ErrBatchOpen", func(t *testing.T, s *Store) {
			if _, err := s.AddBatch(Batch{Ref: "RUN-2"}); err != nil {
				t.Fatal(err)
			}
		}, CertBatch, "RUN-2", fakeHashes, ErrBatchOpen},
		{"ErrNoDisposal/EmptyBatch", func(t *testing.T, s *Store) {
			if _, err := s.AddBatch(Batch{Ref: "RUN-2"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CloseBatch("RUN-2", nil); err != nil {
				t.Fatal(err)
			}
		}, CertBatch, "RUN-2", fakeHashes, ErrNoDisposal},
		{"ErrNoOrg", func(t *testing.T, s *Store) {
			if err := s.SetSetting(SettingOrg, "", ""); err != nil {
				t.Fatal(err)
			}
		}, CertDevice, "S1", fakeHashes, ErrNoOrg},
		{"ErrInvalid/Kind", nil, "pallet", "S1", fakeHashes, ErrInvalid},
		{"ErrInvalid/Hash", nil, CertDevice, "S1", func(d CertificateDraft) (CertificateHashes, error) {
			h, _ := fakeHashes(d)
			h.PDFSHA256 = "AB"
			return h, nil
		}, ErrInvalid},
		{"RenderFails", nil, CertDevice, "S1", func(CertificateDraft) (CertificateHashes, error) {
			return CertificateHashes{}, errRender
		}, errRender},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			s := certLedger(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			before := dumpTables(t, s.DB())
			_, err := s.IssueCertificate(tt.kind, tt.subject, testSigner, tt.render)
			if !errors.Is(err, tt.want) {
				t.Fatalf("IssueCertificate error = %v, want %v", err, tt.want)
			}
			if after := dumpTables(t, s.DB()); after != before {
				t.Errorf("a refused certificate changed the ledger")
			}
		})
	}
}

var errRender = errors.New("render failed")

func TestLedger_RevokeCertificate(t *testing.T) {
	s := certLedger(t)
	c, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		if _, err := s.RevokeCertificate(c.UUID, "  ", testSigner); !errors.Is(err, ErrInvalid) {
			t.Fatalf("error = %v, want ErrInvalid", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := s.RevokeCertificate("0000", "typo", testSigner); !errors.Is(err, ErrNotFound) {
			t.Fatalf("error = %v, want ErrNotFound", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		r, err := s.RevokeCertificate(c.UUID, "wrong serial on the label", testSigner)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status() != "revoked" || r.RevokeReason != "wrong serial on the label" {
			t.Fatalf("revoked = %+v", r)
		}
		evs, _ := s.Events(EventFilter{Action: "certificate.revoke"})
		if len(evs) != 1 {
			t.Fatalf("%d revoke events", len(evs))
		}
		want := fmt.Sprintf(`{"uuid":%q,"reason":"wrong serial on the label","revoked_at":%q}`, c.UUID, r.RevokedAt)
		if string(evs[0].Payload) != want || evs[0].Reason != "wrong serial on the label" || evs[0].Subject != c.UUID {
			t.Errorf("revoke event %+v\nwant payload %s", evs[0], want)
		}
		// A new certificate does not supersede a revoked one.
		n, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes)
		if err != nil || len(n.Supersedes) != 0 {
			t.Errorf("reissue supersedes %v, %v", n.Supersedes, err)
		}
	})
	t.Run("ErrAlreadyRevoked", func(t *testing.T) {
		if _, err := s.RevokeCertificate(c.UUID, "again", testSigner); !errors.Is(err, ErrAlreadyRevoked) {
			t.Fatalf("error = %v, want ErrAlreadyRevoked", err)
		}
	})
}

func TestLedger_RecordKey(t *testing.T) {
	s := mustOpen(t)
	k := KeyRecord{Fingerprint: strings.Repeat("0f", 32), Subject: "CN=Test", NotAfter: "2035-01-01T00:00:00Z"}
	if err := s.RecordKey(KeyInit, k); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey("key.steal", k); !errors.Is(err, ErrInvalid) {
		t.Errorf("RecordKey(key.steal) = %v", err)
	}
	if err := s.RecordKey(KeyImport, KeyRecord{Fingerprint: "xyz"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("RecordKey(bad fingerprint) = %v", err)
	}
	keys, err := s.SigningKeys()
	if err != nil || len(keys) != 1 || keys[0] != k {
		t.Fatalf("SigningKeys = %v, %v", keys, err)
	}
	evs, _ := s.Events(EventFilter{Action: KeyInit})
	var payload map[string]string
	if err := json.Unmarshal(evs[0].Payload, &payload); err != nil || len(payload) != 3 {
		t.Errorf("key.init payload %s", evs[0].Payload)
	}
}
