package web

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// consultations are the actions a GET may record: consultations and
// disclosures, which change no record.
var consultations = map[string]bool{"report": true, "foi": true, "export": true, "device.show": true, "batch.show": true,
	"cert.show": true, "cert.verify": true, "log": true}

// state is a digest of every table but the event log and the sessions
// (whose last-seen time a request may move): a GET must leave it alone.
func (f *fixture) state() string {
	f.t.Helper()
	rows, err := f.store.DB().Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('events', 'sessions') ORDER BY name`)
	if err != nil {
		f.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	h := sha256.New()
	for _, tb := range tables {
		rs, err := f.store.DB().Query(`SELECT * FROM "` + tb + `"`)
		if err != nil {
			f.t.Fatal(err)
		}
		cols, _ := rs.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			rs.Scan(ptrs...)
			fmt.Fprintf(h, "%s %v\n", tb, vals)
		}
		rs.Close()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// onlyConsultations fails t if, since before/state, a record changed or
// an event other than a consultation was added.
func (f *fixture) onlyConsultations(t *testing.T, what string, before int64, state string) {
	t.Helper()
	if f.state() != state {
		t.Errorf("%s changed a record", what)
	}
	evs, err := f.store.Events(ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Seq > before && !consultations[e.Action] {
			t.Errorf("%s wrote event %d %s, which is not a consultation", what, e.Seq, e.Action)
		}
	}
}

// lastEvent is the newest event.
func (f *fixture) lastEvent() ledger.Event {
	f.t.Helper()
	evs, err := f.store.Events(ledger.EventFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return evs[len(evs)-1]
}

// addYears records disposals in 2020 and 2021 (and one in 2019) so the
// dashboard has years to compare; some weighed, some not, two sites.
func (f *fixture) addYears() {
	t := f.t
	t.Helper()
	s := f.store
	_, err := s.AddContractor(ledger.Contractor{Name: "Wipers Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	w := int64(450)
	for i, d := range []struct {
		typ    ledger.DeviceType
		site   string
		method ledger.Method
		on     string
		con    string
		weight *int64
	}{
		{ledger.HDD, "DC1", ledger.Shred, "2020-03-01", "Shredco", &w},
		{ledger.HDD, "DC2", ledger.Overwrite, "2020-05-01", "Wipers Ltd", nil},
		{ledger.SSD, "DC1", ledger.CryptoErase, "2020-12-31", "Wipers Ltd", &w},
		{ledger.SSD, "DC2", ledger.Shred, "2021-01-01", "Shredco", nil},
		{ledger.USB, "DC1", ledger.Shred, "2021-06-01", "Shredco", &w},
		{ledger.HDD, "DC2", ledger.Degauss, "2021-07-01", "Shredco", nil},
		{ledger.HDD, "DC1", ledger.Shred, "2019-07-01", "Shredco", nil},
	} {
		serial := fmt.Sprintf("Y-%d", i)
		if _, err := s.AddDevice(ledger.Device{Serial: serial, Type: d.typ, Site: d.site}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordDisposal(ledger.Disposal{Serial: serial, Method: d.method, Contractor: d.con, DisposedOn: d.on, WeightG: d.weight}); err != nil {
			t.Fatal(err)
		}
	}
}

func cells(body string) string {
	// The tables' text, tags stripped, for comparing figures.
	return html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(body, "|"))
}

// TestDashboard_FiguresAreReportRows: every row of `itad report --by F`
// for 2020-2021 is on the page as the CLI's figures, and the ledger's
// Dashboard is those rows exactly.
func TestDashboard_FiguresAreReportRows(t *testing.T) {
	f := newFixture(t)
	f.addYears()
	aud := f.login("aud")
	for _, fin := range []bool{false, true} {
		q := "/dashboard?from=2020&to=2021"
		if fin {
			q += "&years=financial"
		}
		before, state := f.events(), f.state()
		rec := f.get(aud, q)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, rec.Code, rec.Body)
		}
		f.onlyConsultations(t, "GET "+q, before, state)
		if ev := f.lastEvent(); ev.Action != "report" || ev.Actor != "aud" || ev.Subject != "dashboard" {
			t.Errorf("the page view is not recorded: last event %+v", ev)
		}
		body := cells(rec.Body.String())
		d, err := f.store.Dashboard(ledger.DashboardQuery{FromYear: 2020, ToYear: 2021, FinancialYear: fin})
		if err != nil {
			t.Fatal(err)
		}
		parts := map[string][]ledger.ReportRow{"category": d.ByCategory, "type": d.ByType, "method": d.ByMethod, "contractor": d.ByContractor, "site": d.BySite, "": d.ByYear}
		for field, got := range parts {
			var by []string
			if field != "" {
				by = []string{field}
			}
			want, err := f.store.Report(ledger.ReportQuery{Years: []int{2020, 2021}, FinancialYear: fin, By: by})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("fin %v by %q: dashboard %v, report %v", fin, field, got, want)
			}
			for _, r := range want {
				line := "|" + r.YearLabel() + "||"
				if field != "" {
					line += r.Fields[field] + "||"
				}
				line += ledger.Thousands(r.Count) + "||" + r.Weight() + "||" + r.Coverage() + "|"
				if !strings.Contains(body, line) {
					t.Errorf("fin %v by %q: the page lacks %q", fin, field, line)
				}
			}
		}
		if len(d.ByYear) != 2 {
			t.Errorf("years %v", d.Years)
		}
	}
	if !strings.Contains(f.get(aud, "/dashboard?from=2020&to=2021").Body.String(), "<svg class=\"chart\"") {
		t.Error("no chart")
	}
	// A filter keeps the matching rows of a report grouped by the filtered
	// field too, summed.
	d, err := f.store.Dashboard(ledger.DashboardQuery{FromYear: 2020, ToYear: 2021, Type: "hdd", Site: "DC2"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.store.Report(ledger.ReportQuery{Years: []int{2020, 2021}, By: []string{"type", "method", "site"}})
	var n int64
	for _, r := range want {
		if r.Fields["type"] == "hdd" && r.Fields["site"] == "DC2" {
			n += r.Count
		}
	}
	if d.Total.Count != n || n != 2 {
		t.Errorf("filtered total %d, report rows give %d", d.Total.Count, n)
	}
	if rec := f.get(aud, "/dashboard?from=2022&to=2020"); rec.Code != http.StatusBadRequest {
		t.Errorf("backwards range: %d", rec.Code)
	}
}

// TestDesk_ReasonRequired: with require_reason on, a page view without a
// reason shows the reason form and records nothing; with one it is
// recorded, and the reason is remembered for the session.
func TestDesk_ReasonRequired(t *testing.T) {
	f := newFixture(t)
	if err := f.store.SetSetting(ledger.SettingRequireReason, "true", "policy"); err != nil {
		t.Fatal(err)
	}
	aud := f.login("aud")
	before := f.events()
	rec := f.get(aud, "/dashboard?from=2026&to=2026")
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Reason needed") || strings.Contains(rec.Body.String(), "By type") {
		t.Fatalf("without a reason: %d %s", rec.Code, rec.Body)
	}
	if f.events() != before {
		t.Fatal("a refused page view wrote an event")
	}
	if !strings.Contains(rec.Body.String(), `name="from" value="2026"`) {
		t.Error("the reason form does not keep the query")
	}
	rec = f.get(aud, "/dashboard?from=2026&to=2026&reason=FOI+2026-17")
	if rec.Code != http.StatusOK {
		t.Fatalf("with a reason: %d", rec.Code)
	}
	if ev := f.lastEvent(); ev.Reason != "FOI 2026-17" || ev.Actor != "aud" {
		t.Errorf("event %+v", ev)
	}
	var kept *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == reasonCookie {
			kept = c
		}
	}
	if kept == nil || !kept.HttpOnly {
		t.Fatalf("the reason is not remembered: %v", rec.Result().Cookies())
	}
	req := httptest.NewRequest("GET", "/devices/"+f.serial, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: aud.cookie})
	req.AddCookie(kept)
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("device page with the remembered reason: %d", rec.Code)
	}
	if ev := f.lastEvent(); ev.Action != "device.show" || ev.Reason != "FOI 2026-17" {
		t.Errorf("device page event %+v", ev)
	}
}

// requireTool skips the test without the tool, or fails it when
// ITAD_REQUIRE_TOOLS=1.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (ITAD_REQUIRE_TOOLS=1): apt-get install openssl", name)
		}
		t.Skipf("%s not installed: apt-get install openssl", name)
	}
}

// TestDownload_SignedExport: an auditor downloads a signed export; the zip
// holds the CSV and its .p7s, which openssl cms -verify accepts with the
// ledger's signing certificate; the download is in the audit log with the
// auditor and the reason, and records the CSV's SHA-256.
func TestDownload_SignedExport(t *testing.T) {
	f := newFixture(t)
	f.addYears()
	aud := f.login("aud")
	rec := f.post(aud, "/desk/download", url.Values{"what": {"export-csv"}, "from": {"2020"}, "to": {"2021"}, "sign": {"1"}, "reason": {"audit 2026"}})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		r, _ := zf.Open()
		var b bytes.Buffer
		b.ReadFrom(r)
		r.Close()
		files[zf.Name] = b.Bytes()
	}
	name := "itad-export-2020_2021.csv"
	csv, sig := files[name], files[name+".p7s"]
	if csv == nil || sig == nil {
		t.Fatalf("zip holds %v", func() (n []string) {
			for k := range files {
				n = append(n, k)
			}
			return
		}())
	}
	var want bytes.Buffer
	if _, err := f.store.WriteExport(&want, ledger.ExportQuery{Years: []int{2020, 2021}}, ledger.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(csv, want.Bytes()) {
		t.Errorf("the CSV differs from itad export's:\n%s\nwant\n%s", csv, want.Bytes())
	}
	if _, err := certificate.VerifyDetachedReader(bytes.NewReader(csv), sig); err != nil {
		t.Errorf("signature: %v", err)
	}
	ev := f.lastEvent()
	sum := sha256.Sum256(csv)
	if ev.Action != "export" || ev.Actor != "aud" || ev.Reason != "audit 2026" || !strings.Contains(string(ev.Payload), hex.EncodeToString(sum[:])) {
		t.Errorf("event %+v %s", ev, ev.Payload)
	}
	requireTool(t, "openssl")
	dir := t.TempDir()
	p := func(n string, b []byte) string {
		path := filepath.Join(dir, n)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ca := p("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Signer.Cert.Raw}))
	content, sigPath := p(name, csv), p(name+".p7s", sig)
	if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "PEM", "-in", sigPath, "-content", content,
		"-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	os.WriteFile(content, append(csv, 'x'), 0o644)
	if err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "PEM", "-in", sigPath, "-content", content,
		"-CAfile", ca, "-purpose", "any", "-out", os.DevNull).Run(); err == nil {
		t.Fatal("openssl accepted a changed export")
	}
}

// TestDownload_Formats: every download is the CLI's output and an event.
func TestDownload_Formats(t *testing.T) {
	f := newFixture(t)
	f.addYears()
	aud := f.login("aud")
	for _, what := range []string{"export-csv", "export-excel", "export-json", "report-csv", "report-json", "report-pdf"} {
		before := f.events()
		rec := f.post(aud, "/desk/download", url.Values{"what": {what}, "from": {"2020"}, "to": {"2021"}})
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s: %d %s", what, rec.Code, rec.Body)
			continue
		}
		if f.events() != before+1 {
			t.Errorf("%s: %d events", what, f.events()-before)
		}
		kind, _, _ := strings.Cut(what, "-")
		if ev := f.lastEvent(); ev.Action != kind || ev.Actor != "aud" {
			t.Errorf("%s: event %+v", what, ev)
		}
	}
	if rec := f.post(aud, "/desk/download", url.Values{"what": {"foi-text"}}); rec.Code != http.StatusForbidden {
		t.Errorf("an auditor sent an FOI answer: %d", rec.Code)
	}
	if rec := f.post(aud, "/desk/download", url.Values{"what": {"nonsense"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("unknown download: %d", rec.Code)
	}
}

// TestFOIPage_IsTheCLIAnswer: the page's markdown and text are
// ledger.WriteFOI's (what itad foi prints) byte for byte; with contractor
// names exempt no contractor's name is in the page, any download, or the
// public page, and the exemption is cited.
func TestFOIPage_IsTheCLIAnswer(t *testing.T) {
	f := newFixture(t)
	f.addYears()
	if _, _, err := f.store.SetExemption(ledger.FieldContractorName, []string{"43(2)"}, "commercial interests"); err != nil {
		t.Fatal(err)
	}
	foi := f.login("foi")
	rec := f.get(foi, "/foi?from=2018&to=2021")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	a, err := f.store.FOI(ledger.FOIQuery{Years: []int{2018, 2019, 2020, 2021}})
	if err != nil {
		t.Fatal(err)
	}
	for format, re := range map[string]string{"markdown": `(?s)<textarea id="md" readonly rows="16">(.*?)</textarea>`, "text": `(?s)<pre id="text" tabindex="0">(.*?)</pre>`} {
		var want strings.Builder
		ledger.WriteFOI(&want, format, a)
		m := regexp.MustCompile(re).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s answer in the page", format)
		}
		// html/template escapes; the textarea drops one leading newline.
		if got := html.UnescapeString(m[1]); got != want.String() {
			t.Errorf("%s differs:\n%s\nwant\n%s", format, got, want.String())
		}
	}
	if !strings.Contains(body, "No records held for: 2018") || !strings.Contains(body, "43(2)") {
		t.Error("no-records years or the exemption not shown")
	}
	if ev := f.lastEvent(); ev.Action != "foi" || ev.Actor != "foi" {
		t.Errorf("event %+v", ev)
	}
	pages := []string{body}
	for _, what := range []string{"foi-markdown", "foi-text", "foi-json", "foi-csv"} {
		rec := f.post(foi, "/desk/download", url.Values{"what": {what}, "from": {"2018"}, "to": {"2021"}, "sign": {"1"}})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
		}
		zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
		if err != nil {
			t.Fatal(err)
		}
		for _, zf := range zr.File {
			r, _ := zf.Open()
			var b bytes.Buffer
			b.ReadFrom(r)
			r.Close()
			pages = append(pages, b.String())
		}
	}
	pages = append(pages, f.get(nil, f.verifyLink()).Body.String())
	for i, p := range pages {
		for _, name := range []string{"Shredco", "Wipers"} {
			if strings.Contains(p, name) {
				t.Errorf("page or download %d shows exempt contractor %s", i, name)
			}
		}
	}
}

// verifyLink is the fixture certificate's QR link.
func (f *fixture) verifyLink() string {
	c, err := f.store.CertificateByNumber(f.cert)
	if err != nil {
		f.t.Fatal(err)
	}
	return "/verify/" + c.UUID + "?h=" + c.ContentHash
}

func (f *fixture) certPDF() []byte {
	f.t.Helper()
	c, err := f.store.CertificateByNumber(f.cert)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(f.srv.cfg.CertDir, certificate.FileName(c.UUID, c.Subject)))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) upload(pdf []byte) *httptest.ResponseRecorder {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("pdf", "cert.pdf")
	w.Write(pdf)
	mw.Close()
	req := httptest.NewRequest("POST", "/verify", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// TestPublicVerify: without signing in, a genuine certificate is valid,
// the same with one byte flipped is not, a revoked one says revoked (when
// and why); each verdict about a certificate of the ledger is recorded.
func TestPublicVerify(t *testing.T) {
	f := newFixture(t)
	pdf := f.certPDF()
	rec := f.upload(pdf)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<h2 id=\"h-verdict\">Valid</h2>") || !strings.Contains(rec.Body.String(), f.serial) {
		t.Fatalf("genuine: %d %s", rec.Code, rec.Body)
	}
	if ev := f.lastEvent(); ev.Action != "cert.verify" || ev.Actor != publicActor || ev.Subject != f.cert {
		t.Errorf("event %+v", ev)
	}
	for _, at := range []int{len(pdf) / 3, len(pdf) - 40} {
		bad := append([]byte(nil), pdf...)
		bad[at] ^= 0x01
		body := f.upload(bad).Body.String()
		if strings.Contains(body, ">Valid</h2>") || !strings.Contains(body, `class="verdict bad"`) {
			t.Errorf("byte %d flipped: %s", at, body)
		}
	}
	if body := f.upload([]byte("%PDF-1.3 not a certificate")).Body.String(); !strings.Contains(body, ">Not a certificate</h2>") {
		t.Errorf("junk: %s", body)
	}
	// The link of the QR code: fields only with the matching hash.
	before := f.events()
	for _, link := range []string{"/verify/" + f.cert, "/verify/" + f.cert + "?h=" + strings.Repeat("0", 64), "/verify/00000000-0000-4000-8000-000000000000?h=00"} {
		rec := f.get(nil, link)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), f.serial) {
			t.Errorf("%s: %d shows the certificate", link, rec.Code)
		}
	}
	if f.events() != before {
		t.Error("a link without the hash was recorded")
	}
	rec = f.get(nil, f.verifyLink())
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), f.serial) || !strings.Contains(rec.Body.String(), "current") {
		t.Fatalf("link: %d %s", rec.Code, rec.Body)
	}
	// Revoked.
	if _, err := f.store.RevokeCertificate(f.cert, "wrong run weighed", f.srv.cfg.NoteSigner); err != nil {
		t.Fatal(err)
	}
	body := f.upload(pdf).Body.String()
	if !strings.Contains(body, ">Revoked</h2>") || !strings.Contains(body, "wrong run weighed") {
		t.Errorf("revoked: %s", body)
	}
	if body := f.get(nil, f.verifyLink()).Body.String(); !strings.Contains(body, ">Revoked</h2>") {
		t.Errorf("revoked link: %s", body)
	}
}

func TestPublicVerify_RateLimitAndSize(t *testing.T) {
	f := newFixture(t)
	now := time.Unix(1e9, 0)
	f.srv.limit = newLimiter(3, time.Minute)
	f.srv.limit.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if rec := f.get(nil, "/verify"); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if rec := f.get(nil, "/verify"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("fourth: %d", rec.Code)
	}
	req := httptest.NewRequest("GET", "/verify", nil)
	req.RemoteAddr = "192.0.2.9:1234"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("another client was limited: %d", rec.Code)
	}
	now = now.Add(time.Minute)
	if rec := f.get(nil, "/verify"); rec.Code != http.StatusOK {
		t.Errorf("after a minute: %d", rec.Code)
	}
	f.srv.limit = newLimiter(100, time.Second)
	if rec := f.upload(make([]byte, maxUploadBytes+1)); rec.Code != http.StatusRequestEntityTooLarge && rec.Code != http.StatusBadRequest {
		t.Errorf("oversized upload: %d", rec.Code)
	}
}

func TestExemptionsPage(t *testing.T) {
	f := newFixture(t)
	adm := f.login("adm")
	rec := f.post(adm, "/exemptions", url.Values{"do": {"set"}, "field": {"site"}, "sections": {"s24(1), 31(1)(a)"}, "reason": {"security"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "sections 24(1) and 31(1)(a)") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if ev := f.lastEvent(); ev.Action != "exempt.set" || ev.Actor != "adm" || ev.Reason != "security" {
		t.Errorf("event %+v", ev)
	}
	if rec := f.post(adm, "/exemptions", url.Values{"do": {"set"}, "field": {"site"}, "sections": {"99"}, "reason": {"x"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("bad section: %d", rec.Code)
	}
	if rec := f.post(adm, "/exemptions", url.Values{"do": {"clear"}, "field": {"site"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("no reason: %d", rec.Code)
	}
	if rec := f.post(adm, "/exemptions", url.Values{"do": {"clear"}, "field": {"site"}, "reason": {"published"}}); rec.Code != http.StatusOK {
		t.Errorf("clear: %d %s", rec.Code, rec.Body)
	}
}

// TestAuditLogPage: filters as itad log's, pages newest first, reading it
// is a recorded "log" consultation, and the CSV download is itad log
// --format csv, recorded before it is sent.
func TestAuditLogPage(t *testing.T) {
	f := newFixture(t)
	f.addYears()
	aud := f.login("aud")
	rec := f.get(aud, "/log?action=disposal.record")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "8 events") || strings.Contains(body, ">device.add<") {
		t.Errorf("filter by action: %s", body)
	}
	if ev := f.lastEvent(); ev.Action != ledger.LogAction || ev.Subject != "action=disposal.record" || ev.Actor != "aud" {
		t.Errorf("event %+v", ev)
	}
	defer func(n int) { logPageSize = n }(logPageSize)
	logPageSize = 5
	total := f.events()
	all := f.get(aud, "/log").Body.String()
	if want := fmt.Sprintf("page %d of %d", (total+4)/5, (total+4)/5); !strings.Contains(all, want) {
		t.Errorf("paging: %q, want %q", regexp.MustCompile(`page \d+ of \d+`).FindString(all), want)
	}

	if rec := f.get(aud, "/log?page=1"); !strings.Contains(rec.Body.String(), ">1</td>") {
		t.Error("page 1 lacks event 1")
	}
	if rec := f.get(aud, "/log?since=yesterday"); rec.Code != http.StatusBadRequest {
		t.Errorf("bad date: %d", rec.Code)
	}
	rec = f.post(aud, "/log/download", url.Values{"serial": {f.serial}, "reason": {"subject access request"}})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "seq,at,actor,action,subject,reason,payload,prev_hash,hash") {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	var want bytes.Buffer
	lw, _ := ledger.NewLogWriter(&want, "csv")
	f.store.AuditLog(ledger.LogFilter{Serial: f.serial}, lw.Write)
	lw.Close()
	// The download's own event is after the events it lists.
	if !strings.HasPrefix(want.String(), rec.Body.String()) && rec.Body.String() != want.String() {
		t.Errorf("csv differs from itad log's")
	}
	if ev := f.lastEvent(); ev.Action != ledger.LogAction || ev.Reason != "subject access request" || !strings.Contains(string(ev.Payload), `"csv"`) {
		t.Errorf("event %+v %s", ev, ev.Payload)
	}
}

// TestHealthPage: the verify button runs verify in the background; the
// page polls while it runs and then shows itad verify's words.
func TestHealthPage(t *testing.T) {
	f := newFixture(t)
	aud := f.login("aud")
	if body := f.get(aud, "/health").Body.String(); !strings.Contains(body, "No verify has run") {
		t.Errorf("before: %s", body)
	}
	before := f.events()
	if rec := f.post(aud, "/health/verify", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("start: %d", rec.Code)
	}
	var body string
	for i := 0; i < 200; i++ {
		body = f.get(aud, "/health").Body.String()
		if !strings.Contains(body, "is running") {
			break
		}
		if !strings.Contains(body, `http-equiv="refresh"`) {
			t.Fatal("a running verify does not refresh the page")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var want strings.Builder
	res, err := f.store.Verify(ledger.VerifyOptions{Trusted: []*x509.Certificate{f.srv.cfg.Signer.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	ledger.WriteVerified(&want, f.store.Path(), res, []string{"the server's signing certificate"})
	if !strings.Contains(html.UnescapeString(body), "hash chain intact") || !strings.Contains(body, "the ledger verified") {
		t.Errorf("result: %s", body)
	}
	if first, _, _ := strings.Cut(want.String(), "\n"); !strings.Contains(html.UnescapeString(body), first) {
		t.Errorf("the page lacks itad verify's line %q", first)
	}
	if f.events() != before {
		t.Error("verify recorded something")
	}
}

// TestPageViews_AreConsultations: every GET that shows ledger records
// records a consultation with the signed-in account before it is sent.
func TestPageViews_AreConsultations(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ who, path, action, subject string }{
		{"op", "/station?run=R1&method=shred", "batch.show", "R1"},
		{"op", "/devices/HDD-1", "device.show", "HDD-1"},
		{"aud", "/certificates", "cert.show", "all"},
		{"aud", "/dashboard", "report", "dashboard"},
		{"foi", "/foi?from=2026&to=2026", "foi", "2026"},
		{"adm", "/log?actor=op", ledger.LogAction, "actor=op"},
	} {
		s := f.login(tc.who)
		before := f.events()
		if rec := f.get(s, tc.path); rec.Code != http.StatusOK {
			t.Errorf("%s: %d", tc.path, rec.Code)
			continue
		}
		ev := f.lastEvent()
		if f.events() != before+1 || ev.Action != tc.action || ev.Subject != tc.subject || ev.Actor != tc.who {
			t.Errorf("%s: %d events, last %s %q by %s", tc.path, f.events()-before, ev.Action, ev.Subject, ev.Actor)
		}
	}
}
