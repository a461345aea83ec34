package ledger

import (
	"fmt"
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

// TestUncertified_QueryPlans: the queries that tell a stale certificate
// from a current one read each device's own certificates and each
// certificate's own events, never every certificate or every stale mark
// (SQLite's planner, without statistics, chose both: quadratic).
func TestUncertified_QueryPlans(t *testing.T) {
	s, _ := staleLedger(t)
	tests := []struct {
		name, query string
		args        []any
		want, never []string
	}{
		{"uncertifiedQuery", uncertifiedQuery, []any{0, "", "", CertificateStaleAction},
			[]string{"certificate_devices_device", "events_subject"}, []string{"certificates_subject", "events_action", "SCAN c", "SCAN e"}},
		{"coveredExpr", `SELECT d.id FROM devices d WHERE NOT ` + coveredExpr, nil,
			[]string{"certificate_devices_device", "events_subject"}, []string{"events_action", "SCAN ct", "SCAN e"}},
		{"staleMarksQuery", staleMarksQuery, []any{"x", CertificateStaleAction},
			[]string{"events_subject"}, []string{"events_action", "TEMP B-TREE"}},
		{"supersessionQuery", supersessionQuery, []any{"device", "x", 1, "", "u"},
			[]string{"certificates_subject (kind=? AND subject=?)", "certificate_devices_device (device_id=?)", "c USING INTEGER PRIMARY KEY"},
			[]string{"certificates_subject (kind=?)\n", "SCAN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.DB().Query(`EXPLAIN QUERY PLAN `+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			all := strings.Join(plan, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("plan does not use %s:\n%s", w, all)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(all, n) {
					t.Errorf("plan has %s:\n%s", n, all)
				}
			}
		})
	}
}

// BenchmarkUncertifiedDevices selects the uncertified devices among
// 5,000 certified ones, every certificate current, then every one stale
// (the organisation renamed).
func BenchmarkUncertifiedDevices(b *testing.B) {
	const n = 5000
	s := mustOpen(b)
	if err := s.Init("Test Constabulary"); err != nil {
		b.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("serial,type,make,model,method,contractor,disposed_on,operator\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "B-%06d,hdd,Seagate,Exos,shred,Shredco,2024-05-02,P. Jones\n", i)
	}
	if _, err := s.Import("d.csv", strings.NewReader(csv.String()), ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.IssueCertificates(CertificateRequest{Uncertified: true}, testSigner, func(i, n int, d CertificateDraft) (CertificateHashes, error) {
		return fakeHashes(d)
	}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want int
	}{{"Current", 0}, {"Stale", n}} {
		if c.name == "Stale" {
			if err := s.SetSetting(SettingOrg, "Other Constabulary", "merger"); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				got, err := uncertifiedDevices(s.DB(), 0, "")
				if err != nil || len(got) != c.want {
					b.Fatalf("%d devices (%v), want %d", len(got), err, c.want)
				}
			}
		})
	}
}
