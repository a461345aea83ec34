package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// The station page: one focused input a USB barcode scanner types into.
// Its state is in the URL and the forms' hidden fields (the run and the
// method, or single-disposal mode with method, date and contractor) and
// in the ledger (the run's disposals), so a reload loses nothing.

// stationState is what the station is doing.
type stationState struct {
	Run        string // batch reference (run mode)
	Single     bool   // single disposals mode
	Method     string
	On         string // single mode: the date
	Contractor string // single mode
}

func readState(get func(string) string) stationState {
	return stationState{Run: strings.TrimSpace(get("run")), Single: get("mode") == "single", Method: get("method"),
		On: strings.TrimSpace(get("on")), Contractor: strings.TrimSpace(get("contractor"))}
}

// Query is the state as a URL query.
func (st stationState) Query() string {
	v := url.Values{}
	if st.Single {
		v.Set("mode", "single")
		v.Set("on", st.On)
		v.Set("contractor", st.Contractor)
	} else {
		v.Set("run", st.Run)
	}
	v.Set("method", st.Method)
	return v.Encode()
}

// maxRows is how many of a run's items the station lists, newest first
// (the counter and weight count them all).
const maxRows = 200

// scanRow is one line of the station's list.
type scanRow struct {
	Serial, Type, Make, Model, Weight string
	Refused                           bool
	Reason                            string
}

// scanResult is the outcome of the last scan, shown on top.
type scanResult struct {
	Kind string // ok, refused, unknown
	Row  scanRow
}

func (s *Server) station(req *request) error {
	return s.stationPage(req, http.StatusOK, readState(req.r.URL.Query().Get), nil, nil)
}

// stationPage renders the station in its state, with the last scan's
// result and, for an unknown code, the inline device form.
func (s *Server) stationPage(req *request, code int, st stationState, res *scanResult, unknown *ledger.Scan) error {
	data := map[string]any{"St": st, "Result": res, "Unknown": unknown, "Methods": ledger.Methods, "Types": ledger.DeviceTypes,
		"Today": s.cfg.Store.Now().Format("2006-01-02")}
	cs, err := s.cfg.Store.Contractors()
	if err != nil {
		return err
	}
	data["Contractors"] = cs
	switch {
	case st.Run != "":
		rv, err := s.cfg.Store.StationRun(st.Run, maxRows)
		if err != nil {
			return err
		}
		rows := make([]scanRow, len(rv.Items))
		for i, it := range rv.Items {
			rows[i] = scanRow{Serial: it.Serial, Type: string(it.Type), Make: it.Make, Model: it.Model, Weight: optKg(it.Weight.Grams)}
		}
		certs, err := s.cfg.Store.BatchCertificates(st.Run)
		if err != nil {
			return err
		}
		if n := int(rv.Total.Count) - len(rows); n > 0 {
			data["Earlier"] = n
		}
		data["Mode"], data["Run"], data["Rows"], data["Certs"] = "run", rv, rows, certViews(certs)
		data["Count"], data["Weight"] = rv.Total.Count, rv.Total.WeightG
	case st.Single:
		data["Mode"] = "single"
	default:
		open, err := s.cfg.Store.OpenBatches()
		if err != nil {
			return err
		}
		data["Mode"], data["Open"] = "pick", open
		nd, err := s.cfg.Store.DevicesNeedingDestruction()
		if err != nil {
			return err
		}
		if len(nd) > 0 {
			needs := make([]needsRow, len(nd))
			for i, n := range nd {
				needs[i] = needsRow{Serial: n.Device.Serial, Model: n.Device.Model, What: failedWhat(n.Erasure), When: n.Erasure.EndedAt}
			}
			data["Needs"] = needs
			if req.r.Method == http.MethodGet {
				// The list shows devices: a consultation, as itad device
				// list --needs-destruction records it.
				q := ledger.ListQuery{NeedsDestruction: true}
				d := ledger.Disclosure{Action: ledger.DeviceListAction, Subject: q.Subject(), Payload: q.Payload(), Reason: s.reason(req)}
				return s.consultPage(req, req.store, d, code, "station", data)
			}
		}
	}
	if st.Run != "" && req.r.Method == http.MethodGet {
		// Showing a run's items is a consultation (a scan's POST records
		// the disposal itself).
		d := ledger.Disclosure{Action: "batch.show", Subject: st.Run, Reason: s.reason(req)}
		return s.consultPage(req, req.store, d, code, "station", data)
	}
	s.render(req, code, "station", data)
	return nil
}

