package ledger

import (
	"errors"
	"testing"
)

// TestState_TamperedRowsRefused: each security-relevant row changed with
// raw SQL, exactly as an attacker with the sqlite3 shell would, makes the
// read that a verdict or a disclosure relies on fail with a StateError
// (ErrTampered), without running verify first.
func TestState_TamperedRowsRefused(t *testing.T) {
	type fixture struct {
		s              *Store
		number, second string // a revoked certificate; a superseded one
	}
	setup := func(t *testing.T) fixture {
		s := certLedger(t)
		must(t, s.SetSetting(SettingRequireReason, "true", "policy"))
		if _, _, err := s.SetExemption("contractor.name", []string{"24(1)", "31(1)"}, "FOI policy"); err != nil {
			t.Fatal(err)
		}
		c1, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes)
		must(t, err)
		_, err = s.RevokeCertificate(c1.UUID, "issued against the wrong serial", testSigner)
		must(t, err)
		c2, err := s.IssueCertificate(CertDevice, "S2", testSigner, fakeHashes)
		must(t, err)
		_, err = s.IssueCertificate(CertDevice, "S2", testSigner, fakeHashes) // supersedes c2
		must(t, err)
		return fixture{s, c1.UUID, c2.UUID}
	}
	certRead := func(f fixture, n string) error { _, err := f.s.CertificateByNumber(n); return err }
	cases := []struct {
		name string
		sql  string
		read func(fixture) error
	}{
		{"RevocationCleared", `UPDATE certificates SET revoked_at = '', revoke_reason = ''`, func(f fixture) error { return certRead(f, f.number) }},
		{"RevocationReasonChanged", `UPDATE certificates SET revoke_reason = 'routine' WHERE revoked_at != ''`, func(f fixture) error { return certRead(f, f.number) }},
		{"SupersessionCleared", `UPDATE certificates SET superseded_by = ''`, func(f fixture) error { return certRead(f, f.second) }},
		{"FalselySuperseded", `UPDATE certificates SET superseded_by = (SELECT uuid FROM certificates WHERE superseded_by != '') WHERE superseded_by = '' AND revoked_at = ''`,
			func(f fixture) error { _, err := f.s.Certificates(""); return err }},
		{"DeviceShowCertificates", `UPDATE certificates SET revoked_at = '', revoke_reason = ''`, func(f fixture) error { _, err := f.s.History("S1"); return err }},
		{"ExemptionDeleted", `DELETE FROM exemptions WHERE field = 'contractor.name'`, func(f fixture) error { _, err := f.s.FOI(FOIQuery{}); return err }},
		{"ExemptionNarrowed", `UPDATE exemptions SET sections = '24(1)'`, func(f fixture) error { _, err := f.s.FOI(FOIQuery{}); return err }},
		{"ExemptionInserted", `INSERT INTO exemptions(field, sections, seq) VALUES ('site', '24(1)', 1)`, func(f fixture) error { _, err := f.s.Exemptions(); return err }},
		{"RequireReasonOff", `UPDATE settings SET value = 'false' WHERE key = 'require_reason'`, func(f fixture) error { return f.s.LogAccess("report", "report", "", nil) }},
		{"RequireReasonDeleted", `DELETE FROM settings WHERE key = 'require_reason'`, func(f fixture) error { return f.s.LogAccess("report", "report", "", nil) }},
		{"OrgRenamed", `UPDATE settings SET value = 'Other Org' WHERE key = 'org'`, func(f fixture) error { _, err := f.s.CertificateData(CertDevice, "S1"); return err }},
		{"SettingInserted", `INSERT INTO settings(key, value, seq) VALUES ('media_destination', 'landfill', 1)`, func(f fixture) error { _, err := f.s.Settings(); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			if err := tc.read(f); err != nil && !errors.Is(err, ErrReasonRequired) {
				t.Fatalf("before tampering: %v", err)
			}
			res, err := rawDB(t, f.s).Exec(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("%s changed no row", tc.sql)
			}
			err = tc.read(f)
			var se *StateError
			if !errors.As(err, &se) || !errors.Is(err, ErrTampered) {
				t.Fatalf("after %s: %v, want a StateError", tc.sql, err)
			}
		})
	}
}

// TestState_Untampered: the checks pass on an honest ledger, through
// revocation, supersession, exemptions set and cleared, and settings
// changed more than once.
func TestState_Untampered(t *testing.T) {
	s := certLedger(t)
	must(t, s.SetSetting(SettingRequireReason, "true", "policy"))
	must(t, s.SetSetting(SettingRequireReason, "false", "policy relaxed"))
	for _, f := range []string{"contractor.name", "site"} {
		if _, _, err := s.SetExemption(f, []string{"24(1)"}, "x"); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.ClearExemption("site", "no longer sensitive"))
	c1, err := s.IssueCertificate(CertBatch, "RUN-1", testSigner, fakeHashes)
	must(t, err)
	c2, err := s.IssueCertificate(CertBatch, "RUN-1", testSigner, fakeHashes)
	must(t, err)
	_, err = s.RevokeCertificate(c2.UUID, "wrong run", testSigner)
	must(t, err)
	if got, err := s.CertificateByNumber(c1.UUID); err != nil || got.Status() != "superseded" {
		t.Fatalf("c1: %v %v", got.Status(), err)
	}
	if got, err := s.CertificateByNumber(c2.UUID); err != nil || got.Status() != "revoked" {
		t.Fatalf("c2: %v %v", got.Status(), err)
	}
	if es, err := s.Exemptions(); err != nil || len(es) != 1 || es[0].Field != "contractor.name" {
		t.Fatalf("exemptions: %v %v", es, err)
	}
	if v, err := s.Setting(SettingRequireReason); err != nil || v != "false" {
		t.Fatalf("require_reason: %q %v", v, err)
	}
	if _, err := s.Certificates(""); err != nil {
		t.Fatal(err)
	}
	must(t, s.LogAccess("report", "report", "", nil))
}
