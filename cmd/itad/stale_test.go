package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCLI_StaleCertificates: an amendment says which certificate it made
// stale and how to issue it again; cert list, device show and batch show
// show it stale with the cause; cert verify names the cause; init --org
// refuses to rename; settings set org needs a reason and warns.
func TestCLI_StaleCertificates(t *testing.T) {
	f := newCertFixture(t, 6)
	dev, _ := f.issue(t, "ZC1234AB")
	batch, batchFile := f.issue(t, "--batch", "RUN-1")

	// An amendment of the device: its certificate only.
	out, errOut, code := itad(t, f.db, "device", "amend", "ZC1234AB", "--model", "Exos 7E10", "--reason", "model misread")
	want := "itad: warning: certificate " + dev + " for device ZC1234AB is now stale (device ZC1234AB amended (model)): issue it again with 'itad cert issue ZC1234AB'\n"
	if code != 0 || errOut != want || !strings.Contains(out, "device ZC1234AB amended") {
		t.Fatalf("device amend: exit %d\n%s%s\nwant stderr %q", code, out, errOut, want)
	}
	cause := regexp.MustCompile(`stale: device ZC1234AB amended \(model\) on \d{4}-\d{2}-\d{2} by tester \(event \d+\)`)
	for _, args := range [][]string{{"cert", "list"}, {"device", "show", "ZC1234AB"}} {
		out := mustItad(t, f.db, args...)
		if !cause.MatchString(out) {
			t.Errorf("%s does not show the certificate stale:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := mustItad(t, f.db, "batch", "show", "RUN-1"); !strings.Contains(out, "Certificates (1):") || !strings.Contains(out, batch) ||
		!regexp.MustCompile(batch+`.*current`).MatchString(out) {
		t.Errorf("batch show, before the rename:\n%s", out)
	}

	// init --org on a ledger naming another organisation: refused,
	// nothing changed.
	_, errOut, code = itad(t, f.db, "init", "--org", "Other Org")
	if code != 1 || !strings.Contains(errOut, `the ledger already names an organisation: "Test Constabulary" (not "Other Org")`) ||
		!strings.Contains(errOut, `itad: hint: to rename the organisation, run 'itad settings set org "Other Org" --reason WHY'`) {
		t.Errorf("init --org: exit %d\n%s", code, errOut)
	}
	// The same name again is fine.
	mustItad(t, f.db, "init", "--org", "Test Constabulary")
	_, errOut, code = itad(t, f.db, "settings", "set", "org", "Other Org")
	if code != 2 || !strings.Contains(errOut, "give --reason WHY") {
		t.Errorf("settings set org without a reason: exit %d\n%s", code, errOut)
	}
	if out := mustItad(t, f.db, "settings", "list"); !strings.Contains(out, "Test Constabulary") {
		t.Errorf("organisation changed:\n%s", out)
	}

	// Renaming with a reason: the certificates still current become
	// stale, and the command says so.
	_, errOut, code = itad(t, f.db, "settings", "set", "org", "Other Org", "--reason", "merger")
	if code != 0 || strings.Count(errOut, "is now stale (organisation renamed from \"Test Constabulary\" to \"Other Org\")") != 2 ||
		!strings.Contains(errOut, "'itad cert issue --batch RUN-1'") {
		t.Errorf("settings set org: exit %d\n%s", code, errOut)
	}
	if out := mustItad(t, f.db, "batch", "show", "RUN-1"); !regexp.MustCompile(batch + `.*stale: organisation renamed`).MatchString(out) {
		t.Errorf("batch show, after the rename:\n%s", out)
	}
	_, errOut, code = itad(t, f.db, "cert", "verify", batchFile)
	if code != exitVerifyFailed || !strings.Contains(errOut, `organisation renamed from "Test Constabulary" to "Other Org" on `) ||
		!strings.Contains(errOut, "issue it again with 'itad cert issue --batch RUN-1'") {
		t.Errorf("cert verify: exit %d\n%s", code, errOut)
	}
	// Issued again: current, and it verifies.
	again, file := f.issue(t, "--batch", "RUN-1")
	if out, errOut, code := itad(t, f.db, "cert", "verify", file); code != 0 {
		t.Errorf("cert verify of the new certificate %s: exit %d\n%s%s", again, code, out, errOut)
	}
	mustItad(t, f.db, "verify")
}
