package certificate

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/ledger"
)

// ContentFileName is the name of the file that certificates of layout 3
// and later embed: their canonical content (EncodeContentJSON), whose
// SHA-256 is the content hash.
const ContentFileName = "itad-certificate.json"

// contentFormat is the "format" member that opens the canonical JSON: it
// separates certificate content from every other JSON that itad hashes.
const contentFormat = "itad-certificate"

// Errors about the embedded content, returned by EmbeddedContent and
// Verify.
var (
	// ErrNoEmbeddedContent: a certificate of layout 3 or later carries no
	// readable ContentFileName.
	ErrNoEmbeddedContent = errors.New("the certificate does not embed its content")
	// ErrEmbeddedContent: the embedded content is not what the ledger
	// recorded (its SHA-256 is not the recorded content hash).
	ErrEmbeddedContent = errors.New("the embedded content differs from the content the ledger recorded")
)

// maxEmbeddedContent bounds the decompressed size of an embedded content
// file (a 100,000-item batch is about 100 MB).
const maxEmbeddedContent = 512 << 20

// EncodeContentJSON writes the canonical JSON of c (content version 3 and
// later), one line ending in "\n", with no insignificant white space and
// the members in exactly this order:
//
//	{"format":"itad-certificate","version":3,
//	 "number","issued_at","issued_by","signer_name","signer_fingerprint",
//	 "kind","subject","org","media_destination",
//	 "org_location","org_phone","appendix_g_defaults": {Appendix G},
//	 "batch": null or {"uuid","ref","site","contractor","run_on","witness",
//	          "gross_weight_grams","closed_at"},
//	 "batch_appendix_g": {Appendix G},
//	 "contractors": [{"uuid","name","accreditations","contract_ref"}...],
//	 "items": [{"device": {"uuid","serial","asset_tag","type","make","model",
//	                       "capacity_gb","site"},
//	            "disposal": {"uuid","method","category","standard","tool",
//	                       "verified","contractor","disposed_on","weight_grams",
//	                       "batch","operator","witness","notes"},
//	            "weight": {"grams","source"},
//	            "appendix_g": {Appendix G}}...],
//	 "evidence": [{"serial","name","kind","sha256","tool","method",
//	               "verification"}...]}
//
// An {Appendix G} object is a NIST SP 800-88 Appendix G record
// (ledger.AppendixG): the fields that are recorded (not ""), named and
// ordered as ledger.AppendixGFields, all strings; {} when none is.
// appendix_g_defaults holds the ledger-wide defaults (media_destination
// and media_classification settings: only the latter is in the record),
// batch_appendix_g the batch's own record ({} for a device certificate),
// and each item's appendix_g its disposal's own; what prints is the first
// recorded of disposal, batch, defaults (ledger.CertificateData.Effective).
// evidence lists the files behind the certificate's disposals, one entry
// per file and serial (ledger.CertificateEvidence), [] when none: a batch
// certificate's as a device certificate's.
//
// Strings are the ledger's UTF-8 text, with '"' and '\' escaped by a
// backslash, the control characters U+0000 to U+001F written \u00XX (lower
// case hex), and every other character as its UTF-8 bytes (invalid UTF-8,
// which the ledger never stores, as \ufffd). Numbers (version, capacity,
// weights) are decimal integers without sign or leading zeros; a number
// not recorded is null. issued_at is in ledger.TimeFormat (UTC,
// nanoseconds). Lists are in the ledger's order: contractors by name,
// items by serial then date. As in EncodeContent, a disposal's "final"
// flag is not content.
//
// The bytes are those a certificate embeds as ContentFileName and whose
// SHA-256 is its content hash: "format" and "version" separate them from
// other hashed data and from earlier content versions (EncodeContent).
// Decoding with any JSON parser gives the same values; re-encoding the
// ledger's data gives the same bytes, which is how Verify compares the
// ledger with the certificate.
func EncodeContentJSON(w io.Writer, c Content) error {
	e := &jsonEncoder{buf: make([]byte, 0, 4096), w: w}
	d := c.Data
	e.raw(`{"format":`)
	e.str(contentFormat)
	e.raw(`,"version":`)
	e.raw(strconv.Itoa(c.version()))
	e.member("number", c.Number)
	e.member("issued_at", c.IssuedAt.UTC().Format(ledger.TimeFormat))
	e.member("issued_by", c.IssuedBy)
	e.member("signer_name", c.SignerName)
	e.member("signer_fingerprint", c.SignerFingerprint)
	e.member("kind", d.Kind)
	e.member("subject", d.Subject)
	e.member("org", d.Org)
	e.member("media_destination", d.Destination)
	e.member("org_location", d.OrgLocation)
	e.member("org_phone", d.OrgPhone)
	e.appG("appendix_g_defaults", d.Defaults)
	e.raw(`,"batch":`)
	if b := d.Batch; b != nil {
		e.raw(`{"uuid":`)
		e.str(b.UUID)
		e.member("ref", b.Ref)
		e.member("site", b.Site)
		e.member("contractor", b.Contractor)
		e.member("run_on", b.RunOn)
		e.member("witness", b.Witness)
		e.num("gross_weight_grams", b.GrossWeightG)
		e.member("closed_at", b.ClosedAt)
		e.raw(`}`)
	} else {
		e.raw(`null`)
	}
	e.appG("batch_appendix_g", d.BatchAppG)
	e.raw(`,"contractors":[`)
	for i, k := range d.Contractors {
		if i > 0 {
			e.raw(`,`)
		}
		e.raw(`{"uuid":`)
		e.str(k.UUID)
		e.member("name", k.Name)
		e.member("accreditations", k.Accreditations)
		e.member("contract_ref", k.ContractRef)
		e.raw(`}`)
	}
	e.raw(`],"items":[`)
	for i, it := range d.Items {
		if i > 0 {
			e.raw(`,`)
		}
		v, p := it.Device, it.Disposal
		e.raw(`{"device":{"uuid":`)
		e.str(v.UUID)
		e.member("serial", v.Serial)
		e.member("asset_tag", v.AssetTag)
		e.member("type", string(v.Type))
		e.member("make", v.Make)
		e.member("model", v.Model)
		e.num("capacity_gb", v.CapacityGB)
		e.member("site", v.Site)
		e.raw(`},"disposal":{"uuid":`)
		e.str(p.UUID)
		e.member("method", string(p.Method))
		e.member("category", string(p.Category))
		e.member("standard", p.Standard)
		e.member("tool", p.Tool)
		e.member("verified", p.Verified)
		e.member("contractor", p.Contractor)
		e.member("disposed_on", p.DisposedOn)
		e.num("weight_grams", p.WeightG)
		e.member("batch", p.Batch)
		e.member("operator", p.Operator)
		e.member("witness", p.Witness)
		e.member("notes", p.Notes)
		e.raw(`},"weight":{"grams":`)
		e.numVal(it.Weight.Grams)
		e.member("source", it.Weight.Source)
		e.raw(`}`)
		e.appG("appendix_g", it.AppG)
		e.raw(`}`)
	}
	e.raw(`],"evidence":[`)
	for i, x := range d.Evidence {
		if i > 0 {
			e.raw(`,`)
		}
		e.raw(`{"serial":`)
		e.str(x.Serial)
		e.member("name", x.Name)
		e.member("kind", x.Kind)
		e.member("sha256", x.SHA256)
		e.member("tool", x.Tool)
		e.member("method", x.Method)
		e.member("verification", x.Verification)
		e.raw(`}`)
	}
	e.raw("]}\n")
	return e.flush()
}

