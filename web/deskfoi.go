package web

import (
	"net/http"
	"strings"

	"github.com/itad/itad/ledger"
)

// foiPage shows the answer to an FOI request for the years chosen, as
// `itad foi` renders it (ledger.WriteFOI, markdown and text), with the
// exemptions applied and cited and the years with no records held
// listed; it can be copied from the page or downloaded, signed.
func (s *Server) foiPage(req *request) error {
	g := req.r.URL.Query().Get
	years, fin, err := downloadYears(g("from"), g("to"), g("years") == "financial")
	if err != nil {
		s.errorPage(req, http.StatusBadRequest, "the year range is not valid: give four-digit years, the first not after the last")
		return nil
	}
	a, err := s.cfg.Store.FOI(ledger.FOIQuery{Years: years, FinancialYear: fin})
	if err != nil {
		return err
	}
	var md, text strings.Builder
	if err := ledger.WriteFOI(&md, "markdown", a); err != nil {
		return err
	}
	if err := ledger.WriteFOI(&text, "text", a); err != nil {
		return err
	}
	var none []string
	var withheld []string
	for _, y := range a.Years {
		if !y.Records.Held() {
			none = append(none, a.Label(y.Year))
		}
	}
	for _, e := range a.Withheld {
		withheld = append(withheld, e.Field)
	}
	data := map[string]any{"A": a, "Markdown": md.String(), "Text": text.String(), "NoRecords": none,
		"From": g("from"), "To": g("to"), "Financial": fin}
	d := ledger.Disclosure{Action: "foi", Subject: yearsSubject(years, fin), Reason: s.reason(req),
		Payload: map[string]any{"years": years, "financial_year": fin, "format": "page", "withheld": withheld}}
	return s.consultPage(req, req.store, d, http.StatusOK, "foi", data)
}

// exemptions lists the fields withheld from FOI answers, for admins to
// set or clear (ledger.Store.SetExemption, ClearExemption).
func (s *Server) exemptions(req *request) error {
	return s.exemptionsPage(req, http.StatusOK, "", "")
}

func (s *Server) exemptionsPage(req *request, code int, msg, errMsg string) error {
	es, err := s.cfg.Store.Exemptions()
	if err != nil {
		return err
	}
	s.render(req, code, "exemptions", map[string]any{"Exemptions": es, "Fields": ledger.ExemptFields, "Message": msg, "Error": errMsg})
	return nil
}

func (s *Server) exemptionChange(req *request) error {
	f := req.r.PostFormValue
	field, reason := f("field"), strings.TrimSpace(f("reason"))
	if reason == "" {
		return s.exemptionsPage(req, http.StatusUnprocessableEntity, "", "give a reason: it is recorded with the change")
	}
	var err error
	var msg string
	switch f("do") {
	case "set":
		var secs []string
		for _, p := range strings.FieldsFunc(f("sections"), func(r rune) bool { return r == ',' || r == ';' }) {
			if p = strings.TrimSpace(p); p != "" {
				secs = append(secs, p)
			}
		}
		var e ledger.Exemption
		e, _, err = req.store.SetExemption(field, secs, reason)
		msg = field + ": " + e.Statement()
	case "clear":
		err = req.store.ClearExemption(field, reason)
		msg = field + " is no longer withheld"
	default:
		return s.exemptionsPage(req, http.StatusBadRequest, "", "unknown change")
	}
	if isRefusal(err) || errorsIsNotFound(err) {
		return s.exemptionsPage(req, http.StatusUnprocessableEntity, "", err.Error())
	}
	if err != nil {
		return err
	}
	return s.exemptionsPage(req, http.StatusOK, msg, "")
}
