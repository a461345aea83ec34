package ledger

import (
	"fmt"
	"strings"
	"testing"
)

// staleLedger is certLedger with S3 overwritten (a clear) and current
// certificates for S1, S2, S3 and the batch RUN-1; it returns their
// numbers by subject.
func staleLedger(t *testing.T) (*Store, map[string]string) {
	t.Helper()
	s := certLedger(t)
	if _, err := s.RecordDisposal(Disposal{Serial: "S3", Method: Overwrite, DisposedOn: "2021-02-01", Contractor: "Shredco"}); err != nil {
		t.Fatal(err)
	}
	certs := map[string]string{}
	for _, c := range []struct{ kind, subject string }{{CertDevice, "S1"}, {CertDevice, "S2"}, {CertDevice, "S3"}, {CertBatch, "RUN-1"}} {
		ct, err := s.IssueCertificate(c.kind, c.subject, testSigner, fakeHashes)
		if err != nil {
			t.Fatal(err)
		}
		certs[c.subject] = ct.UUID
	}
	return s, certs
}

func disposalOf(t *testing.T, s *Store, serial string) string {
	t.Helper()
	h, err := s.History(serial)
	if err != nil {
		t.Fatal(err)
	}
	return h.Disposals[0].UUID
}

// TestStale_Changes: each change marks stale exactly the certificates
// whose content it alters, naming itself as the cause; the ledger still
// verifies; a change that alters no certificate marks none.
func TestStale_Changes(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, s *Store) error
		stale  []string // subjects whose certificates become stale
		what   string   // in every cause
		action string   // of the cause event
	}{
		{"DeviceAmend", func(t *testing.T, s *Store) error {
			_, _, err := s.AmendDevice("S1", map[string]string{"model": "Exos"}, "typo")
			return err
		}, []string{"S1", "RUN-1"}, "device S1 amended (model)", "device.amend"},
		{"DeviceAmend/Uncertified", func(t *testing.T, s *Store) error {
			if _, err := s.AddDevice(Device{Serial: "S9", Type: HDD}); err != nil {
				return err
			}
			_, _, err := s.AmendDevice("S9", map[string]string{"model": "Exos"}, "typo")
			return err
		}, nil, "", ""},
		{"DisposalAmend/Weight", func(t *testing.T, s *Store) error {
			_, _, err := s.AmendDisposal(disposalOf(t, s, "S2"), map[string]string{"weight_grams": "640"}, "weighed")
			return err
		}, []string{"S2", "RUN-1"}, "of S2 amended (weight_grams)", "disposal.amend"},
		{"DisposalAmend/OutOfBatch", func(t *testing.T, s *Store) error {
			_, _, err := s.AmendDisposal(disposalOf(t, s, "S1"), map[string]string{"batch": ""}, "not in that run")
			return err
		}, []string{"S1", "RUN-1"}, "of S1 amended (batch)", "disposal.amend"},
		{"Dispose/NewFinal", func(t *testing.T, s *Store) error {
			_, err := s.RecordDisposal(Disposal{Serial: "S3", Method: Shred, DisposedOn: "2021-03-01", Contractor: "Shredco"})
			return err
		}, []string{"S3"}, "final disposition of S3 changed by a new disposal (shred on 2021-03-01)", "disposal.record"},
		{"Setting/Org", func(t *testing.T, s *Store) error {
			return s.SetSetting(SettingOrg, "Other Constabulary", "merger")
		}, []string{"S1", "S2", "S3", "RUN-1"}, `organisation renamed from "Test Constabulary" to "Other Constabulary"`, "setting.set"},
		{"Setting/Destination", func(t *testing.T, s *Store) error {
			return s.SetSetting(SettingDestination, "landfill", "new contract")
		}, []string{"S1", "S2", "S3", "RUN-1"}, `media destination changed from "" to "landfill"`, "setting.set"},
		{"Setting/RequireReason", func(t *testing.T, s *Store) error {
			return s.SetSetting(SettingRequireReason, "true", "policy")
		}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, certs := staleLedger(t)
			var notices []StaleNotice
			s.OnStale = func(ns []StaleNotice) { notices = append(notices, ns...) }
			if err := tt.change(t, s); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, sub := range tt.stale {
				want[sub] = true
			}
			if len(notices) != len(tt.stale) {
				t.Errorf("%d notices, want %d: %+v", len(notices), len(tt.stale), notices)
			}
			for sub, number := range certs {
				c, err := s.CertificateByNumber(number)
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Status() == "stale"; got != want[sub] {
					t.Errorf("certificate of %s: status %s, want stale %v", sub, c.Status(), want[sub])
					continue
				}
				if !want[sub] {
					continue
				}
				sc := c.Stale[0]
				if len(c.Stale) != 1 || !strings.Contains(sc.What, tt.what) || sc.By != "tester" {
					t.Errorf("certificate of %s: causes %+v, want one with %q", sub, c.Stale, tt.what)
				}
				var action string
				if err := s.DB().QueryRow(`SELECT action FROM events WHERE seq = ?`, sc.Cause).Scan(&action); err != nil || action != tt.action {
					t.Errorf("cause event %d is %q (%v), want %s", sc.Cause, action, err, tt.action)
				}
				if !strings.Contains(sc.String(), fmt.Sprintf("by tester (event %d)", sc.Cause)) {
					t.Errorf("cause reads %q", sc.String())
				}
			}
			// cert list and device show read the same marks.
			all, err := s.Certificates("")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range all {
				if (c.Status() == "stale") != want[c.Subject] {
					t.Errorf("Certificates: %s is %s", c.Subject, c.Status())
				}
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify after %s: %v", tt.name, err)
			}
		})
	}
}

