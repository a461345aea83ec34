package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// requireTool skips the test if the command-line tool name is missing, or
// fails it when ITAD_REQUIRE_TOOLS=1 (as CI sets it).
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (ITAD_REQUIRE_TOOLS=1): apt-get install poppler-utils qpdf openssl zbar-tools", name)
		}
		t.Skipf("%s not installed: apt-get install poppler-utils qpdf openssl zbar-tools", name)
	}
}

// toolOutput runs a command and returns its combined output.
func toolOutput(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// pdfsigOK reports whether pdfsig says the signature of the file is valid
// and covers the whole document. pdfsig exits 0 even on a digest
// mismatch: only its output tells.
func pdfsigOK(t *testing.T, path string) (bool, string) {
	t.Helper()
	requireTool(t, "pdfsig")
	out, _ := toolOutput(t, "pdfsig", path)
	return strings.Contains(out, "Signature is Valid") && strings.Contains(out, "Total document signed"), out
}

// openDB opens a ledger file directly, for checks and tampering.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// certFixture is a ledger with a signing key, a device disposed of alone
// and a closed batch of n devices.
type certFixture struct {
	dir, db, out string
}

func newCertFixture(t *testing.T, n int) certFixture {
	t.Helper()
	dir := t.TempDir()
	f := certFixture{dir: dir, db: filepath.Join(dir, "itad.db"), out: filepath.Join(dir, "out")}
	if err := os.Mkdir(f.out, 0o755); err != nil {
		t.Fatal(err)
	}
	mustItad(t, f.db, "init", "--org", "Test Constabulary", "--media-destination", "recycled by the contractor after destruction")
	mustItad(t, f.db, "contractor", "add", "Shredco Ltd", "--accreditations", "ADISA, NAID AAA, ISO 27001", "--contract", "CT-17")
	mustItad(t, f.db, "device", "add", "ZC1234AB", "--type", "hdd", "--make", "Seagate", "--model", "Exos 7E8",
		"--capacity", "4000", "--asset-tag", "TC-004211", "--site", "Hendon DC")
	mustItad(t, f.db, "dispose", "ZC1234AB", "--method", "shred", "--on", "2021-03-04", "--contractor", "Shredco Ltd",
		"--standard", "DIN 66399 H-5", "--tool", "Shred-Tech MDS-10", "--verified", "yes", "--weight", "0.618kg",
		"--operator", "J. Smith", "--witness", "P. Jones")
	if n > 0 {
		var csv strings.Builder
		csv.WriteString("serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n")
		for i := 1; i <= n; i++ {
			typ, mk, model, capGB, w := "ssd", "Samsung", "PM883", "960", "0.055"
			if i%3 == 0 {
				typ, mk, model, capGB, w = "hdd", "HGST", "Ultrastar HE10", "10000", "0.650"
			}
			if i%7 == 0 {
				w = ""
			}
			fmt.Fprintf(&csv, "B%06d,TC-%06d,%s,%s,%s,%s,Hendon DC,shred,DIN 66399 H-5,Shred-Tech MDS-10,yes,Shredco Ltd,2021-03-04,%s,RUN-1,J. Smith,P. Jones,\n",
				i, i, typ, mk, model, capGB, w)
		}
		path := filepath.Join(dir, "run.csv")
		if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		mustItad(t, f.db, "import", path)
		gross := "61.5kg" // the goldens' run of 160
		if n < 100 {
			gross = fmt.Sprintf("%dg", 400*n) // plausible for a small run
		}
		mustItad(t, f.db, "batch", "close", "RUN-1", "--gross-weight", gross)
	}
	mustItad(t, f.db, "key", "init")
	return f
}

// issue issues a certificate and returns its number and file.
func (f certFixture) issue(t *testing.T, args ...string) (number, path string) {
	t.Helper()
	out := mustItad(t, f.db, append([]string{"--json", "cert", "issue", "-o", f.out}, args...)...)
	var res struct {
		UUID string `json:"uuid"`
		File string `json:"file"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("cert issue output %q: %v", out, err)
	}
	return res.UUID, res.File
}

var (
	uuidRe     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	hexGroupRe = regexp.MustCompile(`[0-9a-f]{4}( [0-9a-f]{4}){15}`)
	timeRe     = regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC`)
	spacesRe   = regexp.MustCompile(`  +`)
)

// maskText keeps the stable fields of a certificate's text: numbers,
// issue and close times and hashes are masked, and runs of spaces (whose
// length depends on the masked values' widths) become two spaces.
func maskText(s string) string {
	s = uuidRe.ReplaceAllString(s, "<NUMBER>")
	s = hexGroupRe.ReplaceAllString(s, "<SHA-256>")
	s = timeRe.ReplaceAllString(s, "<TIME>")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, spacesRe.ReplaceAllString(strings.Trim(l, " "), "  "))
	}
	return strings.Join(lines, "\n")
}

