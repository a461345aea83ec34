package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// home sends each role to its desk.
func (s *Server) home(req *request) error {
	switch req.sess.User.Role {
	case ledger.RoleOperator:
		http.Redirect(req.w, req.r, "/station", http.StatusSeeOther)
	case ledger.RoleAdmin:
		http.Redirect(req.w, req.r, "/users", http.StatusSeeOther)
	case ledger.RoleAuditor:
		http.Redirect(req.w, req.r, "/devices", http.StatusSeeOther)
	case ledger.RoleFOI:
		http.Redirect(req.w, req.r, "/foi", http.StatusSeeOther)
	default:
		s.render(req, http.StatusOK, "home", nil)
	}
	return nil
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

// loginPage shows the sign-in form with a fresh token, kept in a cookie
// too (double submit: there is no session yet to hold it).
func (s *Server) loginPage(req *request) error {
	tok, err := ledger.NewToken()
	if err != nil {
		return err
	}
	s.setCookie(req, loginCookie, tok, 600)
	s.render(req, http.StatusOK, "login", map[string]any{"Token": tok, "Next": safeNext(req.r.URL.Query().Get("next"))})
	return nil
}

func (s *Server) login(req *request) error {
	req.r.Body = http.MaxBytesReader(req.w, req.r.Body, 64<<10)
	c, err := req.r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(req.r.PostFormValue("token"))) != 1 {
		s.errorPage(req, http.StatusForbidden, "the sign-in form is out of date: reload it and try again")
		return nil
	}
	name, pw := strings.TrimSpace(req.r.PostFormValue("name")), req.r.PostFormValue("password")
	sess, err := s.cfg.Store.Login(name, pw, s.remote(req.r))
	if errors.Is(err, ledger.ErrBadLogin) || errors.Is(err, ledger.ErrLocked) {
		tok, terr := ledger.NewToken()
		if terr != nil {
			return terr
		}
		s.setCookie(req, loginCookie, tok, 600)
		msg := "wrong name or password"
		if errors.Is(err, ledger.ErrLocked) {
			msg = err.Error() + ": ask an admin, or wait"
		}
		s.render(req, http.StatusUnauthorized, "login", map[string]any{"Token": tok, "Error": msg, "Name": name, "Next": safeNext(req.r.PostFormValue("next"))})
		return nil
	}
	if err != nil {
		return err
	}
	// A new session ID at every sign-in; any earlier one ends.
	if old, err := req.r.Cookie(sessionCookie); err == nil {
		s.cfg.Store.Logout(old.Value)
	}
	s.setCookie(req, loginCookie, "", -1)
	s.setCookie(req, sessionCookie, sess.ID, 0)
	http.Redirect(req.w, req.r, safeNext(req.r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

func (s *Server) logout(req *request) error {
	if err := s.cfg.Store.Logout(req.sess.ID); err != nil {
		return err
	}
	s.setCookie(req, sessionCookie, "", -1)
	http.Redirect(req.w, req.r, "/login", http.StatusSeeOther)
	return nil
}

// devices searches by serial or asset tag (or nwipe's label).
func (s *Server) devices(req *request) error {
	q := strings.TrimSpace(req.r.URL.Query().Get("q"))
	data := map[string]any{"Q": q}
	if q != "" {
		sc, err := s.cfg.Store.ResolveScan(q)
		if err != nil && !errors.Is(err, ledger.ErrInvalid) {
			return err
		}
		if sc.Found {
			http.Redirect(req.w, req.r, "/devices/"+url.PathEscape(sc.Device.Serial), http.StatusSeeOther)
			return nil
		}
		data["NotFound"] = true
	}
	s.render(req, http.StatusOK, "devices", data)
	return nil
}

// certView is a certificate with its status for a page.
type certView struct {
	ledger.Certificate
	State string
}

func certViews(cs []ledger.Certificate) []certView {
	out := make([]certView, len(cs))
	for i, c := range cs {
		out[len(cs)-1-i] = certView{c, c.Status()} // newest first
	}
	return out
}

func (s *Server) device(req *request) error {
	h, err := s.cfg.Store.History(req.r.PathValue("serial"))
	if err != nil {
		return err
	}
	d := ledger.Disclosure{Action: "device.show", Subject: h.Device.Serial, Reason: s.reason(req)}
	return s.consultPage(req, req.store, d, http.StatusOK, "device", map[string]any{"H": h, "Certs": certViews(h.Certificates)})
}

func (s *Server) certificates(req *request) error {
	cs, err := s.cfg.Store.Certificates("")
	if err != nil {
		return err
	}
	d := ledger.Disclosure{Action: "cert.show", Subject: "all", Reason: s.reason(req)}
	return s.consultPage(req, req.store, d, http.StatusOK, "certificates", map[string]any{"Certs": certViews(cs)})
}

// certificatePDF sends an issued certificate's PDF: a disclosure, so it
// goes through ledger.Store.Disclose (recorded, then released) with the
// signed-in account as actor and the reason given.
func (s *Server) certificatePDF(req *request) error {
	c, err := s.cfg.Store.CertificateByNumber(req.r.PathValue("number"))
	if err != nil {
		return err
	}
	name := certificate.FileName(c.UUID, c.Subject)
	pdf, err := os.ReadFile(filepath.Join(s.cfg.CertDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: the PDF of certificate %s is not in %s (issued from the command line? itad cert issue -o wrote it elsewhere)",
			ledger.ErrNotFound, c.UUID, s.cfg.CertDir)
	}
	if err != nil {
		return err
	}
	var out strings.Builder
	d := ledger.Disclosure{Action: ledger.CertDownloadAction, Subject: c.UUID, Reason: s.reason(req),
		Payload: map[string]any{"file": name, "status": c.Status()}}
	if err := req.store.Disclose(d, ledger.Sink{W: &out, Name: name}, func(w io.Writer) error {
		_, err := w.Write(pdf)
		return err
	}); err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "application/pdf")
	req.w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	io.WriteString(req.w, out.String())
	return nil
}

func (s *Server) users(req *request) error {
	return s.usersPage(req, http.StatusOK, "", "")
}

func (s *Server) usersPage(req *request, code int, msg, errMsg string) error {
	us, err := s.cfg.Store.Users()
	if err != nil {
		return err
	}
	s.render(req, code, "users", map[string]any{"Users": us, "Roles": ledger.Roles, "Message": msg, "Error": errMsg})
	return nil
}

func (s *Server) userAdd(req *request) error {
	f := req.r.PostFormValue
	if f("password") != f("password2") {
		return s.usersPage(req, http.StatusUnprocessableEntity, "", "the two passwords differ")
	}
	u, err := req.store.AddUser(strings.TrimSpace(f("name")), f("role"), []byte(f("password")))
	if isRefusal(err) {
		return s.usersPage(req, http.StatusUnprocessableEntity, "", err.Error())
	}
	if err != nil {
		return err
	}
	return s.usersPage(req, http.StatusOK, "account "+u.Name+" created with role "+u.Role, "")
}

func (s *Server) userChange(req *request) error {
	name, f := req.r.PathValue("name"), req.r.PostFormValue
	var u ledger.User
	var err error
	var what string
	switch f("do") {
	case "role":
		u, err = req.store.SetUserRole(name, f("role"))
		what = "now has role " + f("role")
	case "disable":
		if name == req.sess.User.Name {
			return s.usersPage(req, http.StatusUnprocessableEntity, "", "you cannot disable your own account")
		}
		u, err = req.store.DisableUser(name)
		what = "disabled"
	case "enable":
		u, err = req.store.EnableUser(name)
		what = "enabled"
	case "password":
		u, err = req.store.ResetPassword(name, []byte(f("password")))
		what = "has a new password"
	default:
		return s.usersPage(req, http.StatusBadRequest, "", "unknown change")
	}
	if isRefusal(err) || errors.Is(err, ledger.ErrNotFound) {
		return s.usersPage(req, http.StatusUnprocessableEntity, "", err.Error())
	}
	if err != nil {
		return err
	}
	return s.usersPage(req, http.StatusOK, "account "+u.Name+" "+what, "")
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("certificate folder %s: %w", dir, err)
	}
	return nil
}

func removeFile(p string) { os.Remove(p) }
