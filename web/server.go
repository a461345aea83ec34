// Package web is itad serve: server-rendered pages over the same SQLite
// ledger the CLI uses, with named accounts, roles and sessions.
//
// Shape (after miniflux/v2): html/template files embedded with embed.FS
// and parsed once at start into a map, each page rendered into a buffer
// so that a template error never sends half a page; one small CSS file
// and one small script, both served from the binary; every page works
// without JavaScript. Handlers are thin: parse the form, call ledger,
// render. Sessions, CSRF, roles and security headers are middleware
// (routes below), never repeated in handlers. Every event a request
// writes carries the signed-in account as its actor (ledger.Store.As).
// No GET changes any record: a page that shows ledger records is a
// consultation, recorded before it is sent (consultPage, desk.go), and
// downloads, which are disclosures, are POSTs.
package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"golang.org/x/mod/sumdb/note"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what New needs.
type Config struct {
	Store *ledger.Store
	// Signer and NoteSigner sign certificates; nil: issuing is refused
	// with a hint (create a key with itad key init).
	Signer     *certificate.Signer
	NoteSigner note.Signer
	// CertDir is where issued certificate PDFs are kept for download.
	CertDir string
	// TLS: served over TLS (or behind a proxy that terminates it):
	// cookies are Secure.
	TLS bool
	// BehindProxy trusts X-Forwarded-Proto and X-Forwarded-For from a
	// loopback peer only.
	BehindProxy bool
	// Logf logs server errors (default log.Printf).
	Logf func(format string, a ...any)
}

// Server is the web front end.
type Server struct {
	cfg    Config
	pages  map[string]*template.Template
	routes []route
	h      http.Handler
	// writeMu orders the station's writes within this process (see record).
	writeMu sync.Mutex
	limit   *limiter // the public pages' rate limit (verify.go)
}

// Who may use a route.
const (
	public  = "public" // nobody signed in needed
	anyRole = "signed" // any signed-in account
	opRole  = ledger.RoleOperator
	audRole = ledger.RoleAuditor
	foiRole = ledger.RoleFOI
	admRole = ledger.RoleAdmin
)

// route is one entry of the role table: a method and a net/http pattern,
// the roles allowed, and the handler.
type route struct {
	method, pattern string
	roles           []string
	h               func(*request) error
}

// request is a request with its session (nil on public routes without
// one) and a store that records the signed-in account as the actor.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	sess  *ledger.Session
	store *ledger.Store
	srv   *Server
}

// cookie names.
const (
	sessionCookie = "itad_session"
	loginCookie   = "itad_login" // the sign-in form's CSRF token
)