// TestStale_CloseRun: a device certificate issued while its run was open
// counts a share of the gross once the run is closed weighed: closing it
// marks the certificate stale.
func TestStale_CloseRun(t *testing.T) {
	s := certLedger(t)
	if _, err := s.AddBatch(Batch{Ref: "RUN-2", Contractor: "Shredco", RunOn: "2021-03-05"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDisposal(Disposal{Serial: "S3", Method: Shred, DisposedOn: "2021-03-05", Contractor: "Shredco", Batch: "RUN-2"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.IssueCertificate(CertDevice, "S3", testSigner, fakeHashes)
	if err != nil {
		t.Fatal(err)
	}
	g := int64(700)
	if _, err := s.CloseBatch("RUN-2", &g); err != nil {
		t.Fatal(err)
	}
	if c, err = s.CertificateByNumber(c.UUID); err != nil || c.Status() != "stale" || c.Stale[0].What != "batch RUN-2 closed with a gross weight of 0.700 kg" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestStale_ReissueAndRevoked: issuing again supersedes a stale
// certificate (the new one is current); revoked and superseded
// certificates are not marked.
func TestStale_ReissueAndRevoked(t *testing.T) {
	s, certs := staleLedger(t)
	if _, err := s.RevokeCertificate(certs["S2"], "wrong", testSigner); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AmendDevice("S1", map[string]string{"model": "A"}, "typo"); err != nil {
		t.Fatal(err)
	}
	again, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status() != "current" || len(again.Supersedes) != 1 || again.Supersedes[0] != certs["S1"] {
		t.Fatalf("reissue: %+v", again)
	}
	if err := s.SetSetting(SettingOrg, "Renamed", "merger"); err != nil {
		t.Fatal(err)
	}
	for number, status := range map[string]string{certs["S1"]: "superseded", certs["S2"]: "revoked", again.UUID: "stale"} {
		c, err := s.CertificateByNumber(number)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status() != status {
			t.Errorf("%s %s: %s, want %s", c.Kind, c.Subject, c.Status(), status)
		}
	}
	var n int64
	s.DB().QueryRow(`SELECT count(*) FROM events WHERE action = ? AND subject IN (?, ?)`, CertificateStaleAction, certs["S2"], certs["S1"]).Scan(&n)
	if n != 1 { // S1's mark from the amendment only
		t.Errorf("%d marks on the revoked and superseded certificates, want 1", n)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestStale_Tamper: a stale mark removed or changed with the sqlite3
// shell fails verification at the mark's event.
func TestStale_Tamper(t *testing.T) {
	tests := []struct {
		name  string
		query string
		text  string
	}{
		{"Delete", `DELETE FROM events WHERE seq = %d`, "missing"},
		{"Payload", `UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'amended', 'checked') AS BLOB) WHERE seq = %d`, "hash does not match"},
		{"Subject", `UPDATE events SET subject = 'x' WHERE seq = %d`, "hash does not match"},
		{"Action", `UPDATE events SET action = 'report' WHERE seq = %d`, "hash does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, certs := staleLedger(t)
			if _, _, err := s.AmendDevice("S3", map[string]string{"make": "X"}, "typo"); err != nil {
				t.Fatal(err)
			}
			c, err := s.CertificateByNumber(certs["S3"])
			if err != nil || len(c.Stale) != 1 {
				t.Fatalf("%+v %v", c, err)
			}
			// A later event, so that deleting the mark is not deleting
			// the log's end.
			if err := s.SetSetting(SettingRequireReason, "false", ""); err != nil {
				t.Fatal(err)
			}
			seq := c.Stale[0].Seq
			db := rawDB(t, s)
			if _, err := db.Exec(fmt.Sprintf(tt.query, seq)); err != nil {
				t.Fatal(err)
			}
			_, err = s.Verify(VerifyOptions{})
			checkFirst(t, err, want{kind: "chain", seq: seq, text: tt.text})
		})
	}
}

// TestInit_RefusesRename: init with another organisation refuses and
// changes nothing.
func TestInit_RefusesRename(t *testing.T) {
	s, _ := staleLedger(t)
	var before int64
	s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&before)
	for _, org := range []string{"Other Org", "Test Constabulary", " Test   Constabulary "} {
		err := s.Init(org)
		if want := org == "Other Org"; (err != nil) != want || want && !strings.Contains(err.Error(), ErrOrgSet.Error()) {
			t.Errorf("Init(%q) = %v", org, err)
		}
	}
	var after int64
	s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&after)
	if org, _ := s.Setting(SettingOrg); org != "Test Constabulary" || after != before {
		t.Errorf("org %q, %d events (was %d)", org, after, before)
	}
}
