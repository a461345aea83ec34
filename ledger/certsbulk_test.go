package ledger

import (
	"strings"
	"testing"
)

// TestLedger_IssueCertificatesUncertified: Uncertified selects the devices
// with a final disposition whose device certificate is missing, revoked
// or stale, and issues them again in one transaction, superseding the
// stale ones (with a checkpoint); a current certificate, a batch
// certificate and a device never disposed of are left alone.
func TestLedger_IssueCertificatesUncertified(t *testing.T) {
	issue := func(t *testing.T, s *Store, req CertificateRequest) []Certificate {
		t.Helper()
		certs, err := s.IssueCertificates(req, testSigner, func(i, n int, d CertificateDraft) (CertificateHashes, error) {
			return fakeHashes(d)
		})
		if err != nil {
			t.Fatal(err)
		}
		return certs
	}
	subjects := func(cs []Certificate) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Subject)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name   string
		change func(t *testing.T, s *Store, certs map[string]string)
		req    CertificateRequest
		want   string // subjects issued, by serial
	}{
		{"AllCurrent", func(t *testing.T, s *Store, certs map[string]string) {}, CertificateRequest{Uncertified: true}, ""},
		{"Stale", func(t *testing.T, s *Store, certs map[string]string) {
			if _, _, err := s.AmendDevice("S1", map[string]string{"model": "Exos"}, "typo"); err != nil {
				t.Fatal(err)
			}
		}, CertificateRequest{Uncertified: true}, "S1"},
		{"StaleEverywhere", func(t *testing.T, s *Store, certs map[string]string) {
			if err := s.SetSetting(SettingOrg, "Other Constabulary", "merger"); err != nil {
				t.Fatal(err)
			}
		}, CertificateRequest{Uncertified: true}, "S1 S2 S3"},
		{"StaleAndRevoked", func(t *testing.T, s *Store, certs map[string]string) {
			if _, _, err := s.AmendDevice("S2", map[string]string{"model": "Exos"}, "typo"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RevokeCertificate(certs["S3"], "wrong serial", testSigner); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddDevice(Device{Serial: "S9", Type: HDD}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordDisposal(Disposal{Serial: "S9", Method: Shred, DisposedOn: "2022-05-01", Contractor: "Shredco"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddDevice(Device{Serial: "S10", Type: HDD}); err != nil { // never disposed of
				t.Fatal(err)
			}
		}, CertificateRequest{Uncertified: true}, "S2 S3 S9"},
		{"StaleInYear", func(t *testing.T, s *Store, certs map[string]string) {
			if _, _, err := s.AmendDevice("S1", map[string]string{"model": "Exos"}, "typo"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddDevice(Device{Serial: "S9", Type: HDD}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RecordDisposal(Disposal{Serial: "S9", Method: Shred, DisposedOn: "2022-05-01", Contractor: "Shredco"}); err != nil {
				t.Fatal(err)
			}
		}, CertificateRequest{Uncertified: true, Year: 2021}, "S1"},
		{"StaleInBatch", func(t *testing.T, s *Store, certs map[string]string) {
			if err := s.SetSetting(SettingOrg, "Other Constabulary", "merger"); err != nil {
				t.Fatal(err)
			}
		}, CertificateRequest{Uncertified: true, Batch: "RUN-1"}, "S1 S2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, certs := staleLedger(t)
			tt.change(t, s, certs)
			before := map[string]Certificate{}
			for sub, number := range certs {
				c, err := s.CertificateByNumber(number)
				if err != nil {
					t.Fatal(err)
				}
				before[sub] = c
			}
			got := issue(t, s, tt.req)
			if subjects(got) != tt.want {
				t.Fatalf("issued %q, want %q", subjects(got), tt.want)
			}
			for _, c := range got {
				old, ok := before[c.Subject]
				if ok && old.Status() == "stale" {
					if len(c.Supersedes) != 1 || c.Supersedes[0] != old.UUID || c.Checkpoint == nil {
						t.Errorf("%s: supersedes %v (checkpoint %v), want the stale %s", c.Subject, c.Supersedes, c.Checkpoint, old.UUID)
					}
					now, err := s.CertificateByNumber(old.UUID)
					if err != nil {
						t.Fatal(err)
					}
					if now.SupersededBy != c.UUID {
						t.Errorf("%s: stale certificate superseded by %q, want %s", c.Subject, now.SupersededBy, c.UUID)
					}
				}
			}
			// Without a filter, every device certificate is now current and
			// not stale: a second call issues nothing.
			if again := issue(t, s, CertificateRequest{Uncertified: true}); tt.req.Year == 0 && tt.req.Batch == "" && len(again) != 0 {
				t.Errorf("second call issued %q", subjects(again))
			}
			// The batch certificate is not a device certificate: it is
			// never issued by Uncertified, stale or not.
			if c, err := s.CertificateByNumber(certs["RUN-1"]); err != nil || c.SupersededBy != "" {
				t.Errorf("batch certificate superseded by %q (%v)", c.SupersededBy, err)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}
