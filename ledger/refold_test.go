package ledger

import (
	"errors"
	"strings"
	"testing"
)

func TestSerialKey_FoldsLookAlikes(t *testing.T) {
	for _, s := range []string{"WD-123", "wd-123", " WD-123 ", "ＷＤ－１２３", "WD‐123", "WD‑123", "WD–123", "WD—123", "WD−123", "WD﹣123", "WD﹘123"} {
		if got := SerialKey(s); got != "wd-123" {
			t.Errorf("SerialKey(%q) = %q, want wd-123", s, got)
		}
	}
	if got := NameKey("  ＡＣＭＥ   Shredding‐Ltd "); got != "acme shredding-ltd" {
		t.Errorf("NameKey = %q", got)
	}
}

// TestAddDevice_LookAlikeIsDuplicate: full-width and Unicode-hyphen
// spellings of a serial are the same device, in device add and import,
// and the serial is kept as first typed.
func TestAddDevice_LookAlikeIsDuplicate(t *testing.T) {
	s := mustOpen(t)
	if _, err := s.AddDevice(Device{Serial: "WD-123", Type: "hdd"}); err != nil {
		t.Fatal(err)
	}
	for _, serial := range []string{"ＷＤ－１２３", "WD‐123", "wd—123"} {
		_, err := s.AddDevice(Device{Serial: serial, Type: "ssd"})
		if !errors.Is(err, ErrDuplicateSerial) && !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "WD-123") {
			t.Errorf("add %q: %v, want a duplicate naming WD-123", serial, err)
		}
		d, err := s.Device(serial)
		if err != nil || d.Serial != "WD-123" {
			t.Errorf("Device(%q) = %v, %v", serial, d.Serial, err)
		}
	}
	res, err := importString(s, "f.csv", header+"ＷＤ－１２３,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\n")
	if err != nil || res.DevicesAdded != 0 || res.DisposalsAdded != 1 {
		t.Errorf("import of a look-alike: %+v, %v, want the existing device", res, err)
	}
	if _, err := s.AddContractor(Contractor{Name: "ＡＣＭＥ"}); err == nil {
		t.Error("contractor ＡＣＭＥ added beside Acme")
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestRefold_OldLedger: a ledger written before schema version 5, with
// legacy keys for non-ASCII serials and two devices the new fold merges,
// is upgraded by one keys.refold event, still verifies, and finds every
// device by its own spelling.
func TestRefold_OldLedger(t *testing.T) {
	s := mustOpen(t)
	path := s.Path()
	add := func(serial string) {
		t.Helper()
		if _, err := s.AddDevice(Device{Serial: serial, Type: "hdd"}); err != nil {
			t.Fatal(err)
		}
	}
	// What an older itad wrote: keys only trimmed and lower-cased.
	legacy := func(serial string) {
		t.Helper()
		if _, err := s.DB().Exec(`UPDATE devices SET serial_key = ? WHERE serial = ?`, legacySerialKey(serial), serial); err != nil {
			t.Fatal(err)
		}
	}
	add("WD‐123")
	legacy("WD‐123")
	add("WD-123") // a second device to the older itad
	add("ＡＢ１")
	legacy("ＡＢ１")
	// Undo migrations 5 and later, as a ledger of schema version 4 is.
	for _, q := range []string{`DELETE FROM schema_version WHERE version >= 5`, `DROP TABLE key_fold`, `ALTER TABLE disposals DROP COLUMN voided_seq`,
		`DROP TABLE evidence_devices`, `DROP TABLE erasures`, `DROP TABLE evidence`, // migration 7 (evidence)
		`DROP TABLE sessions`, `DROP TABLE users`, `DROP INDEX devices_asset_tag`, // migration 8 (accounts)
		`DROP TABLE weight_shares`, `DROP TABLE summary`, `DROP TABLE summary_dates`, // migration 9 (summary)
		`DROP TABLE appendix_g`} { // migration 10 (Appendix G)
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("upgraded ledger does not verify: %v", err)
	}
	evs, err := s.Events(EventFilter{Action: refoldAction})
	if err != nil || len(evs) != 1 {
		t.Fatalf("keys.refold events: %v, %v", evs, err)
	}
	if p := string(evs[0].Payload); !strings.Contains(p, `"old":"ａｂ１","new":"ab1"`) || !strings.Contains(p, `"kept":[{"table":"devices"`) {
		t.Errorf("keys.refold payload: %s", p)
	}
	for serial, want := range map[string]string{"WD‐123": "WD‐123", "WD-123": "WD-123", "ＷＤ－１２３": "WD-123", "AB1": "ＡＢ１", "ab1": "ＡＢ１"} {
		if d, err := s.Device(serial); err != nil || d.Serial != want {
			t.Errorf("Device(%q) = %q, %v, want %q", serial, d.Serial, err, want)
		}
	}
	// Tampering is still caught: a key that is neither fold of its serial.
	if _, err := s.DB().Exec(`UPDATE devices SET serial_key = 'zz' WHERE serial = 'WD-123'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(VerifyOptions{}); !errors.Is(err, ErrTampered) {
		t.Errorf("edited serial_key: %v", err)
	}
}
