package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_LegacyCertificatesLayout2: certificates of layout 2, issued by
// itad before certificates embedded their content, still verify (by
// re-rendering, as layouts 1 and 2 always have), go stale when the ledger
// changes, and cert show says they embed nothing.
func TestCLI_LegacyCertificatesLayout2(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "ledger", "v6-certificates-layout2")
	dir := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var pdfs []string
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".pdf") {
			if !strings.Contains(string(data), "/Creator (itad certificate layout 2)") {
				t.Fatalf("%s is not of layout 2", e.Name())
			}
			pdfs = append(pdfs, filepath.Join(dir, e.Name()))
		}
	}
	if len(pdfs) != 2 {
		t.Fatalf("fixture holds %d certificates, want 2", len(pdfs))
	}
	db := filepath.Join(dir, "itad.db")
	if out := mustItad(t, db, "verify"); !strings.Contains(out, "hash chain intact, every table matches its events") {
		t.Fatalf("verify:\n%s", out)
	}
	for _, p := range pdfs {
		if out := mustItad(t, db, "cert", "verify", p); !strings.Contains(out, "valid certificate") {
			t.Fatalf("cert verify %s:\n%s", filepath.Base(p), out)
		}
		_, errOut, code := itad(t, db, "cert", "show", p)
		if code != 1 || !strings.Contains(errOut, "does not embed its content") || !strings.Contains(errOut, "itad: hint: check it against the ledger") {
			t.Errorf("cert show %s: exit %d\n%s", filepath.Base(p), code, errOut)
		}
	}
	mustItad(t, db, "device", "amend", "STOS00021221", "--model", "MG04ACA400N", "--reason", "label misread")
	for _, p := range pdfs {
		if !strings.Contains(p, "STOS00021221") {
			continue
		}
		_, errOut, code := itad(t, db, "cert", "verify", p)
		if code != exitVerifyFailed || !strings.Contains(errOut, "stale") {
			t.Errorf("amended: exit %d\n%s", code, errOut)
		}
	}
}
