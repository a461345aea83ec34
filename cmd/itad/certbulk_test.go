package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// issuedList parses the --json output of a cert issue of several.
func issuedList(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("cert issue output %q: %v", out, err)
	}
	return rows
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestCLI_CertIssueMany: several serials, --serials-file (and standard
// input) and --uncertified issue one certificate each, in one transaction.
func TestCLI_CertIssueMany(t *testing.T) {
	f := newCertFixture(t, 20)
	db := openDB(t, f.db)
	certCount := func() (n int) {
		t.Helper()
		if err := db.QueryRow(`SELECT count(*) FROM certificates`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("Serials", func(t *testing.T) {
		rows := issuedList(t, mustItad(t, f.db, "--json", "cert", "issue", "-o", f.out, "B000001", "b000002"))
		if len(rows) != 2 || rows[0]["subject"] != "B000001" || rows[1]["subject"] != "B000002" {
			t.Fatalf("issued %v", rows)
		}
		for _, r := range rows {
			if out := mustItad(t, f.db, "cert", "verify", r["file"].(string)); !strings.Contains(out, "valid certificate") {
				t.Errorf("verify %s: %s", r["file"], out)
			}
		}
	})
	t.Run("SerialsFile", func(t *testing.T) {
		list := filepath.Join(f.dir, "serials.txt")
		os.WriteFile(list, []byte("# to certify\nB000003\r\n\n  B000004  \n"), 0o644)
		out := mustItad(t, f.db, "cert", "issue", "-o", f.out, "--serials-file", list)
		if !strings.Contains(out, "for device B000003") || !strings.Contains(out, "for device B000004") || !strings.Contains(out, "2 certificates issued in one transaction") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("Stdin", func(t *testing.T) {
		in := filepath.Join(f.dir, "stdin.txt")
		os.WriteFile(in, []byte("B000005\n"), 0o644)
		fd, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer fd.Close()
		old := os.Stdin
		os.Stdin = fd
		defer func() { os.Stdin = old }()
		rows := issuedList(t, mustItad(t, f.db, "--json", "cert", "issue", "-o", f.out, "--serials-file", "-"))
		if len(rows) != 1 || rows[0]["subject"] != "B000005" {
			t.Errorf("issued %v", rows)
		}
	})
	t.Run("AllOrNone", func(t *testing.T) {
		before, files := certCount(), countFiles(t, f.out)
		_, errOut, code := itad(t, f.db, "cert", "issue", "-o", f.out, "B000006", "B000007", "NO-SUCH-SERIAL", "B000008")
		if code != exitFailure || !strings.Contains(errOut, "NO-SUCH-SERIAL") {
			t.Fatalf("exit %d:\n%s", code, errOut)
		}
		if certCount() != before || countFiles(t, f.out) != files {
			t.Errorf("a failed issue of several left %d certificates and %d files (before: %d, %d)", certCount(), countFiles(t, f.out), before, files)
		}
		_, errOut, code = itad(t, f.db, "cert", "issue", "-o", f.out, "B000006", "b000006")
		if code != exitFailure || !strings.Contains(errOut, "listed twice") || certCount() != before {
			t.Errorf("duplicate: exit %d:\n%s", code, errOut)
		}
	})
	t.Run("Uncertified", func(t *testing.T) {
		// RUN-1 only: B000006 to B000020.
		rows := issuedList(t, mustItad(t, f.db, "--json", "cert", "issue", "-o", f.out, "--uncertified", "--batch", "RUN-1"))
		if len(rows) != 15 || rows[0]["subject"] != "B000006" || rows[14]["subject"] != "B000020" {
			t.Fatalf("issued %d: %v", len(rows), rows)
		}
		// Then the rest of 2021: ZC1234AB.
		rows = issuedList(t, mustItad(t, f.db, "--json", "cert", "issue", "-o", f.out, "--uncertified", "--year", "2021"))
		if len(rows) != 1 || rows[0]["subject"] != "ZC1234AB" {
			t.Fatalf("issued %v", rows)
		}
		out, errOut, code := itad(t, f.db, "cert", "issue", "-o", f.out, "--uncertified")
		if code != 0 || !strings.Contains(errOut, "nothing issued") || !strings.Contains(out, "0 certificates issued") {
			t.Errorf("nothing left: exit %d\n%s%s", code, out, errOut)
		}
		// A revoked certificate leaves its device uncertified.
		mustItad(t, f.db, "cert", "revoke", rows[0]["uuid"].(string), "--reason", "test")
		rows = issuedList(t, mustItad(t, f.db, "--json", "cert", "issue", "-o", f.out, "--uncertified"))
		if len(rows) != 1 || rows[0]["subject"] != "ZC1234AB" {
			t.Fatalf("after revoking: %v", rows)
		}
		// A stale certificate no longer states the ledger: --uncertified
		// issues its device again, superseding it.
		stale, staleFile := rows[0]["uuid"].(string), rows[0]["file"].(string)
		mustItad(t, f.db, "device", "amend", "ZC1234AB", "--model", "Exos 7E10", "--reason", "model misread")
		out = mustItad(t, f.db, "cert", "issue", "-o", f.out, "--uncertified")
		if !strings.Contains(out, "for device ZC1234AB") || !strings.Contains(out, "it supersedes certificate "+stale) ||
			!strings.Contains(out, "1 certificate issued in one transaction") {
			t.Errorf("after a stale certificate:\n%s", out)
		}
		if _, _, code := itad(t, f.db, "cert", "verify", staleFile); code != exitVerifyFailed {
			t.Errorf("verify of the superseded stale certificate: exit %d, want %d", code, exitVerifyFailed)
		}
		if out, errOut, code := itad(t, f.db, "cert", "issue", "-o", f.out, "--uncertified"); code != 0 || !strings.Contains(errOut, "nothing issued") {
			t.Errorf("after issuing the stale one again: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"cert", "issue"},
			{"cert", "issue", "B000001", "--batch", "RUN-1"},
			{"cert", "issue", "--year", "2021", "B000001"},
			{"cert", "issue", "--uncertified", "--year", "21"},
		} {
			if _, errOut, code := itad(t, f.db, args...); code != exitUsage {
				t.Errorf("%v: exit %d\n%s", args, code, errOut)
			}
		}
	})
	if out := mustItad(t, f.db, "verify"); !strings.Contains(out, "hash chain intact, every table matches its events") {
		t.Errorf("verify:\n%s", out)
	}
}

// TestCLI_PublicURL: with public_url set, a certificate's QR code holds
// URL/verify/<number>?h=<content hash> and the page prints the address.
func TestCLI_PublicURL(t *testing.T) {
	f := newCertFixture(t, 0)
	for _, bad := range []string{"ftp://x.example", "itad.example/verify", "https://x.example/?a=1", "https://x.example/#top", "https://user:pw@x.example", "https://"} {
		if _, errOut, code := itad(t, f.db, "settings", "set", "public_url", bad); code != exitUsage || !strings.Contains(errOut, "public_url") {
			t.Errorf("public_url %q: exit %d\n%s", bad, code, errOut)
		}
	}
	_, plain := f.issue(t, "ZC1234AB")
	mustItad(t, f.db, "settings", "set", "public_url", "https://certs.heddlu.example/itad/")
	if out := mustItad(t, f.db, "settings", "list"); !strings.Contains(out, "https://certs.heddlu.example/itad") {
		t.Errorf("settings list:\n%s", out)
	}
	number, linked := f.issue(t, "ZC1234AB")
	var hash string
	db := openDB(t, f.db)
	if err := db.QueryRow(`SELECT content_hash FROM certificates WHERE uuid = ?`, number).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	want := "https://certs.heddlu.example/itad/verify/" + number + "?h=" + hash
	requireTool(t, "pdftoppm")
	requireTool(t, "zbarimg")
	for _, tc := range []struct{ path, want string }{{linked, want}, {plain, "itad:cert:"}} {
		png := filepath.Join(t.TempDir(), "page")
		// 150 dpi: a scan of the printed page (a link of 140 characters
		// makes modules of 0.6 mm).
		if out, err := toolOutput(t, "pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", tc.path, png); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		// zbarimg may print D-Bus noise on stderr: read stdout only.
		raw, err := exec.Command("zbarimg", "--raw", "-q", png+".png").Output()
		out := string(raw)
		if err != nil || !strings.HasPrefix(strings.TrimSpace(out), tc.want) {
			t.Errorf("QR of %s decodes as %q (%v), want %q", filepath.Base(tc.path), out, err, tc.want)
		}
	}
	requireTool(t, "pdftotext")
	text, _ := toolOutput(t, "pdftotext", "-layout", linked, "-")
	if !strings.Contains(text, "certs.heddlu.example/itad/verify/") || !strings.Contains(text, number) {
		t.Errorf("the page does not print the address:\n%s", text)
	}
	if out := mustItad(t, f.db, "cert", "verify", linked); !strings.Contains(out, "valid certificate") {
		t.Errorf("verify: %s", out)
	}
}

// TestCLI_CertShow: cert show prints the embedded content, exactly with
// --json (its SHA-256 is the recorded content hash), and refuses a file
// whose signature is broken.
func TestCLI_CertShow(t *testing.T) {
	f := newCertFixture(t, 0)
	number, path := f.issue(t, "ZC1234AB")
	out := mustItad(t, f.db, "cert", "show", path, "--json")
	var hash string
	if err := openDB(t, f.db).QueryRow(`SELECT content_hash FROM certificates WHERE uuid = ?`, number).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(out))
	if hex.EncodeToString(sum[:]) != hash {
		t.Errorf("cert show --json is not the content whose hash the ledger recorded")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["number"] != number || doc["format"] != "itad-certificate" {
		t.Errorf("cert show --json: %v %v", doc, err)
	}
	text := mustItad(t, f.db, "cert", "show", path)
	for _, want := range []string{"certificate   " + number, "content hash  " + hash, "organisation  Test Constabulary", "covers        device ZC1234AB",
		"ZC1234AB  Hard disk drive  Seagate Exos 7E8  shred   2021-03-04  Shredco Ltd"} {
		if !strings.Contains(text, want) {
			t.Errorf("cert show lacks %q:\n%s", want, text)
		}
	}
	signed, _ := os.ReadFile(path)
	bad := []byte(strings.Replace(string(signed), "/Keywords (itad:cert:", "/Keywords (itad:cerT:", 1))
	p := filepath.Join(t.TempDir(), "bad.pdf")
	os.WriteFile(p, bad, 0o644)
	if _, errOut, code := itad(t, f.db, "cert", "show", p); code != exitVerifyFailed || !strings.Contains(errOut, "signature is invalid") {
		t.Errorf("broken signature: exit %d\n%s", code, errOut)
	}
}
