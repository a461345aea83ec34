package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/itad/itad/ledger"
)

// logPageSize is how many events the audit log page shows at once.
var logPageSize = 50

// logFilter reads the audit log filters (as itad log's flags) and the
// consultation's subject and payload, as itad log records them.
func logFilter(get func(string) string) (ledger.LogFilter, string, map[string]any) {
	f := ledger.LogFilter{Since: strings.TrimSpace(get("since")), Until: strings.TrimSpace(get("until")), Actor: strings.TrimSpace(get("actor")),
		Action: strings.TrimSpace(get("action")), Serial: strings.TrimSpace(get("serial"))}
	var subject []string
	payload := map[string]any{}
	for _, kv := range [][2]string{{"since", f.Since}, {"until", f.Until}, {"actor", f.Actor}, {"action", f.Action}, {"serial", f.Serial}} {
		if kv[1] != "" {
			subject = append(subject, kv[0]+"="+kv[1])
			payload[kv[0]] = kv[1]
		}
	}
	if len(subject) == 0 {
		subject = []string{"all"}
	}
	return f, strings.Join(subject, " "), payload
}

// auditLog shows the audit trail, filtered by actor, action, serial and
// dates, a page at a time (newest page first). Reading the trail is a
// consultation, recorded as itad log records it.
func (s *Server) auditLog(req *request) error {
	q := req.r.URL.Query()
	f, subject, payload := logFilter(q.Get)
	page, _ := strconv.Atoi(q.Get("page"))
	// One pass: the events of the page asked for, or (no page) a ring
	// of the newest.
	var evs []ledger.Event
	var total int
	err := s.cfg.Store.AuditLog(f, func(e ledger.Event) error {
		total++
		switch {
		case page > 0:
			if total > (page-1)*logPageSize && total <= page*logPageSize {
				evs = append(evs, e)
			}
		default:
			evs = append(evs, e)
			if len(evs) > logPageSize {
				evs = evs[1:]
			}
		}
		return nil
	})
	if errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrNotFound) {
		s.errorPage(req, http.StatusBadRequest, err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	pages := (total + logPageSize - 1) / logPageSize
	if page <= 0 || page > pages {
		page = pages
	}
	// Newest first on the page.
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	links := q
	var prev, next string
	if page > 1 {
		links.Set("page", strconv.Itoa(page-1))
		prev = links.Encode()
	}
	if page < pages {
		links.Set("page", strconv.Itoa(page+1))
		next = links.Encode()
	}
	payload["format"], payload["page"] = "page", page
	data := map[string]any{"F": f, "Events": evs, "Total": total, "PageNo": page, "Pages": pages, "Prev": prev, "Next": next}
	d := ledger.Disclosure{Action: ledger.LogAction, Subject: subject, Reason: s.reason(req), Payload: payload}
	return s.consultPage(req, req.store, d, http.StatusOK, "log", data)
}

// auditLogCSV downloads the filtered trail as itad log --format csv: a
// disclosure, recorded before it is sent.
func (s *Server) auditLogCSV(req *request) error {
	f, subject, payload := logFilter(req.r.PostFormValue)
	payload["format"], payload["via"] = "csv", "web"
	var out bytes.Buffer
	d := ledger.Disclosure{Action: ledger.LogAction, Subject: subject, Reason: s.reason(req), Payload: payload}
	err := req.store.Disclose(d, ledger.Sink{W: &out, Name: "itad-log.csv"}, func(w io.Writer) error {
		lw, err := ledger.NewLogWriter(w, "csv")
		if err != nil {
			return err
		}
		if err := s.cfg.Store.AuditLog(f, lw.Write); err != nil {
			return err
		}
		return lw.Close()
	})
	switch {
	case errorsIsReason(err):
		return s.askReason(req)
	case errors.Is(err, ledger.ErrInvalid) || errors.Is(err, ledger.ErrNotFound):
		s.errorPage(req, http.StatusBadRequest, err.Error())
		return nil
	case err != nil:
		return err
	}
	req.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	req.w.Header().Set("Content-Disposition", `attachment; filename="itad-log.csv"`)
	req.w.Write(out.Bytes())
	return nil
}
