package main

import (
	"os"
	"strings"
	"testing"
)

// TestCLI_AppendixG records Appendix G fields with dispose and batch add
// flags, ledger defaults with settings, a validation afterwards with
// 'disposal validate', and checks what the certificate prints and that the
// ledger verifies; bad values are usage errors naming the flag.
func TestCLI_AppendixG(t *testing.T) {
	f := newCertFixture(t, 0)
	mustItad(t, f.db, "settings", "set", "org_location", "Hendon")
	mustItad(t, f.db, "settings", "set", "org_phone", "020 7946 0000")
	mustItad(t, f.db, "settings", "set", "media_classification", "OFFICIAL")
	mustItad(t, f.db, "device", "add", "G1", "--type", "ssd")
	mustItad(t, f.db, "dispose", "G1", "--method", "crypto-erase", "--on", "2024-05-01", "--contractor", "Shredco Ltd",
		"--operator", "Łukasz Nowak", "--operator-title", "Technician", "--data-backed-up", "no",
		"--verification-method", "quick sampling", "--destination", "external reuse", "--destination-details", "Sold to Reuse Ltd",
		"--nist-revision", "2", "--method-details", "NVMe Sanitize Crypto Erase")
	mustItad(t, f.db, "batch", "add", "RUN-G", "--operator-org", "Shredco Ltd", "--destination", "recycling")

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dispose", "G1", "--method", "shred", "--on", "2024-05-02", "--contractor", "Shredco Ltd", "--data-backed-up", "maybe"}, 2, "--data-backed-up"},
		{[]string{"disposal", "validate", "G1", "--name", "P. Jones", "--on", "2024-13-01"}, 2, "--on"},
		{[]string{"disposal", "validate", "NOPE", "--name", "P. Jones", "--on", "2024-05-02"}, 1, "NOPE"},
		{[]string{"disposal", "details", "G1"}, 2, "nothing to record"},
		{[]string{"batch", "details", "RUN-G", "--destination", "landfill"}, 2, "--destination"},
	} {
		_, errOut, code := itad(t, f.db, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "itad: error: ") {
			t.Errorf("itad %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
	}

	_, file := f.issue(t, "G1")
	text := pdfText(t, file)
	for _, want := range []string{"Technician", "No", "Quick sampling", "External reuse: Sold to Reuse Ltd", "OFFICIAL",
		"Hendon", "020 7946 0000", "NIST SP 800-88 Rev. 2 (2025)", "IEEE 2883-2022", "not validated", "NVMe Sanitize Crypto Erase"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate lacks %q:\n%s", want, text)
		}
	}
	out := mustItad(t, f.db, "disposal", "validate", "G1", "--name", "P. Jones", "--title", "Inspector", "--on", "2024-05-02")
	if !strings.Contains(out, "validation of G1 recorded") {
		t.Errorf("validate: %q", out)
	}
	mustItad(t, f.db, "batch", "validate", "RUN-G", "--name", "P. Jones", "--on", "2024-05-02")
	_, file = f.issue(t, "G1")
	text = pdfText(t, file)
	if strings.Contains(text, "not validated") || !strings.Contains(text, "Inspector") || !strings.Contains(text, "2024-05-02") {
		t.Errorf("validated certificate:\n%s", text)
	}
	mustItad(t, f.db, "verify")
}

// pdfText is a PDF's text as pdftotext reads it, with every run of
// white space (line breaks of wrapped text) one space.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	requireTool(t, "pdftotext")
	out, err := toolOutput(t, "pdftotext", path, "-")
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(out), " ")
}
