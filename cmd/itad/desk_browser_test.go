package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// deskLedger is a ledger with disposals in 2019-2021 at two contractors,
// an auditor, an FOI officer and an admin, a device certificate and a
// revoked one.
func deskLedger(t *testing.T, dir string) (db string, pw string, genuine, revoked string) {
	t.Helper()
	db = filepath.Join(dir, "itad.db")
	pw = "desk password 123"
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	mustItad(t, db, "init", "--org", "Desk Test Council")
	mustItad(t, db, "contractor", "add", "Shredco Recycling", "--accreditations", "ADISA")
	mustItad(t, db, "contractor", "add", "Wipers Ltd")
	mustItad(t, db, "key", "init")
	for _, u := range [][2]string{{"aud", "auditor"}, {"foi", "foi"}, {"adm", "admin"}} {
		mustItad(t, db, "user", "add", u[0], "--role", u[1], "--password-file", pwFile)
	}
	for i, d := range []struct{ typ, method, on, con string }{
		{"hdd", "shred", "2020-02-03", "Shredco Recycling"}, {"ssd", "crypto-erase", "2020-06-01", "Wipers Ltd"},
		{"hdd", "overwrite", "2020-11-30", "Wipers Ltd"}, {"hdd", "shred", "2021-03-04", "Shredco Recycling"},
		{"usb", "incinerate", "2021-08-09", "Shredco Recycling"}, {"tape", "degauss", "2019-05-05", "Shredco Recycling"},
	} {
		sn := fmt.Sprintf("DESK-%02d", i+1)
		mustItad(t, db, "device", "add", sn, "--type", d.typ, "--site", "Town Hall")
		mustItad(t, db, "dispose", sn, "--method", d.method, "--on", d.on, "--contractor", d.con)
	}
	certs := filepath.Join(dir, "certificates")
	mustItad(t, db, "cert", "issue", "DESK-01", "-o", certs)
	mustItad(t, db, "cert", "issue", "DESK-04", "-o", certs)
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs, err := s.Certificates("")
	if err != nil || len(cs) != 2 {
		t.Fatalf("certificates %v %v", cs, err)
	}
	mustItad(t, db, "cert", "revoke", cs[1].UUID, "--reason", "issued for the wrong run")
	file := func(c ledger.Certificate) string {
		return filepath.Join(certs, certificate.FileName(c.UUID, c.Subject))
	}
	return db, pw, file(cs[0]), file(cs[1])
}

