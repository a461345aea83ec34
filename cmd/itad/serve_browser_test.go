package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/itad/itad/ledger"
)

// chromium returns Debian's headless browser, or skips (fails with
// ITAD_REQUIRE_TOOLS=1) without it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
		t.Fatal("chromium not installed (ITAD_REQUIRE_TOOLS=1): apt-get install chromium")
	}
	t.Skip("chromium not installed: apt-get install chromium")
	return ""
}

// TestServe_BrowserStation drives the shredder station in headless
// Chromium: an admin (made with itad user add) creates an operator in
// the browser; the operator signs in, opens a run, scans 20 serials with
// Enter, is refused a duplicate, adds an unknown device inline, closes
// the run with a weight, issues and downloads the certificate. pdfsig
// checks the PDF, itad verify the ledger, and every event from the
// operator's sign-in on names the operator. The accessibility pass
// (text contrast, keyboard, accessible names: a11yJS) runs on every
// page and state of the station. Screenshots are saved in the
// test's temp dir (ITAD_SCREENSHOTS=DIR keeps them there instead).
func TestServe_BrowserStation(t *testing.T) {
	chrome := chromium(t)
	requireTool(t, "pdfsig")
	dir := t.TempDir()
	shots := os.Getenv("ITAD_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(dir, "screenshots")
	}
	os.MkdirAll(shots, 0o755)
	db := filepath.Join(dir, "itad.db")
	pwFile := filepath.Join(dir, "pw")
	const pw = "admin password 123"
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	mustItad(t, db, "init", "--org", "Browser Test Council")
	mustItad(t, db, "contractor", "add", "Shredco", "--accreditations", "ADISA")
	mustItad(t, db, "key", "init")
	mustItad(t, db, "user", "add", "adm", "--role", "admin", "--password-file", pwFile)
	serials := make([]string, 20)
	for i := range serials {
		serials[i] = fmt.Sprintf("BR-HDD-%02d", i+1)
		mustItad(t, db, "device", "add", serials[i], "--type", "hdd", "--make", "Seagate", "--model", "ST2000")
	}

	s, hs, ctx, downloads, shot := startBrowser(t, chrome, dir, db, shots)
	// value runs an action that returns a value and keeps it in *p.
	value := func(p *string, a chromedp.Action[string]) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			v, err := a(ctx, tg)
			*p = v
			return chromedp.Void{}, err
		}
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\npage: %s", what, err, body)
		}
	}
	signIn := func(name, pass string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(hs.URL + "/login"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("password"), pass+"\n"),
			chromedp.WaitVisible(chromedp.CSS("header .who")),
		}
	}
	const opPw = "operator password 1"
	step("sign-in page", chromedp.Navigate(hs.URL+"/login"), chromedp.WaitVisible(chromedp.ID("name")))
	checkA11y(t, ctx, "00-login")
	step("admin signs in", append(signIn("adm", pw), shot("01-accounts"))...)
	checkA11y(t, ctx, "01-accounts")
	step("admin creates an operator",
		chromedp.SendKeys(chromedp.ID("new-name"), "op1"),
		chromedp.SetValue(chromedp.ID("new-role"), "operator"),
		chromedp.SendKeys(chromedp.ID("new-pw"), opPw),
		chromedp.SendKeys(chromedp.ID("new-pw2"), opPw),
		chromedp.Click(chromedp.CSS("#new-user button")),
		chromedp.WaitVisible(chromedp.CSS("p.ok")),
		shot("02-account-created"))
	checkA11y(t, ctx, "02-account-created")
	step("admin signs out",
		chromedp.Click(chromedp.CSS("header .who button")),
		chromedp.WaitVisible(chromedp.ID("password")))
	startSeq := int64(0)
	s.DB().QueryRow(`SELECT max(seq) FROM events`).Scan(&startSeq)

	step("operator signs in", append(signIn("op1", opPw), chromedp.WaitVisible(chromedp.ID("open-run")), shot("03-station-pick"))...)
	checkA11y(t, ctx, "03-station-pick")
	step("operator opens a run",
		chromedp.SendKeys(chromedp.ID("ref"), "RUN-2026-01"),
		chromedp.SendKeys(chromedp.ID("site"), "DC North"),
		chromedp.SetValue(chromedp.ID("contractor"), "Shredco"),
		chromedp.SendKeys(chromedp.ID("witness"), "J. Smith"),
		chromedp.Click(chromedp.CSS("#open-run button")),
		chromedp.WaitVisible(chromedp.ID("code")))
	for i, sn := range serials {
		step("scan "+sn,
			chromedp.SendKeys(chromedp.ID("code"), sn+"\n"),
			poll(fmt.Sprintf(`document.getElementById("count") && document.getElementById("count").textContent === "%d"`, i+1)))
	}
	step("20 rows", shot("04-station-20-scans"))
	checkA11y(t, ctx, "04-station-20-scans")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#rows tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 20 {
		t.Fatalf("%d rows after 20 scans", rows)
	}
	var refusal string
	step("duplicate refused",
		chromedp.SendKeys(chromedp.ID("code"), serials[3]+"\n"),
		chromedp.WaitVisible(chromedp.CSS("#rows tr.refused")),
		value(&refusal, chromedp.Text(chromedp.CSS("#rows tr.refused"))),
		shot("05-station-refused"))
	if !strings.Contains(refusal, "already in run RUN-2026-01") {
		t.Fatalf("refusal %q", refusal)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "code" {
		t.Errorf("focus is on %q after a scan, want the scan box", focused)
	}
	checkA11y(t, ctx, "05-station-refused")
	// A second refusal keeps the first in view.
	step("second refusal", chromedp.SendKeys(chromedp.ID("code"), serials[5]+"\n"),
		poll(`document.querySelectorAll("#rows tr.refused").length === 2`))
	step("unknown device added inline",
		chromedp.SendKeys(chromedp.ID("code"), "WDC WD10EZEX:WD-UNKNOWN-1\n"),
		chromedp.WaitVisible(chromedp.ID("new-device")),
		shot("06-station-unknown"))
	checkA11y(t, ctx, "06-station-unknown")
	step("the unknown device's form",
		chromedp.SetValue(chromedp.ID("d-type"), "hdd"),
		chromedp.SendKeys(chromedp.ID("d-make"), "Western Digital"),
		chromedp.Click(chromedp.CSS("#new-device button")),
		poll(`document.getElementById("count").textContent === "21"`))
	step("close with a weight",
		chromedp.SendKeys(chromedp.ID("gross"), "12.6"),
		chromedp.Click(chromedp.CSS("#close button")),
		chromedp.WaitVisible(chromedp.ID("issue")),
		shot("07-run-closed"))
	checkA11y(t, ctx, "07-run-closed")
	step("issue the certificate",
		chromedp.Click(chromedp.CSS("#issue button")),
		chromedp.WaitVisible(chromedp.CSS("table.certs button")),
		shot("08-certificate-issued"))
	checkA11y(t, ctx, "08-certificate-issued")
	step("download it",
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return chromedp.Void{}, err
		},
		chromedp.SendKeys(chromedp.CSS("table.certs input[name=reason]"), "customer copy"),
		chromedp.Click(chromedp.CSS("table.certs button")))
	var pdf string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && pdf == ""; time.Sleep(100 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(downloads, "*.pdf"))
		if len(m) == 1 {
			pdf = m[0]
		}
	}
	if pdf == "" {
		t.Fatal("no PDF downloaded")
	}
	step("device page", chromedp.Navigate(hs.URL+"/devices/"+serials[0]), chromedp.WaitVisible(chromedp.CSS("h1")), shot("09-device"))
	checkA11y(t, ctx, "09-device")
	step("devices page", chromedp.Navigate(hs.URL+"/devices"), chromedp.WaitVisible(chromedp.CSS("h1")), shot("09-devices"))
	checkA11y(t, ctx, "09-devices")
	step("certificates page", chromedp.Navigate(hs.URL+"/certificates"), chromedp.WaitVisible(chromedp.CSS("table.certs")), shot("10-certificates"))
	checkA11y(t, ctx, "10-certificates")

	out, _ := exec.Command("pdfsig", pdf).CombinedOutput()
	if !strings.Contains(string(out), "Signature is Valid") || !strings.Contains(string(out), "Total document signed") {
		t.Fatalf("pdfsig %s:\n%s", pdf, out)
	}
	if out, errOut, code := itad(t, db, "verify"); code != 0 {
		t.Fatalf("itad verify: exit %d\n%s%s", code, out, errOut)
	}
	evs, err := s.Events(ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Seq <= startSeq {
			continue
		}
		n++
		if e.Actor != "op1" {
			t.Errorf("event %d %s %s by %q, want op1", e.Seq, e.Action, e.Subject, e.Actor)
		}
	}
	// sign-in, run, 21 disposals, a device, close, certificate (and its
	// checkpoint, if any), download
	if n < 26 {
		t.Errorf("only %d events after the operator signed in", n)
	}
	t.Logf("screenshots in %s", shots)
}

// poll waits (up to 10 s) until a JavaScript expression is true.
func poll(expr string) chromedp.Action[chromedp.Void] {
	a := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, tg)
		return chromedp.Void{}, err
	}
}