// needsRow is a device needing destruction on the station's first screen.
type needsRow struct{ Serial, Model, What, When string }

// failedWhat says in words what a failed erasure was: tool, method and
// the tool's status and detail.
func failedWhat(e ledger.ErasureRecord) string {
	var parts []string
	for _, p := range []string{e.Tool, e.MethodName} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	what := strings.Join(parts, " ")
	st := e.Status
	if e.Detail != "" {
		st = strings.TrimSpace(st + " " + e.Detail)
	}
	switch {
	case what == "":
		what = st
	case st != "":
		what += ": " + st
	}
	if what == "" {
		what = "erasure failed"
	}
	return what
}

func (s *Server) stationOpen(req *request) error {
	f := req.r.PostFormValue
	st := stationState{Run: strings.TrimSpace(f("ref")), Method: f("method")}
	if _, err := ledger.ParseMethod(st.Method); err != nil {
		return err
	}
	if f("contractor") == "" {
		return fmt.Errorf("%w: choose the run's contractor", ledger.ErrInvalid)
	}
	b := ledger.Batch{Ref: st.Run, Site: f("site"), Contractor: f("contractor"), RunOn: f("on"), Witness: f("witness")}
	if _, err := req.store.AddBatch(b); err != nil {
		return err
	}
	http.Redirect(req.w, req.r, "/station?"+st.Query(), http.StatusSeeOther)
	return nil
}

// disposalFor is the disposal a scan of serial records in state st.
func (s *Server) disposalFor(req *request, st stationState, serial string) (ledger.Disposal, error) {
	p := ledger.Disposal{Serial: serial, Method: ledger.Method(st.Method), Operator: req.sess.User.Name}
	if st.Run == "" {
		if !st.Single {
			return p, fmt.Errorf("%w: open or pick a run first, or choose single disposals", ledger.ErrInvalid)
		}
		p.DisposedOn, p.Contractor = st.On, st.Contractor
		return p, nil
	}
	b, err := s.cfg.Store.BatchInfo(st.Run)
	if err != nil {
		return p, err
	}
	p.Batch, p.Contractor, p.DisposedOn, p.Witness = b.Ref, b.Contractor, b.RunOn, b.Witness
	if p.DisposedOn == "" {
		p.DisposedOn = s.cfg.Store.Now().Format("2006-01-02")
	}
	return p, nil
}

func (s *Server) stationScan(req *request) error {
	st := readState(req.r.PostFormValue)
	sc, err := s.cfg.Store.ResolveScan(req.r.PostFormValue("code"))
	if err != nil {
		return s.refused(req, st, scanRow{Serial: sc.Code}, err)
	}
	if !sc.Found {
		return s.stationPage(req, http.StatusOK, st, &scanResult{Kind: "unknown", Row: scanRow{Serial: sc.Serial, Reason: "not in the ledger: add it below"}}, &sc)
	}
	return s.record(req, st, sc.Device)
}

// record records the disposal of d and renders the station.
func (s *Server) record(req *request, st stationState, d ledger.Device) error {
	row := scanRow{Serial: d.Serial, Type: string(d.Type), Make: d.Make, Model: d.Model}
	// A device whose erasure failed is disposed of as normal; the result
	// row says what failed, so the operator sees why it came to them.
	failed, needs, err := s.cfg.Store.FailedErasure(d.Serial)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	if needs {
		row.Reason = "erasure failed (" + failedWhat(failed) + ", " + failed.EndedAt + "): needed destruction"
	}
	p, err := s.disposalFor(req, st, d.Serial)
	if err == nil {
		// Scans from many stations queue here rather than in SQLite's
		// busy handler, which sleeps up to 100 ms between tries.
		s.writeMu.Lock()
		_, err = req.store.RecordScan(p)
		s.writeMu.Unlock()
	}
	if err != nil {
		return s.refused(req, st, row, err)
	}
	return s.stationPage(req, http.StatusOK, st, &scanResult{Kind: "ok", Row: row}, nil)
}