func TestCLI_CertIssueAndVerify(t *testing.T) {
	f := newCertFixture(t, 160)
	dev, devPath := f.issue(t, "zc1234ab")
	batch, batchPath := f.issue(t, "--batch", "run-1")
	if want := filepath.Join(f.out, dev+"_ZC1234AB.pdf"); devPath != want {
		t.Errorf("device certificate written to %s, want %s", devPath, want)
	}
	if want := filepath.Join(f.out, batch+"_RUN-1.pdf"); batchPath != want {
		t.Errorf("batch certificate written to %s, want %s", batchPath, want)
	}
	for _, tc := range []struct {
		name, path string
		minPages   int
	}{{"device", devPath, 1}, {"batch", batchPath, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("pdfsig", func(t *testing.T) {
				if ok, out := pdfsigOK(t, tc.path); !ok {
					t.Fatalf("pdfsig:\n%s", out)
				}
			})
			t.Run("qpdf", func(t *testing.T) {
				requireTool(t, "qpdf")
				if out, err := toolOutput(t, "qpdf", "--check", tc.path); err != nil {
					t.Fatalf("qpdf --check: %v\n%s", err, out)
				}
			})
			t.Run("pdftotext", func(t *testing.T) {
				requireTool(t, "pdftotext")
				out, err := exec.Command("pdftotext", "-layout", tc.path, "-").Output()
				if err != nil {
					t.Fatalf("pdftotext: %v", err)
				}
				if pages := strings.Count(string(out), "\f"); pages < tc.minPages {
					t.Errorf("%d pages, want at least %d", pages, tc.minPages)
				}
				text := maskText(string(out))
				if tc.name == "batch" {
					// The golden file holds the front matter and the
					// first page of the schedule; every serial is checked.
					for i := 1; i <= 160; i++ {
						if !strings.Contains(text, fmt.Sprintf("B%06d", i)) {
							t.Errorf("serial B%06d missing", i)
						}
					}
					pages := strings.SplitAfter(text, "\f")
					text = strings.Join(pages[:2], "")
				}
				golden(t, "cert/issued-"+tc.name+".txt", text)
			})
			t.Run("verify", func(t *testing.T) {
				out := mustItad(t, f.db, "cert", "verify", tc.path, "--reason", "audit 2026")
				if !strings.Contains(out, "valid certificate") {
					t.Errorf("verify output: %s", out)
				}
			})
		})
	}
	// Verification is a consultation: logged with its reason.
	evs := mustItad(t, f.db, "--json", "device", "show", "ZC1234AB")
	if !strings.Contains(evs, `"certificates"`) || !strings.Contains(evs, dev) {
		t.Errorf("device show --json lacks the certificate:\n%s", evs)
	}
	show := mustItad(t, f.db, "device", "show", "ZC1234AB")
	if !strings.Contains(show, "Certificates (1):") || !strings.Contains(show, dev+"  device  ZC1234AB") {
		t.Errorf("device show lacks the certificate:\n%s", show)
	}
	db := openDB(t, f.db)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE action = 'cert.verify' AND reason = 'audit 2026'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("cert.verify events = %d, %v; want 2", n, err)
	}
	var keyEvents int
	db.QueryRow(`SELECT count(*) FROM events WHERE action = 'key.init' AND payload NOT LIKE '%PRIVATE%'`).Scan(&keyEvents)
	if keyEvents != 1 {
		t.Errorf("key.init events = %d, want 1", keyEvents)
	}

	t.Run("List", func(t *testing.T) {
		out := mustItad(t, f.db, "cert", "list")
		if !strings.Contains(out, dev+"  device  ZC1234AB") || !strings.Contains(out, batch+"  batch   RUN-1") {
			t.Errorf("cert list:\n%s", out)
		}
		var rows []map[string]any
		if err := json.Unmarshal([]byte(mustItad(t, f.db, "--json", "cert", "list", "--serial", "B000001")), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0]["uuid"] != batch || rows[0]["status"] != "current" || rows[0]["devices"] != 160.0 {
			t.Errorf("cert list --serial B000001 --json = %v", rows)
		}
	})
}

