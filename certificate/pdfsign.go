package certificate

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Errors returned by VerifyPDF (wrapped with details; test with errors.Is).
var (
	// ErrNotSigned: the PDF parses but its form holds no signed signature
	// field (or it has no form at all).
	ErrNotSigned = errors.New("pdf is not signed")
	// ErrSignatureInvalid: the signature does not match the signed bytes
	// (they were changed after signing) or is not a valid CMS signature.
	ErrSignatureInvalid = errors.New("signature is invalid")
	// ErrNotWholeFile: the signature is valid but bytes were added to the
	// file after signing; VerifyPDF also returns the signature it checked.
	ErrNotWholeFile = errors.New("signature does not cover the whole file")
	// ErrMalformedPDF: the file is not a PDF that this package can read,
	// or its signature dictionary is inconsistent.
	ErrMalformedPDF = errors.New("malformed pdf")
)

// SignOptions are the signer-supplied fields of a PDF signature dictionary.
// Name defaults to the signer certificate's common name and Time to the
// current time; Reason and Location are omitted when empty.
type SignOptions struct {
	Name, Reason, Location string
	Time                   time.Time
}

// PDFSignature is a PDF signature checked by VerifyPDF.
type PDFSignature struct {
	// Signer is the certificate whose key made the signature. VerifyPDF
	// does not decide whether it is trusted: compare it with the
	// certificates you trust by Fingerprint or public key, or verify its
	// chain; never by subject name alone, as the certificates embedded in
	// a CMS signature are not covered by it.
	Signer *x509.Certificate
	// Certificates are all the certificates embedded in the signature:
	// the signer's and its chain.
	Certificates []*x509.Certificate
	// SignedAt is the CMS signing time claimed by the signer (zero if the
	// signature has none). It is not a trusted timestamp.
	SignedAt time.Time
	// SignedLen is the offset where the signed revision ends, the end of
	// its /ByteRange. It equals the file's length unless VerifyPDF also
	// returned ErrNotWholeFile.
	SignedLen int
	// Unsigned is the document before the incremental update that added
	// the signature, byte for byte: the PDF that was given to SignPDF. It
	// is nil if the signature is in the file's first revision.
	Unsigned []byte
}

const (
	// contentsReserve is the number of bytes reserved for the DER CMS in
	// /Contents (written as twice as many hex digits). An ECDSA signature
	// with a self-signed certificate is under 1 KB, an RSA-4096 one with a
	// three-certificate chain about 5 KB; SignPDF grows the reserve if the
	// signer's certificates alone come close to it.
	contentsReserve = 8192
	// byteRangeWidth is the fixed width of the /ByteRange array: "[0 a b
	// c]" padded with spaces after the "]", room for files up to 10 GB.
	byteRangeWidth = 3 + 3*10 + 2 + 1
	// maxObjectNumber is the largest object number a PDF may use
	// (ISO 32000-1, Annex C).
	maxObjectNumber = 8388607
	// maxNesting bounds the nesting of arrays and dictionaries the parser
	// accepts, so that hostile input cannot exhaust the stack.
	maxNesting = 32
	// maxRevisions bounds the /Prev chain VerifyPDF follows.
	maxRevisions = 64
)

