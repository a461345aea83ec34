package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/itad/itad/ledger"
)

// The desk: the auditor's and FOI officer's pages (dashboard, downloads,
// FOI answer). Every page that shows ledger records is a consultation:
// consultPage renders it, records it with the signed-in account and the
// reason (ledger.Store.Disclose), and only then sends it. Where the
// ledger requires a reason and none was given, the page asks for one;
// the reason given is remembered for the session (a cookie), so that a
// reader working on one request is not asked again at every page.

// reasonCookie holds the reason last given, for the browser session.
const reasonCookie = "itad_reason"

// maxReason bounds a reason (it is recorded in every event).
const maxReason = 500

// reason is the request's reason: the form's "reason" field when given
// (remembered for the session), else the one remembered.
func (s *Server) reason(req *request) string {
	kept := ""
	if c, err := req.r.Cookie(reasonCookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			kept = strings.TrimSpace(v)
		}
	}
	v := strings.TrimSpace(req.r.FormValue("reason"))
	if v == "" {
		return kept
	}
	if len(v) > maxReason {
		v = v[:maxReason]
	}
	if v != kept && req.w.Header().Get("Set-Cookie") == "" {
		s.setCookie(req, reasonCookie, url.QueryEscape(v), 0)
	}
	return v
}

// renderBytes executes a page as render does, into bytes.
func (s *Server) renderBytes(req *request, page string, data map[string]any) ([]byte, error) {
	t := s.pages[page]
	if t == nil {
		return nil, errors.New("web: no template " + page)
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Session"], data["Page"] = req.sess, page
	if req.sess != nil {
		data["CSRF"] = req.sess.CSRF
		data["Reason"] = s.reason(req)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// consultPage renders a page that shows ledger records, records the
// consultation d (actor: store's, the signed-in account or "public"),
// then sends the page. A required reason that is missing gets the reason
// form instead, and nothing of the ledger.
func (s *Server) consultPage(req *request, store *ledger.Store, d ledger.Disclosure, code int, page string, data map[string]any) error {
	if err := store.VetDisclosure(d.Action, d.Reason); err != nil {
		if errors.Is(err, ledger.ErrReasonRequired) && req.sess != nil {
			return s.askReason(req)
		}
		return err
	}
	body, err := s.renderBytes(req, page, data)
	if err != nil {
		return err
	}
	if d.Payload == nil {
		d.Payload = map[string]any{}
	}
	d.Payload["via"] = "web"
	if _, ok := d.Payload["page"]; !ok {
		d.Payload["page"] = page
	}
	var out bytes.Buffer
	if err := store.Disclose(d, ledger.Sink{W: &out, Name: req.r.URL.Path}, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	}); err != nil {
		if errors.Is(err, ledger.ErrReasonRequired) && req.sess != nil {
			return s.askReason(req)
		}
		return err
	}
	req.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	req.w.WriteHeader(code)
	req.w.Write(out.Bytes())
	return nil
}

// askReason shows the reason form, which sends the same request again
// with a reason (GET: the same query; POST: the same fields).
func (s *Server) askReason(req *request) error {
	req.r.ParseForm()
	var fields [][2]string
	for k, vs := range req.r.Form {
		if k == "reason" || k == "csrf" {
			continue
		}
		for _, v := range vs {
			fields = append(fields, [2]string{k, v})
		}
	}
	s.render(req, http.StatusForbidden, "reason", map[string]any{"Action": req.r.URL.Path, "Method": strings.ToLower(req.r.Method), "Fields": fields})
	return nil
}

// yearParam reads a year from the query: 0 when absent.
func yearParam(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(v)
	if err != nil || len(v) != 4 {
		return 0, ledger.ErrInvalid
	}
	return y, nil
}

func errorsIsReason(err error) bool { return errors.Is(err, ledger.ErrReasonRequired) }

func errorsIsNotFound(err error) bool { return errors.Is(err, ledger.ErrNotFound) }
