package web

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

const testPassword = "correct horse battery"

// fixture is a ledger with one account of each role, a device destroyed
// in a closed run with its certificate issued, and an open run.
type fixture struct {
	t       testing.TB
	store   *ledger.Store
	srv     *Server
	h       http.Handler
	cert    string // certificate number
	serial  string // a destroyed device
	openRun string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	s, err := ledger.Open(filepath.Join(dir, "itad.db"), ledger.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Actor = "setup"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Init("Test Council"))
	_, err = s.AddContractor(ledger.Contractor{Name: "Shredco"})
	must(err)
	for _, d := range []ledger.Device{
		{Serial: "HDD-1", Type: ledger.HDD, Make: "Seagate", Model: "ST1000"},
		{Serial: "SSD-1", Type: ledger.SSD, Make: "Samsung", Model: "870 EVO", AssetTag: "TAG-77"},
		{Serial: "HDD-2", Type: ledger.HDD},
		{Serial: "HDD-3", Type: ledger.HDD},
	} {
		_, err := s.AddDevice(d)
		must(err)
	}
	_, err = s.AddBatch(ledger.Batch{Ref: "R1", Contractor: "Shredco", RunOn: "2026-01-05", Site: "DC1"})
	must(err)
	_, err = s.RecordDisposal(ledger.Disposal{Serial: "HDD-1", Method: ledger.Shred, Contractor: "Shredco", DisposedOn: "2026-01-05", Batch: "R1"})
	must(err)
	_, err = s.CloseBatch("R1", nil)
	must(err)
	_, err = s.AddBatch(ledger.Batch{Ref: "R2", Contractor: "Shredco", RunOn: "2026-01-06", Site: "DC1"})
	must(err)
	signer, err := certificate.GenerateSigner("Test Council", time.Now())
	must(err)
	must(s.RecordKey(ledger.KeyInit, ledger.KeyRecord{Fingerprint: certificate.Fingerprint(signer.Cert), Subject: signer.Cert.Subject.String(),
		NotAfter: signer.Cert.NotAfter.UTC().Format(time.RFC3339)}))
	ns, err := ledger.NewNoteSigner(ledger.NoteKeyName(signer.Cert), signer.Key)
	must(err)
	for _, u := range [][2]string{{"op", ledger.RoleOperator}, {"aud", ledger.RoleAuditor}, {"foi", ledger.RoleFOI}, {"adm", ledger.RoleAdmin}} {
		_, err := s.AddUser(u[0], u[1], []byte(testPassword))
		must(err)
	}
	srv, err := New(Config{Store: s, Signer: signer, NoteSigner: ns, CertDir: filepath.Join(dir, "certificates"), Logf: t.Logf})
	must(err)
	f := &fixture{t: t, store: s, srv: srv, h: srv.Handler(), serial: "HDD-1", openRun: "R2"}
	// Issue R1's certificate through the web, as the operator.
	op := f.login("op")
	rec := f.post(op, "/station/certificate", url.Values{"run": {"R1"}, "method": {"shred"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("issue: %d %s", rec.Code, rec.Body)
	}
	cs, err := s.Certificates("")
	must(err)
	if len(cs) != 1 || cs[0].IssuedBy != "op" {
		t.Fatalf("certificates %+v", cs)
	}
	f.cert = cs[0].UUID
	return f
}

// session is a signed-in client.
type session struct{ cookie, csrf string }

func (f *fixture) login(name string) *session {
	f.t.Helper()
	sess, err := f.store.Login(name, testPassword, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return &session{cookie: sess.ID, csrf: sess.CSRF}
}

func (f *fixture) do(s *session, method, path string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		if s != nil && form.Get("csrf") == "" {
			form.Set("csrf", s.csrf)
		}
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if s != nil {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.cookie})
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) get(s *session, path string) *httptest.ResponseRecorder {
	return f.do(s, http.MethodGet, path, nil)
}
func (f *fixture) post(s *session, path string, form url.Values) *httptest.ResponseRecorder {
	return f.do(s, http.MethodPost, path, form)
}

func (f *fixture) events() int64 {
	var n int64
	if err := f.store.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestRoutes_EveryRoleEveryRoute requests every route as every role and
// as nobody, and checks allow or deny against the role table written out
// here (not read from the server), and that no GET changes any record:
// the only events a GET may add are consultations (see consultations).
func TestRoutes_EveryRoleEveryRoute(t *testing.T) {
	f := newFixture(t)
	const (
		P = "public"
		O = "operator"
		A = "auditor"
		F = "foi"
		D = "admin"
	)
	signed := []string{O, A, F, D}
	want := map[string][]string{
		"GET /{$}":                        signed,
		"GET /login":                      {P},
		"POST /login":                     {P},
		"POST /logout":                    signed,
		"GET /static/{file}":              {P},
		"GET /station":                    {O},
		"POST /station/run":               {O},
		"POST /station/scan":              {O},
		"POST /station/device":            {O},
		"POST /station/close":             {O},
		"POST /station/certificate":       {O},
		"GET /devices":                    {O, A},
		"GET /devices/{serial}":           {O, A},
		"GET /certificates":               {O, A},
		"POST /certificates/{number}/pdf": {O, A},
		"GET /users":                      {D},
		"POST /users":                     {D},
		"POST /users/{name}":              {D},
		"GET /dashboard":                  {A, F, D},
		"POST /desk/download":             {A, F, D},
		"GET /foi":                        {F, D},
		"GET /exemptions":                 {D},
		"POST /exemptions":                {D},
		"GET /log":                        {A, D},
		"POST /log/download":              {A, D},
		"GET /health":                     {A, D},
		"POST /health/verify":             {A, D},
		"GET /verify":                     {P},
		"POST /verify":                    {P},
		"GET /verify/{number}":            {P},
	}
	paths := map[string]string{"{serial}": f.serial, "{number}": f.cert, "{file}": "app.css", "{name}": "foi", "{$}": ""}
	seen := map[string]bool{}
	for _, rt := range f.srv.routes {
		key := rt.method + " " + rt.pattern
		seen[key] = true
		roles, ok := want[key]
		if !ok {
			t.Errorf("route %s is not in this test's role table: add it", key)
			continue
		}
		path := rt.pattern
		for k, v := range paths {
			path = strings.ReplaceAll(path, k, v)
		}
		for _, who := range []string{"", O, A, F, D} {
			name := who
			if name == "" {
				name = "nobody"
			}
			t.Run(key+" as "+name, func(t *testing.T) {
				var s *session
				if who != "" {
					s = f.login(map[string]string{O: "op", A: "aud", F: "foi", D: "adm"}[who])
				}
				allowed := false
				for _, r := range roles {
					allowed = allowed || r == P || r == who
				}
				before, state := f.events(), f.state()
				var rec *httptest.ResponseRecorder
				form := url.Values{}
				if rt.pattern == "/login" {
					form = nil
				}
				if rt.method == http.MethodGet {
					rec = f.get(s, path)
					f.onlyConsultations(t, "GET "+path, before, state)
				} else {
					rec = f.post(s, path, form)
				}
				denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden ||
					(rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login"))
				if rt.pattern == "/login" && rt.method == http.MethodPost {
					denied = false // refused for its missing token, not its role
				}
				if rt.pattern == "/logout" && allowed {
					denied = rec.Code != http.StatusSeeOther // a sign-out sends to /login
				}
				if allowed == denied {
					t.Errorf("%s %s as %s: status %d (Location %q), want allowed=%v", rt.method, path, name, rec.Code, rec.Header().Get("Location"), allowed)
				}
				if rec.Code >= 500 {
					t.Errorf("%s %s as %s: status %d: %s", rt.method, path, name, rec.Code, rec.Body)
				}
			})
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("the role table names %s, which the server does not route", k)
		}
	}
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	f := newFixture(t)
	rec := f.get(nil, "/login")
	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("Referrer-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", h)
	}
	// Every page has no inline script or style (the CSP would block it).
	if body := rec.Body.String(); regexp.MustCompile(`<script>|<style|style="|onclick=`).MatchString(body) {
		t.Errorf("inline script or style in the sign-in page")
	}
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if tok == nil {
		t.Fatal("no token in the sign-in form")
	}
	login := func(pw string, tls bool) *httptest.ResponseRecorder {
		form := url.Values{"token": {tok[1]}, "name": {"op"}, "password": {pw}, "next": {"/station"}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: loginCookie, Value: tok[1]})
		if tls {
			req.TLS = &tlsState
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		return rec
	}
	if rec := login("wrong password", false); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "wrong name or password") {
		t.Errorf("wrong password: %d", rec.Code)
	}
	var ids []string
	for _, tls := range []bool{false, true} {
		rec := login(testPassword, tls)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/station" {
			t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
		}
		var c *http.Cookie
		for _, k := range rec.Result().Cookies() {
			if k.Name == sessionCookie {
				c = k
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tls || len(c.Value) < 43 {
			t.Fatalf("session cookie %+v (tls %v)", c, tls)
		}
		ids = append(ids, c.Value)
	}
	if ids[0] == ids[1] {
		t.Error("a second sign-in kept the session ID")
	}
	// Without the sign-in form's token: refused.
	form := url.Values{"name": {"op"}, "password": {testPassword}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("sign-in without token: %d", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	adm := f.login("adm")
	add := func(name string) url.Values {
		return url.Values{"name": {name}, "role": {"auditor"}, "password": {testPassword}, "password2": {testPassword}}
	}
	for _, tc := range []struct {
		name   string
		csrf   string
		site   string
		origin string
		code   int
	}{
		{"NoToken", "-", "same-origin", "", http.StatusForbidden},
		{"WrongToken", "forged", "same-origin", "", http.StatusForbidden},
		{"CrossSite", "", "cross-site", "", http.StatusForbidden},
		{"ForeignOrigin", "", "", "https://evil.example", http.StatusForbidden},
		{"OK", "", "same-origin", "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := add("u" + strings.ToLower(tc.name))
			switch tc.csrf {
			case "":
				form.Set("csrf", adm.csrf)
			case "-":
			default:
				form.Set("csrf", tc.csrf)
			}
			req := httptest.NewRequest("POST", "/users", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.site != "" {
				req.Header.Set("Sec-Fetch-Site", tc.site)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: adm.cookie})
			before := f.events()
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code != http.StatusOK && f.events() != before {
				t.Error("a refused request wrote an event")
			}
		})
	}
}

// TestUsersPage_ActorAndNoHash: accounts made in the browser are events
// by the admin, and the hash is in no page and no event.
func TestUsersPage_ActorAndNoHash(t *testing.T) {
	f := newFixture(t)
	adm := f.login("adm")
	rec := f.post(adm, "/users", url.Values{"name": {"newop"}, "role": {"operator"}, "password": {testPassword}, "password2": {testPassword}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "account newop created with role operator") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = f.post(adm, "/users/newop", url.Values{"do": {"role"}, "role": {"auditor"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("set role: %d", rec.Code)
	}
	if rec := f.post(adm, "/users/adm", url.Values{"do": {"disable"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("an admin disabled itself: %d", rec.Code)
	}
	pages := f.get(adm, "/users").Body.String() + rec.Body.String()
	evs, err := f.store.Events(ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	rows, _ := f.store.DB().Query(`SELECT password_hash FROM users`)
	for rows.Next() {
		var h string
		rows.Scan(&h)
		hashes = append(hashes, h[strings.LastIndex(h, "$")+1:])
	}
	rows.Close()
	var log strings.Builder
	for _, e := range evs {
		log.Write(e.Payload)
		if strings.HasPrefix(e.Subject, "user:newop") && e.Action != ledger.UserLoginAction && e.Actor != "adm" {
			t.Errorf("event %d %s by %q, want adm", e.Seq, e.Action, e.Actor)
		}
	}
	for _, h := range hashes {
		if strings.Contains(log.String(), h) || strings.Contains(pages, h) {
			t.Fatal("a password hash is in the event log or a page")
		}
	}
	if strings.Contains(pages, "argon2") || strings.Contains(log.String(), "argon2") {
		t.Fatal("argon2 text in a page or the log")
	}
}

func TestStation_ScansAndRefusals(t *testing.T) {
	f := newFixture(t)
	op := f.login("op")
	start := f.events()
	run := url.Values{"run": {f.openRun}, "method": {"shred"}}
	scan := func(code string, st url.Values) *httptest.ResponseRecorder {
		form := url.Values{"code": {code}}
		for k, v := range st {
			form[k] = v
		}
		return f.post(op, "/station/scan", form)
	}
	// A device already in this run.
	if rec := scan("HDD-2", run); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-result="ok"`) {
		t.Fatalf("first scan: %d %s", rec.Code, rec.Body)
	}
	degauss := url.Values{"mode": {"single"}, "method": {"degauss"}, "on": {"2026-01-06"}, "contractor": {"Shredco"}}
	for _, tc := range []struct {
		name, code string
		st         url.Values
		want       string
	}{
		{"AlreadyInRun", "HDD-2", run, "already in run r2"},
		{"AlreadyDestroyed", "HDD-1", run, "was destroyed"},
		{"DegaussFlash", "SSD-1", degauss, "degauss does not sanitise ssd"},
		{"ClosedRun", "HDD-3", url.Values{"run": {"R1"}, "method": {"shred"}}, "closed"},
		{"NoRun", "HDD-3", url.Values{"method": {"shred"}}, "open or pick a run first"},
		{"UnknownContractor", "HDD-3", url.Values{"mode": {"single"}, "method": {"shred"}, "on": {"2026-01-06"}, "contractor": {"Nobody Ltd"}}, "not found"},
		{"FutureDate", "HDD-3", url.Values{"mode": {"single"}, "method": {"shred"}, "on": {"2099-01-06"}, "contractor": {"Shredco"}}, "future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.events()
			rec := scan(tc.code, tc.st)
			body := rec.Body.String()
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `data-result="refused"`) || !strings.Contains(body, `REFUSED: `) {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			if !strings.Contains(strings.ToLower(body), tc.want) {
				t.Errorf("reason %q not in the page: %s", tc.want, regexp.MustCompile(`REFUSED: [^<]*`).FindString(body))
			}
			if f.events() != before {
				t.Error("a refused scan wrote an event")
			}
		})
	}
	// An asset tag resolves to its device.
	rec := scan("TAG-77", url.Values{"mode": {"single"}, "method": {"crypto-erase"}, "on": {"2026-01-06"}, "contractor": {"Shredco"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "SSD-1") {
		t.Fatalf("asset tag: %d %s", rec.Code, rec.Body)
	}
	// nwipe's model:serial label of an unknown device opens the form, prefilled.
	rec = scan("WDC WD10EZEX:WD-NEW1", run)
	body := rec.Body.String()
	if !strings.Contains(body, `id="new-device"`) || !strings.Contains(body, `name="serial" value="WD-NEW1"`) || !strings.Contains(body, `value="WDC WD10EZEX"`) {
		t.Fatalf("inline form: %s", body)
	}
	form := url.Values{"serial": {"WD-NEW1"}, "type": {""}, "model": {"WDC WD10EZEX"}}
	for k, v := range run {
		form[k] = v
	}
	if rec := f.post(op, "/station/device", form); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a device without a type: %d", rec.Code)
	}
	form.Set("type", "hdd")
	if rec := f.post(op, "/station/device", form); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<strong id="count">2</strong>`) {
		t.Fatalf("add inline: %d %s", rec.Code, rec.Body)
	}
	// The run survives a reload: it lives in the ledger.
	page := f.get(op, "/station?"+run.Encode()).Body.String()
	if i, j := strings.Index(page, "<td>WD-NEW1</td>"), strings.Index(page, "<td>HDD-2</td>"); i < 0 || j < 0 || i > j {
		t.Fatal("the run's rows are not on the reloaded page, newest first")
	}
	// Close with a weight, refused when implausible, then accepted.
	closeForm := func(w string) url.Values {
		v := url.Values{"gross": {w}}
		for k, x := range run {
			v[k] = x
		}
		return v
	}
	if rec := f.post(op, "/station/close", closeForm("0")); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("zero gross weight: %d", rec.Code)
	}
	if rec := f.post(op, "/station/close", closeForm("1.4")); rec.Code != http.StatusSeeOther {
		t.Fatalf("close: %d %s", rec.Code, rec.Body)
	}
	// The station's count and weight are Batch's (and so the certificate's).
	rv, err := f.store.StationRun(f.openRun, 1)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := f.store.Batch(f.openRun)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Total != bd.Total || len(rv.Items) != 1 || rv.Items[0].Serial != "WD-NEW1" || rv.Total.WeightG != 1400 {
		t.Fatalf("StationRun %+v, Batch total %+v", rv, bd.Total)
	}
	// Every event the operator's requests wrote names the operator.
	evs, _ := f.store.Events(ledger.EventFilter{Since: "2000-01-01"})
	n := 0
	for _, e := range evs {
		if e.Seq <= start {
			continue
		}
		if e.Action == "disposal.record" || e.Action == "device.add" && e.Subject == "WD-NEW1" || e.Action == "batch.close" && e.Subject == "R2" {
			n++
			if e.Actor != "op" {
				t.Errorf("event %d %s by %q, want op", e.Seq, e.Action, e.Actor)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d station events found", n)
	}
	if _, err := f.store.Verify(ledger.VerifyOptions{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestCertificatePDF_IsADisclosure(t *testing.T) {
	f := newFixture(t)
	aud := f.login("aud")
	rec := f.post(aud, "/certificates/"+f.cert+"/pdf", url.Values{"reason": {"customer asked"}})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(rec.Body.String(), "%PDF-") {
		t.Fatalf("download: %d %q", rec.Code, rec.Header())
	}
	evs, _ := f.store.Events(ledger.EventFilter{Action: ledger.CertDownloadAction})
	if len(evs) != 1 || evs[0].Actor != "aud" || evs[0].Reason != "customer asked" || evs[0].Subject != f.cert {
		t.Fatalf("download events %+v", evs)
	}
	// With require_reason set, a download without one is refused and nothing is sent.
	if err := f.store.SetSetting(ledger.SettingRequireReason, "true", "test"); err != nil {
		t.Fatal(err)
	}
	rec = f.post(aud, "/certificates/"+f.cert+"/pdf", nil)
	if rec.Code != http.StatusUnprocessableEntity || strings.Contains(rec.Body.String(), "%PDF") {
		t.Fatalf("download without a reason: %d", rec.Code)
	}
	// The device page is a consultation too: it asks for the reason now
	// required, then shows the certificate and the audit trail.
	if rec := f.get(aud, "/devices/HDD-1"); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), f.cert) {
		t.Errorf("device page without the required reason: %d", rec.Code)
	}
	page := f.get(aud, "/devices/HDD-1?reason=checking").Body.String()
	for _, want := range []string{f.cert, "current", "disposal.record", "shred"} {
		if !strings.Contains(page, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if rec := f.get(aud, "/devices?q=TAG-77"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/devices/SSD-1" {
		t.Errorf("asset tag search: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr       string
		tls, proxy bool
		ok         bool
	}{
		{"127.0.0.1:8080", false, false, true},
		{"[::1]:8080", false, false, true},
		{"localhost:8080", false, false, true},
		{"0.0.0.0:8080", false, false, false},
		{"192.0.2.10:8080", false, false, false},
		{"0.0.0.0:8443", true, false, true},
		{"0.0.0.0:8080", false, true, true},
	} {
		if err := CheckListen(tc.addr, tc.tls, tc.proxy); (err == nil) != tc.ok {
			t.Errorf("CheckListen(%s, tls %v, proxy %v) = %v", tc.addr, tc.tls, tc.proxy, err)
		}
	}
}

var tlsState = tls.ConnectionState{HandshakeComplete: true}

// TestStation_ConcurrentStations: several stations scan into their own
// runs at once while another connection (as the CLI would) writes to the
// same file; every scan is recorded exactly once and none fails.
func TestStation_ConcurrentStations(t *testing.T) {
	f := newFixture(t)
	const stations, scans = 6, 12
	for i := 0; i < stations; i++ {
		if _, err := f.store.AddBatch(ledger.Batch{Ref: fmt.Sprintf("C%d", i), Contractor: "Shredco", RunOn: "2026-01-06"}); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < scans; j++ {
			if _, err := f.store.AddDevice(ledger.Device{Serial: fmt.Sprintf("C%d-%02d", i, j), Type: ledger.HDD}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cli, err := ledger.Open(f.store.Path(), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cli.Actor = "cli"
	sessions := make([]*session, stations)
	for i := range sessions {
		sessions[i] = f.login("op")
	}
	var wg sync.WaitGroup
	errs := make(chan error, stations*scans+10)
	for i := 0; i < stations; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < scans; j++ {
				rec := f.post(sessions[i], "/station/scan", url.Values{"run": {fmt.Sprintf("C%d", i)}, "method": {"shred"}, "code": {fmt.Sprintf("C%d-%02d", i, j)}})
				if rec.Code != http.StatusOK {
					errs <- fmt.Errorf("station %d scan %d: %d %s", i, j, rec.Code, regexp.MustCompile(`REFUSED: [^<]*|something went wrong`).FindString(rec.Body.String()))
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for j := 0; j < 10; j++ {
			if _, err := cli.AddDevice(ledger.Device{Serial: fmt.Sprintf("CLI-%02d", j), Type: ledger.SSD}); err != nil {
				errs <- fmt.Errorf("cli: %w", err)
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < stations; i++ {
		bd, err := f.store.Batch(fmt.Sprintf("C%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(bd.Disposals) != scans {
			t.Errorf("run C%d has %d disposals, want %d", i, len(bd.Disposals), scans)
		}
	}
	if _, err := f.store.Verify(ledger.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// loginForm posts the sign-in form as a browser would, with its token.
func (f *fixture) loginForm(name, pw string, prep func(*http.Request)) *httptest.ResponseRecorder {
	page := f.get(nil, "/login")
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page.Body.String())[1]
	form := url.Values{"token": {tok}, "name": {name}, "password": {pw}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: tok})
	if prep != nil {
		prep(req)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func TestLogin_LockOutThroughTheForm(t *testing.T) {
	f := newFixture(t)
	for i := 1; i <= ledger.MaxFailedLogins; i++ {
		if rec := f.loginForm("op", "not the password", nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, rec.Code)
		}
	}
	rec := f.loginForm("op", testPassword, nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "locked") {
		t.Fatalf("right password while locked: %d", rec.Code)
	}
	evs, _ := f.store.Events(ledger.EventFilter{Action: ledger.UserLockAction})
	if len(evs) != 1 || !strings.Contains(string(evs[0].Payload), `"failures":5`) {
		t.Fatalf("lock events %+v", evs)
	}
	fails, _ := f.store.Events(ledger.EventFilter{Action: ledger.UserLoginFail})
	if len(fails) == 0 || !strings.Contains(string(fails[0].Payload), "192.0.2.1") {
		t.Fatalf("failed sign-ins do not record the client: %+v", fails)
	}
}

func TestBehindProxy_TrustsLoopbackOnly(t *testing.T) {
	f := newFixture(t)
	f.srv.cfg.BehindProxy = true
	for _, tc := range []struct {
		remote string
		secure bool
	}{{"127.0.0.1:5555", true}, {"192.0.2.7:5555", false}} {
		rec := f.loginForm("aud", testPassword, func(r *http.Request) {
			r.RemoteAddr = tc.remote
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
		})
		var secure bool
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				secure = c.Secure
			}
		}
		if rec.Code != http.StatusSeeOther || secure != tc.secure {
			t.Errorf("from %s: status %d, Secure %v, want %v", tc.remote, rec.Code, secure, tc.secure)
		}
	}
	evs, _ := f.store.Events(ledger.EventFilter{Action: ledger.UserLoginAction})
	last := evs[len(evs)-1]
	if !strings.Contains(string(evs[len(evs)-2].Payload), "203.0.113.9") || strings.Contains(string(last.Payload), "203.0.113.9") {
		t.Errorf("X-Forwarded-For believed from the wrong peer: %s / %s", evs[len(evs)-2].Payload, last.Payload)
	}
}

func TestServe_GracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, "", "") }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel() // as SIGTERM does in itad serve
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if s := <-got; s != "done" {
		t.Fatalf("the request in flight got %q", s)
	}
}