// SignPDF signs a finished PDF and returns the signed file: pdf itself,
// unchanged, followed by an incremental update (ISO 32000-1, 7.5.6) that
// adds an invisible signature field, with its signature over the whole
// resulting file except the signature itself.
//
// The input must be what gofpdf writes: a single revision with a classic
// cross-reference table, no encryption and no /AcroForm, ending with
// "startxref" EOL offset EOL "%%EOF" EOL. With the catalog object R, the
// first page P (generation numbers as in the input, 0 for gofpdf) and the
// trailer's /Size N, the update is, byte for byte:
//
//	R G obj\n<catalog dictionary as in the input, with "/AcroForm N 0 R"
//	         inserted before its closing ">>", after a LF unless white
//	         space precedes the ">>">\nendobj\n
//	P G obj\n<page dictionary as in the input, with "/Annots [N+1 0 R]"
//	         inserted in the same way, or " N+1 0 R" inserted before the
//	         "]" of an existing direct /Annots array>\nendobj\n
//	N 0 obj\n<</Fields [N+1 0 R] /SigFlags 3>>\nendobj\n
//	N+1 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1)
//	    /F 132 /Rect [0 0 0 0] /P P G R /V N+2 0 R>>\nendobj\n
//	N+2 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter
//	    /adbe.pkcs7.detached /ByteRange [0 a b c]<spaces to 36 bytes>
//	    /Contents <16384 hex digits, more for long certificate chains>
//	    /M (D:YYYYMMDDHHmmSSZ) /Name (...)
//	    [/Reason (...)] [/Location (...)]>>\nendobj\n
//	xref\n<subsections of 20-byte entries "oooooooooo ggggg n \n" for
//	    R, P, N, N+1, N+2, grouped into runs of consecutive numbers>
//	trailer\n<</Size N+3 /Root R G R [/Info ...] [/ID ...] /Prev X>>\n
//	startxref\n<offset of "xref">\n%%EOF\n
//
// (the dictionaries of objects N+1 and N+2 are on one line each; X is the
// input's startxref). SigFlags 3 means SignaturesExist|AppendOnly; /F 132
// is Print|Locked. /ByteRange [0 a b c] names the signed bytes: [0, a) and
// [b, b+c), where a is the offset of the "<" of /Contents, b the offset
// after its ">", and b+c the length of the file. /Contents holds the DER
// CMS SignedData (see detached.go: detached, SHA-256, signing time
// opts.Time, signer certificate and chain) over those bytes, hex-encoded in
// lowercase and padded with "0" digits. Name, Reason and Location are PDF
// text strings: literal strings with \, ( and ) escaped when printable
// ASCII, else UTF-16BE with a byte-order mark in hex.
//
// SignPDF returns an error wrapping ErrMalformedPDF if pdf is not of that
// shape, and an error if s cannot sign.
func SignPDF(pdf []byte, s *Signer, opts SignOptions) ([]byte, error) {
	if s == nil || s.Key == nil || s.Cert == nil {
		return nil, errors.New("sign pdf: signer has no key or certificate")
	}
	doc, err := parseUnsigned(pdf)
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	if opts.Name == "" {
		opts.Name = s.Cert.Subject.CommonName
	}
	// Reserve room for the CMS: the fixed reserve, or more if the
	// certificates it embeds are large (long RSA chains).
	reserve := contentsReserve
	certLen := len(s.Cert.Raw)
	for _, c := range s.Chain {
		certLen += len(c.Raw)
	}
	if certLen+2048 > reserve {
		reserve = certLen + 4096
	}

	// New object numbers start at the trailer's /Size.
	acroNum, widgetNum, sigNum := doc.size, doc.size+1, doc.size+2
	// The update is built in upd; base+upd.Len() is the offset in the
	// signed file of the next byte written, which the xref and
	// /ByteRange need.
	base := len(pdf)
	var upd bytes.Buffer
	offsets := map[int]int{} // object number -> file offset, for the xref
	gens := map[int]int{}    // object number -> generation
	begin := func(num, gen int) {
		offsets[num] = base + upd.Len()
		gens[num] = gen
		fmt.Fprintf(&upd, "%d %d obj\n", num, gen)
	}
	end := func() { upd.WriteString("\nendobj\n") }

	// 1. The catalog again, under its own number: its dictionary text with
	// /AcroForm added before the closing ">>".
	cat := doc.catalog
	begin(doc.root.num, doc.root.gen)
	upd.Write(pdf[cat.start : cat.end-2])
	newline(&upd, pdf[cat.end-3])
	fmt.Fprintf(&upd, "/AcroForm %d 0 R>>", acroNum)
	end()

	// 2. The first page again: the widget joins its annotations.
	page := doc.page
	begin(doc.pageRef.num, doc.pageRef.gen)
	if annots, ok := page.dict["Annots"]; ok {
		// A direct array: insert our reference before its "]".
		upd.Write(pdf[page.start : annots.end-1])
		fmt.Fprintf(&upd, " %d 0 R", widgetNum)
		upd.Write(pdf[annots.end-1 : page.end])
	} else {
		upd.Write(pdf[page.start : page.end-2])
		newline(&upd, pdf[page.end-3])
		fmt.Fprintf(&upd, "/Annots [%d 0 R]>>", widgetNum)
	}
	end()

	// 3. The interactive form: one field; SigFlags 3 =
	// SignaturesExist (1) | AppendOnly (2).
	begin(acroNum, 0)
	fmt.Fprintf(&upd, "<</Fields [%d 0 R] /SigFlags 3>>", widgetNum)
	end()

	// 4. The signature field merged with its widget annotation: an
	// invisible (zero-size) rectangle on page 1, flags Print (4) | Locked
	// (128), value the signature dictionary.
	begin(widgetNum, 0)
	fmt.Fprintf(&upd, "<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 132 /Rect [0 0 0 0] /P %d %d R /V %d 0 R>>",
		doc.pageRef.num, doc.pageRef.gen, sigNum)
	end()

	// 5. The signature dictionary with placeholders: a fixed-width
	// /ByteRange and a zero-filled /Contents, both patched below.
	begin(sigNum, 0)
	upd.WriteString("<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange ")
	brPos := base + upd.Len()
	upd.WriteString(padRight("[0 0 0 0]", byteRangeWidth))
	upd.WriteString(" /Contents ")
	contentsPos := base + upd.Len() // offset of "<": a
	upd.WriteByte('<')
	upd.Write(bytes.Repeat([]byte{'0'}, 2*reserve))
	upd.WriteByte('>')
	contentsEnd := base + upd.Len() // offset after ">": b
	fmt.Fprintf(&upd, " /M %s /Name %s", pdfDate(opts.Time), pdfTextString(opts.Name))
	if opts.Reason != "" {
		fmt.Fprintf(&upd, " /Reason %s", pdfTextString(opts.Reason))
	}
	if opts.Location != "" {
		fmt.Fprintf(&upd, " /Location %s", pdfTextString(opts.Location))
	}
	upd.WriteString(">>")
	end()

	// 6. The cross-reference section for the five objects: subsections of
	// consecutive object numbers, each "first count\n" and one 20-byte
	// entry per object (10-digit offset, space, 5-digit generation,
	// space, "n", space, LF).
	xrefPos := base + upd.Len()
	nums := make([]int, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	upd.WriteString("xref\n")
	for i := 0; i < len(nums); {
		j := i + 1
		for j < len(nums) && nums[j] == nums[j-1]+1 {
			j++
		}
		fmt.Fprintf(&upd, "%d %d\n", nums[i], j-i)
		for _, n := range nums[i:j] {
			fmt.Fprintf(&upd, "%010d %05d n \n", offsets[n], gens[n])
		}
		i = j
	}

	// 7. The trailer: /Prev links to the input's cross-reference section;
	// /Info and /ID are carried over verbatim.
	fmt.Fprintf(&upd, "trailer\n<</Size %d /Root %d %d R", sigNum+1, doc.root.num, doc.root.gen)
	if v, ok := doc.trailer.dict["Info"]; ok {
		upd.WriteString(" /Info ")
		upd.Write(pdf[v.start:v.end])
	}
	if v, ok := doc.trailer.dict["ID"]; ok {
		upd.WriteString(" /ID ")
		upd.Write(pdf[v.start:v.end])
	}
	fmt.Fprintf(&upd, " /Prev %d>>\nstartxref\n%d\n%%%%EOF\n", doc.startxref, xrefPos)

	out := make([]byte, 0, len(pdf)+upd.Len())
	out = append(out, pdf...)
	out = append(out, upd.Bytes()...)

	// 8. Patch /ByteRange: [0, a) and [b, end of file).
	a, b := contentsPos, contentsEnd
	br := fmt.Sprintf("[0 %d %d %d]", a, b, len(out)-b)
	if len(br) > byteRangeWidth {
		return nil, errors.New("sign pdf: file too large")
	}
	copy(out[brPos:], padRight(br, byteRangeWidth))

	// 9. Sign the two ranges, concatenated, and hex-write the CMS between
	// the angle brackets; the rest of the reserve stays "0".
	signed := make([]byte, 0, a+len(out)-b)
	signed = append(append(signed, out[:a]...), out[b:]...)
	// opts.Time is also the CMS signing time, so that VerifyPDF's
	// SignedAt is the time the caller recorded.
	der, err := signCMS(signed, s, opts.Time)
	if err != nil {
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	if len(der) > reserve {
		return nil, fmt.Errorf("sign pdf: signature of %d bytes exceeds the %d bytes reserved", len(der), reserve)
	}
	// hex.Encode writes 2*len(der) lowercase digits from just after "<";
	// the check above keeps them inside the reserve, before ">".
	hex.Encode(out[a+1:], der)
	return out, nil
}

// VerifyPDF checks the last signature of a PDF signed by SignPDF (or laid
// out the same way by another signer) and returns what it found.
//
// It reads the file's last cross-reference section and the ones before it
// (/Prev), follows the trailer's /Root to the catalog's /AcroForm and takes
// the last field of type /Sig with a value. Its signature dictionary must
// have /SubFilter /adbe.pkcs7.detached (or /ETSI.CAdES.detached) and a
// /ByteRange [0 a b c] where a and b are exactly the offsets of the "<" of
// its hex /Contents and just after the ">", and b+c ends a revision (its
// "%%EOF" line). /Contents must hold, in hex digits only, a DER CMS
// SignedData followed by zero bytes; the CMS must verify over [0, a) and
// [b, b+c) as verifyCMS requires (one signer, SHA-256, embedded signer
// certificate). Finally b+c must be the file's length.
//
// VerifyPDF does not decide whether the signer is trusted. It returns an
// error wrapping ErrMalformedPDF, ErrNotSigned or ErrSignatureInvalid, or,
// when everything holds except that bytes follow the signed revision,
// the signature together with an error wrapping ErrNotWholeFile. It does
// not panic on any input.
func VerifyPDF(pdf []byte) (*PDFSignature, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: no %%PDF- header", ErrMalformedPDF)
	}
	// Find the newest cross-reference section from the last
	// "startxref" in the file. Bytes appended after signing without a
	// "startxref" of their own leave it pointing at the signed revision,
	// so that they are reported as ErrNotWholeFile below; a full
	// incremental update appended later is read like any revision.
	sx, err := lastStartxref(pdf)
	if err != nil {
		return nil, err
	}
	f, err := loadPDF(pdf, sx)
	if err != nil {
		return nil, err
	}
	sig, err := f.lastSignature()
	if err != nil {
		return nil, err
	}

	// The signature dictionary: a detached CMS signature format.
	switch sub := sig.dict["SubFilter"]; {
	case sub.kind == kName && (sub.s == "adbe.pkcs7.detached" || sub.s == "ETSI.CAdES.detached"):
	default:
		return nil, fmt.Errorf("%w: unsupported signature /SubFilter", ErrMalformedPDF)
	}
	// /ByteRange: exactly four non-negative integers, the first 0.
	brv := sig.dict["ByteRange"]
	if brv.kind != kArray || len(brv.arr) != 4 {
		return nil, fmt.Errorf("%w: /ByteRange is not an array of 4 integers", ErrMalformedPDF)
	}
	var br [4]int64
	for i, v := range brv.arr {
		if v.kind != kInt || v.i < 0 || v.i > int64(len(pdf)) {
			return nil, fmt.Errorf("%w: /ByteRange element %d is out of range", ErrMalformedPDF, i)
		}
		br[i] = v.i
	}
	// /Contents: a hex string (the parser recorded where it starts and
	// ends in the file, which is what /ByteRange must agree with).
	contents := sig.dict["Contents"]
	if contents.kind != kHex {
		return nil, fmt.Errorf("%w: /Contents is not a hex string", ErrMalformedPDF)
	}
	// The gap between the two ranges must be exactly the /Contents value
	// of this dictionary, "<" hex ">", and nothing else: so every other
	// byte of the signed revision is signed.
	a, b := int(br[1]), int(br[2])
	if br[0] != 0 || a != contents.start || b != contents.end {
		return nil, fmt.Errorf("%w: /ByteRange does not exclude exactly the /Contents value", ErrMalformedPDF)
	}
	// Only hex digits between the brackets: the parser would skip white
	// space there, but unsigned bytes have no business in the gap.
	for _, c := range pdf[a+1 : b-1] {
		if hexVal(c) < 0 {
			return nil, fmt.Errorf("%w: /Contents holds non-hex bytes", ErrMalformedPDF)
		}
	}
	if br[2]+br[3] > int64(len(pdf)) {
		return nil, fmt.Errorf("%w: /ByteRange extends past the end of the file", ErrMalformedPDF)
	}
	// signedEnd may be less than len(pdf) (bytes appended after
	// signing): that is reported last, once the signature is known good.
	signedEnd := b + int(br[3])

	// The CMS: DER followed by zero padding.
	der, err := trimDER([]byte(contents.s))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	// The signed message is the concatenation of the two ranges.
	signed := make([]byte, 0, a+signedEnd-b)
	signed = append(append(signed, pdf[:a]...), pdf[b:signedEnd]...)
	res, err := verifyCMS(signed, der)
	if errors.Is(err, errCMSMalformed) {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	if err != nil {
		return nil, err
	}

	// The signed bytes are authentic from here on; find where the
	// document before the signing update ends.
	unsignedEnd, err := revisionBefore(pdf[:signedEnd], a)
	if err != nil {
		return nil, err
	}
	ps := &PDFSignature{
		Signer:       res.signer,
		Certificates: res.certs,
		SignedAt:     res.signedAt,
		SignedLen:    signedEnd,
	}
	if unsignedEnd > 0 {
		ps.Unsigned = pdf[:unsignedEnd:unsignedEnd]
	}
	if signedEnd != len(pdf) {
		return ps, fmt.Errorf("%w: %d bytes were added after the signed %d bytes", ErrNotWholeFile, len(pdf)-signedEnd, signedEnd)
	}
	return ps, nil
}

// trimDER returns the DER element at the start of b and checks that only
// zero bytes (the unused /Contents reserve) follow it.
func trimDER(b []byte) ([]byte, error) {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(b, &raw)
	if err != nil {
		return nil, fmt.Errorf("/Contents is not DER: %v", err)
	}
	for _, c := range rest {
		if c != 0 {
			return nil, errors.New("/Contents has data after the signature")
		}
	}
	return raw.FullBytes, nil
}

// revisionBefore returns the offset where the revision preceding the last
// one in signed ends, or 0 if signed has a single revision. signed must end
// exactly with a revision ("startxref" EOL offset EOL "%%EOF" EOL), whose
// trailer's /Prev names the previous cross-reference section; the previous
// revision ends after the "%%EOF" EOL that follows that section's trailer,
// and must end before contentsPos, inside the signed update.
func revisionBefore(signed []byte, contentsPos int) (int, error) {
	// The signing revision: its cross-reference section and trailer.
	sx, err := lastStartxref(signed)
	if err != nil {
		return 0, err
	}
	trailer, tend, err := parseXref(signed, sx, nil)
	if err != nil {
		return 0, err
	}
	if e, err := revisionEnd(signed, sx, tend); err != nil || e != len(signed) {
		return 0, fmt.Errorf("%w: the signed bytes do not end with a complete revision", ErrMalformedPDF)
	}
	// No /Prev: the signature was written with the document itself, and
	// there is no separate unsigned original to return.
	prev, ok := trailer.dict["Prev"]
	if !ok {
		return 0, nil
	}
	// The previous section must come before this one in the file.
	if prev.kind != kInt || prev.i < 0 || prev.i >= int64(sx) {
		return 0, fmt.Errorf("%w: bad /Prev", ErrMalformedPDF)
	}
	_, pend, err := parseXref(signed, int(prev.i), nil)
	if err != nil {
		return 0, err
	}
	// The previous revision ends with its own "startxref ... %%EOF"
	// lines; everything after them up to signed's end is the update.
	end, err := revisionEnd(signed, int(prev.i), pend)
	if err != nil {
		return 0, err
	}
	if end > contentsPos {
		return 0, fmt.Errorf("%w: the signature is not in the last revision", ErrMalformedPDF)
	}
	return end, nil
}

// newline writes a LF to w unless prev, the byte before, is white space.
func newline(w *bytes.Buffer, prev byte) {
	if !isWhite(prev) {
		w.WriteByte('\n')
	}
}

// padRight pads s with spaces to width bytes.
func padRight(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return s + strings.Repeat(" ", width-len(s))
}

// pdfDate formats t as a PDF date string in UTC (ISO 32000-1, 7.9.4):
// "(D:YYYYMMDDHHmmSSZ)".
func pdfDate(t time.Time) string {
	return "(D:" + t.UTC().Format("20060102150405") + "Z)"
}

// pdfTextString encodes s as a PDF text string (ISO 32000-1, 7.9.2.2):
// printable ASCII as a literal string with "\", "(" and ")" escaped;
// anything else as a hex string of UTF-16BE with the byte-order mark FE FF.
func pdfTextString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
		return "(" + r.Replace(s) + ")"
	}
	var sb strings.Builder
	sb.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&sb, "%04X", u)
	}
	sb.WriteString(">")
	return sb.String()
}