// New parses the templates and builds the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: no ledger")
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.CertDir == "" {
		cfg.CertDir = filepath.Join(filepath.Dir(cfg.Store.Path()), "certificates")
	}
	s := &Server{cfg: cfg, limit: newLimiter(publicBurst, publicEvery)}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes = []route{
		{"GET", "/{$}", []string{anyRole}, s.home},
		{"GET", "/login", []string{public}, s.loginPage},
		{"POST", "/login", []string{public}, s.login},
		{"POST", "/logout", []string{anyRole}, s.logout},
		{"GET", "/static/{file}", []string{public}, s.static},
		// operator: the station, devices, disposals, runs, certificates
		{"GET", "/station", []string{opRole}, s.station},
		{"POST", "/station/run", []string{opRole}, s.stationOpen},
		{"POST", "/station/scan", []string{opRole}, s.stationScan},
		{"POST", "/station/device", []string{opRole}, s.stationDevice},
		{"POST", "/station/close", []string{opRole}, s.stationClose},
		{"POST", "/station/certificate", []string{opRole}, s.stationCertificate},
		// operator and auditor: devices and certificates
		{"GET", "/devices", []string{opRole, audRole}, s.devices},
		{"GET", "/devices/{serial}", []string{opRole, audRole}, s.device},
		{"GET", "/certificates", []string{opRole, audRole}, s.certificates},
		{"POST", "/certificates/{number}/pdf", []string{opRole, audRole}, s.certificatePDF},
		// admin: accounts (settings, keys and exemptions join here)
		{"GET", "/users", []string{admRole}, s.users},
		{"POST", "/users", []string{admRole}, s.userAdd},
		{"POST", "/users/{name}", []string{admRole}, s.userChange},
		// the desk (desk*.go) and public verification (verify.go)
		{"GET", "/dashboard", []string{audRole, foiRole, admRole}, s.dashboard},
		{"POST", "/desk/download", []string{audRole, foiRole, admRole}, s.download},
		{"GET", "/foi", []string{foiRole, admRole}, s.foiPage},
		{"GET", "/exemptions", []string{admRole}, s.exemptions},
		{"POST", "/exemptions", []string{admRole}, s.exemptionChange},
		{"GET", "/log", []string{audRole, admRole}, s.auditLog},
		{"POST", "/log/download", []string{audRole, admRole}, s.auditLogCSV},
		{"GET", "/health", []string{audRole, admRole}, s.healthPage},
		{"POST", "/health/verify", []string{audRole, admRole}, s.startVerify},
		{"GET", "/verify", []string{public}, s.verifyPage},
		{"POST", "/verify", []string{public}, s.verifyUpload},
		{"GET", "/verify/{number}", []string{public}, s.verifyLink},
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(&request{w: w, r: r, srv: s}, http.StatusNotFound, "no such page")
	})
	// Cross-origin POSTs are refused by Sec-Fetch-Site / Origin (net/http's
	// CrossOriginProtection) before any handler, on top of the token.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(&request{w: w, r: r, srv: s}, http.StatusForbidden, "cross-origin request refused")
	}))
	s.h = securityHeaders(cop.Handler(mux))
	return s, nil
}

// Handler returns the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.h }

// securityHeaders sets the headers every response carries: a CSP with no
// inline script or style, no framing, no referrer leaving the site, no
// MIME sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// secure reports whether the request came over TLS (directly, or through
// a trusted proxy on loopback that says so).
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil || s.cfg.TLS {
		return true
	}
	return s.cfg.BehindProxy && fromLoopback(r) && r.Header.Get("X-Forwarded-Proto") == "https"
}

// remote is the client's address (X-Forwarded-For only from a trusted
// loopback proxy).
func (s *Server) remote(r *http.Request) string {
	if s.cfg.BehindProxy && fromLoopback(r) {
		if f := r.Header.Get("X-Forwarded-For"); f != "" {
			return strings.TrimSpace(strings.Split(f, ",")[0])
		}
	}
	return r.RemoteAddr
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wrap applies a route's access rule: the session, the role, and for
// every POST the CSRF token.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{w: w, r: r, srv: s, store: s.cfg.Store.As("anonymous")}
		if sess, err := s.session(r); err == nil {
			req.sess = &sess
			req.store = s.cfg.Store.As(sess.User.Name)
		} else if !errors.Is(err, ledger.ErrNoSession) {
			s.fail(req, err)
			return
		}
		if !allowed(rt.roles, req.sess) {
			if req.sess == nil {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				s.errorPage(req, http.StatusUnauthorized, "sign in first")
				return
			}
			s.errorPage(req, http.StatusForbidden, "your role ("+req.sess.User.Role+") may not use this page")
			return
		}
		if r.Method == http.MethodPost && !allowed(rt.roles, nil) { // public POSTs (sign-in, verify) need no session
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if req.sess == nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(req.sess.CSRF)) != 1 {
				s.errorPage(req, http.StatusForbidden, "the form's security token is missing or out of date: reload the page and try again")
				return
			}
		}
		if err := rt.h(req); err != nil {
			s.fail(req, err)
		}
	})
}

func allowed(roles []string, sess *ledger.Session) bool {
	for _, r := range roles {
		switch {
		case r == public:
			return true
		case sess == nil:
		case r == anyRole, r == sess.User.Role:
			return true
		}
	}
	return false
}

func (s *Server) session(r *http.Request) (ledger.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ledger.Session{}, ledger.ErrNoSession
	}
	idle, err := s.cfg.Store.SessionIdle()
	if err != nil {
		return ledger.Session{}, err
	}
	return s.cfg.Store.SessionByID(c.Value, idle)
}

