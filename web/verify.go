package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// Public verification: anyone holding a certificate of destruction checks
// it here without an account. POST /verify takes an uploaded PDF and
// gives the verdict certificate.Verify gives `itad cert verify`;
// GET /verify/{number}?h=HASH (what the certificate's QR code opens)
// shows the certificate's status and printed fields, but only when HASH
// is the certificate's content hash: a number alone reveals nothing, not
// even whether it exists. No field withheld under an FOI exemption is
// ever shown. Each verdict about a certificate of this ledger is a
// consultation recorded (cert.verify) with the actor "public" before it
// is sent. Every client (by remote address, or X-Forwarded-For only
// behind a trusted proxy) is rate-limited by a token bucket.

// publicActor is the actor of consultations made on the public pages.
const publicActor = "public"

// publicReason is recorded as the reason of a public consultation: the
// visitor gives none, and the ledger may require one.
const publicReason = "public certificate verification page"

// maxUploadBytes bounds an uploaded certificate (a certificate of a large
// run is a few MB).
const maxUploadBytes = 32 << 20

// limiter is a token bucket per client: burst requests at once, then
// one every per.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	per     time.Duration
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, per time.Duration) *limiter {
	return &limiter{burst: float64(burst), per: per, now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket, reporting whether there was one.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > 100000 { // forget idle clients rather than grow without bound
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Duration(l.burst)*l.per {
				delete(l.buckets, k)
			}
		}
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens += float64(now.Sub(b.at)) / float64(l.per)
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// clientKey is the rate limiter's key for a request: the client's IP.
func (s *Server) clientKey(r *http.Request) string {
	a := s.remote(r)
	if host, _, err := net.SplitHostPort(a); err == nil {
		return host
	}
	return a
}

// throttled answers 429 when the client has used up its requests.
func (s *Server) throttled(req *request) bool {
	if s.limit.allow(s.clientKey(req.r)) {
		return false
	}
	req.w.Header().Set("Retry-After", "60")
	s.render(req, http.StatusTooManyRequests, "verify", map[string]any{"Error": "too many checks from your address: wait a minute and try again"})
	return true
}

func (s *Server) verifyPage(req *request) error {
	if s.throttled(req) {
		return nil
	}
	s.render(req, http.StatusOK, "verify", nil)
	return nil
}

// verdict is what the public page says about an uploaded document.
type verdict struct {
	OK      bool
	Title   string // "Valid", "Revoked" …
	Detail  string
	Cert    *publicCert
	Number  string
	Problem string // the verifier's own words
}

// verdictOf turns certificate.Verify's answer into the page's words.
func verdictOf(err error) verdict {
	switch {
	case err == nil:
		return verdict{OK: true, Title: "Valid", Detail: "The certificate is intact, signed by this ledger's key, current, and matches the ledger."}
	case errors.Is(err, certificate.ErrRevoked):
		return verdict{Title: "Revoked", Detail: "The certificate was revoked and must not be relied on."}
	case errors.Is(err, certificate.ErrSuperseded):
		return verdict{Title: "Superseded", Detail: "A newer certificate replaced this one: ask the issuer for it."}
	case errors.Is(err, certificate.ErrContentChanged), errors.Is(err, certificate.ErrDocumentMismatch), errors.Is(err, certificate.ErrNotReproducible):
		return verdict{Title: "No longer matches the ledger", Detail: "The ledger's records differ from what this certificate says."}
	case errors.Is(err, certificate.ErrSignatureInvalid), errors.Is(err, certificate.ErrNotWholeFile):
		return verdict{Title: "Altered", Detail: "The document was changed after it was signed: its signature does not match its content."}
	case errors.Is(err, certificate.ErrUntrustedSigner), errors.Is(err, certificate.ErrSignerMismatch):
		return verdict{Title: "Not signed by this ledger's key", Detail: "The signature is not one this ledger made."}
	case errors.Is(err, certificate.ErrUnknownNumber):
		return verdict{Title: "Not a certificate of this ledger", Detail: "This ledger issued no certificate with this number."}
	case errors.Is(err, certificate.ErrNotSigned), errors.Is(err, certificate.ErrMalformedPDF), errors.Is(err, certificate.ErrNoNumber):
		return verdict{Title: "Not a certificate", Detail: "The file is not a signed itad certificate of destruction."}
	}
	return verdict{}
}

// verifyUpload checks an uploaded certificate as itad cert verify does.
func (s *Server) verifyUpload(req *request) error {
	if s.throttled(req) {
		return nil
	}
	req.r.Body = http.MaxBytesReader(req.w, req.r.Body, maxUploadBytes+64<<10)
	f, _, err := req.r.FormFile("pdf")
	if err != nil {
		msg := "choose a certificate PDF to check"
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			msg = "the file is too large to be a certificate (the limit is 32 MB)"
		}
		s.render(req, http.StatusBadRequest, "verify", map[string]any{"Error": msg})
		return nil
	}
	defer f.Close()
	pdf, err := io.ReadAll(io.LimitReader(f, maxUploadBytes+1))
	if err != nil {
		return err
	}
	if len(pdf) > maxUploadBytes {
		s.render(req, http.StatusRequestEntityTooLarge, "verify", map[string]any{"Error": "the file is too large to be a certificate (the limit is 32 MB)"})
		return nil
	}
	store := s.cfg.Store.As(publicActor)
	trust, err := signingTrust(store)
	if err != nil {
		return err
	}
	number, v, verr := certificate.Verify(pdf, trust, store)
	vd := verdictOf(verr)
	if vd.Title == "" {
		return verr // the ledger failed, not the document
	}
	if verr != nil {
		vd.Problem = verr.Error()
	}
	if number == "" || errors.Is(verr, certificate.ErrUnknownNumber) {
		// Nothing of the ledger is consulted: the verdict is about the file.
		vd.Problem = ""
		s.render(req, http.StatusOK, "verify", map[string]any{"Verdict": vd})
		return nil
	}
	vd.Number = number
	var ct ledger.Certificate
	if v != nil {
		ct = v.Certificate
	} else if ct, err = store.CertificateByNumber(number); err != nil {
		return err
	}
	if vd.OK || errors.Is(verr, certificate.ErrRevoked) || errors.Is(verr, certificate.ErrSuperseded) {
		pc, err := s.publicCert(store, ct)
		if err != nil {
			return err
		}
		vd.Cert = &pc
	}
	vd.Problem = withhold(store, vd.Problem)
	d := ledger.Disclosure{Action: "cert.verify", Subject: number, Reason: publicReason,
		Payload: map[string]any{"via": "web upload", "valid": verr == nil}}
	return s.consultPage(req, store, d, http.StatusOK, "verify", map[string]any{"Verdict": vd})
}

// verifyLink shows a certificate's status and printed fields to whoever
// holds its number and content hash (the QR code's link).
func (s *Server) verifyLink(req *request) error {
	if s.throttled(req) {
		return nil
	}
	store := s.cfg.Store.As(publicActor)
	number, h := req.r.PathValue("number"), strings.ToLower(strings.TrimSpace(req.r.URL.Query().Get("h")))
	ct, err := store.CertificateByNumber(number)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) && !errors.Is(err, ledger.ErrInvalid) {
		return err
	}
	// The same answer for an unknown number and a wrong hash: the page
	// says nothing to someone who does not hold the certificate.
	if err != nil || h == "" || subtle.ConstantTimeCompare([]byte(h), []byte(ct.ContentHash)) != 1 {
		s.render(req, http.StatusNotFound, "verify", map[string]any{"Error": "no certificate matches this link: check it was copied whole, or upload the PDF below"})
		return nil
	}
	pc, err := s.publicCert(store, ct)
	if err != nil {
		return err
	}
	vd := verdict{OK: ct.Status() == "current", Number: ct.UUID, Cert: &pc}
	switch ct.Status() {
	case "current":
		vd.Title, vd.Detail = "Issued by this ledger and current", "The ledger holds this certificate and it has not been revoked or replaced. To check the document itself, upload the PDF below."
	case "revoked":
		vd.Title, vd.Detail = "Revoked", "The certificate was revoked and must not be relied on."
	case "superseded":
		vd.Title, vd.Detail = "Superseded", "A newer certificate replaced this one: ask the issuer for it."
	default:
		vd.Title, vd.Detail = "No longer matches the ledger", "The ledger's records changed after this certificate was issued."
	}
	d := ledger.Disclosure{Action: "cert.verify", Subject: ct.UUID, Reason: publicReason,
		Payload: map[string]any{"via": "web link", "status": ct.Status()}}
	return s.consultPage(req, store, d, http.StatusOK, "verify", map[string]any{"Verdict": vd})
}

