package certificate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/ledger"
)

// Layout 3: layouts that never cut, and NIST SP 800-88 Appendix G complete.
//
// Every text is written whole: a value too wide for its place wraps onto
// more lines (the row grows), breaking after a space, "-", "_", "/", ".",
// ",", ";" or ":", and at a fixed width inside a word that has none (a
// long serial); no text is shrunk or truncated. The attestation,
// validation and electronic signature blocks are kept on one page (moved
// whole to the next when they do not fit). A batch whose schedule fits on
// the front page with those blocks prints it there, so that a one-device
// batch certificate is one page. Capacities, types, weights and dates are
// written by ledger's formatters (ledger/format.go), as in the annual
// report.

// cellHook, when not nil, is told of every line of text layout 3 writes:
// the text as written (UTF-8, in the embedded Go fonts), its width in the
// font it is written in (the font's own glyph widths), and the width of
// the place it is written in less the cell margins.
// Tests use it to prove that no text overflows its column.
var cellHook func(text string, width, avail float64)

// put writes one line of text (already encoded by r.tr) in a cell of
// width w at the current position; the caller has made it fit (lines).
func (r *renderer) put(w, h float64, s, align string, ln int) {
	pdf := r.pdf
	if cellHook != nil {
		cellHook(s, pdf.GetStringWidth(s), w-2*pdf.GetCellMargin())
	}
	pdf.CellFormat(w, h, s, "", ln, align, false, 0, "")
}

// lines breaks text (UTF-8) into the lines that fit a cell of width w in
// the current font, encoded by r.tr.
func (r *renderer) lines(s string, w float64) []string {
	return breakLines(r.pdf, r.tr(s), w-2*r.pdf.GetCellMargin())
}

// text3 writes s in a cell of width w at (x, y), wrapped onto lines of
// pitch lh; it returns the height used.
func (r *renderer) text3(x, y, w, lh float64, s, align string) float64 {
	ls := r.lines(s, w)
	for i, l := range ls {
		r.pdf.SetXY(x, y+float64(i)*lh)
		r.put(w, lh, l, align, 0)
	}
	return float64(len(ls)) * lh
}

// breakLines breaks s (UTF-8) into lines no wider than w, measured in the
// current font (gofpdf measures a UTF-8 font by character):
// at newlines, after spaces and the punctuation identifiers break at
// (- _ / . , ; :, but not a "." or "," followed by a digit, as in
// 1,380.000, nor a "-" within a date), and at a fixed width within a word that is wider than w on
// its own, between characters (never inside one's UTF-8 bytes). The
// break characters are ASCII, which never occur inside a multi-byte UTF-8
// character, so scanning bytes for them is safe. Spaces at the end of a
// line are dropped.
func breakLines(pdf *gofpdf.Fpdf, s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, breakPara(pdf, para, w)...)
	}
	return out
}