func (s *Server) setCookie(req *request, name, value string, maxAge int) {
	http.SetCookie(req.w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.secure(req.r), MaxAge: maxAge})
}

// fail answers an error from a handler: the ledger's refusals as a 4xx
// page saying what to do, anything else as a 500 (logged, not shown).
func (s *Server) fail(req *request, err error) {
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.errorPage(req, http.StatusNotFound, err.Error())
	case errors.Is(err, ledger.ErrTampered):
		s.cfg.Logf("itad serve: %v", err)
		s.errorPage(req, http.StatusConflict, "the ledger does not verify: run itad verify ("+err.Error()+")")
	case isRefusal(err):
		s.errorPage(req, http.StatusUnprocessableEntity, err.Error())
	default:
		s.cfg.Logf("itad serve: %s %s: %v", req.r.Method, req.r.URL.Path, err)
		s.errorPage(req, http.StatusInternalServerError, "something went wrong; the error is in the server's log")
	}
}

// isRefusal reports whether err is the ledger refusing a request (bad
// input or a rule), which the user can act on.
func isRefusal(err error) bool {
	var re *ledger.RuleError
	return errors.As(err, &re) || errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrConflict) ||
		errors.Is(err, ledger.ErrDuplicateSerial) || errors.Is(err, ledger.ErrBatchClosed) || errors.Is(err, ledger.ErrBatchOpen) ||
		errors.Is(err, ledger.ErrNoOrg) || errors.Is(err, ledger.ErrNoDisposal) || errors.Is(err, ledger.ErrReasonRequired)
}

func (s *Server) errorPage(req *request, code int, msg string) {
	s.render(req, code, "error", map[string]any{"Message": msg, "Code": code})
}

// parseTemplates parses every page with the layout, once.
func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	funcs := template.FuncMap{
		"kg":        func(g int64) string { return ledger.FormatKg(g) },
		"optkg":     optKg,
		"thousands": func(n int64) string { return ledger.Thousands(n) },
		"has":       func(role string, sess *ledger.Session) bool { return sess != nil && sess.User.Role == role },
		"q":         url.QueryEscape,
		"when":      when,
		"path":      url.PathEscape,
	}
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", n, err)
		}
		s.pages[base] = t
	}
	return nil
}

// when shows a stored UTC time to the second: "2026-01-05 14:03:09".
func when(at string) string {
	if len(at) >= 19 {
		return strings.Replace(at[:19], "T", " ", 1)
	}
	return at
}

func optKg(g *int64) string {
	if g == nil {
		return ""
	}
	return ledger.FormatKg(*g) + " kg"
}

// render executes a page into a buffer, then sends it.
func (s *Server) render(req *request, code int, page string, data map[string]any) {
	t := s.pages[page]
	if t == nil {
		http.Error(req.w, "no template "+page, http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Session"] = req.sess
	data["Page"] = page
	if req.sess != nil {
		data["CSRF"] = req.sess.CSRF
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.cfg.Logf("itad serve: render %s: %v", page, err)
		http.Error(req.w, "page failed to render; the error is in the server's log", http.StatusInternalServerError)
		return
	}
	req.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	req.w.WriteHeader(code)
	req.w.Write(buf.Bytes())
}

func (s *Server) static(req *request) error {
	name := req.r.PathValue("file")
	data, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		s.errorPage(req, http.StatusNotFound, "no such file")
		return nil
	}
	switch filepath.Ext(name) {
	case ".css":
		req.w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		req.w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	req.w.Header().Set("Cache-Control", "max-age=3600")
	req.w.Write(data)
	return nil
}

// Serve listens on addr and serves h until ctx is done, then shuts down
// gracefully (requests in flight finish, up to 10 s). With certFile and
// keyFile it serves TLS.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, certFile, keyFile string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() {
		if certFile != "" {
			done <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// CheckListen refuses to serve plain HTTP on an address other than
// loopback, unless a TLS-terminating proxy is in front (behindProxy).
func CheckListen(addr string, tls, behindProxy bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	if tls || behindProxy {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %s is not a loopback address: passwords and session cookies would cross the network unencrypted", addr)
	}
	return nil
}