// refused shows a refusal loudly, with the ledger's reason; an error that
// is not a refusal is the server's.
func (s *Server) refused(req *request, st stationState, row scanRow, err error) error {
	if !isRefusal(err) && !errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	row.Refused, row.Reason = true, err.Error()
	var re *ledger.RuleError
	if errors.As(err, &re) && re.Hint != "" {
		row.Reason += " (" + re.Hint + ")"
	}
	return s.stationPage(req, http.StatusUnprocessableEntity, st, &scanResult{Kind: "refused", Row: row}, nil)
}

// stationDevice adds an unknown device from the inline form and records
// its disposal.
func (s *Server) stationDevice(req *request) error {
	f := req.r.PostFormValue
	st := readState(f)
	t, err := ledger.ParseDeviceType(f("type"))
	if err != nil {
		return s.refused(req, st, scanRow{Serial: f("serial")}, err)
	}
	d := ledger.Device{Serial: f("serial"), AssetTag: f("asset_tag"), Type: t, Make: f("make"), Model: f("model"), Site: f("site")}
	if v := strings.TrimSpace(f("capacity_gb")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return s.refused(req, st, scanRow{Serial: d.Serial}, fmt.Errorf("%w: capacity %q: give whole gigabytes", ledger.ErrInvalid, v))
		}
		d.CapacityGB = &n
	}
	s.writeMu.Lock()
	d, err = req.store.AddDevice(d)
	s.writeMu.Unlock()
	if err != nil {
		return s.refused(req, st, scanRow{Serial: d.Serial, Type: string(d.Type)}, err)
	}
	return s.record(req, st, d)
}

func (s *Server) stationClose(req *request) error {
	st := readState(req.r.PostFormValue)
	var gross *int64
	if v := strings.TrimSpace(req.r.PostFormValue("gross")); v != "" {
		g, err := ledger.ParseWeight(v, "kg")
		if err != nil {
			return s.refused(req, st, scanRow{Serial: st.Run}, err)
		}
		gross = &g
	}
	if _, err := req.store.CloseBatch(st.Run, gross); err != nil {
		return s.refused(req, st, scanRow{Serial: st.Run}, err)
	}
	http.Redirect(req.w, req.r, "/station?"+st.Query(), http.StatusSeeOther)
	return nil
}

// stationCertificate issues the run's certificate, keeping its PDF in
// CertDir for download.
func (s *Server) stationCertificate(req *request) error {
	st := readState(req.r.PostFormValue)
	if s.cfg.Signer == nil {
		return s.refused(req, st, scanRow{Serial: st.Run}, fmt.Errorf("%w: itad serve has no signing key: create one with 'itad key init' and restart it", ledger.ErrInvalid))
	}
	if err := mkdir(s.cfg.CertDir); err != nil {
		return err
	}
	var tmp string
	cert, err := req.store.IssueCertificate(ledger.CertBatch, st.Run, s.cfg.NoteSigner, func(d ledger.CertificateDraft) (ledger.CertificateHashes, error) {
		iss, err := certificate.Issue(d, s.cfg.Signer)
		if err != nil {
			return ledger.CertificateHashes{}, err
		}
		if tmp, err = certificate.WriteTemp(s.cfg.CertDir, iss.Signed); err != nil {
			return ledger.CertificateHashes{}, err
		}
		return iss.Hashes(), nil
	})
	var dirErr *ledger.CheckpointDirError
	if err != nil && !errors.As(err, &dirErr) {
		if tmp != "" {
			removeFile(tmp)
		}
		return s.refused(req, st, scanRow{Serial: st.Run}, err)
	}
	if _, err := certificate.Publish(tmp, certificate.FileName(cert.UUID, cert.Subject)); err != nil {
		return fmt.Errorf("certificate %s is recorded but its file was left at %s: %w", cert.UUID, tmp, err)
	}
	if dirErr != nil {
		s.cfg.Logf("itad serve: %v", dirErr)
	}
	http.Redirect(req.w, req.r, "/station?"+st.Query()+"&issued="+url.QueryEscape(cert.UUID), http.StatusSeeOther)
	return nil
}