func breakPara(pdf *gofpdf.Fpdf, s string, w float64) []string {
	s = strings.TrimRight(s, " ")
	if pdf.GetStringWidth(s) <= w {
		return []string{s}
	}
	var lines []string
	cur := ""
	start := 0
	flush := func() {
		if c := strings.TrimRight(cur, " "); c != "" {
			lines = append(lines, c)
		}
		cur = ""
	}
	add := func(tok string) {
		if cur != "" && pdf.GetStringWidth(strings.TrimRight(cur+tok, " ")) > w {
			flush()
		}
		if cur == "" {
			tok = strings.TrimLeft(tok, " ")
		}
		cur += tok
		// A word wider than the line on its own is cut where it fills it.
		for pdf.GetStringWidth(strings.TrimRight(cur, " ")) > w {
			n := fitPrefix(pdf, cur, w)
			lines = append(lines, cur[:n])
			cur = cur[n:]
		}
	}
	dates := isoDate.FindAllStringIndex(s, -1)
	inDate := func(i int) bool {
		for _, d := range dates {
			if i >= d[0] && i < d[1] {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			if inDate(i) {
				continue // a date stays whole: 2021-03-04
			}
			add(s[start : i+1])
			start = i + 1
		case '.', ',':
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				continue // within a number: 1,380.000
			}
			fallthrough
		case ' ', '_', '/', ';', ':':
			add(s[start : i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		add(s[start:])
	}
	flush()
	if len(lines) == 0 {
		return []string{""}
	}
	return lines
}

// isoDate matches an ISO 8601 date, which breakLines keeps whole.
var isoDate = regexp.MustCompile(`\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b`)

// fitPrefix returns the length in bytes of the longest prefix of s (UTF-8)
// no wider than w, at least one character; s is cut between characters.
func fitPrefix(pdf *gofpdf.Fpdf, s string, w float64) int {
	n, best := 0, 0
	for n < len(s) {
		_, size := utf8.DecodeRuneInString(s[n:])
		if best > 0 && pdf.GetStringWidth(s[:n+size]) > w {
			break
		}
		n += size
		best = n
	}
	return best
}

// ---- page furniture ----

func (r *renderer) header3() {
	pdf := r.pdf
	r.fill(navy)
	pdf.Rect(0, 0, pageW, bandH, "F")
	r.fill(accent)
	pdf.Rect(0, bandH, pageW, 1.1, "F")
	r.text(white)
	const leftW = 108.0
	// The organisation's name: 15 pt, smaller (not below 9 pt) to fit two
	// lines, and wrapped onto as many as it needs below that.
	size := 15.0
	pdf.SetFont(r.sans, "B", size)
	for len(r.lines(r.c.Data.Org, leftW)) > 1 && size > 9 {
		size -= 0.5
		pdf.SetFontSize(size)
		if len(r.lines(r.c.Data.Org, leftW)) <= 2 && size <= 11 {
			break
		}
	}
	lh := 7.0 // one line at 15 pt, placed as layout 2 placed it
	if size < 15 {
		lh = size * 0.42
	}
	y := r.text3(marginX, 5.5, leftW, lh, r.c.Data.Org, "L") + 5.5
	y = max(y, 12.5)
	pdf.SetFont(r.sans, "", 11.5)
	title := r.title
	if pdf.PageNo() > 1 {
		title += " (continued)"
	}
	y += r.text3(marginX, y, leftW, 5.2, title, "L")
	pdf.SetFont(r.sans, "", 7)
	r.text3(marginX, y+0.8, leftW, 3.5, "Following the sample certificate of NIST SP 800-88 Rev. 1, Appendix G", "L")
	const rightW = 70.0 // the number in Go Bold 9 pt is 64.1 mm wide
	pdf.SetXY(pageW-marginX-rightW, 6)
	r.put(rightW, 3.5, "Certificate number", "R", 0)
	pdf.SetFont(r.sans, "B", 9)
	pdf.SetXY(pageW-marginX-rightW, 9.5)
	r.put(rightW, 4, r.c.Number, "R", 0)
	pdf.SetFont(r.sans, "", 7)
	pdf.SetXY(pageW-marginX-rightW, 15)
	r.put(rightW, 3.5, "Date of issue", "R", 0)
	pdf.SetFont(r.sans, "B", 8)
	pdf.SetXY(pageW-marginX-rightW, 18.5)
	r.put(rightW, 4, issueTime(r.c.IssuedAt), "R", 0)
	r.text(black)
	pdf.SetXY(marginX, bodyTop)
}

func (r *renderer) footer3() {
	pdf := r.pdf
	r.draw(rule)
	pdf.SetLineWidth(0.3)
	pdf.Line(marginX, footerY, pageW-marginX, footerY)
	r.text(grey)
	pdf.SetFont(r.sans, "B", 7)
	pdf.SetXY(pageW-marginX-25, footerY+1.2)
	r.put(25, 3.5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "R", 0)
	pdf.SetFont(r.sans, "", 6.5)
	// Title and number on the first line, the organisation and signer on
	// the next (wrapped, as everything is, when they are long), the
	// signing key on a line of its own (so it is never split).
	y := footerY + 1.2
	y += r.text3(marginX, y, bodyW-26, 3.2, r.title+"  \u00b7  No. "+r.c.Number, "L")
	y += r.text3(marginX, y, bodyW-26, 3.2, r.c.Data.Org+"  \u00b7  digitally signed by "+r.c.SignerName, "L")
	r.text3(marginX, y, bodyW, 3.2, "Signing key SHA-256 "+group(r.c.SignerFingerprint), "L")
	r.text(black)
}

// section3 is sectionW with every text written whole.
func (r *renderer) section3(title string, need, w float64) {
	pdf := r.pdf
	r.ensure(need + 8)
	if pdf.GetY() > bodyTop+1 {
		pdf.SetY(pdf.GetY() + 2)
	}
	r.text(navy)
	pdf.SetFont(r.sans, "B", 10)
	y := pdf.GetY()
	y += r.text3(marginX, y, w, 4.8, title, "L")
	r.draw(navy)
	pdf.SetLineWidth(0.35)
	pdf.Line(marginX, y, marginX+w, y)
	pdf.SetY(y + 0.3)
	r.text(black)
}

// sectionH is the height section3 takes (after its gap).
const sectionH = 2 + 4.8 + 0.3

// kv3 is a label and value of a layout 3 grid row. An empty value prints
// none, "not recorded" when none is "".
type kv3 struct {
	label, value string
	mono         bool
	none         string
}

func kvv(label, value string) kv3 { return kv3{label: label, value: value} }

const (
	labelW3 = 34.0
	lh3     = 3.6 // line pitch of grid values
	pad3    = 0.2 // above and below a row's text
)

// cellStyle is how a grid value is drawn.
type cellStyle struct {
	text, font, style string
	size              float64
	colour            [3]int
}

func (r *renderer) styleOf(c kv3) cellStyle {
	switch {
	case c.value == "":
		none := c.none
		if none == "" {
			none = "not recorded"
		}
		return cellStyle{text: none, font: r.sans, style: "I", size: 8.5, colour: grey}
	case c.mono:
		return cellStyle{text: c.value, font: r.mono, size: 7.8, colour: black}
	}
	return cellStyle{text: c.value, font: r.sans, size: 9, colour: black}
}

// cols3 returns the x offset, label width and value width of each of n
// equal columns of a grid of width w.
func cols3(w float64, n int) (colW float64) { return w / float64(n) }

// rowHeight3 is the height row3 gives the cells.
func (r *renderer) rowHeight3(w float64, cells ...kv3) float64 {
	pdf := r.pdf
	colW := cols3(w, len(cells))
	h := lh3
	for _, c := range cells {
		pdf.SetFont(r.sans, "", 7.5)
		h = max(h, float64(len(r.lines(c.label, labelW3)))*lh3)
		st := r.styleOf(c)
		pdf.SetFont(st.font, st.style, st.size)
		h = max(h, float64(len(r.lines(st.text, colW-labelW3-1)))*lh3)
	}
	return h + 2*pad3
}

// row3 draws one row of a label/value grid of total width w, one equal
// column a cell, wrapping labels and values, with a hairline under it. The
// row never splits across pages.
func (r *renderer) row3(w float64, cells ...kv3) {
	pdf := r.pdf
	h := r.rowHeight3(w, cells...)
	r.ensure(h)
	colW := cols3(w, len(cells))
	y := pdf.GetY() + pad3
	for i, c := range cells {
		x := marginX + float64(i)*colW
		r.text(grey)
		pdf.SetFont(r.sans, "", 7.5)
		r.text3(x, y, labelW3, lh3, c.label, "L")
		st := r.styleOf(c)
		r.text(st.colour)
		pdf.SetFont(st.font, st.style, st.size)
		r.text3(x+labelW3, y, colW-labelW3-1, lh3, st.text, "L")
	}
	r.text(black)
	y += h - pad3
	r.draw(rule)
	pdf.SetLineWidth(0.15)
	pdf.Line(marginX, y, marginX+w, y)
	pdf.SetY(y)
}

// paragraph3 is paragraph with every line written through put.
func (r *renderer) paragraph3(s string) {
	pdf := r.pdf
	const lh = 4.4
	pdf.SetFont(r.sans, "", 9)
	lines := r.lines(s, bodyW-8)
	h := float64(len(lines))*lh + 4
	r.ensure(h + 2)
	y := pdf.GetY() + 2
	r.fill(tint)
	pdf.Rect(marginX, y, bodyW, h, "F")
	r.fill(navy)
	pdf.Rect(marginX, y, 1.2, h, "F")
	r.text(black)
	for i, l := range lines {
		pdf.SetXY(marginX+4, y+2+float64(i)*lh)
		r.put(bodyW-8, lh, l, "L", 0)
	}
	pdf.SetY(y + h)
}

// ---- the attestation, validation and signature blocks ----

// box3 is one of the two side-by-side boxes: a heading, a role, and rows.
type box3 struct {
	heading, role string
	rows          []kv3
}

const (
	boxLabelW = 21.0
	boxLH     = 3.6
	boxRowGap = 0.7
)

func (r *renderer) boxRowHeight(w float64, row kv3) float64 {
	st := r.styleOf(row)
	r.pdf.SetFont(st.font, st.style, st.size)
	return float64(len(r.lines(st.text, w-boxLabelW-5)))*boxLH + boxRowGap
}

func (r *renderer) boxHeight(w float64, b box3) float64 {
	h := 7.5
	for _, row := range b.rows {
		h += r.boxRowHeight(w, row)
	}
	return h + 1.5
}

// closingHeight is the height closing3 takes.
func (r *renderer) closingHeight(a, v box3) float64 {
	w := (bodyW - 6) / 2
	return 2 + max(r.boxHeight(w, a), r.boxHeight(w, v)) + 1 + sectionH + r.signatureRowsHeight()
}

// closing3 draws the attestation and validation boxes and the electronic
// signature block, together: on a new page unless all of them fit.
func (r *renderer) closing3(a, v box3) {
	pdf := r.pdf
	r.ensure(r.closingHeight(a, v))
	y := pdf.GetY() + 2
	w := (bodyW - 6) / 2
	boxH := max(r.boxHeight(w, a), r.boxHeight(w, v))
	draw := func(x float64, b box3) {
		r.draw(rule)
		pdf.SetLineWidth(0.3)
		pdf.Rect(x, y, w, boxH, "D")
		r.fill(tint)
		pdf.Rect(x, y, w, 6.5, "F")
		r.text(navy)
		pdf.SetFont(r.sans, "B", 8.5)
		pdf.SetXY(x+2, y+1)
		r.put(w-4, 4.5, b.heading, "L", 0)
		ly := y + 7.5
		for _, row := range b.rows {
			rh := r.boxRowHeight(w, row)
			r.text(grey)
			pdf.SetFont(r.sans, "", 7.5)
			pdf.SetXY(x+2, ly)
			r.put(boxLabelW, boxLH, row.label, "L", 0)
			st := r.styleOf(row)
			r.text(st.colour)
			pdf.SetFont(st.font, st.style, st.size)
			r.text3(x+2+boxLabelW, ly, w-boxLabelW-5, boxLH, st.text, "L")
			r.draw(rule)
			pdf.SetLineWidth(0.2)
			pdf.Line(x+2+boxLabelW, ly+rh-boxRowGap+0.2, x+w-3, ly+rh-boxRowGap+0.2)
			ly += rh
		}
	}
	draw(marginX, a)
	draw(marginX+w+6, v)
	r.text(black)
	pdf.SetY(y + boxH + 1)
	r.signatureBlock3()
}

func (r *renderer) signatureRows() [][]kv3 {
	c := r.c
	return [][]kv3{
		{kvv("Signed by", c.SignerName)},
		{kv3{label: "Signing key (SHA-256)", value: group(c.SignerFingerprint), mono: true}},
		{kv3{label: "Content hash (SHA-256)", value: group(r.hash), mono: true}},
		{kvv("How to verify", "This document carries a digital signature (CMS, PDF incremental update) that any PDF reader can check. "+
			"Its content is embedded in it as "+ContentFileName+" (canonical JSON, whose SHA-256 is the content hash; 'itad cert show FILE.pdf --json' prints it). "+
			"Against the ledger: itad cert verify FILE.pdf")},
	}
}

func (r *renderer) signatureRowsHeight() float64 {
	h := 0.0
	for _, row := range r.signatureRows() {
		h += r.rowHeight3(bodyW, row...)
	}
	return h
}

func (r *renderer) signatureBlock3() {
	r.section3("Electronic signature", 0, bodyW)
	for _, row := range r.signatureRows() {
		r.row3(bodyW, row...)
	}
}

// attestation and validation boxes from an Appendix G record.
func attestationBox(name, date string, g ledger.AppendixG) box3 {
	return box3{"Attestation: person performing sanitisation", "", []kv3{
		kvv("Name", name), kvv("Title", g.OperatorTitle), kvv("Organisation", g.OperatorOrg),
		kvv("Location", g.OperatorLocation), kvv("Phone", g.OperatorPhone),
		{label: "Signature", none: "digital signature below"}, kvv("Date", date)}}
}

// validationBox is the validation block: "not validated" in every place
// (never a date) when no validation is recorded.
func validationBox(g ledger.AppendixG) box3 {
	none := "not recorded"
	if !g.Validated() {
		none = "not validated"
	}
	v := func(label, value string) kv3 { return kv3{label: label, value: value, none: none} }
	return box3{"Validation: person validating it", "", []kv3{
		v("Name", g.ValidatorName), v("Title", g.ValidatorTitle), v("Organisation", g.ValidatorOrg),
		v("Location", g.ValidatorLocation), v("Phone", g.ValidatorPhone),
		{label: "Signature", none: none}, {label: "Date", value: ledger.FormatDate(g.ValidatedOn), none: "not validated"}}}
}

// ---- the front page ----

func (r *renderer) frontPage3() error {
	pdf := r.pdf
	c, d := r.c, r.c.Data
	qx, qy := pageW-marginX-qrSize, bodyTop-1.5
	if err := r.drawQR(qx, qy); err != nil {
		return err
	}
	r.text(grey)
	pdf.SetFont(r.sans, "", 6)
	capH := r.qrCaption3(qx, qy+qrSize)
	r.text(black)
	pdf.SetXY(marginX, bodyTop)
	gridW := bodyW - qrSize - 6
	r.section3("Certificate", 30, gridW)
	r.row3(gridW, kv3{label: "Certificate number", value: c.Number, mono: true})
	r.row3(gridW, kvv("Date of issue", issueTime(c.IssuedAt)))
	r.row3(gridW, kvv("Organisation", d.Org))
	r.row3(gridW, kvv("Location", d.OrgLocation))
	r.row3(gridW, kvv("Phone", d.OrgPhone))
	r.row3(gridW, kvv("Issued by", c.IssuedBy))
	if d.Kind == ledger.CertBatch {
		r.row3(gridW, kvv("Covers", fmt.Sprintf("Destruction run %s: %s", d.Subject, ledger.CountOf(int64(len(d.Items)), "item", "items"))))
	} else {
		r.row3(gridW, kvv("Covers", "Device "+d.Subject))
	}
	if y := qy + qrSize + capH; pdf.GetY() < y {
		pdf.SetY(y)
	}
	if d.Kind == ledger.CertBatch {
		r.batchFront3()
	} else {
		r.deviceFront3()
	}
	return pdf.Error()
}

// qrCaption3 writes, under the QR code at (x, y), what it holds: with a
// public URL the verification page's address (the hash left out, so that
// it can be typed), else "Certificate number and content hash", wrapped
// (at "/" and "." for an address) to the code's width plus 6 mm each
// side. It returns the height it used plus a gap of 1 mm.
func (r *renderer) qrCaption3(x, y float64) float64 {
	const lh = 2.8
	if r.c.PublicURL != "" {
		base := strings.TrimSuffix(r.c.PublicURL, "/") + "/verify/"
		base = strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
		return r.text3(x-6, y, qrSize+12, lh, base+r.c.Number, "C") + 1
	}
	return r.text3(x, y, qrSize, lh, "Certificate number and content hash (SHA-256)", "C") + 1
}

// destination is where the media went: the record's destination and its
// details, else the ledger's media_destination setting.
func destination(g ledger.AppendixG, setting string) string {
	if s := joinNonEmpty(": ", ledger.DestinationLabel(g.Destination), g.DestinationDetails); s != "" {
		return s
	}
	return setting
}

func backedUp(s string) string {
	switch s {
	case "yes":
		return "Yes"
	case "no":
		return "No"
	case "unknown":
		return "Unknown"
	}
	return s
}

func capacityLong(gb *int64) string {
	if gb == nil {
		return ""
	}
	return ledger.FormatCapacityBytes(*gb)
}

func itemWeight3(it ledger.CertificateItem) string {
	if it.Weight.Grams == nil {
		return ""
	}
	s := ledger.FormatWeightKg(*it.Weight.Grams)
	if it.Weight.Source == ledger.WeightBatch {
		s += " (a share of the run's weighed gross output)"
	}
	return s
}

func (r *renderer) deviceFront3() {
	d := r.c.Data
	it := d.Items[0]
	v, p := it.Device, it.Disposal
	g := d.Effective(it)
	r.section3("Media", 20, bodyW)
	r.row3(bodyW, kvv("Make / vendor", v.Make), kvv("Model", v.Model))
	r.row3(bodyW, kvv("Serial number", v.Serial), kvv("Property number", v.AssetTag))
	r.row3(bodyW, kvv("Media type", ledger.FormatType(v.Type)), kvv("Capacity", capacityLong(v.CapacityGB)))
	r.row3(bodyW, kvv("Media source", g.MediaSource), kvv("Source site", v.Site))
	r.row3(bodyW, kvv("Classification", g.Classification), kvv("Data backed up", backedUp(g.DataBackedUp)))
	r.row3(bodyW, kvv("Backup location", g.BackupLocation), kvv("Witness", p.Witness))

	r.section3("Sanitisation", 30, bodyW)
	r.row3(bodyW, kvv("Method type", categoryName(p.Category)), kvv("Method used", methodName(p.Method)))
	r.row3(bodyW, kvv("Method details", g.MethodDetails), kvv("Tool and version", p.Tool))
	r.row3(bodyW, kvv("Standard", p.Standard), kvv("DIN 66399 level", dinLevel(p.Standard)))
	r.row3(bodyW, kvv("Verified", verification(p.Verified)), kvv("Verification method", ledger.VerificationMethodLabel(g.VerificationMethod)))
	r.row3(bodyW, kvv("Verification details", g.VerificationDetails), kvv("Class. after sanitisation", g.PostClassification))
	r.row3(bodyW, kvv("Destination", destination(g, d.Destination)))
	r.row3(bodyW, kvv("Date", ledger.FormatDate(p.DisposedOn)), kvv("Destruction run", p.Batch))
	r.row3(bodyW, kvv("Weight", itemWeight3(it)), kvv("Accreditations", accreditations(d.Contractors)))
	r.contractorRows3(len(d.Contractors) > 1)
	r.row3(bodyW, kvv("Notes", p.Notes))
	r.evidenceBlock3() // evidence.go

	r.section3("Statement", 20, bodyW)
	r.paragraph3(deviceStatement3(d, it))
	r.closing3(attestationBox(p.Operator, ledger.FormatDate(p.DisposedOn), g), validationBox(g))
}

// contractorRows3 lists the contractors, with their accreditations
// unless the caller printed them (accreditations).
func (r *renderer) contractorRows3(withAccreditations bool) {
	for _, k := range r.c.Data.Contractors {
		r.row3(bodyW, kvv("Contractor", k.Name), kvv("Contract reference", k.ContractRef))
		if withAccreditations {
			r.row3(bodyW, kvv("Accreditations", k.Accreditations))
		}
	}
}

// accreditations are those of a certificate's one contractor ("" when
// there are several: contractorRows3 lists them).
func accreditations(ks []ledger.Contractor) string {
	if len(ks) == 1 {
		return ks[0].Accreditations
	}
	return ""
}

// rev2Standard matches a standard that names NIST SP 800-88 Rev. 2.
var rev2Standard = regexp.MustCompile(`(?i)800-88\s*(rev(ision)?\.?|r)\s*2\b`)

// rev2 reports whether the disposal says it followed NIST SP 800-88 Rev. 2:
// its record's nist_revision, or its standard's text.
func rev2(g ledger.AppendixG, p ledger.Disposal) bool {
	return g.NISTRevision == "2" || g.NISTRevision == "" && rev2Standard.MatchString(p.Standard)
}

// citation is the statement's reference to the guideline and category.
func citation(cat ledger.Category, r2 bool) string {
	if r2 {
		return fmt.Sprintf(" (NIST SP 800-88 Rev. 2 (2025): %s; techniques as IEEE 2883-2022 specifies them).", categoryName(cat))
	}
	return fmt.Sprintf(" (NIST SP 800-88 Rev. 1: %s).", categoryName(cat))
}

func deviceStatement3(d ledger.CertificateData, it ledger.CertificateItem) string {
	p, v := it.Disposal, it.Device
	s := deviceStatement(d, p, v, 2)
	cut := strings.LastIndex(s, " (NIST SP 800-88 Rev. 1:")
	return oneStop(s[:cut] + citation(p.Category, rev2(d.Effective(it), p)))
}

// doubleStop is a sentence's full stop after a name that ends with its
// own ("Sp. z o.o.."); an ellipsis ("...") is left alone.
var doubleStop = regexp.MustCompile(`([^.])\.\.( |$)`)

// oneStop prints a name's closing full stop once, as a writer would
// ("by Łukasz Żółć Recykling Sp. z o.o. Destruction renders ...").
func oneStop(s string) string { return doubleStop.ReplaceAllString(s, "$1.$2") }

func (r *renderer) batchFront3() {
	d := r.c.Data
	b := d.Batch
	items := d.Items
	// Each item's effective Appendix G record, computed once.
	effs := make([]ledger.AppendixG, len(items))
	byUUID := make(map[string]int, len(items))
	for i, it := range items {
		effs[i] = d.Effective(it)
		byUUID[it.Disposal.UUID] = i
	}
	effOf := func(it ledger.CertificateItem) ledger.AppendixG { return effs[byUUID[it.Disposal.UUID]] }
	sum := func(f func(ledger.CertificateItem) string) string { return recorded(summarise(items, f)) }
	eff := func(f func(ledger.AppendixG) string) string {
		return sum(func(it ledger.CertificateItem) string { return f(effOf(it)) })
	}
	closed := b.ClosedAt
	if t, err := time.Parse(ledger.TimeFormat, closed); err == nil {
		closed = issueTime(t)
	}
	r.section3("Destruction run", 40, bodyW)
	r.row3(bodyW, kvv("Run reference", b.Ref), kvv("Site", b.Site))
	r.row3(bodyW, kvv("Date of run", ledger.FormatDate(b.RunOn)), kvv("Disposal dates", dateRange(items)))
	r.row3(bodyW, kvv("Run closed", closed), kvv("Witness", b.Witness))
	r.row3(bodyW, kvv("Media type", sum(func(it ledger.CertificateItem) string { return ledger.FormatType(it.Device.Type) })),
		kvv("Media source", eff(func(g ledger.AppendixG) string { return g.MediaSource })))
	r.row3(bodyW, kvv("Classification", eff(func(g ledger.AppendixG) string { return g.Classification })),
		kvv("Data backed up", eff(func(g ledger.AppendixG) string { return backedUp(g.DataBackedUp) })))
	r.row3(bodyW, kvv("Backup location", eff(func(g ledger.AppendixG) string { return g.BackupLocation })),
		kvv("Class. after sanitisation", eff(func(g ledger.AppendixG) string { return g.PostClassification })))
	r.row3(bodyW, kvv("Method type", sum(func(it ledger.CertificateItem) string { return categoryName(it.Disposal.Category) })),
		kvv("Method used", sum(func(it ledger.CertificateItem) string { return methodName(it.Disposal.Method) })))
	r.row3(bodyW, kvv("Method details", eff(func(g ledger.AppendixG) string { return g.MethodDetails })),
		kvv("Tool and version", sum(func(it ledger.CertificateItem) string { return it.Disposal.Tool })))
	r.row3(bodyW, kvv("Standard", sum(func(it ledger.CertificateItem) string { return it.Disposal.Standard })),
		kvv("DIN 66399 level", sum(func(it ledger.CertificateItem) string { return dinLevel(it.Disposal.Standard) })))
	r.row3(bodyW, kvv("Verified", sum(func(it ledger.CertificateItem) string { return verification(it.Disposal.Verified) })),
		kvv("Verification method", eff(func(g ledger.AppendixG) string { return ledger.VerificationMethodLabel(g.VerificationMethod) })))
	r.row3(bodyW, kvv("Verification details", eff(func(g ledger.AppendixG) string { return g.VerificationDetails })),
		kvv("Destination", sum(func(it ledger.CertificateItem) string { return destination(effOf(it), d.Destination) })))
	r.row3(bodyW, kvv("Notes", sum(func(it ledger.CertificateItem) string { return it.Disposal.Notes })))
	r.contractorRows3(true)

	r.totals3()
	r.section3("Statement", 20, bodyW)
	r.paragraph3(batchStatement3(d, r.cat, effs))

	performer := summariseNames(items, func(it ledger.CertificateItem) string { return it.Disposal.Operator })
	date := b.RunOn
	if date == "" {
		date = dateRange(items)
	}
	names := func(f func(ledger.AppendixG) string) string {
		return summariseNames(items, func(it ledger.CertificateItem) string { return f(effOf(it)) })
	}
	att := attestationBox(performer, date, ledger.AppendixG{
		OperatorTitle:    names(func(g ledger.AppendixG) string { return g.OperatorTitle }),
		OperatorOrg:      names(func(g ledger.AppendixG) string { return g.OperatorOrg }),
		OperatorLocation: names(func(g ledger.AppendixG) string { return g.OperatorLocation }),
		OperatorPhone:    names(func(g ledger.AppendixG) string { return g.OperatorPhone })})
	val := validationBox(batchValidation(d, effs))
	// A schedule that fits on this page with the closing blocks goes
	// before them (a small batch is one page); a longer one follows them.
	if r.pdf.GetY()+sectionH+r.tableHeaderHeight()+r.scheduleHeight3()+scheduleEndH+r.closingHeight(att, val) <= bodyBottom {
		r.schedule3()
		r.closing3(att, val)
		r.batchEvidence3() // evidence.go
		return
	}
	r.closing3(att, val)
	r.schedule3()
	r.batchEvidence3()
}

// batchValidation is the validation a batch certificate prints: the one
// every item shares (its own, or the batch's), each field summarised; no
// date unless every item was validated.
func batchValidation(d ledger.CertificateData, effs []ledger.AppendixG) ledger.AppendixG {
	names := func(f func(ledger.AppendixG) string) string {
		var out []string
		seen := map[string]bool{}
		for _, e := range effs {
			if n := f(e); n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
				if len(out) > 3 {
					return "several (see the ledger)"
				}
			}
		}
		return strings.Join(out, "; ")
	}
	var g ledger.AppendixG
	dates := map[string]bool{}
	var unvalidated int
	for _, e := range effs {
		if e.ValidatedOn == "" {
			unvalidated++
		} else {
			dates[e.ValidatedOn] = true
		}
	}
	if unvalidated > 0 || len(dates) == 0 {
		if unvalidated < len(d.Items) {
			// Some were validated, not all: print no date.
			g.ValidatorName = fmt.Sprintf("%s of %s validated (see the ledger)",
				ledger.FormatCount(int64(len(d.Items)-unvalidated)), ledger.FormatCount(int64(len(d.Items))))
		}
		return g
	}
	g.ValidatorName = names(func(g ledger.AppendixG) string { return g.ValidatorName })
	g.ValidatorTitle = names(func(g ledger.AppendixG) string { return g.ValidatorTitle })
	g.ValidatorOrg = names(func(g ledger.AppendixG) string { return g.ValidatorOrg })
	g.ValidatorLocation = names(func(g ledger.AppendixG) string { return g.ValidatorLocation })
	g.ValidatorPhone = names(func(g ledger.AppendixG) string { return g.ValidatorPhone })
	g.ValidatedOn = dateList(dates)
	return g
}

func dateList(dates map[string]bool) string {
	var ds []string
	for k := range dates {
		ds = append(ds, k)
	}
	if len(ds) == 1 {
		return ds[0]
	}
	lo, hi := ds[0], ds[0]
	for _, x := range ds {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo + " to " + hi
}

// recorded is a summary's value, "" for "not recorded" (which the grid
// then prints as a missing value).
func recorded(s string) string {
	if s == "not recorded" {
		return ""
	}
	return s
}

func batchStatement3(d ledger.CertificateData, cat ledger.Category, effs []ledger.AppendixG) string {
	s := oneStop(batchStatement(d, cat, 2))
	r2 := true
	for i, it := range d.Items {
		if !rev2(effs[i], it.Disposal) {
			r2 = false
			break
		}
	}
	if cat != "" {
		cut := strings.LastIndex(s, " (NIST SP 800-88 Rev. 1:")
		return s[:cut] + citation(cat, r2)
	}
	if r2 {
		return strings.Replace(s, "NIST SP 800-88 Rev. 1 category", "NIST SP 800-88 Rev. 2 (2025) category (techniques as IEEE 2883-2022 specifies them)", 1)
	}
	return s
}

// totals3 is totals with the types and weights written by ledger's
// formatters and every text whole.
func (r *renderer) totals3() {
	pdf := r.pdf
	d := r.c.Data
	by, all := typeTotals(d.Items, func(it ledger.CertificateItem) *int64 { return it.Weight.Grams })
	cover := batchWeightNote(d.Items, all.n, all.weighed, all.grams, d.Batch.GrossWeightG)
	if len(by) == 1 {
		// One type (named under Media type): its totals are the run's.
		r.row3(bodyW, kvv("Weight", cover))
		return
	}
	r.section3("Totals by type", float64(len(by)+2)*4.6+12, bodyW)
	cols := []struct {
		w     float64
		align string
	}{{70, "L"}, {30, "R"}, {40, "R"}, {40, "R"}}
	row := func(cells []string, bold, shade bool) {
		y := pdf.GetY()
		if shade {
			r.fill(tint)
			pdf.Rect(marginX, y, bodyW, 4.6, "F")
		}
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont(r.sans, style, 8.5)
		x := marginX
		h := 4.6
		for i, col := range cols {
			h = max(h, r.text3(x, y, col.w, 4.6, cells[i], col.align))
			x += col.w
		}
		pdf.SetY(y + h)
	}
	r.text(navy)
	pdf.SetY(pdf.GetY() + 0.5)
	row([]string{"Type", "Items", "Weighed items", "Weight (kg)"}, true, false)
	r.text(black)
	for _, t := range ledger.DeviceTypes {
		v := by[t]
		if v == nil {
			continue
		}
		row([]string{ledger.FormatType(t), ledger.FormatCount(v.n), ledger.FormatCount(v.weighed), kgOrDash(v.weighed, v.grams)}, false, false)
	}
	row([]string{"Total", ledger.FormatCount(all.n), ledger.FormatCount(all.weighed), kgOrDash(all.weighed, all.grams)}, true, true)
	pdf.SetFont(r.sans, "", 8.5)
	y := pdf.GetY() + 1.2
	y += r.text3(marginX, y, bodyW, 4.2, cover, "L")
	pdf.SetY(y)
}

// ---- the batch schedule ----

// columns3 are the schedule's columns in layout 3: every text column
// wraps, the types and capacities as ledger formats them.
var columns3 = []column{
	{"No.", 9, "R", func(n int, _ ledger.CertificateItem) string { return strconv.Itoa(n) }, true},
	{"Serial number", 32, "L", func(_ int, it ledger.CertificateItem) string { return it.Device.Serial }, true},
	{"Property no.", 18, "L", func(_ int, it ledger.CertificateItem) string { return it.Device.AssetTag }, true},
	{"Type", 28, "L", func(_ int, it ledger.CertificateItem) string { return ledger.FormatType(it.Device.Type) }, true},
	{"Make / model", 35, "L", func(_ int, it ledger.CertificateItem) string {
		return joinNonEmpty(" ", it.Device.Make, it.Device.Model)
	}, true},
	{"Capacity", 13, "R", func(_ int, it ledger.CertificateItem) string { return formatCapacity(it.Device.CapacityGB) }, true},
	{"Method", 16, "L", func(_ int, it ledger.CertificateItem) string { return methodName(it.Disposal.Method) }, true},
	{"Date", 17, "L", func(_ int, it ledger.CertificateItem) string { return ledger.FormatDate(it.Disposal.DisposedOn) }, true},
	{"kg", 12, "R", func(_ int, it ledger.CertificateItem) string {
		if it.Weight.Grams == nil {
			return ""
		}
		s := ledger.FormatKg(*it.Weight.Grams)
		if it.Weight.Source == ledger.WeightBatch {
			s += "*"
		}
		return s
	}, true},
}

const (
	schedFont  = 7.0
	schedLineH = 3.1
)

// scheduleRow returns the lines of each column of item i.
func (r *renderer) scheduleRow(i int, it ledger.CertificateItem, out [][]string) float64 {
	lines := 1
	for j, col := range columns3 {
		out[j] = r.lines(col.value(i+1, it), col.w)
		lines = max(lines, len(out[j]))
	}
	return float64(lines)*schedLineH + (rowH - schedLineH)
}

// scheduleHeight3 is the height of the whole schedule's rows.
func (r *renderer) scheduleHeight3() float64 {
	r.pdf.SetFont(r.sans, "", schedFont)
	out := make([][]string, len(columns3))
	h := 0.0
	for i, it := range r.c.Data.Items {
		h += r.scheduleRow(i, it, out)
		if h > bodyBottom {
			break // longer than a page: the exact height does not matter
		}
	}
	return h
}

func (r *renderer) schedule3() {
	pdf := r.pdf
	items := r.c.Data.Items
	r.section3(fmt.Sprintf("Schedule of items (%s)", ledger.FormatCount(int64(len(items)))), 5.5+4*rowH, bodyW)
	r.tableHeader3()
	pdf.SetFont(r.sans, "", schedFont)
	cells := make([][]string, len(columns3))
	for i, it := range items {
		if r.progress != nil && i%256 == 0 {
			r.progress(int64(i))
		}
		h := r.scheduleRow(i, it, cells)
		if pdf.GetY()+h > bodyBottom {
			pdf.AddPage()
			r.tableHeader3()
			pdf.SetFont(r.sans, "", schedFont)
		}
		y := pdf.GetY()
		if i%2 == 1 {
			r.fill(zebra)
			pdf.Rect(marginX, y, bodyW, h, "F")
		}
		x := marginX
		for j, col := range columns3 {
			for k, line := range cells[j] {
				pdf.SetXY(x, y+float64(k)*schedLineH)
				r.put(col.w, rowH, line, col.align, 0)
			}
			x += col.w
		}
		pdf.SetY(y + h)
	}
	r.draw(navy)
	pdf.SetLineWidth(0.3)
	y := pdf.GetY()
	pdf.Line(marginX, y, pageW-marginX, y)
	pdf.SetFont(r.sans, "", 7.5)
	r.text(grey)
	y += 1.5
	end := "End of schedule: " + ledger.CountOf(int64(len(items)), "item", "items") + "."
	for _, it := range items {
		if it.Weight.Source == ledger.WeightBatch {
			end += " * a share of the run's weighed gross output."
			break
		}
	}
	y += r.text3(marginX, y, bodyW, 3.6, end, "L")
	pdf.SetY(y)
	r.text(black)
}

// scheduleEndH is the height of the schedule's closing line.
const scheduleEndH = 1.5 + 3.6

func (r *renderer) tableHeaderHeight() float64 {
	r.pdf.SetFont(r.sans, "B", 7)
	h := 5.5
	for _, col := range columns3 {
		h = max(h, float64(len(r.lines(col.title, col.w)))*3.2+2.3)
	}
	return h
}

func (r *renderer) tableHeader3() {
	pdf := r.pdf
	h := r.tableHeaderHeight()
	y := pdf.GetY()
	r.fill(navy)
	pdf.Rect(marginX, y, bodyW, h, "F")
	r.text(white)
	x := marginX
	for _, col := range columns3 {
		r.text3(x, y+1.1, col.w, 3.2, col.title, col.align)
		x += col.w
	}
	r.text(black)
	pdf.SetY(y + h)
}
