package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/itad/itad/ledger"
)

// TestCLI_Corrections: disposal void, device amend --serial and batch
// amend as a user runs them, each refused with a clear message where it
// must be, and a ledger that still verifies.
func TestCLI_Corrections(t *testing.T) {
	db := sampleLedger(t)
	serial := "STOS00021221"
	var h ledger.DeviceHistory
	if err := json.Unmarshal([]byte(mustItad(t, db, "device", "show", serial, "--json")), &h); err != nil || len(h.Disposals) != 1 {
		t.Fatalf("device show --json: %v %+v", err, h)
	}
	uuid := h.Disposals[0].UUID
	before := mustItad(t, db, "report", "--year", "2021")

	// disposal void
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"disposal", "void", uuid}, exitUsage, `--reason is required`},
		{[]string{"disposal", "void", uuid, "--reason", " "}, exitFailure, "a reason is required"},
		{[]string{"disposal", "void", "0190f5d2-0000-7000-8000-000000000000", "--reason", "r"}, exitFailure, "itad: hint: find the disposal's UUID"},
	} {
		if _, errOut, code := itad(t, db, tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Fatalf("itad %v: exit %d\n%s", tc.args, code, errOut)
		}
	}
	out := mustItad(t, db, "disposal", "void", uuid, "--reason", "recorded against the wrong serial")
	if !strings.Contains(out, "disposal "+uuid+" of "+serial+" voided (shred on 2021-06-09, event #") {
		t.Fatalf("void: %q", out)
	}
	if _, errOut, code := itad(t, db, "disposal", "void", uuid, "--reason", "again"); code != exitFailure ||
		!strings.Contains(errOut, "disposal is void already") || !strings.Contains(errOut, "itad: hint: a void disposal stays in the history") {
		t.Fatalf("void twice: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "disposal", "amend", uuid, "--notes", "x", "--reason", "r"); code != exitFailure || !strings.Contains(errOut, "cannot be amended") {
		t.Fatalf("amend a void disposal: exit %d %s", code, errOut)
	}
	show := regexp.MustCompile(`  +`).ReplaceAllString(mustItad(t, db, "device", "show", serial), "  ")
	for _, want := range []string{"VOID  " + uuid, uuid + " voided by tester at ", ": recorded against the wrong serial",
		"disposal.void  reason: recorded against the wrong serial"} {
		if !strings.Contains(show, want) {
			t.Fatalf("device show lacks %q:\n%s", want, show)
		}
	}
	if after := mustItad(t, db, "report", "--year", "2021"); after == before {
		t.Fatalf("the report still counts the void disposal:\n%s", after)
	}
	if out := mustItad(t, db, "export", "--year", "2021"); strings.Contains(out, serial) {
		t.Fatalf("the export still lists the void disposal")
	}

	// device amend --serial
	if _, errOut, code := itad(t, db, "device", "amend", serial, "--serial", "SHPE00001920", "--reason", "r"); code != exitFailure ||
		!strings.Contains(errOut, "serial SHPE00001920: serial already in the ledger") {
		t.Fatalf("correct to another device's serial: exit %d %s", code, errOut)
	}
	out = mustItad(t, db, "device", "amend", serial, "--serial", "STOS00021222", "--reason", "digit misread")
	if out != `device STOS00021222 amended: serial "STOS00021221" -> "STOS00021222"`+"\n" {
		t.Fatalf("serial correction: %q", out)
	}
	show = regexp.MustCompile(`  +`).ReplaceAllString(mustItad(t, db, "device", "show", serial), "  ")
	for _, want := range []string{"Serial:  STOS00021222", "Former serials:  STOS00021221 (corrected)",
		`device.serial STOS00021221  serial "STOS00021221" -> "STOS00021222"  reason: digit misread`} {
		if !strings.Contains(show, want) {
			t.Fatalf("device show OLD lacks %q:\n%s", want, show)
		}
	}
	if out := mustItad(t, db, "log", "--serial", serial); !strings.Contains(out, "device.serial  STOS00021221") || !strings.Contains(out, "import.rows") {
		t.Fatalf("log --serial OLD:\n%s", out)
	}
	if _, errOut, code := itad(t, db, "import", "../../testdata/import/sample-disposals.csv"); code != exitFailure ||
		!strings.Contains(errOut, "serial STOS00021221 was corrected to STOS00021222") {
		t.Fatalf("re-import naming the old serial: exit %d %s", code, errOut)
	}

	// batch amend, on a closed batch
	mustItad(t, db, "batch", "close", "SR-2021-012", "--gross-weight", "0.9kg")
	if _, errOut, code := itad(t, db, "batch", "close", "SR-2021-012", "--gross-weight", "0.92kg"); code != exitFailure || !strings.Contains(errOut, "batch is closed") {
		t.Fatalf("close twice: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "batch", "amend", "SR-2021-012", "--reason", "r"); code != exitUsage || !strings.Contains(errOut, "nothing to amend") {
		t.Fatalf("batch amend with nothing: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "batch", "amend", "SR-2021-012", "--gross-weight", "lots", "--reason", "r"); code != exitUsage || !strings.Contains(errOut, "--gross-weight: ") {
		t.Fatalf("batch amend with a bad weight: exit %d %s", code, errOut)
	}
	out = mustItad(t, db, "batch", "amend", "sr-2021-012", "--gross-weight", "0.92kg", "--witness", "R. Hughes", "--reason", "ticket misread")
	if out != `batch SR-2021-012 amended: witness "M. Lewis" -> "R. Hughes"; gross_weight_grams "900" -> "920"`+"\n" {
		t.Fatalf("batch amend: %q", out)
	}
	if show := mustItad(t, db, "batch", "show", "SR-2021-012"); !strings.Contains(show, "0.920 kg") || !strings.Contains(show, "R. Hughes") {
		t.Fatalf("batch show:\n%s", show)
	}
	if out := mustItad(t, db, "log", "--action", "batch.amend"); !strings.Contains(out, `gross_weight_grams "900" -> "920"`) {
		t.Fatalf("log:\n%s", out)
	}
	mustItad(t, db, "verify")
}
