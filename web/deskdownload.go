package web

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// download sends a report, export or FOI answer as `itad report`,
// `itad export` and `itad foi` write it (the same ledger functions, the
// same actions and payloads), through ledger.Store.Disclose with the
// signed-in account as actor and the reason given. With sign, the file
// and its detached CMS signature (certificate.SignDetached, as --sign
// writes FILE.p7s) are sent together in a .zip; the event records the
// zip's SHA-256 and the file's.
func (s *Server) download(req *request) error {
	f := req.r.PostFormValue
	years, fin, err := downloadYears(f("from"), f("to"), f("years") == "financial")
	if err != nil {
		s.errorPage(req, http.StatusBadRequest, "the year range is not valid: give four-digit years, the first not after the last")
		return nil
	}
	what, sign, reason := f("what"), f("sign") == "1", s.reason(req)
	kind, format, _ := strings.Cut(what, "-")
	if kind == "foi" && req.sess.User.Role == ledger.RoleAuditor {
		s.errorPage(req, http.StatusForbidden, "your role (auditor) may not send FOI answers: the FOI page is for foi and admin")
		return nil
	}
	if err := req.store.VetDisclosure(kind, reason); err != nil {
		if errorsIsReason(err) {
			return s.askReason(req)
		}
		if kind != "report" && kind != "export" && kind != "foi" {
			s.errorPage(req, http.StatusBadRequest, "unknown download "+strconvQuote(what))
			return nil
		}
		return err
	}
	subject := yearsSubject(years, fin)
	var action, ext, ctype string
	var payload map[string]any
	var write func(io.Writer) error
	switch what {
	case "export-csv", "export-excel", "export-json":
		action, ext, ctype = "export", "csv", "text/csv; charset=utf-8"
		fm, excel := "csv", what == "export-excel"
		if what == "export-json" {
			fm, ext, ctype = "json", "json", "application/json"
		}
		q := ledger.ExportQuery{Years: years, FinancialYear: fin}
		payload = map[string]any{"years": q.Years, "financial_year": fin, "format": fm, "excel": excel}
		write = func(w io.Writer) error {
			sum, err := s.cfg.Store.WriteExport(w, q, ledger.ExportOptions{Format: fm, Excel: excel})
			payload["rows"], payload["weight_grams"] = sum.Rows, sum.WeightG
			return err
		}
	case "report-csv", "report-json":
		action, ext, ctype = "report", format, "text/csv; charset=utf-8"
		if format == "json" {
			ctype = "application/json"
		}
		rows, err := s.cfg.Store.Report(ledger.ReportQuery{Years: years, FinancialYear: fin})
		if err != nil {
			return err
		}
		payload = map[string]any{"years": years, "by": []string(nil), "financial_year": fin, "format": format}
		write = func(w io.Writer) error { return ledger.WriteReport(w, format, nil, rows) }
	case "report-pdf":
		action, ext, ctype = "report", "pdf", "application/pdf"
		pdf, err := s.annualPDF(years, fin)
		if err != nil {
			return err
		}
		payload = map[string]any{"years": years, "by": []string(nil), "financial_year": fin, "format": "pdf"}
		write = func(w io.Writer) error { _, err := w.Write(pdf); return err }
	case "foi-text", "foi-markdown", "foi-json", "foi-csv":
		action, ext, ctype = "foi", map[string]string{"text": "txt", "markdown": "md", "json": "json", "csv": "csv"}[format], "text/plain; charset=utf-8"
		a, err := s.cfg.Store.FOI(ledger.FOIQuery{Years: years, FinancialYear: fin})
		if err != nil {
			return err
		}
		var withheld []string
		for _, e := range a.Withheld {
			withheld = append(withheld, e.Field)
		}
		payload = map[string]any{"years": years, "financial_year": fin, "format": format, "withheld": withheld}
		write = func(w io.Writer) error { return ledger.WriteFOI(w, format, a) }
	default:
		s.errorPage(req, http.StatusBadRequest, "unknown download "+strconvQuote(what))
		return nil
	}
	name := fmt.Sprintf("itad-%s-%s.%s", action, strings.NewReplacer(",", "_", "/", "-", " ", "-").Replace(subject), ext)
	payload["via"] = "web"
	if sign {
		if s.cfg.Signer == nil {
			s.errorPage(req, http.StatusUnprocessableEntity, "this server has no signing key: start itad serve with the ledger's key (itad key init), or download unsigned")
			return nil
		}
		payload["signer"] = certificate.Fingerprint(s.cfg.Signer.Cert)
		inner, file := write, name
		write = func(w io.Writer) error { return s.signedZip(w, file, inner, payload) }
		name, ctype = name+".zip", "application/zip"
	}
	var out bytes.Buffer
	if err := req.store.Disclose(ledger.Disclosure{Action: action, Subject: subject, Reason: reason, Payload: payload},
		ledger.Sink{W: &out, Name: name}, write); err != nil {
		if errorsIsReason(err) {
			return s.askReason(req)
		}
		return err
	}
	req.w.Header().Set("Content-Type", ctype)
	req.w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	req.w.Write(out.Bytes())
	return nil
}