// ---------------------------------------------------------------------
// A strict reader for the subset of PDF that SignPDF and VerifyPDF need:
// classic cross-reference tables, trailers and indirect objects that are
// dictionaries (ISO 32000-1, 7.2 to 7.5). It never follows streams, object
// streams or cross-reference streams, and rejects what it does not know.
// Every offset it returns indexes the file it was given.
// ---------------------------------------------------------------------

// pdfKind is the type of a parsed PDF object.
type pdfKind uint8

const (
	kNone   pdfKind = iota // zero value: a missing dictionary entry
	kNull                  // null
	kBool                  // true, false
	kInt                   // 123, -4, +5
	kReal                  // 1.5, -.5 (value not kept)
	kName                  // /Name, s holds it decoded (#xx) without "/"
	kString                // (literal), s holds the decoded bytes
	kHex                   // <hex>, s holds the decoded bytes
	kArray                 // [ ... ], arr
	kDict                  // << ... >>, dict
	kRef                   // num gen R: i is num, gen gen
)

// pdfValue is a parsed PDF object and where it is: its text is
// b[start:end] of the parsed file.
type pdfValue struct {
	kind pdfKind
	// start is the offset of the value's first byte ("<" of "<<", "/"
	// of a name, the first digit of "12 0 R"), end the offset just after
	// its last byte (">" of ">>", "R").
	start, end int
	// i is an integer's value or a reference's object number; gen is a
	// reference's generation number.
	i, gen int64
	// s is a name without its "/" and with #xx decoded, a string's
	// bytes after escapes or hex decoding, or "true" or "false".
	s string
	// arr holds an array's elements, dict a dictionary's entries by key
	// (name without "/").
	arr  []pdfValue
	dict map[string]pdfValue
}