// TestServe_BrowserDesk: an auditor views the dashboard for 2020-2021 and
// downloads a signed export, which openssl cms -verify accepts; an FOI
// officer, with contractor names exempt, gets the answer itad foi gives
// and no contractor name in any page or download; the public page
// verifies a genuine certificate and rejects it with a byte flipped, and
// a revoked one. At 768 px no page scrolls sideways, every field has a
// label, and the accessibility pass (text contrast, keyboard, accessible
// names) finds nothing. Screenshots are kept (ITAD_SCREENSHOTS=DIR).
func TestServe_BrowserDesk(t *testing.T) {
	chrome := chromium(t)
	requireTool(t, "openssl")
	dir := t.TempDir()
	shots := os.Getenv("ITAD_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(dir, "screenshots")
	}
	os.MkdirAll(shots, 0o755)
	db, pw, genuine, revoked := deskLedger(t, dir)
	mustItad(t, db, "exempt", "set", "contractor.name", "--section", "43(2)", "--reason", "commercial interests")
	wantFOI := mustItad(t, db, "foi", "--format", "markdown", "--year", "2019-2021")

	s, hs, ctx, downloads, shot := startBrowser(t, chrome, dir, db, shots)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\npage: %s", what, err, body)
		}
	}
	allowDownloads := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return chromedp.Void{}, err
	}
	signIn := func(name string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(hs.URL + "/login"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("password"), pw+"\n"),
			chromedp.WaitVisible(chromedp.CSS("header .who")),
		}
	}
	signOut := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("header .who button")), chromedp.WaitVisible(chromedp.ID("password"))}
	pageHTML := func() string {
		h, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// checkPage: at 768 px the page does not scroll sideways, every
	// visible field has a label (label[for], a wrapping label or an
	// aria-label), and the accessibility pass (contrast, keyboard,
	// names: a11yJS) finds nothing; then back to 1280 px.
	checkPage := func(name string) {
		t.Helper()
		step(name+" at 768 px", chromedp.EmulateViewport(768, 1000), shot(name+"-768"))
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if width > 768 {
			t.Errorf("%s: %d px wide at 768 px: it scrolls sideways", name, width)
		}
		unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input, select, textarea")).filter(e =>
			e.type !== "hidden" && !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.closest("label") && !e.getAttribute("aria-label")
		).map(e => e.outerHTML)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(unlabelled) > 0 {
			t.Errorf("%s: fields without a label: %v", name, unlabelled)
		}
		checkA11y(t, ctx, name)
		step(name+" at 1280 px", chromedp.EmulateViewport(1280, 900))
	}

	step("sign-in page", chromedp.Navigate(hs.URL+"/login"), chromedp.WaitVisible(chromedp.ID("name")))
	checkPage("10-login")
	// The auditor: dashboard 2020-2021, then a signed export.
	step("auditor signs in", signIn("aud")...)
	step("dashboard 2020-2021",
		chromedp.Navigate(hs.URL+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("from")),
		chromedp.SendKeys(chromedp.ID("from"), "2020"),
		chromedp.SendKeys(chromedp.ID("to"), "2021"),
		chromedp.SendKeys(chromedp.ID("reason"), "annual audit"),
		chromedp.Click(chromedp.CSS("form.filters button")),
		chromedp.WaitVisible(chromedp.CSS(`input#from[value="2020"]`)), // the page the form asked for
		chromedp.WaitVisible(chromedp.CSS("svg.chart")),
		shot("11-dashboard"))
	dash := pageHTML()
	for _, want := range []string{"2020", "2021", "weight recorded for", "By contractor", "Shredco Recycling"} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(dash, ">2019<") {
		t.Error("the dashboard for 2020-2021 shows 2019")
	}
	checkPage("11-dashboard")
	step("signed export",
		allowDownloads,
		chromedp.SetValue(chromedp.ID("what"), "export-csv"),
		chromedp.Click(chromedp.ID("sign")),
		chromedp.Click(chromedp.CSS("#h-dl ~ form button")))
	zipPath := waitFile(t, downloads, "itad-export-*.zip")
	files := unzip(t, zipPath, downloads)
	csv, sig := "", ""
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".csv"):
			csv = f
		case strings.HasSuffix(f, ".csv.p7s"):
			sig = f
		}
	}
	if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "PEM", "-in", sig, "-content", csv,
		"-CAfile", filepath.Join(dir, "itad-signing-cert.pem"), "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	evs, _ := s.Events(ledger.EventFilter{Action: "export", Actor: "aud"})
	if len(evs) != 1 || evs[0].Reason != "annual audit" {
		t.Errorf("export events %+v", evs)
	}
	for _, p := range []string{"/log", "/health"} {
		step(p, chromedp.Navigate(hs.URL+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		checkPage("12" + strings.ReplaceAll(p, "/", "-"))
	}
	step("verify from the health page",
		chromedp.Click(chromedp.CSS("#h-verify ~ form button")),
		chromedp.WaitVisible(chromedp.CSS("pre.verifyout")),
		shot("12-health-verified"))
	if out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("pre.verifyout"))); err != nil || !strings.Contains(out, "hash chain intact, every table matches its events") {
		t.Errorf("health page verify: %q %v", out, err)
	}
	step("auditor signs out", signOut...)

	// The FOI officer, contractor names exempt.
	step("FOI officer signs in", signIn("foi")...)
	step("FOI answer",
		chromedp.Navigate(hs.URL+"/foi?from=2019&to=2021&reason=FOI-2026-031"),
		chromedp.WaitVisible(chromedp.ID("md")),
		shot("13-foi"))
	page := pageHTML()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("md").value`))
	if err != nil {
		t.Fatal(err)
	}
	if got != wantFOI {
		t.Errorf("the FOI page's markdown differs from itad foi --format markdown:\n%s\nwant\n%s", got, wantFOI)
	}
	checkPage("13-foi")
	step("FOI signed download", allowDownloads,
		chromedp.SetValue(chromedp.ID("what"), "foi-markdown"),
		chromedp.Click(chromedp.ID("sign")),
		chromedp.Click(chromedp.CSS("#h-dl ~ form button")))
	foiZip := waitFile(t, downloads, "itad-foi-*.zip")
	everything := page
	for _, f := range unzip(t, foiZip, filepath.Join(downloads, "foi")) {
		b, _ := os.ReadFile(f)
		everything += string(b)
	}
	for _, name := range []string{"Shredco", "Wipers"} {
		if strings.Contains(everything, name) {
			t.Errorf("exempt contractor name %q is in the FOI page or its download", name)
		}
	}
	step("FOI officer signs out", signOut...)

	// The public page, signed out.
	verdict := func(file string) string {
		t.Helper()
		step("verify "+filepath.Base(file),
			chromedp.Navigate(hs.URL+"/verify"),
			chromedp.WaitVisible(chromedp.ID("pdf")),
			chromedp.SetUploadFiles(chromedp.ID("pdf"), []string{file}),
			chromedp.Click(chromedp.CSS("form.upload button")),
			chromedp.WaitVisible(chromedp.ID("h-verdict")))
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("h-verdict")))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := verdict(genuine); v != "Valid" {
		t.Errorf("genuine certificate: %q", v)
	}
	step("verdict shot", shot("14-verify-valid"))
	pub := pageHTML()
	if strings.Contains(pub, "Shredco") {
		t.Error("the public page shows an exempt contractor name")
	}
	checkPage("14-verify")
	data, _ := os.ReadFile(genuine)
	data[len(data)/2] ^= 0x01
	flipped := filepath.Join(dir, "flipped.pdf")
	os.WriteFile(flipped, data, 0o644)
	if v := verdict(flipped); v == "Valid" {
		t.Error("a certificate with a byte flipped verified")
	}
	step("flipped shot", shot("15-verify-flipped"))
	if v := verdict(revoked); v != "Revoked" {
		t.Errorf("revoked certificate: %q", v)
	}
	step("revoked shot", shot("16-verify-revoked"))
	if text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("section.verdict"))); !strings.Contains(text, "issued for the wrong run") {
		t.Errorf("the revoked verdict does not say why: %q", text)
	}
	if out, errOut, code := itad(t, db, "verify"); code != 0 {
		t.Fatalf("itad verify: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("screenshots in %s", shots)
}

// waitFile waits (up to 20 s) for one finished download matching glob.
func waitFile(t *testing.T, dir, glob string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, glob)); len(m) == 1 {
			return m[0]
		}
	}
	t.Fatalf("no download %s in %s", glob, dir)
	return ""
}

// unzip extracts a zip into dir and returns the files' paths.
func unzip(t *testing.T, path, dir string) []string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	os.MkdirAll(dir, 0o755)
	var out []string
	for _, f := range zr.File {
		if regexp.MustCompile(`[/\\]`).MatchString(f.Name) {
			t.Fatalf("zip entry %q has a path", f.Name)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		p := filepath.Join(dir, f.Name)
		os.WriteFile(p, b, 0o644)
		out = append(out, p)
	}
	return out
}