// TestCLI_CertVerifyFailures: each failure has its own message and exit
// status 3.
func TestCLI_CertVerifyFailures(t *testing.T) {
	f := newCertFixture(t, 0)
	_, path := f.issue(t, "ZC1234AB")
	signed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, data []byte) string {
		p := filepath.Join(t.TempDir(), "cert.pdf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	expect := func(t *testing.T, file, want string, args ...string) {
		t.Helper()
		out, errOut, code := itad(t, f.db, append([]string{"cert", "verify", file}, args...)...)
		if code != exitVerifyFailed || !strings.Contains(errOut, want) {
			t.Fatalf("exit %d, stderr:\n%s\nwant exit 3 and %q (stdout %s)", code, errOut, want, out)
		}
	}

	t.Run("FlippedByte", func(t *testing.T) {
		// A byte of the document information (page content is
		// compressed), inside the signed range.
		i := bytes.Index(signed, []byte("/Keywords (itad:cert:"))
		if i < 0 {
			t.Fatal("keywords not found in the PDF")
		}
		bad := bytes.Clone(signed)
		bad[i+1] = 'X'
		p := write(t, bad)
		if ok, out := pdfsigOK(t, p); ok {
			t.Errorf("pdfsig accepts a flipped byte:\n%s", out)
		}
		expect(t, p, "signature is invalid")
	})
	t.Run("Appended", func(t *testing.T) {
		p := write(t, append(bytes.Clone(signed), "\n% edited\n"...))
		expect(t, p, "signature does not cover the whole file")
	})
	t.Run("OtherSigner", func(t *testing.T) {
		// Another ledger's key signs a certificate of its own; this
		// ledger does not trust it.
		g := newCertFixture(t, 0)
		_, other := g.issue(t, "ZC1234AB")
		expect(t, other, "signed by a certificate this ledger does not trust")
		// Trusting it with --trusted gets past the signer check, but the
		// number is not in this ledger.
		expect(t, other, "certificate number is not in the ledger", "--trusted", filepath.Join(g.dir, "itad-signing-cert.pem"))
	})
	t.Run("AmendedData", func(t *testing.T) {
		g := newCertFixture(t, 0)
		_, p := g.issue(t, "ZC1234AB")
		mustItad(t, g.db, "device", "amend", "ZC1234AB", "--model", "Exos 7E10", "--reason", "label misread")
		out, errOut, code := itad(t, g.db, "cert", "verify", p)
		// The real cause, with its event, and what to do.
		if code != exitVerifyFailed || !strings.Contains(errOut, "content changed since issue (the certificate is stale)") ||
			!regexp.MustCompile(`device ZC1234AB amended \(model\) on \d{4}-\d{2}-\d{2} by tester \(event \d+\); issue it again with 'itad cert issue ZC1234AB'`).MatchString(errOut) {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		// A raw edit of the device row is caught the same way.
		h := newCertFixture(t, 0)
		_, p = h.issue(t, "ZC1234AB")
		db := openDB(t, h.db)
		if _, err := db.Exec(`UPDATE devices SET asset_tag = 'TC-999999' WHERE serial = 'ZC1234AB'`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, errOut, code = itad(t, h.db, "cert", "verify", p)
		if code != exitVerifyFailed || !strings.Contains(errOut, "content changed since issue") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("Superseded", func(t *testing.T) {
		g := newCertFixture(t, 0)
		_, p := g.issue(t, "ZC1234AB")
		newer, _ := g.issue(t, "ZC1234AB")
		_, errOut, code := itad(t, g.db, "cert", "verify", p)
		if code != exitVerifyFailed || !strings.Contains(errOut, "certificate has been superseded") || !strings.Contains(errOut, newer) {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		g := newCertFixture(t, 0)
		number, p := g.issue(t, "ZC1234AB")
		if _, errOut, code := itad(t, g.db, "cert", "revoke", number); code != exitUsage {
			t.Errorf("revoke without --reason: exit %d %s", code, errOut)
		}
		out := mustItad(t, g.db, "cert", "revoke", number, "--reason", "issued for the wrong drive")
		if !strings.Contains(out, "revoked") {
			t.Errorf("revoke output %s", out)
		}
		_, errOut, code := itad(t, g.db, "cert", "verify", p)
		if code != exitVerifyFailed || !strings.Contains(errOut, "certificate has been revoked") || !strings.Contains(errOut, "issued for the wrong drive") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, errOut, code := itad(t, g.db, "cert", "revoke", number, "--reason", "again"); code != exitFailure || !strings.Contains(errOut, "already revoked") {
			t.Errorf("second revoke: exit %d %s", code, errOut)
		}
	})
	t.Run("NotACertificate", func(t *testing.T) {
		p := write(t, []byte("%PDF-1.3\nnot really\n"))
		_, errOut, code := itad(t, f.db, "cert", "verify", p)
		if code != exitVerifyFailed || !strings.Contains(errOut, "malformed pdf") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

func TestCLI_CertIssueRefusals(t *testing.T) {
	f := newCertFixture(t, 0)
	mustItad(t, f.db, "device", "add", "NODISP", "--type", "ssd")
	mustItad(t, f.db, "batch", "add", "OPEN-1")
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"NoDisposal", []string{"cert", "issue", "NODISP", "-o", f.out}, exitFailure, "device has no disposal record"},
		{"UnknownDevice", []string{"cert", "issue", "NOPE", "-o", f.out}, exitFailure, `device "NOPE" not found`},
		{"OpenBatch", []string{"cert", "issue", "--batch", "OPEN-1", "-o", f.out}, exitFailure, "batch is still open"},
		{"BothSerialAndBatch", []string{"cert", "issue", "ZC1234AB", "--batch", "OPEN-1", "-o", f.out}, exitUsage, "not both"},
		{"OutputIsAFile", []string{"cert", "issue", "ZC1234AB", "-o", f.db}, exitFailure, "output folder " + f.db},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := itad(t, f.db, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.message) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.message)
			}
		})
	}
	// Nothing was recorded or written.
	if out := mustItad(t, f.db, "--json", "cert", "list"); strings.TrimSpace(out) != "[]" {
		t.Errorf("cert list after refusals = %s", out)
	}
	if entries, _ := os.ReadDir(f.out); len(entries) != 0 {
		t.Errorf("files left in the output folder: %v", entries)
	}
	t.Run("NoKey", func(t *testing.T) {
		g := newCertFixture(t, 0)
		os.Remove(filepath.Join(g.dir, "itad-signing-key.pem"))
		_, errOut, code := itad(t, g.db, "cert", "issue", "ZC1234AB", "-o", g.out)
		if code != exitFailure || !strings.Contains(errOut, "itad key init") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// TestCLI_CertFileNames: serials that are paths, have spaces or unicode
// never escape the output folder.
func TestCLI_CertFileNames(t *testing.T) {
	f := newCertFixture(t, 0)
	for _, tc := range []struct{ serial, name string }{
		{"../../etc/x", "etc_x"},
		{"SN 123 456", "SN_123_456"},
		{"Ünïcødé-序列号", "Ünïcødé-序列号"},
		{"..", "unnamed"},
		{`C:\Windows\x`, "C_Windows_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustItad(t, f.db, "device", "add", tc.serial, "--type", "usb")
			mustItad(t, f.db, "dispose", tc.serial, "--method", "shred", "--on", "2021-03-04", "--contractor", "Shredco Ltd")
			number, path := f.issue(t, tc.serial)
			if want := filepath.Join(f.out, number+"_"+tc.name+".pdf"); path != want {
				t.Errorf("written to %s, want %s", path, want)
			}
			if _, err := os.Stat(path); err != nil {
				t.Error(err)
			}
		})
	}
	entries, _ := os.ReadDir(f.out)
	if len(entries) != 5 {
		t.Errorf("%d files in the output folder, want 5", len(entries))
	}
	if _, err := os.Stat(filepath.Join(f.dir, "etc")); err == nil {
		t.Errorf("a folder escaped the output folder")
	}
}

func TestCLI_Key(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init")
	_, errOut, code := itad(t, db, "key", "init")
	if code != exitFailure || !strings.Contains(errOut, "itad init --org NAME") {
		t.Fatalf("key init without org: exit %d %s", code, errOut)
	}
	mustItad(t, db, "init", "--org", "Test Constabulary")
	out := mustItad(t, db, "key", "init")
	if !strings.Contains(out, "O=Test Constabulary") {
		t.Errorf("key init output:\n%s", out)
	}
	fi, err := os.Stat(filepath.Join(dir, "itad-signing-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// One signing identity at a time: a second one is a rotation.
	if _, errOut, code := itad(t, db, "key", "init"); code != exitFailure || !strings.Contains(errOut, "a signing key is already recorded") ||
		!strings.Contains(errOut, "itad: hint: change it with 'itad key rotate --reason WHY'") {
		t.Errorf("second key init: exit %d %s", code, errOut)
	}
	var info struct {
		Fingerprint string `json:"fingerprint"`
		Recorded    bool   `json:"recorded"`
		NotAfter    string `json:"not_after"`
	}
	if err := json.Unmarshal([]byte(mustItad(t, db, "--json", "key", "show")), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Fingerprint) != 64 || !info.Recorded || info.NotAfter == "" {
		t.Errorf("key show = %+v", info)
	}
	// Loose permissions are refused when signing.
	os.Chmod(filepath.Join(dir, "itad-signing-key.pem"), 0o644)
	if _, errOut, code := itad(t, db, "cert", "issue", "X"); code == 0 || !strings.Contains(errOut, "readable by others") {
		t.Errorf("loose key: exit %d %s", code, errOut)
	}
	os.Chmod(filepath.Join(dir, "itad-signing-key.pem"), 0o600)

	t.Run("ImportPEM", func(t *testing.T) {
		dir2 := t.TempDir()
		db2 := filepath.Join(dir2, "itad.db")
		mustItad(t, db2, "init", "--org", "Other")
		out := mustItad(t, db2, "key", "import", "--cert", filepath.Join(dir, "itad-signing-cert.pem"), "--key", filepath.Join(dir, "itad-signing-key.pem"))
		if !strings.Contains(out, info.Fingerprint) {
			t.Errorf("key import output:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir2, "itad-signing-key.pem")); err != nil {
			t.Error(err)
		}
		evs := mustItad(t, db2, "--json", "key", "show")
		if !strings.Contains(evs, `"recorded": true`) {
			t.Errorf("imported key not recorded: %s", evs)
		}
		if _, errOut, code := itad(t, db2, "key", "import", "--p12", "x.p12", "--cert", "c.pem"); code != exitUsage || !strings.Contains(errOut, "--p12") {
			t.Errorf("conflicting flags: exit %d %s", code, errOut)
		}
	})
	t.Run("ImportP12", func(t *testing.T) {
		requireTool(t, "openssl")
		dir3 := t.TempDir()
		p12 := filepath.Join(dir3, "id.p12")
		pw := filepath.Join(dir3, "pw")
		os.WriteFile(pw, []byte("s3cret\n"), 0o600)
		if out, err := toolOutput(t, "openssl", "pkcs12", "-export", "-in", filepath.Join(dir, "itad-signing-cert.pem"),
			"-inkey", filepath.Join(dir, "itad-signing-key.pem"), "-out", p12, "-passout", "pass:s3cret"); err != nil {
			t.Fatalf("openssl: %v\n%s", err, out)
		}
		db3 := filepath.Join(dir3, "itad.db")
		mustItad(t, db3, "init", "--org", "Other")
		// The PKCS#12 file was encrypted: its key is not stored in
		// clear unless asked, and with no passphrase source (no
		// ITAD_KEY_PASSPHRASE_FILE, no terminal) the import is refused.
		t.Setenv(passphraseEnv, "")
		_, errOut, code := itad(t, db3, "key", "import", "--p12", p12, "--password-file", pw)
		if code != exitFailure || !strings.Contains(errOut, "no terminal") || !strings.Contains(errOut, "--no-passphrase") {
			t.Fatalf("p12 import without a passphrase: exit %d %s", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir3, "itad-signing-key.pem")); err == nil {
			t.Fatal("a refused import left a key file")
		}
		keyPW := filepath.Join(dir3, "key-passphrase")
		os.WriteFile(keyPW, []byte("key pass phrase 42\n"), 0o600)
		t.Setenv(passphraseEnv, keyPW)
		out := mustItad(t, db3, "key", "import", "--p12", p12, "--password-file", pw)
		if !strings.Contains(out, info.Fingerprint) || !strings.Contains(out, "Key encrypted:        yes") {
			t.Errorf("key import --p12 output:\n%s", out)
		}
		key3 := filepath.Join(dir3, "itad-signing-key.pem")
		data, _ := os.ReadFile(key3)
		if !strings.HasPrefix(string(data), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n") {
			t.Fatalf("imported key stored in clear:\n%.60s", data)
		}
		// OpenSSL reads it with the same passphrase, and not without.
		if out, err := toolOutput(t, "openssl", "pkey", "-in", key3, "-passin", "file:"+keyPW, "-noout"); err != nil {
			t.Errorf("openssl pkey -passin: %v\n%s", err, out)
		}
		if out, err := toolOutput(t, "openssl", "pkey", "-in", key3, "-passin", "pass:wrong", "-noout"); err == nil {
			t.Errorf("openssl pkey read the key with a wrong passphrase\n%s", out)
		}
		// The key signs; the passphrase is in no event.
		mustItad(t, db3, "device", "add", "P1", "--type", "hdd")
		mustItad(t, db3, "contractor", "add", "Shredco Ltd")
		mustItad(t, db3, "dispose", "P1", "--method", "shred", "--on", "2021-03-04", "--contractor", "Shredco Ltd")
		mustItad(t, db3, "cert", "issue", "P1", "-o", t.TempDir())
		if log := mustItad(t, db3, "log", "--format", "json"); strings.Contains(log, "key pass phrase") || strings.Contains(log, "s3cret") {
			t.Errorf("a passphrase is in the log:\n%s", log)
		}

		// --no-passphrase stores it decrypted, as asked.
		dir4 := t.TempDir()
		db4 := filepath.Join(dir4, "itad.db")
		mustItad(t, db4, "init", "--org", "Other")
		t.Setenv(passphraseEnv, "")
		mustItad(t, db4, "key", "import", "--p12", p12, "--password-file", pw, "--no-passphrase")
		if data, _ := os.ReadFile(filepath.Join(dir4, "itad-signing-key.pem")); !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") {
			t.Errorf("--no-passphrase key:\n%.40s", data)
		}
		if _, errOut, code := itad(t, db4, "key", "import", "--p12", p12, "--passphrase", "--no-passphrase"); code != exitUsage ||
			!strings.Contains(errOut, "--passphrase and --no-passphrase") {
			t.Errorf("both flags: exit %d %s", code, errOut)
		}
	})
}

// TestCLI_CertIssueCreatesOutputFolder: -o names a folder that does not
// exist yet; it is created and the certificate written in it.
func TestCLI_CertIssueCreatesOutputFolder(t *testing.T) {
	f := newCertFixture(t, 0)
	dir := filepath.Join(f.dir, "new", "certs")
	out := mustItad(t, f.db, "cert", "issue", "ZC1234AB", "-o", dir)
	matches, _ := filepath.Glob(filepath.Join(dir, "*_ZC1234AB.pdf"))
	if len(matches) != 1 {
		t.Fatalf("no certificate in %s:\n%s", dir, out)
	}
}

// TestCLI_CertVerifyProof: --proof proves that a certificate's issue is
// included in a signed checkpoint (stored, or exported to a file), and
// fails when there is none yet, when the issue came after it, or when the
// log no longer gives the checkpoint's root.
func TestCLI_CertVerifyProof(t *testing.T) {
	f := newCertFixture(t, 0)
	_, path := f.issue(t, "ZC1234AB")

	_, errOut, code := itad(t, f.db, "cert", "verify", "--proof", path)
	if code != exitFailure || !strings.Contains(errOut, "no checkpoint recorded") || !strings.Contains(errOut, "itad checkpoint") {
		t.Fatalf("no checkpoint: exit %d\n%s", code, errOut)
	}
	mustItad(t, f.db, "checkpoint")
	cpFile := filepath.Join(f.dir, "cp.txt")
	mustItad(t, f.db, "checkpoint", "export", "-o", cpFile)
	for _, args := range [][]string{{"cert", "verify", "--proof", path}, {"cert", "verify", "--proof", "--checkpoint", cpFile, path}} {
		out := mustItad(t, f.db, args...)
		if !strings.Contains(out, "included in the signed checkpoint of") || !strings.Contains(out, "audit path of") {
			t.Fatalf("%v:\n%s", args, out)
		}
	}
	out := mustItad(t, f.db, "--json", "cert", "verify", "--proof", path)
	if !strings.Contains(out, `"included_in_checkpoint"`) {
		t.Fatalf("--json --proof:\n%s", out)
	}
	if _, errOut, code := itad(t, f.db, "cert", "verify", "--checkpoint", cpFile, path); code != exitUsage || !strings.Contains(errOut, "--checkpoint goes with --proof") {
		t.Fatalf("--checkpoint without --proof: exit %d\n%s", code, errOut)
	}

	// A certificate issued after the exported checkpoint cannot be proved in it.
	_, later := f.issue(t, "ZC1234AB")
	if _, errOut, code := itad(t, f.db, "cert", "verify", "--proof", "--checkpoint", cpFile, later); code != exitFailure || !strings.Contains(errOut, "after the checkpoint of") {
		t.Fatalf("issued after the checkpoint: exit %d\n%s", code, errOut)
	}

	// Rewrite the hash of the first event behind itad's back: the log no
	// longer gives the checkpoint's root.
	mustItad(t, f.db, "checkpoint")
	db := openDB(t, f.db)
	if _, err := db.Exec(`UPDATE events SET hash = zeroblob(32) WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, errOut, code := itad(t, f.db, "cert", "verify", "--proof", later); code != exitVerifyFailed || !strings.Contains(errOut, "inclusion proof") {
		t.Fatalf("tampered log: exit %d\n%s", code, errOut)
	}
}

// TestCLI_CertVerifyProofAfterKeyChange: a checkpoint signed before the
// signing key was changed proves a certificate's issue when the earlier
// key's certificate is given with --trusted, and not otherwise.
func TestCLI_CertVerifyProofAfterKeyChange(t *testing.T) {
	f := newCertFixture(t, 0)
	_, path := f.issue(t, "ZC1234AB")
	mustItad(t, f.db, "checkpoint")
	cpFile := filepath.Join(f.dir, "cp.txt")
	mustItad(t, f.db, "checkpoint", "export", "-o", cpFile)
	var old struct {
		Fingerprint string `json:"fingerprint"`
	}
	json.Unmarshal([]byte(mustItad(t, f.db, "--json", "key", "show")), &old)
	mustItad(t, f.db, "key", "rotate", "--reason", "yearly key change")
	// key rotate kept the old certificate beside the ledger, and the
	// ledger recorded it: the old checkpoint still proves the issue.
	oldCert := filepath.Join(f.dir, "itad-signing-cert."+old.Fingerprint[:16]+".pem")
	out := mustItad(t, f.db, "cert", "verify", "--proof", "--checkpoint", cpFile, path)
	if !strings.Contains(out, "included in the signed checkpoint of") {
		t.Fatalf("after key rotate:\n%s", out)
	}
	// Without it (lost), the old checkpoint does not verify, unless the
	// old certificate is given with --trusted.
	moved := filepath.Join(t.TempDir(), "old-cert.pem")
	if err := os.Rename(oldCert, moved); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := itad(t, f.db, "cert", "verify", "--proof", "--checkpoint", cpFile, path); code != exitVerifyFailed || !strings.Contains(errOut, "not signed by a trusted key") {
		t.Fatalf("old checkpoint, new key: exit %d\n%s", code, errOut)
	}
	out = mustItad(t, f.db, "cert", "verify", "--proof", "--checkpoint", cpFile, "--trusted", moved, path)
	if !strings.Contains(out, "included in the signed checkpoint of") {
		t.Fatalf("with --trusted old cert:\n%s", out)
	}
}
