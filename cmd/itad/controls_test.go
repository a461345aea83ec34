package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ControlsRefusedAndEscaped: a bidi override in a serial is
// refused; text an older ledger already holds is printed escaped, never
// raw, so it cannot drive the terminal.
func TestCLI_ControlsRefusedAndEscaped(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Test")
	_, errOut, code := itad(t, db, "device", "add", "SN1\u202e321", "--type", "hdd")
	if code != exitFailure || !strings.Contains(errOut, `serial contains a bidi control character (\u202e)`) {
		t.Errorf("device add with U+202E: exit %d\n%s", code, errOut)
	}
	if strings.ContainsRune(errOut, '\u202e') {
		t.Errorf("the error printed the raw override:\n%q", errOut)
	}
	// An older itad accepted these: write them as it would have.
	mustItad(t, db, "device", "add", "OLD-1", "--type", "hdd")
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE devices SET make = ?, model = ? WHERE serial = 'OLD-1'`, "Evil\x1b[2J", "M\u202eodel\u009b"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, args := range [][]string{{"device", "show", "OLD-1"}} {
		out := mustItad(t, db, args...)
		if strings.ContainsAny(out, "\x1b\u202e\u009b") || !strings.Contains(out, `Evil\x1b[2J`) || !strings.Contains(out, `M\u202eodel\x9b`) {
			t.Errorf("itad %s printed stored controls raw or not escaped:\n%q", strings.Join(args, " "), out)
		}
	}
}