// pdfRef is an indirect reference: object number and generation.
type pdfRef struct{ num, gen int }

// pdfParser reads PDF tokens from b starting at pos. Its methods never
// index b without checking pos against len(b): they run on hostile input.
type pdfParser struct {
	b   []byte
	pos int
	// depth counts the arrays and dictionaries being parsed, to stop at
	// maxNesting instead of recursing without bound.
	depth int
}

// malformed returns an error wrapping ErrMalformedPDF at the parser's
// position.
func (p *pdfParser) malformed(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMalformedPDF, p.pos, fmt.Sprintf(format, args...))
}

// PDF white-space characters (7.2.2): NUL, TAB, LF, FF, CR, SP.
func isWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

// PDF delimiters (7.2.2).
func isDelim(c byte) bool {
	return strings.IndexByte("()<>[]{}/%", c) >= 0
}

// Regular characters make up names, numbers and keywords.
func isRegular(c byte) bool { return !isWhite(c) && !isDelim(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hexVal returns the value of a hex digit, or -1.
func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// skipWhite skips white space only.
func (p *pdfParser) skipWhite() {
	for p.pos < len(p.b) && isWhite(p.b[p.pos]) {
		p.pos++
	}
}

// skipSpace skips white space and comments ("%" to end of line), which
// the syntax treats alike between tokens.
func (p *pdfParser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case isWhite(c):
			p.pos++
		case c == '%':
			// A comment runs to the end of the line; the EOL itself is
			// white space, skipped on the next turn.
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		default:
			return
		}
	}
}

// token returns the run of regular characters at pos and moves past it.
func (p *pdfParser) token() string {
	start := p.pos
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		p.pos++
	}
	return string(p.b[start:p.pos])
}

