package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// needTool skips the test if the command-line tool name is missing, or
// fails it when ITAD_REQUIRE_TOOLS=1 (as CI sets it).
func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (ITAD_REQUIRE_TOOLS=1): apt-get install poppler-utils qpdf openssl", name)
		}
		t.Skipf("%s not installed: apt-get install poppler-utils qpdf openssl", name)
	}
}

// foiCLILedger builds, through the CLI, the sample ledger with accredited
// contractors and two weighed runs, and returns its path.
func foiCLILedger(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	mustItad(t, db, "contractor", "add", "Albion ITAD plc", "--accreditations", "ADISA, ISO 27001")
	mustItad(t, db, "contractor", "add", "Shredwell Secure Ltd", "--accreditations", "NAID AAA")
	mustItad(t, db, "import", "../../testdata/import/sample-disposals.csv")
	mustItad(t, db, "import", "../../testdata/foi/extra.csv")
	mustItad(t, db, "batch", "close", "SR-2020-001", "--gross-weight", "1.301kg")
	mustItad(t, db, "batch", "close", "SR-2021-005", "--gross-weight", "200g")
	return db
}

// accessEvents returns the ledger's events of action.
func accessEvents(t *testing.T, db, action string) []ledger.Event {
	t.Helper()
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Events(ledger.EventFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestCLI_FOI(t *testing.T) {
	db := foiCLILedger(t)
	for _, format := range []string{"text", "markdown", "json", "csv"} {
		out := mustItad(t, db, "foi", "--year", "2020", "--year", "2021", "--format", format, "--reason", "FOI-2024-0117")
		if !strings.Contains(out, "Albion ITAD plc") {
			t.Errorf("%s answer lacks the contractor:\n%s", format, out)
		}
		if !strings.Contains(out, "79.3% destroyed (73 of 92 storage devices; 19 wiped)") {
			t.Errorf("%s answer lacks the 2020 proportion:\n%s", format, out)
		}
		// The disclosure is logged with its reason and the exact bytes' hash.
		evs := accessEvents(t, db, "foi")
		last := evs[len(evs)-1]
		var p map[string]any
		json.Unmarshal(last.Payload, &p)
		if last.Reason != "FOI-2024-0117" || last.Subject != "2020,2021" || p["format"] != format || p["sha256"] != sha256Hex([]byte(out)) {
			t.Errorf("access event %s %q %s", last.Subject, last.Reason, last.Payload)
		}
	}
	if n := len(accessEvents(t, db, "foi")); n != 4 {
		t.Errorf("%d foi events, want 4", n)
	}
	out := mustItad(t, db, "foi", "--year", "2020", "--financial-year")
	if !strings.Contains(out, "Financial year 2020/21") {
		t.Errorf("financial year answer:\n%s", out)
	}

	// Exemptions: set, list, and every format withholds the names.
	out = mustItad(t, db, "exempt", "set", "contractor.name", "--section", "24(1)", "--section", "31(1)", "--reason", "public interest test")
	if out != "contractor.name is now withheld from FOI answers: Withheld under sections 24(1) and 31(1) of the Freedom of Information Act 2000\n" {
		t.Errorf("exempt set: %q", out)
	}
	mustItad(t, db, "exempt", "set", "site", "--section", "s.24(1)")
	if out := mustItad(t, db, "exempt", "list"); out != "FIELD            SECTIONS\ncontractor.name  24(1), 31(1)\nsite             24(1)\n" {
		t.Errorf("exempt list:\n%s", out)
	}
	for _, format := range []string{"text", "markdown", "json", "csv"} {
		out := mustItad(t, db, "foi", "--format", format)
		for _, v := range []string{"Albion", "Shredwell", "Northgate", "ADISA", "NAID", "DC-North", "DC-South", "HQ Annex"} {
			if strings.Contains(strings.ToLower(out), strings.ToLower(v)) {
				t.Errorf("%s answer shows withheld %q", format, v)
			}
		}
		if !strings.Contains(out, "Withheld under section 24(1) of the Freedom of Information Act 2000") {
			t.Errorf("%s answer does not cite the site's section", format)
		}
	}
	// Internal reports are unaffected.
	if out := mustItad(t, db, "report", "--by", "contractor"); !strings.Contains(out, "Albion ITAD plc") {
		t.Errorf("report withholds names:\n%s", out)
	}
	mustItad(t, db, "exempt", "clear", "site", "--reason", "no longer sensitive")
	if out := mustItad(t, db, "exempt", "list", "--json"); !strings.Contains(out, `"field": "contractor.name"`) || strings.Contains(out, `"site"`) {
		t.Errorf("exempt list --json:\n%s", out)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"UnknownField", []string{"exempt", "set", "contractor.address", "--section", "24(1)"}, 1, `field "contractor.address" cannot be exempt (one of contractor.name, site)`},
		{"NoSection", []string{"exempt", "set", "site"}, 2, "itad: error: --section is required\nitad: hint: see 'itad exempt set --help'\n"},
		{"BadSection", []string{"exempt", "set", "site", "--section", "99"}, 1, "not an exemption of the Freedom of Information Act 2000"},
		{"ClearNotExempt", []string{"exempt", "clear", "site"}, 1, "site is not withheld"},
		{"BadFormat", []string{"foi", "--format", "pdf"}, 2, "use text, markdown, json or csv"},
		{"SignWithoutOutput", []string{"foi", "--sign"}, 2, "--sign needs -o FILE"},
		{"SignWithoutKey", []string{"foi", "--sign", "-o", filepath.Join(t.TempDir(), "a.txt")}, 1, "itad: hint: create a signing key"},
		{"PDFWithoutOutput", []string{"report", "--format", "pdf"}, 2, "--format pdf needs -o FILE"},
		{"ExcelJSON", []string{"export", "--format", "json", "--excel"}, 2, "--excel applies to --format csv only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s%s", code, tc.code, tc.stderr, out, errOut)
			}
		})
	}
}

