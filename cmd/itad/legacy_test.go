package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_LegacyCertificates: a ledger and the certificates an earlier
// itad made (commit 0359922: schema version 4, certificate layout 1, no
// key events beyond key.init) open, upgrade and verify with this one: the
// ledger verifies, both certificates are valid, the stored checkpoint is
// trusted through the recorded certificate, and FOI still withholds the
// exempt field.
func TestCLI_LegacyCertificates(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "ledger", "v4-certificates")
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
			pdfs = append(pdfs, filepath.Join(dir, e.Name()))
		}
	}
	if len(pdfs) != 2 {
		t.Fatalf("fixture holds %d certificates, want 2", len(pdfs))
	}
	db := filepath.Join(dir, "itad.db")
	out := mustItad(t, db, "verify")
	if !strings.Contains(out, "signature verified") || !strings.Contains(out, "quick_check ok, index check ok") {
		t.Fatalf("verify:\n%s", out)
	}
	for _, p := range pdfs {
		if out := mustItad(t, db, "cert", "verify", p); !strings.Contains(out, "valid certificate") {
			t.Fatalf("cert verify %s:\n%s", filepath.Base(p), out)
		}
	}
	if out := mustItad(t, db, "foi", "--year", "2021"); !strings.Contains(out, "24(1)") {
		t.Fatalf("foi lacks the exemption:\n%s", out)
	}
	// A change after the upgrade makes the old certificate stale, by name.
	mustItad(t, db, "device", "amend", "STOS00021221", "--model", "MG04ACA400N", "--reason", "label misread")
	for _, p := range pdfs {
		if !strings.Contains(p, "STOS00021221") {
			continue
		}
		if _, errOut, code := itad(t, db, "cert", "verify", p); code != exitVerifyFailed || !strings.Contains(errOut, "device STOS00021221 amended (model)") {
			t.Fatalf("after the amendment: exit %d %s", code, errOut)
		}
	}
}