// keyword consumes kw if it is the next token (followed by a non-regular
// character or the end of the input) and reports whether it did.
func (p *pdfParser) keyword(kw string) bool {
	if !bytes.HasPrefix(p.b[p.pos:], []byte(kw)) {
		return false
	}
	if e := p.pos + len(kw); e < len(p.b) && isRegular(p.b[e]) {
		return false
	}
	p.pos += len(kw)
	return true
}

// uint reads an unsigned decimal integer of at most 10 digits, the most
// any offset, object number or count needs here.
func (p *pdfParser) uint() (int, bool) {
	start := p.pos
	for p.pos < len(p.b) && isDigit(p.b[p.pos]) && p.pos-start < 11 {
		p.pos++
	}
	if p.pos == start || p.pos-start > 10 || (p.pos < len(p.b) && isRegular(p.b[p.pos])) {
		p.pos = start
		return 0, false
	}
	n, _ := strconv.Atoi(string(p.b[start:p.pos]))
	return n, true
}

// value parses one object at pos (after skipping space): a dictionary,
// array, string, name, number, indirect reference or keyword.
func (p *pdfParser) value() (pdfValue, error) {
	p.skipSpace()
	if p.pos >= len(p.b) {
		return pdfValue{}, p.malformed("unexpected end of file")
	}
	start := p.pos
	c := p.b[p.pos]
	// The first byte decides the kind of object (7.3): "<<" a
	// dictionary, "<" a hex string, "(" a literal string, "[" an array,
	// "/" a name, a digit, sign or "." a number (or the object number of a
	// reference), and any other regular character a keyword.
	switch {
	case c == '<' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '<':
		return p.dictionary()
	case c == '<':
		return p.hexString()
	case c == '(':
		return p.literalString()
	case c == '[':
		return p.array()
	case c == '/':
		p.pos++ // the name's bytes follow the "/" up to a delimiter
		name, err := p.name()
		if err != nil {
			return pdfValue{}, err
		}
		return pdfValue{kind: kName, start: start, end: p.pos, s: name}, nil
	case isDigit(c) || c == '+' || c == '-' || c == '.':
		return p.number()
	case isRegular(c):
		// Of the keywords only the three object keywords may stand
		// for a value; "endobj", "R" or "stream" here is malformed.
		switch tok := p.token(); tok {
		case "true", "false":
			return pdfValue{kind: kBool, start: start, end: p.pos, s: tok}, nil
		case "null":
			return pdfValue{kind: kNull, start: start, end: p.pos}, nil
		default:
			p.pos = start
			return pdfValue{}, p.malformed("unexpected keyword %.20q", tok)
		}
	}
	return pdfValue{}, p.malformed("unexpected %q", c)
}

// name decodes the regular characters after "/", with "#xx" hex escapes
// (7.3.5).
func (p *pdfParser) name() (string, error) {
	tok := p.token()
	if strings.IndexByte(tok, '#') < 0 {
		return tok, nil
	}
	var sb strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '#' {
			sb.WriteByte(tok[i])
			continue
		}
		// "#" must be followed by exactly two hex digits: "/A#20B" is
		// the name "A B".
		if i+2 >= len(tok) || hexVal(tok[i+1]) < 0 || hexVal(tok[i+2]) < 0 {
			return "", p.malformed("bad # escape in name")
		}
		sb.WriteByte(byte(hexVal(tok[i+1])<<4 | hexVal(tok[i+2])))
		i += 2
	}
	return sb.String(), nil
}

// number parses an integer or real (7.3.3), or an indirect reference
// "num gen R" (7.3.10) when an unsigned integer is followed by another
// and the keyword R.
func (p *pdfParser) number() (pdfValue, error) {
	start := p.pos
	// A number is one token: an optional sign, then digits with at most
	// one "." (no exponent; PDF has none).
	tok := p.token()
	body := strings.TrimLeft(tok, "+-")
	if len(tok)-len(body) > 1 || body == "" {
		return pdfValue{}, p.malformed("bad number %.20q", tok)
	}
	if dot := strings.IndexByte(body, '.'); dot >= 0 {
		// A real: digits with one ".", at least one digit.
		digits := body[:dot] + body[dot+1:]
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return pdfValue{}, p.malformed("bad number %.20q", tok)
		}
		return pdfValue{kind: kReal, start: start, end: p.pos}, nil
	}
	// An integer: ParseInt also rejects values beyond 64 bits.
	n, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || strings.Trim(body, "0123456789") != "" {
		return pdfValue{}, p.malformed("bad number %.20q", tok)
	}
	v := pdfValue{kind: kInt, start: start, end: p.pos, i: n}
	if len(tok) != len(body) {
		return v, nil // signed: not an object number
	}
	// Look ahead for "gen R"; if it is not there, the integer stands alone.
	save := p.pos
	p.skipSpace()
	if gen, ok := p.uint(); ok {
		p.skipSpace()
		if p.keyword("R") {
			return pdfValue{kind: kRef, start: start, end: p.pos, i: n, gen: int64(gen)}, nil
		}
	}
	p.pos = save
	return v, nil
}

// literalString parses "(...)" with balanced parentheses and backslash
// escapes (7.3.4.2).
func (p *pdfParser) literalString() (pdfValue, error) {
	start := p.pos
	p.pos++ // "("
	var out []byte
	// Unescaped parentheses must balance: "(a(b)c)" is the string
	// "a(b)c"; the string ends at the ")" that brings depth to 0.
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return pdfValue{kind: kString, start: start, end: p.pos, s: string(out)}, nil
			}
		case '\\':
			if p.pos >= len(p.b) {
				return pdfValue{}, p.malformed("unterminated string")
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r': // line continuation: backslash EOL is dropped
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if '0' <= e && e <= '7' {
					// One to three octal digits.
					v := int(e - '0')
					for k := 0; k < 2 && p.pos < len(p.b) && '0' <= p.b[p.pos] && p.b[p.pos] <= '7'; k++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e // \( \) \\ and unknown escapes: the character
				}
			}
		}
		out = append(out, c)
	}
	return pdfValue{}, p.malformed("unterminated string")
}