// TestCLI_ExportSumEqualsReport: through the CLI, in calendar and
// financial years, the export's rows and weights add up to the report.
func TestCLI_ExportSumEqualsReport(t *testing.T) {
	db := foiCLILedger(t)
	for _, args := range [][]string{{"--year", "2020"}, {"--year", "2021"}, {"--financial-year", "--year", "2020"}, {"--financial-year"}} {
		var rep []struct{ Count, WeightGrams, WeighedCount int64 }
		out := mustItad(t, db, append([]string{"report", "--json", "--by", "type"}, args...)...)
		if err := json.Unmarshal([]byte(strings.ReplaceAll(strings.ReplaceAll(out, "weight_grams", "weightgrams"), "weighed_count", "weighedcount")), &rep); err != nil {
			t.Fatal(err, out)
		}
		var want [3]int64
		for _, r := range rep {
			want[0] += r.Count
			want[1] += r.WeightGrams
			want[2] += r.WeighedCount
		}
		recs, err := csv.NewReader(strings.NewReader(mustItad(t, db, append([]string{"export"}, args...)...))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var got [3]int64
		for _, r := range recs[1:] {
			got[0]++
			if r[17] != "" {
				g, _ := strconv.ParseInt(r[17], 10, 64)
				got[1] += g
				got[2]++
			}
		}
		if got != want || want[0] == 0 {
			t.Errorf("%v: export rows, grams, weighed %v; report %v", args, got, want)
		}
	}
	// 31 March 2021 is in 2020/21, 1 April 2021 in 2021/22.
	out := mustItad(t, db, "export", "--financial-year", "--year", "2020")
	if !strings.Contains(out, "\r\nFY-0331,") || strings.Contains(out, "FY-0401") {
		t.Errorf("2020/21 export around 31 March is wrong")
	}
}

// signingLedger is foiCLILedger with a signing key and certificate beside
// the ledger, where loadSigner and verify-file look by default.
func signingLedger(t *testing.T) (db string, signer *certificate.Signer) {
	t.Helper()
	db = foiCLILedger(t)
	s, err := certificate.GenerateSigner("Test Constabulary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(db)
	key, cert := filepath.Join(dir, "itad-signing-key.pem"), filepath.Join(dir, "itad-signing-cert.pem")
	if err := s.WriteFiles(key, cert); err != nil {
		t.Fatal(err)
	}
	// Recorded where they are: the ledger signs only with a recorded key.
	mustItad(t, db, "key", "import", "--cert", cert, "--key", key)
	return db, s
}

func TestCLI_SignAndVerifyFile(t *testing.T) {
	db, signer := signingLedger(t)
	dir := t.TempDir()
	cases := []struct{ name, file string }{
		{"export", filepath.Join(dir, "export-2021.csv")},
		{"foi", filepath.Join(dir, "foi-2021.md")},
		{"report", filepath.Join(dir, "annual.pdf")},
	}
	mustItad(t, db, "export", "--year", "2021", "--excel", "-o", cases[0].file, "--sign", "--reason", "external audit 2022")
	mustItad(t, db, "foi", "--year", "2021", "--format", "markdown", "-o", cases[1].file, "--sign")
	mustItad(t, db, "report", "--format", "pdf", "-o", cases[2].file, "--sign")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			out := mustItad(t, db, "verify-file", tc.file)
			if !strings.Contains(out, "signature valid") || !strings.Contains(out, certificate.Fingerprint(signer.Cert)) {
				t.Errorf("verify-file:\n%s", out)
			}
			// The access log names the file by its hash and the signer.
			evs := accessEvents(t, db, tc.name)
			var p map[string]any
			json.Unmarshal(evs[len(evs)-1].Payload, &p)
			if p["sha256"] != sha256Hex(data) || p["signer"] != certificate.Fingerprint(signer.Cert) || p["output"] != filepath.Base(tc.file) {
				t.Errorf("access event payload %s", evs[len(evs)-1].Payload)
			}
			checkOpenSSL(t, tc.file, filepath.Join(filepath.Dir(db), "itad-signing-cert.pem"), true)

			// One byte changed: exit 3, for itad and for OpenSSL.
			tampered := filepath.Join(t.TempDir(), filepath.Base(tc.file))
			bad := append([]byte{}, data...)
			bad[len(bad)/2] ^= 1
			os.WriteFile(tampered, bad, 0o644)
			sig, _ := os.ReadFile(tc.file + ".p7s")
			os.WriteFile(tampered+".p7s", sig, 0o644)
			_, errOut, code := itad(t, db, "verify-file", tampered)
			if code != exitVerifyFailed || !strings.Contains(errOut, "digest mismatch") {
				t.Errorf("tampered file: exit %d\n%s", code, errOut)
			}
			checkOpenSSL(t, tampered, filepath.Join(filepath.Dir(db), "itad-signing-cert.pem"), false)
		})
	}

	// Signed by someone else: a valid signature, but not the ledger's key.
	other, err := certificate.GenerateSigner("Someone Else", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cases[0].file)
	sig, err := certificate.SignDetached(data, other, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	otherSig := filepath.Join(dir, "other.p7s")
	os.WriteFile(otherSig, sig, 0o644)
	_, errOut, code := itad(t, db, "verify-file", cases[0].file, "--sig", otherSig)
	if code != exitVerifyFailed || !strings.Contains(errOut, `signed by "Someone Else itad signing key"`) {
		t.Errorf("other signer: exit %d\n%s", code, errOut)
	}
	otherCert := filepath.Join(dir, "other-cert.pem")
	os.WriteFile(otherCert, certPEM(other), 0o644)
	if _, errOut, code := itad(t, db, "verify-file", cases[0].file, "--sig", otherSig, "--trusted", otherCert); code != 0 {
		t.Errorf("--trusted other: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "verify-file", cases[0].file, "--sig", filepath.Join(dir, "missing.p7s")); code != exitFailure || !strings.Contains(errOut, "--sig") {
		t.Errorf("missing signature: exit %d\n%s", code, errOut)
	}
}

func certPEM(s *certificate.Signer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})
}

