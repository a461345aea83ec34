package certificate

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/itad/itad/ledger"
)

// Errors returned by Verify, one per check, besides those of VerifyPDF
// (ErrNotSigned, ErrSignatureInvalid, ErrNotWholeFile, ErrMalformedPDF).
// Each is wrapped with the details; test with errors.Is.
var (
	ErrUntrustedSigner  = errors.New("signed by a certificate this ledger does not trust")
	ErrNoNumber         = errors.New("no itad certificate number in the document")
	ErrUnknownNumber    = errors.New("certificate number is not in the ledger")
	ErrRevoked          = errors.New("certificate has been revoked")
	ErrSuperseded       = errors.New("certificate has been superseded")
	ErrSignerMismatch   = errors.New("signed by a different key than the ledger recorded")
	ErrDocumentMismatch = errors.New("document differs from the one the ledger recorded")
	ErrContentChanged   = errors.New("content changed since issue")
	// ErrStale matches ErrContentChanged too: the ledger recorded the
	// changes that made the certificate stale.
	ErrStale           = errors.New("content changed since issue (the certificate is stale)")
	ErrNotReproducible = errors.New("certificate cannot be reproduced from the ledger")
)

// Records is the part of the ledger that Verify consults; *ledger.Store
// provides it.
type Records interface {
	CertificateByNumber(number string) (ledger.Certificate, error)
	CertificateData(kind, subject string) (ledger.CertificateData, error)
}

// Trust lists the signers that Verify accepts.
type Trust struct {
	// Certificates are trusted signing certificates, or roots and
	// intermediates a signer's certificate may chain to.
	Certificates []*x509.Certificate
	// Fingerprints are hex SHA-256 fingerprints of trusted signing
	// certificates (those the ledger recorded with key events).
	Fingerprints []string
}