// hexString parses "<...>": hex digits and white space, an odd final digit
// completed with 0 (7.3.4.3).
func (p *pdfParser) hexString() (pdfValue, error) {
	start := p.pos
	p.pos++ // "<"
	var out []byte
	// half is the pending high nibble of the next byte, or -1.
	half := -1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		if c == '>' {
			if half >= 0 {
				out = append(out, byte(half<<4))
			}
			return pdfValue{kind: kHex, start: start, end: p.pos, s: string(out)}, nil
		}
		if isWhite(c) {
			continue
		}
		v := hexVal(c)
		if v < 0 {
			p.pos--
			return pdfValue{}, p.malformed("bad hex string")
		}
		if half < 0 {
			half = v
		} else {
			out = append(out, byte(half<<4|v))
			half = -1
		}
	}
	return pdfValue{}, p.malformed("unterminated hex string")
}

// array parses "[ values ]".
func (p *pdfParser) array() (pdfValue, error) {
	start := p.pos
	if p.depth++; p.depth > maxNesting {
		return pdfValue{}, p.malformed("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.pos++ // "["
	v := pdfValue{kind: kArray, start: start}
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return pdfValue{}, p.malformed("unterminated array")
		}
		if p.b[p.pos] == ']' {
			p.pos++
			v.end = p.pos
			return v, nil
		}
		e, err := p.value()
		if err != nil {
			return pdfValue{}, err
		}
		v.arr = append(v.arr, e)
	}
}

// dictionary parses "<< /Key value ... >>"; keys must be names and must
// not repeat.
func (p *pdfParser) dictionary() (pdfValue, error) {
	start := p.pos
	if p.depth++; p.depth > maxNesting {
		return pdfValue{}, p.malformed("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.pos += 2 // "<<"
	v := pdfValue{kind: kDict, start: start, dict: map[string]pdfValue{}}
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return pdfValue{}, p.malformed("unterminated dictionary")
		}
		if p.b[p.pos] == '>' {
			if p.pos+1 >= len(p.b) || p.b[p.pos+1] != '>' {
				return pdfValue{}, p.malformed("bad dictionary end")
			}
			p.pos += 2
			v.end = p.pos
			return v, nil
		}
		if p.b[p.pos] != '/' {
			return pdfValue{}, p.malformed("dictionary key is not a name")
		}
		p.pos++
		key, err := p.name()
		if err != nil {
			return pdfValue{}, err
		}
		// A repeated key is undefined behaviour among readers (first or
		// last wins): reject it rather than guess as another reader.
		if _, dup := v.dict[key]; dup {
			return pdfValue{}, p.malformed("duplicate key /%s", key)
		}
		val, err := p.value()
		if err != nil {
			return pdfValue{}, err
		}
		v.dict[key] = val
	}
}

// xrefEntry locates an in-use object.
type xrefEntry struct{ off, gen int }

// parseXref parses the classic cross-reference section at off and its
// trailer (7.5.4, 7.5.5):
//
//	"xref" EOL
//	one or more subsections: first SP count EOL, then count entries of
//	    exactly 20 bytes: 10-digit offset SP 5-digit generation SP
//	    "n" (in use) or "f" (free), then a 2-byte EOL (SP LF, SP CR or CR LF)
//	"trailer" white space, a dictionary
//
// In-use entries are added to objs unless the object is there already (so
// that walking from the newest section to the oldest keeps the newest); objs
// may be nil. It returns the trailer and the offset just after it.
func parseXref(b []byte, off int, objs map[int]xrefEntry) (pdfValue, int, error) {
	p := &pdfParser{b: b, pos: off}
	// off comes from a startxref or /Prev: it must point at the keyword.
	if off < 0 || off >= len(b) || !p.keyword("xref") {
		return pdfValue{}, 0, p.malformed("no xref table at startxref offset")
	}
	p.skipWhite()
	for !p.keyword("trailer") {
		// Subsection header: "first count", e.g. "0 10" or "3 1".
		first, ok1 := p.uint()
		if p.pos < len(p.b) && p.b[p.pos] == ' ' {
			p.pos++
		}
		count, ok2 := p.uint()
		if !ok1 || !ok2 || first+count > maxObjectNumber+1 {
			return pdfValue{}, 0, p.malformed("bad xref subsection header")
		}
		p.skipWhite()
		// Entries are fixed-width, so the whole subsection must fit in
		// what is left of the file: this bounds the loop below by the
		// input's size whatever count claims.
		if count > (len(b)-p.pos)/20 {
			return pdfValue{}, 0, p.malformed("xref subsection runs past the end of the file")
		}
		for k := 0; k < count; k++ {
			e := b[p.pos : p.pos+20]
			offset, gen, inUse, ok := parseXrefEntry(e)
			if !ok {
				return pdfValue{}, 0, p.malformed("bad xref entry")
			}
			num := first + k
			if inUse {
				// Object 0 is always the head of the free list; an
				// in-use object must start inside the file.
				if num == 0 || offset >= len(b) {
					return pdfValue{}, 0, p.malformed("bad xref entry for object %d", num)
				}
				if _, seen := objs[num]; !seen && objs != nil {
					objs[num] = xrefEntry{off: offset, gen: gen}
				}
			}
			p.pos += 20
		}
	}
	trailer, err := p.value()
	if err != nil {
		return pdfValue{}, 0, err
	}
	if trailer.kind != kDict {
		return pdfValue{}, 0, p.malformed("trailer is not a dictionary")
	}
	return trailer, p.pos, nil
}

// parseXrefEntry parses one 20-byte entry "oooooooooo ggggg n \n".
func parseXrefEntry(e []byte) (off, gen int, inUse, ok bool) {
	if len(e) != 20 || e[10] != ' ' || e[16] != ' ' || (e[17] != 'n' && e[17] != 'f') {
		return 0, 0, false, false
	}
	eol := string(e[18:20])
	if eol != " \n" && eol != " \r" && eol != "\r\n" {
		return 0, 0, false, false
	}
	for i, c := range e[:16] {
		if i != 10 && !isDigit(c) {
			return 0, 0, false, false
		}
	}
	off, _ = strconv.Atoi(string(e[:10]))
	gen, _ = strconv.Atoi(string(e[11:16]))
	return off, gen, e[17] == 'n', true
}

// revisionEnd checks that the trailer of the section at xrefOff, ending at
// trailerEnd, is followed by white space, "startxref", EOL, the decimal
// xrefOff, EOL, "%%EOF" and one EOL (LF, CR LF or CR), and returns the
// offset after that EOL: where the revision ends.
func revisionEnd(b []byte, xrefOff, trailerEnd int) (int, error) {
	p := &pdfParser{b: b, pos: trailerEnd}
	// Only white space, not comments, may come between: "%%EOF" is
	// itself a comment and must be found, not skipped.
	p.skipWhite()
	if !p.keyword("startxref") {
		return 0, p.malformed("no startxref after trailer")
	}
	p.skipWhite()
	if n, ok := p.uint(); !ok || n != xrefOff {
		return 0, p.malformed("startxref does not point to its xref table")
	}
	p.skipWhite()
	if !bytes.HasPrefix(b[p.pos:], []byte("%%EOF")) {
		return 0, p.malformed("no %%%%EOF after startxref")
	}
	p.pos += 5
	switch {
	case bytes.HasPrefix(b[p.pos:], []byte("\r\n")):
		p.pos += 2
	case bytes.HasPrefix(b[p.pos:], []byte("\n")), bytes.HasPrefix(b[p.pos:], []byte("\r")):
		p.pos++
	default:
		return 0, p.malformed("no end of line after %%%%EOF")
	}
	return p.pos, nil
}

// lastStartxref returns the offset written after the last "startxref"
// keyword in b.
func lastStartxref(b []byte) (int, error) {
	// Readers search backwards from the end of the file (7.5.5); the last
	// occurrence is the newest revision's, unless bytes were appended.
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no startxref", ErrMalformedPDF)
	}
	p := &pdfParser{b: b, pos: i + len("startxref")}
	p.skipWhite()
	n, ok := p.uint()
	if !ok || n >= len(b) {
		return 0, p.malformed("bad startxref offset")
	}
	return n, nil
}