// checkOpenSSL verifies file against file.p7s with the command the help
// text documents, expecting success or failure.
func checkOpenSSL(t *testing.T, file, cert string, wantOK bool) {
	t.Helper()
	needTool(t, "openssl")
	out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "PEM", "-in", file+".p7s",
		"-content", file, "-CAfile", cert, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
	ok := err == nil && strings.Contains(string(out), "Verification successful")
	if ok != wantOK {
		t.Errorf("openssl cms -verify %s: %v, want success %v\n%s", file, err, wantOK, out)
	}
}

func TestCLI_ReportPDF(t *testing.T) {
	db := foiCLILedger(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pdf"), filepath.Join(dir, "b.pdf")
	if out := mustItad(t, db, "report", "--format", "pdf", "-o", a, "--reason", "board pack"); out != "wrote "+a+"\n" {
		t.Errorf("stdout %q", out)
	}
	// The access just logged does not change the next PDF: same bytes.
	mustItad(t, db, "report", "--format", "pdf", "-o", b)
	pa, _ := os.ReadFile(a)
	pb, _ := os.ReadFile(b)
	if !bytes.HasPrefix(pa, []byte("%PDF-")) || !bytes.Equal(pa, pb) {
		t.Errorf("two PDFs of the same ledger differ (%d and %d bytes)", len(pa), len(pb))
	}
	if evs := accessEvents(t, db, "report"); len(evs) != 2 || evs[0].Reason != "board pack" {
		t.Errorf("report access events: %+v", evs)
	}
	needTool(t, "qpdf")
	if out, err := exec.Command("qpdf", "--check", a).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	needTool(t, "pdftotext")
	out, err := exec.Command("pdftotext", "-layout", a, "-").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	for _, want := range []string{"Annual disposal report", "Test Constabulary", "Totals by year", "2020", "2021",
		"Items by type", "Items by method", "Page 1 of 2", "weight recorded for"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, out)
		}
	}
}