// trusts reports whether the signature's certificate is trusted: its
// fingerprint is listed, or it chains to a listed certificate (at the
// claimed signing time, so that certificates that expired since still
// verify the documents they signed while valid).
func (t Trust) trusts(sig *PDFSignature) bool {
	fp := Fingerprint(sig.Signer)
	for _, f := range t.Fingerprints {
		if f == fp {
			return true
		}
	}
	roots := x509.NewCertPool()
	for _, c := range t.Certificates {
		if Fingerprint(c) == fp {
			return true
		}
		roots.AddCert(c)
	}
	if len(t.Certificates) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range sig.Certificates {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if !sig.SignedAt.IsZero() {
		opts.CurrentTime = sig.SignedAt
	}
	_, err := sig.Signer.Verify(opts)
	return err == nil
}

// staleError matches ErrStale and ErrContentChanged.
type staleError struct{ err error }

func (e *staleError) Error() string        { return e.err.Error() }
func (e *staleError) Unwrap() error        { return e.err }
func (e *staleError) Is(target error) bool { return target == ErrContentChanged }

// Verified is a certificate that passed every check of Verify.
type Verified struct {
	Certificate ledger.Certificate
	Signature   *PDFSignature
}

// keywordsRe finds the certificate number that Render writes in the
// document information dictionary.
var keywordsRe = regexp.MustCompile(`/Keywords \(itad:cert:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)`)

// Number returns the certificate number that a certificate's unsigned
// bytes claim, or an error wrapping ErrNoNumber. The claim is used only to
// look the certificate up: Verify then checks the document against the
// ledger's record, so a false claim fails.
func Number(unsigned []byte) (string, error) {
	ms := keywordsRe.FindAllSubmatch(unsigned, -1)
	if len(ms) == 0 {
		return "", ErrNoNumber
	}
	for _, m := range ms[1:] {
		if !bytes.Equal(m[1], ms[0][1]) {
			return "", fmt.Errorf("%w: the document names several", ErrNoNumber)
		}
	}
	return string(ms[0][1]), nil
}

// Verify checks a signed certificate of destruction against the ledger,
// in this order, stopping at the first failure:
//
//  1. VerifyPDF: the signature is intact and covers the whole file;
//  2. the signer is trusted (see Trust);
//  3. the certificate number, looked up from the document's signed bytes,
//     is in the ledger (ErrUnknownNumber), and neither revoked
//     (ErrRevoked) nor superseded (ErrSuperseded);
//  4. the ledger recorded this signer's fingerprint (ErrSignerMismatch);
//  5. for a certificate of layout 3 or later, the signed document embeds
//     its content (ContentFileName; else ErrNoEmbeddedContent) and that
//     content's SHA-256 is the content hash the ledger recorded
//     (ErrEmbeddedContent); then, for every layout, the signed document's
//     unsigned revision is the PDF whose SHA-256 the ledger recorded
//     (ErrDocumentMismatch);
//  6. the ledger recorded no change that made the certificate stale
//     (ErrStale, which also matches ErrContentChanged, naming each change:
//     what, when, by whom, in which event), and the content hash of the
//     ledger's current data for the certificate equals the recorded one
//     (ErrContentChanged: the ledger was amended after issue);
//  7. for layouts 1 and 2 only (certificates issued before they embedded
//     their content), rendering the ledger's current data in the layout
//     the document names (PDFLayout; see RenderVersion) gives the recorded
//     PDF byte for byte (ErrNotReproducible: this itad renders
//     differently). From layout 3 nothing is re-rendered: steps 5 and 6
//     tie the signed document to the ledger through the embedded content,
//     so a change to the layout, gofpdf or compress/zlib in a later itad
//     leaves the certificate verifiable.
//
// Nothing the PDF says about itself is trusted: its number only selects
// the ledger record, and every other check compares with that record.
// When the number was found, Verify returns it with the error, so the
// caller can log the consultation.
func Verify(pdf []byte, trust Trust, recs Records) (number string, v *Verified, err error) {
	sig, err := VerifyPDF(pdf)
	if err != nil {
		return "", nil, err
	}
	fp := Fingerprint(sig.Signer)
	if !trust.trusts(sig) {
		return "", nil, fmt.Errorf("%w: %q (SHA-256 %s): pass its certificate or an issuing root with --trusted if you trust it",
			ErrUntrustedSigner, SignerName(sig.Signer), fp)
	}
	if sig.Unsigned == nil {
		return "", nil, fmt.Errorf("%w: the signature is in the document's first revision, as itad never signs", ErrNoNumber)
	}
	number, err = Number(sig.Unsigned)
	if err != nil {
		return "", nil, err
	}
	rec, err := recs.CertificateByNumber(number)
	if errors.Is(err, ledger.ErrNotFound) {
		return number, nil, fmt.Errorf("%w: %s", ErrUnknownNumber, number)
	}
	if err != nil {
		return number, nil, err
	}
	if rec.RevokedAt != "" {
		return number, nil, fmt.Errorf("%w: certificate %s was revoked at %s: %s", ErrRevoked, number, rec.RevokedAt, rec.RevokeReason)
	}
	if rec.SupersededBy != "" {
		return number, nil, fmt.Errorf("%w: certificate %s was replaced by certificate %s", ErrSuperseded, number, rec.SupersededBy)
	}
	if rec.SignerFingerprint != fp {
		return number, nil, fmt.Errorf("%w: certificate %s was recorded as signed by key %s, but this document is signed by key %s",
			ErrSignerMismatch, number, rec.SignerFingerprint, fp)
	}
	// From layout 3 the document embeds its content: it must be the
	// content the ledger recorded, whatever else differs.
	layout := PDFLayout(sig.Unsigned)
	if layout >= 3 {
		emb, err := EmbeddedContent(sig.Unsigned)
		if err != nil {
			if !errors.Is(err, ErrNoEmbeddedContent) {
				err = fmt.Errorf("%w: %v", ErrNoEmbeddedContent, err)
			}
			return number, nil, fmt.Errorf("certificate %s (layout %d): %w", number, layout, err)
		}
		es := sha256.Sum256(emb)
		if got := hex.EncodeToString(es[:]); got != rec.ContentHash {
			return number, nil, fmt.Errorf("%w: certificate %s: the embedded %s has SHA-256 %s, the ledger recorded content hash %s",
				ErrEmbeddedContent, number, ContentFileName, got, rec.ContentHash)
		}
	}
	sum := sha256.Sum256(sig.Unsigned)
	if got := hex.EncodeToString(sum[:]); got != rec.PDFSHA256 {
		return number, nil, fmt.Errorf("%w: certificate %s: the signed document's SHA-256 is %s, the ledger recorded %s",
			ErrDocumentMismatch, number, got, rec.PDFSHA256)
	}
	if len(rec.Stale) > 0 {
		causes := make([]string, len(rec.Stale))
		for i, sc := range rec.Stale {
			causes[i] = sc.String()
		}
		return number, nil, &staleError{fmt.Errorf("%w: certificate %s for %s %s: %s; issue it again with '%s'",
			ErrStale, number, rec.Kind, rec.Subject, strings.Join(causes, "; "), rec.IssueCommand())}
	}
	issued, err := rec.IssuedTime()
	if err != nil {
		return number, nil, err
	}
	data, err := recs.CertificateData(rec.Kind, rec.Subject)
	if err != nil {
		return number, nil, fmt.Errorf("%w: certificate %s: the ledger's data for %s %s: %v", ErrContentChanged, number, rec.Kind, rec.Subject, err)
	}
	// The layout is the one the document names: its bytes are those the
	// ledger recorded (step 5), so it is the layout the ledger issued.
	if layout < 1 || layout > RenderVersion {
		return number, nil, fmt.Errorf("%w: certificate %s names layout version %d; this itad renders versions 1 to %d",
			ErrNotReproducible, number, layout, RenderVersion)
	}
	c := Content{Number: rec.UUID, IssuedAt: issued, IssuedBy: rec.IssuedBy, SignerName: SignerName(sig.Signer),
		SignerFingerprint: rec.SignerFingerprint, Data: data, Version: layout}
	if h := ContentHash(c); h != rec.ContentHash {
		return number, nil, fmt.Errorf("%w: certificate %s: the ledger's records of %s %s were amended after the certificate was issued (content hash now %s, recorded %s)",
			ErrContentChanged, number, rec.Kind, rec.Subject, h, rec.ContentHash)
	}
	if layout >= 3 {
		// The signed document embeds the recorded content, and the
		// ledger's current data encodes to it: nothing to re-render.
		return number, &Verified{Certificate: rec, Signature: sig}, nil
	}
	regen, err := RenderLayout(c, layout)
	if err != nil {
		return number, nil, fmt.Errorf("%w: certificate %s: %v", ErrNotReproducible, number, err)
	}
	if !bytes.Equal(regen, sig.Unsigned) {
		rs := sha256.Sum256(regen)
		return number, nil, fmt.Errorf("%w: certificate %s: rendering the ledger's data gives SHA-256 %s, the ledger recorded %s (layout version %d)",
			ErrNotReproducible, number, hex.EncodeToString(rs[:]), rec.PDFSHA256, layout)
	}
	return number, &Verified{Certificate: rec, Signature: sig}, nil
}