// pdfFile is a PDF's object index: its newest trailer and, for each object
// number, the newest in-use cross-reference entry.
type pdfFile struct {
	b       []byte
	trailer pdfValue
	objs    map[int]xrefEntry
}

// loadPDF reads the cross-reference section at startxref and those before
// it through /Prev, newest first.
func loadPDF(b []byte, startxref int) (*pdfFile, error) {
	f := &pdfFile{b: b, objs: map[int]xrefEntry{}}
	// Each /Prev must name a section not yet read: a loop (or a chain
	// longer than maxRevisions) is malformed, not a hang.
	seen := map[int]bool{}
	for off, n := startxref, 0; ; n++ {
		if n >= maxRevisions || seen[off] {
			return nil, fmt.Errorf("%w: /Prev chain loops or is too long", ErrMalformedPDF)
		}
		seen[off] = true
		trailer, _, err := parseXref(b, off, f.objs)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			f.trailer = trailer
		}
		if _, ok := trailer.dict["XRefStm"]; ok {
			return nil, fmt.Errorf("%w: hybrid cross-reference streams are not supported", ErrMalformedPDF)
		}
		prev, ok := trailer.dict["Prev"]
		if !ok {
			return f, nil
		}
		if prev.kind != kInt || prev.i < 0 || prev.i >= int64(len(b)) {
			return nil, fmt.Errorf("%w: bad /Prev", ErrMalformedPDF)
		}
		off = int(prev.i)
	}
}

// object parses the indirect object ref: "num gen obj" value, then
// "endobj" (or "stream", whose data is not read). It returns the value
// and whether a stream follows.
func (f *pdfFile) object(ref pdfRef) (pdfValue, bool, error) {
	v, stream, _, err := f.objectAt(ref)
	return v, stream, err
}

// objectAt is object, also returning the offset just after the "stream"
// keyword when a stream follows.
func (f *pdfFile) objectAt(ref pdfRef) (pdfValue, bool, int, error) {
	e, ok := f.objs[ref.num]
	if !ok || e.gen != ref.gen {
		return pdfValue{}, false, 0, fmt.Errorf("%w: object %d %d is not in the xref table", ErrMalformedPDF, ref.num, ref.gen)
	}
	// The entry must point at the object's own header, "num gen obj":
	// a shifted offset is malformed rather than silently resynchronised.
	p := &pdfParser{b: f.b, pos: e.off}
	num, ok1 := p.uint()
	p.skipWhite()
	gen, ok2 := p.uint()
	p.skipWhite()
	if !ok1 || !ok2 || num != ref.num || gen != ref.gen || !p.keyword("obj") {
		return pdfValue{}, false, 0, p.malformed("xref entry for object %d does not point to it", ref.num)
	}
	v, err := p.value()
	if err != nil {
		return pdfValue{}, false, 0, err
	}
	// A dictionary is followed by "endobj", or by "stream" when it is a
	// stream's dictionary; the stream data itself is never read.
	p.skipSpace()
	switch {
	case p.keyword("endobj"):
		return v, false, 0, nil
	case p.keyword("stream"):
		return v, true, p.pos, nil
	}
	return pdfValue{}, false, 0, p.malformed("object %d: no endobj", ref.num)
}

// resolve returns v, or the object it refers to if it is a reference.
func (f *pdfFile) resolve(v pdfValue) (pdfValue, error) {
	if v.kind != kRef {
		return v, nil
	}
	if v.i < 0 || v.i > maxObjectNumber || v.gen < 0 || v.gen > 65535 {
		return pdfValue{}, fmt.Errorf("%w: bad reference", ErrMalformedPDF)
	}
	o, _, err := f.object(pdfRef{int(v.i), int(v.gen)})
	return o, err
}

// dict resolves v and requires a dictionary, with /Type typ if typ is not
// empty.
func (f *pdfFile) dict(v pdfValue, what, typ string) (pdfValue, error) {
	d, err := f.resolve(v)
	if err != nil {
		return pdfValue{}, err
	}
	if d.kind != kDict {
		return pdfValue{}, fmt.Errorf("%w: %s is not a dictionary", ErrMalformedPDF, what)
	}
	if t := d.dict["Type"]; typ != "" && (t.kind != kName || t.s != typ) {
		return pdfValue{}, fmt.Errorf("%w: %s is not of /Type /%s", ErrMalformedPDF, what, typ)
	}
	return d, nil
}

