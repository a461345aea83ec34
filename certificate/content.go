package certificate

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/itad/itad/ledger"
)

// Content is everything a certificate of destruction states: the ledger's
// data about its subject, and the certificate's own number, issue time,
// issuer and signing key. The unsigned PDF is a pure function of Content
// (see Render), so the ledger can regenerate it and compare.
type Content struct {
	Number            string    // the certificate number, a UUID
	IssuedAt          time.Time // UTC
	IssuedBy          string    // the actor who issued it
	SignerName        string    // the signing certificate's subject common name
	SignerFingerprint string    // hex SHA-256 of the signing certificate
	Data              ledger.CertificateData
	// Version is the content and layout version (see RenderVersion): 1
	// for certificates issued before items carried their weight under
	// ledger.WeightRule, 2 until certificates embedded their content, 3
	// since; 0 means RenderVersion.
	Version int
	// PublicURL is the ledger's public_url setting when the certificate
	// was issued ("" when unset): from layout 3 the QR code holds
	// VerifyURL(PublicURL, Number, content hash) and the page prints the
	// address. It is not content (not in EncodeContent): the link is
	// derived from the number and the hash.
	PublicURL string
}

// version returns c.Version, with 0 meaning RenderVersion.
func (c Content) version() int {
	if c.Version == 0 {
		return RenderVersion
	}
	return c.Version
}

// NewContent assembles a certificate's content from the ledger's draft and
// the certificate that will sign it.
func NewContent(d ledger.CertificateDraft, signer *x509.Certificate) Content {
	return Content{
		Number:            d.UUID,
		IssuedAt:          d.IssuedAt.UTC(),
		IssuedBy:          d.IssuedBy,
		SignerName:        SignerName(signer),
		SignerFingerprint: Fingerprint(signer),
		Data:              d.Data,
		Version:           RenderVersion,
		PublicURL:         d.PublicURL,
	}
}

// SignerName is the name shown for a signing certificate: its subject's
// common name, else its first organisation, else the whole subject.
func SignerName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.Subject.Organization) > 0:
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}

// contentDomain separates certificate content hashes from every other
// SHA-256 that itad makes (events use "itad-event-v1\n"), and version 2
// content from version 1.
const (
	contentDomain   = "itad-certificate-v1\n"
	contentDomainV2 = "itad-certificate-v2\n"
)

// EncodeContent writes the canonical encoding of c to w. It is the byte
// string whose SHA-256 is the certificate's content hash (ContentHash),
// printed on the certificate, encoded in its QR code and recorded in the
// ledger. In order:
//
//	"itad-certificate-v1\n"     20 bytes, domain separation
//	header    9 strings: number, kind, subject, organisation,
//	          issued_at, issued_by, signer_name, signer_fingerprint,
//	          media_destination
//	batch     a count, 0 or 1 (1 for a batch certificate), then per batch
//	          8 strings: uuid, ref, site, contractor, run_on, witness,
//	          gross_weight_g, closed_at
//	contractors  a count, then per contractor 4 strings: uuid, name,
//	          accreditations, contract_ref
//	items     a count, then per item 21 strings: device uuid, serial,
//	          asset_tag, type, make, model, capacity_gb, site,
//	          disposal uuid, method, category, standard, tool, verified,
//	          contractor, disposed_on, weight_g, batch, operator, witness,
//	          notes
//
// where a string is a 4-byte big-endian length followed by that many bytes
// (the value's UTF-8 exactly as the ledger holds it), and a count is a
// 4-byte big-endian unsigned integer. issued_at is in ledger.TimeFormat
// (UTC, nanoseconds); optional numbers (capacity_gb, weight_g,
// gross_weight_g) are "" when not recorded, else decimal ASCII with no
// sign or leading zeros; everything else is the ledger's text. Lists are in
// the ledger's order: contractors by name, items by serial then date.
//
// Version 2 (Content.Version 2, certificates of layout 2) starts with
// "itad-certificate-v2\n" instead, and each item has 23 strings: the 21
// above, then weight_grams and weight_source, the item's weight under
// ledger.WeightRule as the certificate prints it ("" when it has none;
// the source "item" or "batch"). A run's shares depend on records outside
// the certificate (which of its items are final dispositions), so the
// weights printed are content of their own.
//
// Every field has a fixed place and a length, so the encoding is
// injective: two different contents never encode to the same bytes. A
// disposal's "final" flag is not content: it is derived from the other
// records. The encoding covers every field of the records certified, also
// those a batch certificate only summarises.
//
// Version 3 and later (certificates of layout 3, which embed their content)
// are encoded as canonical JSON instead: see EncodeContentJSON.
func EncodeContent(w io.Writer, c Content) error {
	if c.version() >= 3 {
		return EncodeContentJSON(w, c)
	}
	e := &encoder{w: bufio.NewWriterSize(w, 32<<10)}
	v2 := c.version() >= 2
	if v2 {
		e.w.WriteString(contentDomainV2)
	} else {
		e.w.WriteString(contentDomain)
	}
	d := c.Data
	e.str(c.Number, d.Kind, d.Subject, d.Org, c.IssuedAt.UTC().Format(ledger.TimeFormat), c.IssuedBy,
		c.SignerName, c.SignerFingerprint, d.Destination)
	if b := d.Batch; b != nil {
		e.count(1)
		e.str(b.UUID, b.Ref, b.Site, b.Contractor, b.RunOn, b.Witness, optInt(b.GrossWeightG), b.ClosedAt)
	} else {
		e.count(0)
	}
	e.count(len(d.Contractors))
	for _, k := range d.Contractors {
		e.str(k.UUID, k.Name, k.Accreditations, k.ContractRef)
	}
	e.count(len(d.Items))
	for _, it := range d.Items {
		v, p := it.Device, it.Disposal
		e.str(v.UUID, v.Serial, v.AssetTag, string(v.Type), v.Make, v.Model, optInt(v.CapacityGB), v.Site,
			p.UUID, string(p.Method), string(p.Category), p.Standard, p.Tool, p.Verified,
			p.Contractor, p.DisposedOn, optInt(p.WeightG), p.Batch, p.Operator, p.Witness, p.Notes)
		if v2 {
			e.str(optInt(it.Weight.Grams), it.Weight.Source)
		}
	}
	encodeEvidence(e, d) // evidence.go
	return e.w.Flush()
}

// ContentHash returns the lowercase hex SHA-256 of EncodeContent(c).
func ContentHash(c Content) string {
	h := sha256.New()
	EncodeContent(h, c) // a hash.Hash never fails to write
	return hex.EncodeToString(h.Sum(nil))
}

type encoder struct {
	w   *bufio.Writer
	buf [4]byte
}

func (e *encoder) count(n int) {
	binary.BigEndian.PutUint32(e.buf[:], uint32(n))
	e.w.Write(e.buf[:])
}

func (e *encoder) str(ss ...string) {
	for _, s := range ss {
		e.count(len(s))
		e.w.WriteString(s)
	}
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// QRText is the text of a certificate's QR code when the ledger has no
// public_url: "itad:cert:<number>:sha256:<content hash>".
func QRText(number, contentHash string) string {
	return "itad:cert:" + number + ":sha256:" + contentHash
}

// VerifyURL is the text of a certificate's QR code when the ledger has a
// public_url (base): "<base>/verify/<number>?h=<content hash>", base
// without a trailing "/".
func VerifyURL(base, number, contentHash string) string {
	return strings.TrimSuffix(base, "/") + "/verify/" + number + "?h=" + contentHash
}