// signedZip writes a zip holding name (what inner writes) and name.p7s,
// its detached CMS signature.
func (s *Server) signedZip(w io.Writer, name string, inner func(io.Writer) error, payload map[string]any) error {
	var file bytes.Buffer
	if err := inner(&file); err != nil {
		return err
	}
	sig, err := certificate.SignDetached(file.Bytes(), s.cfg.Signer, s.cfg.Store.Now())
	if err != nil {
		return err
	}
	sum := sha256.Sum256(file.Bytes())
	payload["file_sha256"] = hex.EncodeToString(sum[:])
	zw := zip.NewWriter(w)
	mod := s.cfg.Store.Now().UTC()
	for _, part := range []struct {
		name string
		data []byte
	}{{name, file.Bytes()}, {name + ".p7s", sig}} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: part.name, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return err
		}
		if _, err := fw.Write(part.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// annualPDF renders the annual summary as `itad report --format pdf`
// does: the same four report queries over one snapshot, rendered by
// certificate.RenderAnnualReport.
func (s *Server) annualPDF(years []int, fin bool) ([]byte, error) {
	q := func(by ...string) ledger.ReportQuery {
		return ledger.ReportQuery{Years: years, FinancialYear: fin, By: by}
	}
	rs, err := s.cfg.Store.Reports(q(), q("type"), q("method"), q("category"))
	if err != nil {
		return nil, err
	}
	org, err := s.cfg.Store.Setting(ledger.SettingOrg)
	if err != nil {
		return nil, err
	}
	asOf, err := s.cfg.Store.DataAsOf()
	if err != nil {
		return nil, err
	}
	return certificate.RenderAnnualReport(certificate.AnnualReport{Org: org, FinancialYear: fin, AsOf: asOf,
		ByYear: rs[0], ByType: rs[1], ByMethod: rs[2], ByCategory: rs[3], WeightRule: ledger.WeightRule})
}

// downloadYears turns a from/to pair into the year list of the CLI's
// --year FROM-TO: both empty is every year; one alone runs to the current
// year or from 1990.
func downloadYears(from, to string, fin bool) ([]int, bool, error) {
	a, err := yearParam(from)
	if err != nil {
		return nil, fin, err
	}
	b, err := yearParam(to)
	if err != nil {
		return nil, fin, err
	}
	if a == 0 && b == 0 {
		return nil, fin, nil
	}
	if a == 0 {
		a = 1990
	}
	if b == 0 {
		b = time.Now().UTC().Year()
	}
	if b < a || a < 1990 || b > 9999 {
		return nil, fin, ledger.ErrInvalid
	}
	var ys []int
	for y := a; y <= b; y++ {
		ys = append(ys, y)
	}
	return ys, fin, nil
}

// yearsSubject names the years of a disclosure as the CLI's events do.
func yearsSubject(years []int, fin bool) string {
	if len(years) == 0 {
		return "all years"
	}
	ls := make([]string, len(years))
	for i, y := range years {
		ls[i] = yearLabel(y, fin)
	}
	return strings.Join(ls, ",")
}

func strconvQuote(s string) string { return strconv.Quote(s) }