// lastSignature returns the signature dictionary (the /V) of the last
// signed /Sig field of the catalog's /AcroForm, or ErrNotSigned.
func (f *pdfFile) lastSignature() (pdfValue, error) {
	cat, err := f.dict(f.trailer.dict["Root"], "catalog", "Catalog")
	if err != nil {
		return pdfValue{}, err
	}
	af, ok := cat.dict["AcroForm"]
	if !ok {
		return pdfValue{}, ErrNotSigned
	}
	form, err := f.dict(af, "/AcroForm", "")
	if err != nil {
		return pdfValue{}, err
	}
	fields, err := f.resolve(form.dict["Fields"])
	if err != nil {
		return pdfValue{}, err
	}
	if fields.kind != kArray {
		return pdfValue{}, fmt.Errorf("%w: /Fields is not an array", ErrMalformedPDF)
	}
	// Fields are usually references to field dictionaries; only
	// terminal signature fields with a value (/V, the signature
	// dictionary) count, and the last one wins. Hierarchical fields
	// (/Kids) are not followed: SignPDF writes none.
	var sig pdfValue
	for _, fv := range fields.arr {
		field, err := f.dict(fv, "form field", "")
		if err != nil {
			return pdfValue{}, err
		}
		ft := field.dict["FT"]
		v, ok := field.dict["V"]
		if ft.kind != kName || ft.s != "Sig" || !ok || v.kind == kNull {
			continue
		}
		if sig, err = f.dict(v, "signature", ""); err != nil {
			return pdfValue{}, err
		}
	}
	if sig.kind == kNone {
		return pdfValue{}, ErrNotSigned
	}
	return sig, nil
}

// unsignedPDF is what SignPDF needs of its input.
type unsignedPDF struct {
	startxref int      // offset of the only xref section
	size      int      // trailer /Size: the first free object number
	trailer   pdfValue // the trailer dictionary
	root      pdfRef   // the catalog
	catalog   pdfValue // its dictionary
	pageRef   pdfRef   // the first page
	page      pdfValue // its dictionary
}

// parseUnsigned checks that pdf is a single-revision, unencrypted PDF
// with a classic cross-reference table that ends exactly with its
// "%%EOF" line and has no form yet, and finds its catalog and first page.
func parseUnsigned(pdf []byte) (*unsignedPDF, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) {
		return nil, fmt.Errorf("%w: no %%PDF-1.x header", ErrMalformedPDF)
	}
	sx, err := lastStartxref(pdf)
	if err != nil {
		return nil, err
	}
	f := &pdfFile{b: pdf, objs: map[int]xrefEntry{}}
	trailer, tend, err := parseXref(pdf, sx, f.objs)
	if err != nil {
		return nil, err
	}
	f.trailer = trailer
	// The file must end exactly where its revision ends: the update is
	// appended right there, and VerifyPDF finds the original's end again
	// as the end of the revision that /Prev names.
	if end, err := revisionEnd(pdf, sx, tend); err != nil {
		return nil, err
	} else if end != len(pdf) {
		return nil, fmt.Errorf("%w: data after %%%%EOF", ErrMalformedPDF)
	}
	// One revision only (no /Prev): Unsigned is then the whole input. No
	// encryption: the strings SignPDF writes would have to be encrypted.
	// No cross-reference streams: this reader does not decode streams.
	for _, k := range []string{"Prev", "Encrypt", "XRefStm"} {
		if _, ok := trailer.dict[k]; ok {
			return nil, fmt.Errorf("%w: trailer has /%s: only single-revision unencrypted PDFs can be signed", ErrMalformedPDF, k)
		}
	}
	u := &unsignedPDF{startxref: sx, trailer: trailer}
	// /Size is one more than the highest object number: SignPDF numbers
	// its new objects from it, so no existing object may be at or above.
	size := trailer.dict["Size"]
	if size.kind != kInt || size.i < 1 || size.i > maxObjectNumber-3 {
		return nil, fmt.Errorf("%w: bad trailer /Size", ErrMalformedPDF)
	}
	u.size = int(size.i)
	for n := range f.objs {
		if n >= u.size {
			return nil, fmt.Errorf("%w: object %d is beyond /Size", ErrMalformedPDF, n)
		}
	}
	// The catalog, rewritten by SignPDF: a plain dictionary object.
	root := trailer.dict["Root"]
	if root.kind != kRef {
		return nil, fmt.Errorf("%w: trailer /Root is not a reference", ErrMalformedPDF)
	}
	u.root = pdfRef{int(root.i), int(root.gen)}
	if u.catalog, err = f.dict(root, "catalog", "Catalog"); err != nil {
		return nil, err
	}
	if _, ok := u.catalog.dict["AcroForm"]; ok {
		return nil, fmt.Errorf("%w: the PDF already has a form", ErrMalformedPDF)
	}
	// The first page: follow the first kid down the page tree. gofpdf
	// writes a flat tree (the root's /Kids are the pages), but a nested
	// one is walked too, down to maxNesting levels.
	node, err := f.dict(u.catalog.dict["Pages"], "page tree", "Pages")
	if err != nil {
		return nil, err
	}
	for depth := 0; ; depth++ {
		kids := node.dict["Kids"]
		if depth >= maxNesting || kids.kind != kArray || len(kids.arr) == 0 || kids.arr[0].kind != kRef {
			return nil, fmt.Errorf("%w: bad page tree", ErrMalformedPDF)
		}
		kid := kids.arr[0]
		if node, err = f.dict(kid, "page tree node", ""); err != nil {
			return nil, err
		}
		if t := node.dict["Type"]; t.kind == kName && t.s == "Page" {
			u.pageRef, u.page = pdfRef{int(kid.i), int(kid.gen)}, node
			break
		}
	}
	// SignPDF adds its widget to the page's own /Annots text; an /Annots
	// held in a separate array object would need that object rewritten.
	if a, ok := u.page.dict["Annots"]; ok && a.kind != kArray {
		return nil, fmt.Errorf("%w: page /Annots is not a direct array", ErrMalformedPDF)
	}
	// Both rewritten objects must be plain dictionaries, not streams.
	for _, r := range []pdfRef{u.root, u.pageRef} {
		if _, stream, err := f.object(r); err != nil {
			return nil, err
		} else if stream {
			return nil, fmt.Errorf("%w: object %d is a stream", ErrMalformedPDF, r.num)
		}
	}
	return u, nil
}