// appG writes ,"key":{...}: the recorded fields of g in AppendixGFields
// order.
func (e *jsonEncoder) appG(key string, g ledger.AppendixG) {
	e.raw(`,"` + key + `":{`)
	first := true
	for _, f := range ledger.AppendixGFields {
		v := f.Get(g)
		if v == "" {
			continue
		}
		if !first {
			e.raw(`,`)
		}
		first = false
		e.raw(`"` + f.Name + `":`)
		e.str(v)
	}
	e.raw(`}`)
}

// contentJSON returns EncodeContentJSON(c).
func contentJSON(c Content) []byte {
	var b bytes.Buffer
	EncodeContentJSON(&b, c) // a bytes.Buffer never fails to write
	return b.Bytes()
}

// jsonEncoder buffers the canonical JSON, flushing to w in 32 KB pieces.
type jsonEncoder struct {
	buf []byte
	w   io.Writer
	err error
}

func (e *jsonEncoder) raw(s string) {
	e.buf = append(e.buf, s...)
	if len(e.buf) >= 32<<10 {
		e.flush()
	}
}

func (e *jsonEncoder) flush() error {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

// member writes ,"key":"value".
func (e *jsonEncoder) member(key, value string) {
	e.raw(`,"` + key + `":`)
	e.str(value)
}

// num writes ,"key":n or ,"key":null.
func (e *jsonEncoder) num(key string, n *int64) {
	e.raw(`,"` + key + `":`)
	e.numVal(n)
}

func (e *jsonEncoder) numVal(n *int64) {
	if n == nil {
		e.raw("null")
		return
	}
	e.buf = strconv.AppendInt(e.buf, *n, 10)
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string, escaped as EncodeContentJSON documents.
func (e *jsonEncoder) str(s string) {
	b := append(e.buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
		case c < 0x80:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	e.buf = append(b, '"')
	if len(e.buf) >= 32<<10 {
		e.flush()
	}
}

// attachContent embeds c's canonical content in pdf as ContentFileName:
// an embedded file (in the catalog's /Names /EmbeddedFiles) of /Subtype
// application/json, whose file specification has /AFRelationship /Data
// and is listed in the catalog's /AF, as PDF/A-3 associated files are.
func attachContent(pdf *gofpdf.Fpdf, c Content) error {
	pdf.SetAttachments([]gofpdf.Attachment{{
		Content:      contentJSON(c),
		Filename:     ContentFileName,
		Description:  "itad certificate content (canonical JSON; its SHA-256 is the content hash)",
		MIMEType:     "application/json",
		Relationship: "Data",
	}})
	return pdf.Error()
}

// EmbeddedContent returns the content file (ContentFileName) that a PDF
// embeds, decompressed, as it is in the PDF's newest revision that holds
// it. Give it a signature's Unsigned bytes to read what was signed. It
// returns an error wrapping ErrNoEmbeddedContent when there is none, or
// ErrMalformedPDF when the PDF cannot be read.
func EmbeddedContent(pdf []byte) ([]byte, error) {
	sx, err := lastStartxref(pdf)
	if err != nil {
		return nil, err
	}
	f, err := loadPDF(pdf, sx)
	if err != nil {
		return nil, err
	}
	cat, err := f.dict(f.trailer.dict["Root"], "catalog", "Catalog")
	if err != nil {
		return nil, err
	}
	names, ok := cat.dict["Names"]
	if !ok {
		return nil, fmt.Errorf("%w: no /Names in the catalog", ErrNoEmbeddedContent)
	}
	nd, err := f.dict(names, "/Names", "")
	if err != nil {
		return nil, err
	}
	ef, ok := nd.dict["EmbeddedFiles"]
	if !ok {
		return nil, fmt.Errorf("%w: no /EmbeddedFiles", ErrNoEmbeddedContent)
	}
	tree, err := f.dict(ef, "/EmbeddedFiles", "")
	if err != nil {
		return nil, err
	}
	arr, err := f.resolve(tree.dict["Names"])
	if err != nil {
		return nil, err
	}
	if arr.kind != kArray || len(arr.arr)%2 != 0 {
		return nil, fmt.Errorf("%w: /EmbeddedFiles has no flat /Names array", ErrMalformedPDF)
	}
	var found *pdfValue
	for i := 1; i < len(arr.arr); i += 2 {
		spec, err := f.dict(arr.arr[i], "file specification", "Filespec")
		if err != nil {
			return nil, err
		}
		name := spec.dict["UF"]
		if name.kind != kString && name.kind != kHex {
			name = spec.dict["F"]
		}
		if decodeTextString(name.s) != ContentFileName {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: %s is embedded more than once", ErrMalformedPDF, ContentFileName)
		}
		found = &spec
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no embedded %s", ErrNoEmbeddedContent, ContentFileName)
	}
	efd, err := f.dict(found.dict["EF"], "/EF", "")
	if err != nil {
		return nil, err
	}
	ref := efd.dict["F"]
	if ref.kind != kRef || ref.i < 0 || ref.i > maxObjectNumber || ref.gen < 0 || ref.gen > 65535 {
		return nil, fmt.Errorf("%w: the embedded file is not an indirect stream", ErrMalformedPDF)
	}
	sd, isStream, pos, err := f.objectAt(pdfRef{int(ref.i), int(ref.gen)})
	if err != nil {
		return nil, err
	}
	if !isStream || sd.kind != kDict {
		return nil, fmt.Errorf("%w: the embedded file is not a stream", ErrMalformedPDF)
	}
	n := sd.dict["Length"]
	if n.kind != kInt || n.i < 0 {
		return nil, fmt.Errorf("%w: the embedded file has no direct /Length", ErrMalformedPDF)
	}
	// "stream" is followed by CRLF or LF, then /Length bytes.
	if pos < len(pdf) && pdf[pos] == '\r' {
		pos++
	}
	if pos >= len(pdf) || pdf[pos] != '\n' {
		return nil, fmt.Errorf("%w: no end of line after stream", ErrMalformedPDF)
	}
	pos++
	if n.i > int64(len(pdf)-pos) {
		return nil, fmt.Errorf("%w: the embedded file's /Length runs past the end", ErrMalformedPDF)
	}
	data := pdf[pos : pos+int(n.i)]
	switch flt := sd.dict["Filter"]; {
	case flt.kind == kNone:
		return append([]byte(nil), data...), nil
	case flt.kind == kName && flt.s == "FlateDecode":
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: the embedded file: %v", ErrMalformedPDF, err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxEmbeddedContent+1))
		if err != nil {
			return nil, fmt.Errorf("%w: the embedded file: %v", ErrMalformedPDF, err)
		}
		if len(out) > maxEmbeddedContent {
			return nil, fmt.Errorf("%w: the embedded file is larger than %d bytes", ErrMalformedPDF, maxEmbeddedContent)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: the embedded file has an unsupported /Filter", ErrMalformedPDF)
}

// decodeTextString decodes a PDF text string: UTF-16BE with a byte order
// mark, else PDFDocEncoding, taken here as Latin-1 (the names compared are
// ASCII).
func decodeTextString(s string) string {
	if len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		return string(utf16.Decode(u))
	}
	return s
}

// ErrContentEncoding: bytes that are not the canonical JSON of a content
// (ParseContentJSON).
var ErrContentEncoding = errors.New("not the canonical JSON of a certificate's content")

// contentDoc mirrors EncodeContentJSON's members for decoding.
type contentDoc struct {
	Format            string              `json:"format"`
	Version           int                 `json:"version"`
	Number            string              `json:"number"`
	IssuedAt          string              `json:"issued_at"`
	IssuedBy          string              `json:"issued_by"`
	SignerName        string              `json:"signer_name"`
	SignerFingerprint string              `json:"signer_fingerprint"`
	Kind              string              `json:"kind"`
	Subject           string              `json:"subject"`
	Org               string              `json:"org"`
	Destination       string              `json:"media_destination"`
	OrgLocation       string              `json:"org_location"`
	OrgPhone          string              `json:"org_phone"`
	Defaults          ledger.AppendixG    `json:"appendix_g_defaults"`
	Batch             *ledger.Batch       `json:"batch"`
	BatchAppG         ledger.AppendixG    `json:"batch_appendix_g"`
	Contractors       []ledger.Contractor `json:"contractors"`
	Items             []struct {
		Device   ledger.Device   `json:"device"`
		Disposal ledger.Disposal `json:"disposal"`
		Weight   struct {
			Grams  *int64 `json:"grams"`
			Source string `json:"source"`
		} `json:"weight"`
		AppG ledger.AppendixG `json:"appendix_g"`
	} `json:"items"`
	Evidence []ledger.CertificateEvidence `json:"evidence"`
}

// ParseContentJSON decodes the canonical JSON of a content (an embedded
// ContentFileName) strictly: it must re-encode (EncodeContentJSON) to
// exactly b, so that what it returns is what b's SHA-256 covers. It
// returns an error wrapping ErrContentEncoding otherwise.
func ParseContentJSON(b []byte) (Content, error) {
	var d contentDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Content{}, fmt.Errorf("%w: %v", ErrContentEncoding, err)
	}
	if d.Format != contentFormat || d.Version < 3 {
		return Content{}, fmt.Errorf("%w: format %q version %d", ErrContentEncoding, d.Format, d.Version)
	}
	at, err := time.Parse(ledger.TimeFormat, d.IssuedAt)
	if err != nil {
		return Content{}, fmt.Errorf("%w: issued_at: %v", ErrContentEncoding, err)
	}
	c := Content{Number: d.Number, IssuedAt: at, IssuedBy: d.IssuedBy, SignerName: d.SignerName,
		SignerFingerprint: d.SignerFingerprint, Version: d.Version,
		Data: ledger.CertificateData{Kind: d.Kind, Subject: d.Subject, Org: d.Org, Destination: d.Destination,
			OrgLocation: d.OrgLocation, OrgPhone: d.OrgPhone, Defaults: d.Defaults,
			Batch: d.Batch, BatchAppG: d.BatchAppG, Contractors: d.Contractors}}
	if len(d.Evidence) > 0 {
		c.Data.Evidence = d.Evidence
	}
	for _, it := range d.Items {
		c.Data.Items = append(c.Data.Items, ledger.CertificateItem{Device: it.Device, Disposal: it.Disposal,
			Weight: ledger.Weight{Grams: it.Weight.Grams, Source: it.Weight.Source}, AppG: it.AppG})
	}
	if !bytes.Equal(contentJSON(c), b) {
		return Content{}, fmt.Errorf("%w: the bytes are not in canonical form", ErrContentEncoding)
	}
	return c, nil
}