// publicCert is what the public page shows of a certificate: its status
// and the fields printed on it, without any field exempt under FOI.
type publicCert struct {
	Number, Status, Kind, Subject, Org, IssuedAt string
	RevokedAt, RevokeReason, SupersededBy        string
	Devices                                      int
	Contractors                                  []string // nil when withheld
	Site                                         string   // of a run; "" when withheld or none
	Withheld                                     []string // statements of what is withheld
	Items                                        []publicItem
}

type publicItem struct{ Serial, Type, MakeModel, Method, DisposedOn string }

// maxPublicItems bounds the items listed on the public page.
const maxPublicItems = 500

func (s *Server) publicCert(store *ledger.Store, ct ledger.Certificate) (publicCert, error) {
	pc := publicCert{Number: ct.UUID, Status: ct.Status(), Kind: ct.Kind, Subject: ct.Subject, IssuedAt: when(ct.IssuedAt),
		RevokedAt: when(ct.RevokedAt), RevokeReason: ct.RevokeReason, SupersededBy: ct.SupersededBy, Devices: ct.Devices}
	data, err := store.CertificateData(ct.Kind, ct.Subject)
	if err != nil {
		return pc, err
	}
	es, err := store.Exemptions()
	if err != nil {
		return pc, err
	}
	exempt := map[string]bool{}
	for _, e := range es {
		exempt[e.Field] = true
		pc.Withheld = append(pc.Withheld, e.Field+": "+e.Statement())
	}
	pc.Org = data.Org
	if !exempt[ledger.FieldContractorName] {
		pc.Contractors = []string{}
		for _, c := range data.Contractors {
			pc.Contractors = append(pc.Contractors, c.Name)
		}
	}
	if data.Batch != nil && !exempt[ledger.FieldSite] {
		pc.Site = data.Batch.Site
	}
	for i, it := range data.Items {
		if i == maxPublicItems {
			break
		}
		pc.Items = append(pc.Items, publicItem{Serial: it.Device.Serial, Type: string(it.Device.Type),
			MakeModel: strings.TrimSpace(it.Device.Make + " " + it.Device.Model), Method: string(it.Disposal.Method), DisposedOn: it.Disposal.DisposedOn})
	}
	return pc, nil
}

// withhold leaves out the verifier's detailed wording when any field is
// exempt under FOI: a stale certificate's causes, say, can name a
// contractor or a site. The verdict itself is always given.
func withhold(store *ledger.Store, msg string) string {
	if msg == "" {
		return ""
	}
	if es, err := store.Exemptions(); err != nil || len(es) > 0 {
		return ""
	}
	return msg
}

// signingTrust is the trust `itad cert verify` uses without --trusted: the
// signing identities the ledger's key events recorded.
func signingTrust(s *ledger.Store) (certificate.Trust, error) {
	var t certificate.Trust
	keys, err := s.SigningKeys()
	if err != nil {
		return t, err
	}
	for _, k := range keys {
		t.Fingerprints = append(t.Fingerprints, k.Fingerprint)
	}
	return t, nil
}

// The public pages' rate limit per client: a burst of 30, then one
// request every 2 seconds.
const (
	publicBurst = 30
	publicEvery = 2 * time.Second
)
