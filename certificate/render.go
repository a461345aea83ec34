package certificate

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/ledger"
)

// RenderVersion names the layout Render produces for new certificates.
// The ledger stores the SHA-256 of every unsigned PDF and `itad cert
// verify` regenerates it, so any change to the bytes Render writes for the
// same Content (layout, wording, gofpdf version) makes earlier
// certificates irreproducible: keep the old layout reachable
// (RenderLayout), bump this and add a golden test. Every PDF names its
// layout in its /Creator, "itad certificate layout N", from which Verify
// picks the layout to regenerate; the layout is also the content version
// (Content.Version, EncodeContent).
//
//	1  the first layout: each item's own weight only, totals "Recorded
//	   weight"; types as "Hard disk drive (HDD)" and codes in the schedule
//	2  the ledger's words (ledger/words.go): type labels ("Solid-state
//	   drive") in the schedule and totals, one capacity format
//	   (ledger.FormatCapacity: "4 TB", "960 GB") on the device page and in
//	   the schedule, method names in the schedule, type nouns in the
//	   statement ("USB flash drive"), counts agreeing with their nouns
//	   ("1 item ... was"); and weights under ledger.WeightRule (own, else an
//	   equal share of the run's weighed gross output, marked "*"), as
//	   Report, FOI and Export count them, covered by the content hash
//	   (content version 2)
//	3  layouts that never cut and NIST SP 800-88 Appendix G complete
//	   (layout3.go): every text wraps whole (serials break after - _ / .
//	   or at a fixed width), never shrunk or truncated; the attestation,
//	   validation and signature blocks kept on one page; a small batch's
//	   schedule on its front page; types, capacities, weights and dates
//	   from ledger/format.go; every Appendix G field, "not recorded" when
//	   it is not, "not validated" (never a date) for a validation that
//	   did not happen; NIST SP 800-88 Rev. 2 (2025) and IEEE 2883-2022
//	   cited where the disposal says so (content version 3);
//	   Unicode: the embedded Go fonts (fonts.go) instead of Windows-1252
//	   core fonts, page content compressed; the canonical content embedded
//	   as an associated file (ContentFileName, EncodeContentJSON), whose
//	   SHA-256 is the content hash (content version 3, canonical JSON);
//	   the QR code links to public_url when set (layout3.go). Verify
//	   checks these against the ledger without re-rendering them, so
//	   later changes to the layout, gofpdf or compress/zlib leave them
//	   verifiable; layouts 1 and 2 keep being re-rendered byte for byte.
const RenderVersion = 3

// layoutCreator is the /Creator of a PDF of layout N, as gofpdf writes it.
var layoutCreator = regexp.MustCompile(`/Creator \(itad certificate layout ([0-9]{1,4})\)`)

// PDFLayout returns the layout named by an unsigned certificate PDF's
// /Creator, or 0 when it names none.
func PDFLayout(pdf []byte) int {
	m := layoutCreator.FindSubmatch(pdf)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// Page geometry in millimetres (A4 portrait).
const (
	pageW      = 210.0
	marginX    = 15.0
	bodyW      = pageW - 2*marginX
	bandH      = 26.0 // header band
	bodyTop    = 33.0
	bodyBottom = 274.0 // last usable y above the footer
	footerY    = 281.0
	qrSize     = 34.0
	labelW     = 36.0 // label column of the label/value grid
)

// Colours.
var (
	navy   = [3]int{31, 58, 95}
	accent = [3]int{200, 162, 62}
	grey   = [3]int{96, 96, 96}
	rule   = [3]int{214, 219, 226}
	tint   = [3]int{240, 243, 247}
	zebra  = [3]int{246, 248, 250}
	black  = [3]int{20, 20, 20}
	white  = [3]int{255, 255, 255}
)

// renderer draws one certificate.
type renderer struct {
	pdf    *gofpdf.Fpdf
	layout int // 1 to RenderVersion
	c      Content
	hash   string // content hash
	title  string
	cat    ledger.Category // common category of the items, "" when mixed
	// progress, when set, is told how many schedule rows are drawn.
	progress func(done int64)
	// sans and mono are the font families: the PDF core fonts Helvetica
	// and Courier up to layout 2, the embedded Go fonts from layout 3
	// (see useFonts).
	sans, mono string
}

// Render returns the unsigned PDF of a certificate: one A4 page for a
// device, and for a batch a front page followed by a schedule of every
// item across as many pages as it needs.
//
// The output is a pure function of c: the document dates are c.IssuedAt,
// the catalog is sorted, only the PDF core fonts (Helvetica, Courier) are
// used, text is in Windows-1252 (characters outside it print as "?") and
// page content is not compressed, so the bytes depend neither on the clock
// nor on the compress/flate implementation. The document's /Keywords is
// "itad:cert:<number>", which `itad cert verify` uses (only) to find the
// certificate in the ledger. Render returns an error if c has no items or
// gofpdf fails, and an error for data of the wrong shape (a batch
// certificate without its batch, a device certificate of several items).
func Render(c Content) ([]byte, error) { return RenderProgress(c, nil) }

// RenderProgress is Render, calling progress (when not nil) as the rows
// of a batch certificate's schedule are drawn, with how many are done.
// The output does not depend on it.
func RenderProgress(c Content, progress func(done int64)) ([]byte, error) {
	return renderLayout(c, c.version(), progress)
}

// RenderLayout is Render in an earlier layout (1 to RenderVersion), to
// reproduce a certificate issued by an earlier itad: it renders c as
// content version layout (Render renders c.Version, 0 meaning
// RenderVersion). It returns an error for a layout this itad does not know.
func RenderLayout(c Content, layout int) ([]byte, error) { return renderLayout(c, layout, nil) }

func renderLayout(c Content, layout int, progress func(done int64)) ([]byte, error) {
	if layout < 1 || layout > RenderVersion {
		return nil, fmt.Errorf("render certificate %s: layout %d is unknown to this itad (it knows 1 to %d): upgrade itad", c.Number, layout, RenderVersion)
	}
	d := c.Data
	if len(d.Items) == 0 {
		return nil, fmt.Errorf("render certificate %s: no items", c.Number)
	}
	c.Version = layout // the layout is also the content version (EncodeContent)
	switch {
	case d.Kind == ledger.CertDevice && d.Batch == nil && len(d.Items) == 1:
	case d.Kind == ledger.CertBatch && d.Batch != nil:
	default:
		return nil, fmt.Errorf("render certificate %s: inconsistent %q certificate data", c.Number, d.Kind)
	}
	r := &renderer{c: c, layout: layout, hash: ContentHash(c), cat: commonCategory(d.Items), progress: progress}
	r.title = certificateTitle(r.cat, d.Items)
	pdf := gofpdf.New("P", "mm", "A4", "")
	r.pdf = pdf
	r.useFonts()
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(c.IssuedAt.UTC())
	pdf.SetModificationDate(c.IssuedAt.UTC())
	pdf.SetTitle(r.title+" "+c.Number, true)
	pdf.SetSubject(d.Kind+" "+d.Subject, true)
	pdf.SetAuthor(d.Org, true)
	pdf.SetKeywords("itad:cert:"+c.Number, false)
	if layout >= 3 {
		if err := attachContent(pdf, c); err != nil {
			return nil, fmt.Errorf("render certificate %s: %w", c.Number, err)
		}
	}
	pdf.SetCreator(fmt.Sprintf("itad certificate layout %d", layout), false)
	pdf.SetProducer("itad (gofpdf)", false)
	pdf.SetMargins(marginX, bodyTop, marginX)
	pdf.SetAutoPageBreak(true, 297-bodyBottom)
	pdf.AliasNbPages("{nb}")
	if layout >= 3 {
		pdf.SetHeaderFuncMode(r.header3, true)
		pdf.SetFooterFunc(r.footer3)
		pdf.AddPage()
		if err := r.frontPage3(); err != nil {
			return nil, err
		}
	} else {
		pdf.SetHeaderFuncMode(r.header, true)
		pdf.SetFooterFunc(r.footer)
		pdf.AddPage()
		if err := r.frontPage(); err != nil {
			return nil, err
		}
		if d.Kind == ledger.CertBatch {
			r.schedule()
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render certificate %s: %w", c.Number, err)
	}
	return buf.Bytes(), nil
}

// commonCategory returns the NIST category shared by every item, or ""
// when they differ.
func commonCategory(items []ledger.CertificateItem) ledger.Category {
	cat := items[0].Disposal.Category
	for _, it := range items[1:] {
		if it.Disposal.Category != cat {
			return ""
		}
	}
	return cat
}

func certificateTitle(cat ledger.Category, items []ledger.CertificateItem) string {
	switch cat {
	case ledger.Destroy:
		return "Certificate of Destruction"
	case ledger.Clear, ledger.Purge:
		return "Certificate of Sanitisation"
	}
	return "Certificate of Sanitisation and Destruction"
}

// ---- drawing primitives ----

func (r *renderer) text(c [3]int) { r.pdf.SetTextColor(c[0], c[1], c[2]) }
func (r *renderer) fill(c [3]int) { r.pdf.SetFillColor(c[0], c[1], c[2]) }
func (r *renderer) draw(c [3]int) { r.pdf.SetDrawColor(c[0], c[1], c[2]) }

// cell writes one line of text in a box of width w at the current
// position, shrinking the font (to 70%) and then truncating with an
// ellipsis if it does not fit. s is UTF-8.
func (r *renderer) cell(w, h float64, s, align string, ln int) {
	r.cellEnc(w, h, r.tr(s), align, ln)
}

// cellEnc is cell for text already encoded for the font (r.tr).
func (r *renderer) cellEnc(w, h float64, s, align string, ln int) {
	pdf := r.pdf
	size, _ := pdf.GetFontSize()
	avail := w - 2*pdf.GetCellMargin()
	if sw := pdf.GetStringWidth(s); sw > avail {
		shrunk := size * avail / sw
		if shrunk >= size*0.7 {
			pdf.SetFontSize(shrunk)
			pdf.CellFormat(w, h, s, "", ln, align, false, 0, "")
			pdf.SetFontSize(size)
			return
		}
		pdf.SetFontSize(size * 0.7)
		s = truncate(pdf, s, avail, r.ellipsis())
		pdf.CellFormat(w, h, s, "", ln, align, false, 0, "")
		pdf.SetFontSize(size)
		return
	}
	pdf.CellFormat(w, h, s, "", ln, align, false, 0, "")
}

// truncate shortens a string encoded for the font to fit width w with a
// trailing ellipsis ell (see renderer.ellipsis), cutting only between
// UTF-8 characters.
func truncate(pdf *gofpdf.Fpdf, s string, w float64, ell string) string {
	ellW := pdf.GetStringWidth(ell)
	for i := len(s) - 1; i > 0; i-- {
		if !utf8.RuneStart(s[i]) {
			continue
		}
		if pdf.GetStringWidth(s[:i])+ellW <= w {
			return s[:i] + ell
		}
	}
	return ell
}

// ensure starts a new page unless h millimetres fit above the footer.
func (r *renderer) ensure(h float64) {
	if r.pdf.GetY()+h > bodyBottom {
		r.pdf.AddPage()
	}
}

func (r *renderer) header() {
	pdf := r.pdf
	r.fill(navy)
	pdf.Rect(0, 0, pageW, bandH, "F")
	r.fill(accent)
	pdf.Rect(0, bandH, pageW, 1.1, "F")
	r.text(white)
	pdf.SetFont(r.sans, "B", 15)
	pdf.SetXY(marginX, 5.5)
	r.cell(112, 7, r.c.Data.Org, "L", 0)
	pdf.SetFont(r.sans, "", 11.5)
	pdf.SetXY(marginX, 13)
	title := r.title
	if pdf.PageNo() > 1 {
		title += " (continued)"
	}
	r.cell(112, 6, title, "L", 0)
	pdf.SetFont(r.sans, "", 7)
	pdf.SetXY(marginX, 19.5)
	r.cell(112, 3.5, "Prepared under NIST SP 800-88 Rev. 1, Appendix G", "L", 0)
	pdf.SetXY(pageW-marginX-70, 6)
	r.cell(70, 3.5, "Certificate number", "R", 0)
	pdf.SetFont(r.sans, "B", 9)
	pdf.SetXY(pageW-marginX-70, 9.5)
	r.cell(70, 4, r.c.Number, "R", 0)
	pdf.SetFont(r.sans, "", 7)
	pdf.SetXY(pageW-marginX-70, 15)
	r.cell(70, 3.5, "Date of issue", "R", 0)
	pdf.SetFont(r.sans, "B", 8)
	pdf.SetXY(pageW-marginX-70, 18.5)
	r.cell(70, 4, issueTime(r.c.IssuedAt), "R", 0)
	r.text(black)
	pdf.SetXY(marginX, bodyTop)
}

func (r *renderer) footer() {
	pdf := r.pdf
	r.draw(rule)
	pdf.SetLineWidth(0.3)
	pdf.Line(marginX, footerY, pageW-marginX, footerY)
	r.text(grey)
	pdf.SetFont(r.sans, "", 7)
	pdf.SetXY(marginX, footerY+1.2)
	r.cell(140, 3.5, r.title+"  \u00b7  No. "+r.c.Number+"  \u00b7  "+r.c.Data.Org, "L", 0)
	pdf.SetXY(pageW-marginX-40, footerY+1.2)
	pdf.SetFont(r.sans, "B", 7)
	r.cell(40, 3.5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "R", 0)
	pdf.SetFont(r.sans, "", 6.5)
	pdf.SetXY(marginX, footerY+5)
	r.cell(bodyW, 3.5, "Digitally signed by "+r.c.SignerName+"  \u00b7  signing key SHA-256 "+group(r.c.SignerFingerprint), "L", 0)
	r.text(black)
}

// section starts a titled section, on a new page unless the title and
// need millimetres of content fit. w is its width.
func (r *renderer) sectionW(title string, need, w float64) {
	pdf := r.pdf
	r.ensure(need + 8)
	if pdf.GetY() > bodyTop+1 {
		pdf.SetY(pdf.GetY() + 3)
	}
	r.text(navy)
	pdf.SetFont(r.sans, "B", 10)
	pdf.SetX(marginX)
	r.cell(w, 5, title, "L", 1)
	r.draw(navy)
	pdf.SetLineWidth(0.35)
	y := pdf.GetY()
	pdf.Line(marginX, y, marginX+w, y)
	pdf.SetY(y + 0.3)
	r.text(black)
}

func (r *renderer) section(title string, need float64) { r.sectionW(title, need, bodyW) }

// kv is one label and value of a grid row. An empty value prints as "not
// recorded"; mono prints the value in Courier.
type kv struct {
	label, value string
	mono         bool
}

// field draws a grid row of total width w holding one label and value.
func (r *renderer) field(w float64, label, value string, mono bool) {
	r.row(w, kv{label, value, mono})
}

// pair draws a grid row of the body's width holding two labels and values.
func (r *renderer) pair(a, b kv) { r.row(bodyW, a, b) }

// row draws one row of a label/value grid of total width w, split into
// equal columns, one per cell, wrapping long values, with a hairline under
// it. The row never splits across pages.
func (r *renderer) row(w float64, cells ...kv) {
	pdf := r.pdf
	const lh, pad = 4.0, 0.7
	colW := w / float64(len(cells))
	type prepared struct {
		text      string
		font      string
		style     string
		size      float64
		colour    [3]int
		valueW    float64
		lineCount int
	}
	ps := make([]prepared, len(cells))
	h := lh
	for i, c := range cells {
		p := prepared{text: r.tr(c.value), font: r.sans, size: 9, colour: black, valueW: colW - labelW - 2}
		if i == len(cells)-1 {
			p.valueW = colW - labelW
		}
		switch {
		case c.value == "":
			p.text, p.style, p.size, p.colour = "not recorded", "", 8.5, grey
		case c.mono:
			p.font, p.size = r.mono, 7.8
		}
		pdf.SetFont(p.font, p.style, p.size)
		p.lineCount = len(pdf.SplitLines([]byte(p.text), p.valueW))
		h = max(h, float64(p.lineCount)*lh)
		ps[i] = p
	}
	r.ensure(h + 2*pad)
	y := pdf.GetY() + pad
	for i, c := range cells {
		x := marginX + float64(i)*colW
		p := ps[i]
		pdf.SetXY(x, y)
		r.text(grey)
		pdf.SetFont(r.sans, "", 7.5)
		r.cell(labelW, lh, c.label, "L", 0)
		r.text(p.colour)
		pdf.SetFont(p.font, p.style, p.size)
		pdf.SetXY(x+labelW, y)
		pdf.MultiCell(p.valueW, lh, p.text, "", "L", false)
	}
	r.text(black)
	y += h + pad
	r.draw(rule)
	pdf.SetLineWidth(0.15)
	pdf.Line(marginX, y, marginX+w, y)
	pdf.SetY(y)
}

// paragraph draws a shaded box with a navy bar holding wrapped text.
func (r *renderer) paragraph(s string) {
	pdf := r.pdf
	const lh = 4.6
	pdf.SetFont(r.sans, "", 9.5)
	lines := pdf.SplitLines([]byte(r.tr(s)), bodyW-8)
	h := float64(len(lines))*lh + 5
	r.ensure(h + 2)
	y := pdf.GetY() + 2
	r.fill(tint)
	pdf.Rect(marginX, y, bodyW, h, "F")
	r.fill(navy)
	pdf.Rect(marginX, y, 1.2, h, "F")
	r.text(black)
	pdf.SetXY(marginX+4, y+2.5)
	for _, l := range lines {
		pdf.SetX(marginX + 4)
		pdf.CellFormat(bodyW-8, lh, string(l), "", 1, "L", false, 0, "")
	}
	pdf.SetY(y + h)
}

// signatureBoxes draws the attestation (who performed it) and validation
// (who verified or witnessed it) blocks side by side, with lines for a
// handwritten title and signature on a printed copy.
func (r *renderer) signatureBoxes(performer, performerDate, validator, validatorDate string) {
	pdf := r.pdf
	const boxH = 31.0
	r.ensure(boxH + 6)
	y := pdf.GetY() + 3
	w := (bodyW - 6) / 2
	box := func(x float64, heading, role, name, date string) {
		r.draw(rule)
		pdf.SetLineWidth(0.3)
		pdf.Rect(x, y, w, boxH, "D")
		r.fill(tint)
		pdf.Rect(x, y, w, 6.5, "F")
		r.text(navy)
		pdf.SetFont(r.sans, "B", 8.5)
		pdf.SetXY(x+2, y+1)
		r.cell(w-4, 4.5, heading, "L", 0)
		r.text(grey)
		pdf.SetFont(r.sans, "", 7)
		pdf.SetXY(x+2, y+7)
		r.cell(w-4, 3.5, role, "L", 0)
		rows := []struct{ label, value string }{{"Name", name}, {"Title", ""}, {"Signature", ""}, {"Date", date}}
		for i, row := range rows {
			ly := y + 11 + float64(i)*4.9
			r.text(grey)
			pdf.SetFont(r.sans, "", 8)
			pdf.SetXY(x+2, ly)
			r.cell(20, 4.5, row.label, "L", 0)
			r.text(black)
			pdf.SetFont(r.sans, "", 9)
			pdf.SetXY(x+22, ly)
			r.cell(w-25, 4.5, row.value, "L", 0)
			r.draw(rule)
			pdf.SetLineWidth(0.2)
			pdf.Line(x+22, ly+4.6, x+w-3, ly+4.6)
		}
	}
	box(marginX, "Attestation", "Sanitisation performed by (operator)", performer, performerDate)
	box(marginX+w+6, "Validation", "Verified / witnessed by", validator, validatorDate)
	r.text(black)
	pdf.SetY(y + boxH + 1)
}

// ---- the front page ----

func (r *renderer) frontPage() error {
	pdf := r.pdf
	c, d := r.c, r.c.Data
	// The QR code, top right, beside the certificate's own details.
	qx, qy := pageW-marginX-qrSize, bodyTop-1.5
	if err := r.drawQR(qx, qy); err != nil {
		return err
	}
	r.text(grey)
	pdf.SetFont(r.sans, "", 6)
	pdf.SetXY(qx, qy+qrSize)
	r.qrCaption(qx)
	r.text(black)
	pdf.SetXY(marginX, bodyTop)
	gridW := bodyW - qrSize - 6
	r.sectionW("Certificate", 30, gridW)
	r.field(gridW, "Certificate number", c.Number, true)
	r.field(gridW, "Date of issue", issueTime(c.IssuedAt), false)
	r.field(gridW, "Organisation", d.Org, false)
	r.field(gridW, "Issued by", c.IssuedBy, false)
	if d.Kind == ledger.CertBatch {
		r.field(gridW, "Covers", fmt.Sprintf("Destruction run %s: %s %s", d.Subject, ledger.Thousands(int64(len(d.Items))), plural(len(d.Items), "item", "items")), false)
	} else {
		r.field(gridW, "Covers", "Device "+d.Subject, false)
	}
	if y := qy + qrSize + 4; pdf.GetY() < y {
		pdf.SetY(y)
	}
	if d.Kind == ledger.CertBatch {
		r.batchFront()
	} else {
		r.deviceFront()
	}
	return pdf.Error()
}

func (r *renderer) deviceFront() {
	d := r.c.Data
	it := d.Items[0]
	v, p := it.Device, it.Disposal
	r.section("Media", 20)
	r.pair(kv{"Serial number", v.Serial, false}, kv{"Asset tag", v.AssetTag, false})
	r.pair(kv{"Media type", r.typeName(v.Type), false}, kv{"Make / model", joinNonEmpty(" ", v.Make, v.Model), false})
	r.pair(kv{"Capacity", r.capacity(v.CapacityGB), false}, kv{"Source site", v.Site, false})

	r.section("Sanitisation", 30)
	r.pair(kv{"Method", methodName(p.Method), false}, kv{"NIST SP 800-88 category", categoryName(p.Category), false})
	r.pair(kv{"Standard", p.Standard, false}, kv{"DIN 66399 level", dinLevel(p.Standard), false})
	r.pair(kv{"Tool and version", p.Tool, false}, kv{"Verification", verification(p.Verified), false})
	r.pair(kv{"Date", p.DisposedOn, false}, kv{"Destruction run", p.Batch, false})
	r.pair(kv{"Weight", r.itemWeight(it), false}, kv{"Media destination", d.Destination, false})
	r.contractorRows()
	if p.Notes != "" {
		r.field(bodyW, "Notes", p.Notes, false)
	}
	r.evidenceBlock() // evidence.go

	r.section("Statement", 20)
	r.paragraph(deviceStatement(d, p, v, r.layout))
	r.signatureBoxes(p.Operator, p.DisposedOn, p.Witness, p.DisposedOn)
	r.signatureBlock()
}

// contractorRows lists the contractors with their accreditations.
func (r *renderer) contractorRows() {
	for _, k := range r.c.Data.Contractors {
		r.pair(kv{"Contractor", k.Name, false}, kv{"Contract reference", k.ContractRef, false})
		r.field(bodyW, "Accreditations", k.Accreditations, false)
	}
}

func (r *renderer) batchFront() {
	d := r.c.Data
	b := d.Batch
	items := d.Items
	sum := func(f func(ledger.CertificateItem) string) string { return summarise(items, f) }
	closed := b.ClosedAt
	if t, err := time.Parse(ledger.TimeFormat, closed); err == nil {
		closed = issueTime(t)
	}
	r.section("Destruction run", 40)
	r.pair(kv{"Run reference", b.Ref, false}, kv{"Site", b.Site, false})
	r.pair(kv{"Date of run", b.RunOn, false}, kv{"Disposal dates", dateRange(items), false})
	r.pair(kv{"Items certified", ledger.Thousands(int64(len(items))), false}, kv{"Run closed", closed, false})
	r.field(bodyW, "Method", sum(func(it ledger.CertificateItem) string { return methodName(it.Disposal.Method) }), false)
	r.field(bodyW, "NIST SP 800-88 category", sum(func(it ledger.CertificateItem) string { return categoryName(it.Disposal.Category) }), false)
	r.field(bodyW, "Standard", sum(func(it ledger.CertificateItem) string { return it.Disposal.Standard }), false)
	if lvl := sum(func(it ledger.CertificateItem) string { return dinLevel(it.Disposal.Standard) }); lvl != "not recorded" {
		r.field(bodyW, "DIN 66399 level", lvl, false)
	}
	r.field(bodyW, "Tool and version", sum(func(it ledger.CertificateItem) string { return it.Disposal.Tool }), false)
	r.pair(kv{"Verification", sum(func(it ledger.CertificateItem) string { return verification(it.Disposal.Verified) }), false},
		kv{"Media destination", d.Destination, false})
	r.pair(kv{"Operator", sum(func(it ledger.CertificateItem) string { return it.Disposal.Operator }), false}, kv{"Witness", b.Witness, false})
	r.contractorRows()

	r.totals()
	r.section("Statement", 20)
	r.paragraph(batchStatement(d, r.cat, r.layout))
	performer := summariseNames(items, func(it ledger.CertificateItem) string { return it.Disposal.Operator })
	validator := b.Witness
	if validator == "" {
		validator = summariseNames(items, func(it ledger.CertificateItem) string { return it.Disposal.Witness })
	}
	date := b.RunOn
	if date == "" {
		date = dateRange(items)
	}
	r.signatureBoxes(performer, date, validator, date)
	r.signatureBlock()
}

// typeTot counts items and their recorded weight.
type typeTot struct{ n, weighed, grams int64 }

// typeTotals counts items and their weights (as weight gives them) by
// device type, and in all.
func typeTotals(items []ledger.CertificateItem, weight func(ledger.CertificateItem) *int64) (map[ledger.DeviceType]*typeTot, typeTot) {
	by := map[ledger.DeviceType]*typeTot{}
	var all typeTot
	for _, it := range items {
		t := by[it.Device.Type]
		if t == nil {
			t = &typeTot{}
			by[it.Device.Type] = t
		}
		t.n++
		all.n++
		if w := weight(it); w != nil {
			t.weighed++
			t.grams += *w
			all.weighed++
			all.grams += *w
		}
	}
	return by, all
}

// totals draws counts and weights by device type.
func (r *renderer) totals() {
	pdf := r.pdf
	d := r.c.Data
	by, all := typeTotals(d.Items, r.weightOf)
	v2 := r.c.version() >= 2
	weightTitle := "Recorded weight (kg)"
	if v2 {
		weightTitle = "Weight (kg)"
	}
	r.section("Totals by type", float64(len(by)+2)*5+12)
	cols := []struct {
		w     float64
		title string
		align string
	}{{70, "Type", "L"}, {30, "Items", "R"}, {40, "Weighed items", "R"}, {40, weightTitle, "R"}}
	row := func(cells []string, bold, shade bool) {
		y := pdf.GetY()
		if shade {
			r.fill(tint)
			pdf.Rect(marginX, y, bodyW, 5, "F")
		}
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont(r.sans, style, 8.5)
		pdf.SetX(marginX)
		for i, col := range cols {
			r.cell(col.w, 5, cells[i], col.align, 0)
		}
		pdf.SetY(y + 5)
	}
	r.text(navy)
	titles := make([]string, len(cols))
	for i, col := range cols {
		titles[i] = col.title
	}
	pdf.SetY(pdf.GetY() + 0.5)
	row(titles, true, false)
	r.text(black)
	for _, t := range ledger.DeviceTypes {
		v := by[t]
		if v == nil {
			continue
		}
		row([]string{r.typeName(t), ledger.Thousands(v.n), ledger.Thousands(v.weighed), kgOrDash(v.weighed, v.grams)}, false, false)
	}
	row([]string{"Total", ledger.Thousands(all.n), ledger.Thousands(all.weighed), kgOrDash(all.weighed, all.grams)}, true, true)
	pdf.SetFont(r.sans, "", 8.5)
	cover := fmt.Sprintf("Weight recorded for %s of %s items (%s kg).", ledger.Thousands(all.weighed), ledger.Thousands(all.n), ledger.FormatKg(all.grams))
	if r.layout >= 2 {
		cover = fmt.Sprintf("Weight recorded for %s of %s (%s kg).", ledger.Thousands(all.weighed), ledger.CountOf(all.n, "item", "items"), ledger.FormatKg(all.grams))
	}
	if g := d.Batch.GrossWeightG; g != nil {
		cover += fmt.Sprintf(" Weighed gross output of the run: %s kg.", ledger.FormatKg(*g))
	} else {
		cover += " The run's gross output was not weighed."
	}
	if v2 {
		cover = batchWeightNote(d.Items, all.n, all.weighed, all.grams, d.Batch.GrossWeightG)
	}
	pdf.SetY(pdf.GetY() + 1.5)
	pdf.SetX(marginX)
	pdf.MultiCell(bodyW, 4.4, r.tr(cover), "", "L", false)
}

// signatureBlock states who signed the document electronically and the
// hashes that tie it to the ledger.
func (r *renderer) signatureBlock() {
	c := r.c
	r.section("Electronic signature", 25)
	r.field(bodyW, "Signed by", c.SignerName, false)
	r.field(bodyW, "Signing key (SHA-256)", group(c.SignerFingerprint), true)
	r.field(bodyW, "Content hash (SHA-256)", group(r.hash), true)
	r.field(bodyW, "How to verify", "This document carries a digital signature (CMS, PDF incremental update) that any PDF reader can check. "+
		"Against the ledger: itad cert verify FILE.pdf", false)
}

// ---- the batch schedule ----

type column struct {
	title string
	w     float64
	align string
	value func(n int, it ledger.CertificateItem) string
	// wrap: a value too wide for the column wraps onto more lines (the
	// row grows) rather than being cut: identifiers are never truncated.
	wrap bool
}

var scheduleColumns = []column{
	{"No.", 11, "R", func(n int, _ ledger.CertificateItem) string { return strconv.Itoa(n) }, false},
	{"Serial number", 36, "L", func(_ int, it ledger.CertificateItem) string { return it.Device.Serial }, true},
	{"Asset tag", 21, "L", func(_ int, it ledger.CertificateItem) string { return it.Device.AssetTag }, true},
	{"Type", 17, "L", func(_ int, it ledger.CertificateItem) string { return string(it.Device.Type) }, false},
	{"Make / model", 35, "L", func(_ int, it ledger.CertificateItem) string {
		return joinNonEmpty(" ", it.Device.Make, it.Device.Model)
	}, false},
	{"Capacity", 14, "R", func(_ int, it ledger.CertificateItem) string { return shortCapacity(it.Device.CapacityGB) }, false},
	{"Method", 17, "L", func(_ int, it ledger.CertificateItem) string { return string(it.Disposal.Method) }, false},
	{"Date", 16, "L", func(_ int, it ledger.CertificateItem) string { return it.Disposal.DisposedOn }, false},
	{"Weight kg", 13, "R", func(_ int, it ledger.CertificateItem) string {
		if it.Disposal.WeightG == nil {
			return ""
		}
		return ledger.FormatKg(*it.Disposal.WeightG)
	}, false},
}

// columns returns the schedule's columns in r's layout: from layout 2 the
// type and method are named as everywhere else, capacities written as
// ledger.FormatCapacity, the type column is wider (the make and model
// narrower) to hold the labels, and weights follow ledger.WeightRule.
func (r *renderer) columns() []column {
	if r.layout < 2 {
		return scheduleColumns
	}
	cols := append([]column(nil), scheduleColumns...)
	for i := range cols {
		switch cols[i].title {
		case "Type": // wider, for labels such as "Solid-state drive"
			cols[i].w += 4
			cols[i].value = func(_ int, it ledger.CertificateItem) string { return it.Device.Type.Label() }
		case "Make / model":
			cols[i].w -= 4
		case "Capacity":
			cols[i].value = func(_ int, it ledger.CertificateItem) string { return formatCapacity(it.Device.CapacityGB) }
		case "Method":
			cols[i].value = func(_ int, it ledger.CertificateItem) string { return methodName(it.Disposal.Method) }
		}
	}
	// The weight column shows each item's weight under ledger.WeightRule,
	// a share of the run's gross weight marked "*".
	cols[len(cols)-1].value = func(_ int, it ledger.CertificateItem) string {
		w := it.Weight
		switch {
		case w.Grams == nil:
			return ""
		case w.Source == ledger.WeightBatch:
			return ledger.FormatKg(*w.Grams) + "*"
		}
		return ledger.FormatKg(*w.Grams)
	}
	return cols
}

// weightOf is the weight an item counts on the certificate: from layout
// 2 its weight under ledger.WeightRule, before that its own.
func (r *renderer) weightOf(it ledger.CertificateItem) *int64 {
	if r.c.version() >= 2 {
		return it.Weight.Grams
	}
	return it.Disposal.WeightG
}

// itemWeight shows a device certificate's weight: from layout 2, a share
// of its run's weighed gross output says so.
func (r *renderer) itemWeight(it ledger.CertificateItem) string {
	if r.c.version() < 2 {
		return weight(it.Disposal.WeightG)
	}
	if it.Weight.Source == ledger.WeightBatch && it.Weight.Grams != nil {
		return weight(it.Weight.Grams) + " (an equal share of run " + it.Disposal.Batch + "'s weighed gross output)"
	}
	return weight(it.Weight.Grams)
}

// batchWeightNote states a batch certificate's weights under
// ledger.WeightRule, in the words Report uses for the same numbers.
func batchWeightNote(items []ledger.CertificateItem, n, weighed, grams int64, gross *int64) string {
	var own, shared, ownG int64
	for _, it := range items {
		switch it.Weight.Source {
		case ledger.WeightItem:
			own++
			ownG += *it.Weight.Grams
		case ledger.WeightBatch:
			shared++
		}
	}
	s := fmt.Sprintf("Weight: %s kg, weight recorded for %s of %s %s", ledger.FormatKg(grams), ledger.Thousands(weighed),
		ledger.Thousands(n), plural(int(n), "item", "items"))
	if shared > 0 {
		s += fmt.Sprintf(", %s of them from the run's gross weight", ledger.Thousands(shared))
	}
	s += "."
	if gross == nil {
		return s + " The run's gross output was not weighed."
	}
	s += fmt.Sprintf(" Weighed gross output of the run: %s kg.", ledger.FormatKg(*gross))
	if shared > 0 {
		s += fmt.Sprintf(" Each item without a weight of its own (marked * in the schedule) counts an equal share of the gross output less the %s kg of the %s %s weighed individually.",
			ledger.FormatKg(ownG), ledger.Thousands(own), plural(int(own), "item", "items"))
	} else if weighed < n {
		s += " It is not shared among the items without a weight of their own, as it is not more than the weights recorded for the others."
	}
	return s
}

const rowH = 4.3

// schedule lists every item of a batch in a table that repeats its header
// row on every page.
func (r *renderer) schedule() {
	pdf := r.pdf
	items := r.c.Data.Items
	// The schedule follows the front matter, on a new page unless a
	// useful part of the table fits.
	r.section(fmt.Sprintf("Schedule of items (%s)", ledger.Thousands(int64(len(items)))), 5.5+10*rowH)
	r.tableHeader()
	pdf.SetFont(r.sans, "", 7)
	const lineH = 3.1 // line pitch of a wrapped cell
	columns := r.columns()
	wrapped := make([][][]byte, len(columns))
	for i, it := range items {
		if r.progress != nil && i%256 == 0 {
			r.progress(int64(i))
		}
		// Wrap identifiers too wide for their column even at the
		// smallest font cell() would use.
		h := rowH
		for j, col := range columns {
			wrapped[j] = nil
			if !col.wrap {
				continue
			}
			v := r.tr(col.value(i+1, it))
			avail := col.w - 2*pdf.GetCellMargin()
			if pdf.GetStringWidth(v)*0.7 > avail {
				wrapped[j] = pdf.SplitLines([]byte(v), avail)
				h = max(h, float64(len(wrapped[j]))*lineH+(rowH-lineH))
			}
		}
		if pdf.GetY()+h > bodyBottom {
			pdf.AddPage()
			r.tableHeader()
			pdf.SetFont(r.sans, "", 7)
		}
		y := pdf.GetY()
		if i%2 == 1 {
			r.fill(zebra)
			pdf.Rect(marginX, y, bodyW, h, "F")
		}
		x := marginX
		for j, col := range columns {
			if wrapped[j] != nil {
				for k, line := range wrapped[j] {
					pdf.SetXY(x, y+float64(k)*lineH)
					pdf.CellFormat(col.w, rowH, string(line), "", 0, col.align, false, 0, "")
				}
			} else {
				pdf.SetXY(x, y)
				r.cell(col.w, rowH, col.value(i+1, it), col.align, 0)
			}
			x += col.w
		}
		pdf.SetY(y + h)
	}
	r.draw(navy)
	pdf.SetLineWidth(0.3)
	y := pdf.GetY()
	pdf.Line(marginX, y, pageW-marginX, y)
	pdf.SetY(y + 2)
	pdf.SetFont(r.sans, "", 7.5)
	r.text(grey)
	pdf.SetX(marginX)
	end := fmt.Sprintf("End of schedule: %s items.", ledger.Thousands(int64(len(items))))
	if r.layout >= 2 {
		end = "End of schedule: " + ledger.CountOf(int64(len(items)), "item", "items") + "."
	}
	r.cell(bodyW, 4, end, "L", 1)
	r.text(black)
}

func (r *renderer) tableHeader() {
	pdf := r.pdf
	y := pdf.GetY()
	r.fill(navy)
	pdf.Rect(marginX, y, bodyW, 5.5, "F")
	r.text(white)
	pdf.SetFont(r.sans, "B", 7)
	pdf.SetX(marginX)
	for _, col := range r.columns() {
		r.cell(col.w, 5.5, col.title, col.align, 0)
	}
	r.text(black)
	pdf.SetY(y + 5.5)
}

// ---- wording ----

var typeNames = map[ledger.DeviceType]string{
	ledger.HDD: "Hard disk drive (HDD)", ledger.SSD: "Solid-state drive (SSD)", ledger.Tape: "Magnetic tape",
	ledger.USB: "USB flash drive", ledger.Optical: "Optical disc", ledger.MemoryCard: "Memory card",
	ledger.Laptop: "Laptop", ledger.Desktop: "Desktop computer", ledger.Server: "Server", ledger.Phone: "Mobile phone",
	ledger.Tablet: "Tablet", ledger.Network: "Network equipment", ledger.Printer: "Printer / MFD", ledger.OtherType: "Other",
}

// typeName is layout 1's name of a type; later layouts use ledger's
// DeviceType.Label.
func typeName(t ledger.DeviceType) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return string(t)
}

func (r *renderer) typeName(t ledger.DeviceType) string {
	if r.layout >= 2 {
		return t.Label()
	}
	return typeName(t)
}

var methodNames = map[ledger.Method][2]string{ // name, and as the object of "by"
	ledger.Overwrite:    {"Overwrite", "overwriting"},
	ledger.BlockErase:   {"Block erase", "block erase"},
	ledger.CryptoErase:  {"Cryptographic erase", "cryptographic erase"},
	ledger.Degauss:      {"Degauss", "degaussing"},
	ledger.Shred:        {"Shred", "shredding"},
	ledger.Disintegrate: {"Disintegrate", "disintegration"},
	ledger.Pulverise:    {"Pulverise", "pulverisation"},
	ledger.Incinerate:   {"Incinerate", "incineration"},
}

func methodName(m ledger.Method) string {
	if n, ok := methodNames[m]; ok {
		return n[0]
	}
	return string(m)
}

func methodBy(m ledger.Method) string {
	if n, ok := methodNames[m]; ok {
		return n[1]
	}
	return string(m)
}

func categoryName(c ledger.Category) string {
	switch c {
	case ledger.Clear:
		return "Clear"
	case ledger.Purge:
		return "Purge"
	case ledger.Destroy:
		return "Destroy"
	}
	return string(c)
}

func verification(v string) string {
	switch v {
	case "yes":
		return "Verified"
	case "sample":
		return "Verified by sampling"
	case "no":
		return "Not verified"
	}
	return ""
}

// categoryEffect is what NIST SP 800-88 Rev. 1 says each category achieves.
func categoryEffect(c ledger.Category) string {
	switch c {
	case ledger.Clear:
		return "Clear applies logical techniques to all user-addressable storage locations and protects against simple, non-invasive data recovery techniques"
	case ledger.Purge:
		return "Purge renders recovery of the data infeasible using state of the art laboratory techniques"
	case ledger.Destroy:
		return "Destruction renders recovery of the data infeasible using state of the art laboratory techniques and leaves the media unable to store data"
	}
	return ""
}

func deviceStatement(d ledger.CertificateData, p ledger.Disposal, v ledger.Device, layout int) string {
	verb := "sanitised"
	if p.Category == ledger.Destroy {
		verb = "physically destroyed"
	}
	var b strings.Builder
	noun := strings.ToLower(typeNameShort(v.Type))
	if layout >= 2 {
		noun = v.Type.Noun()
	}
	fmt.Fprintf(&b, "This is to certify that the %s with serial number %s was %s by %s on %s", noun, v.Serial, verb, methodBy(p.Method), p.DisposedOn)
	if v.Site != "" {
		fmt.Fprintf(&b, " at %s", v.Site)
	}
	fmt.Fprintf(&b, ", by %s", p.Contractor)
	if p.Standard != "" {
		fmt.Fprintf(&b, ", in accordance with %s", p.Standard)
	}
	fmt.Fprintf(&b, ". %s (NIST SP 800-88 Rev. 1: %s).", categoryEffect(p.Category), categoryName(p.Category))
	return b.String()
}

func typeNameShort(t ledger.DeviceType) string {
	switch t {
	case ledger.HDD:
		return "hard disk drive"
	case ledger.SSD:
		return "solid-state drive"
	case ledger.Printer:
		return "printer"
	}
	return typeName(t)
}

func batchStatement(d ledger.CertificateData, cat ledger.Category, layout int) string {
	b := d.Batch
	n := ledger.Thousands(int64(len(d.Items))) + " items"
	were := "were"
	if layout >= 2 && len(d.Items) == 1 {
		n, were = "1 item", "was"
	}
	var s strings.Builder
	switch cat {
	case ledger.Destroy:
		fmt.Fprintf(&s, "This is to certify that the %s listed in the schedule of this certificate %s physically destroyed", n, were)
	case ledger.Clear, ledger.Purge:
		fmt.Fprintf(&s, "This is to certify that the %s listed in the schedule of this certificate %s sanitised", n, were)
	default:
		fmt.Fprintf(&s, "This is to certify that the %s listed in the schedule of this certificate %s sanitised or destroyed, each by the method shown,", n, were)
	}
	fmt.Fprintf(&s, " in destruction run %s", b.Ref)
	if dr := dateRange(d.Items); dr != "" {
		if strings.Contains(dr, " to ") {
			fmt.Fprintf(&s, " between %s", strings.Replace(dr, " to ", " and ", 1))
		} else {
			fmt.Fprintf(&s, " on %s", dr)
		}
	}
	if b.Site != "" {
		fmt.Fprintf(&s, " at %s", b.Site)
	}
	var names []string
	for _, k := range d.Contractors {
		names = append(names, k.Name)
	}
	fmt.Fprintf(&s, ", by %s.", strings.Join(names, " and "))
	if cat != "" {
		fmt.Fprintf(&s, " %s (NIST SP 800-88 Rev. 1: %s).", categoryEffect(cat), categoryName(cat))
	} else {
		s.WriteString(" The NIST SP 800-88 Rev. 1 category of each method is given above.")
	}
	return s.String()
}

// dinLevels describes DIN 66399 / ISO/IEC 21964 security levels.
var dinLevels = map[string]string{
	"H-1": "inoperable", "H-2": "damaged", "H-3": "deformed", "H-4": "particles of at most 2,000 mm\u00b2",
	"H-5": "particles of at most 320 mm\u00b2", "H-6": "particles of at most 10 mm\u00b2", "H-7": "particles of at most 5 mm\u00b2",
	"O-1": "particles of at most 2,000 mm\u00b2", "O-2": "particles of at most 800 mm\u00b2", "O-3": "particles of at most 160 mm\u00b2",
	"O-4": "particles of at most 30 mm\u00b2", "O-5": "particles of at most 10 mm\u00b2", "O-6": "particles of at most 5 mm\u00b2",
	"O-7": "particles of at most 0.2 mm\u00b2",
	"T-1": "inoperable", "T-2": "particles of at most 2,000 mm\u00b2", "T-3": "particles of at most 320 mm\u00b2",
	"T-4": "particles of at most 160 mm\u00b2", "T-5": "particles of at most 30 mm\u00b2", "T-6": "particles of at most 10 mm\u00b2",
	"T-7": "particles of at most 2.5 mm\u00b2",
	"E-1": "inoperable", "E-2": "divided", "E-3": "particles of at most 160 mm\u00b2", "E-4": "particles of at most 30 mm\u00b2",
	"E-5": "particles of at most 10 mm\u00b2", "E-6": "particles of at most 1 mm\u00b2", "E-7": "particles of at most 0.5 mm\u00b2",
}

var (
	dinStandard = regexp.MustCompile(`(?i)\b(DIN\s*66399|ISO/IEC\s*21964)\b`)
	dinLevelRe  = regexp.MustCompile(`(?i)\b([HOTE])\s*-?\s*([1-7])\b`)
)

// dinLevel returns the DIN 66399 security level named in a standard's
// text ("DIN 66399 H-5" gives "H-5: particles of at most 320 mm²"), or ""
// when the text names none.
func dinLevel(standard string) string {
	if !dinStandard.MatchString(standard) {
		return ""
	}
	m := dinLevelRe.FindStringSubmatch(standard)
	if m == nil {
		return ""
	}
	lvl := strings.ToUpper(m[1]) + "-" + m[2]
	return lvl + " (" + dinLevels[lvl] + ")"
}

// ---- formatting helpers ----

func capacity(gb *int64) string {
	if gb == nil {
		return ""
	}
	return ledger.Thousands(*gb) + " GB"
}

// capacity is the device page's capacity: from layout 2, as everywhere
// else (ledger.FormatCapacity).
func (r *renderer) capacity(gb *int64) string {
	if r.layout >= 2 {
		return formatCapacity(gb)
	}
	return capacity(gb)
}

func formatCapacity(gb *int64) string {
	if gb == nil {
		return ""
	}
	return ledger.FormatCapacity(*gb)
}

func shortCapacity(gb *int64) string {
	if gb == nil {
		return ""
	}
	if *gb >= 1000 && *gb%1000 == 0 {
		return strconv.FormatInt(*gb/1000, 10) + " TB"
	}
	return strconv.FormatInt(*gb, 10) + " GB"
}

func weight(g *int64) string {
	if g == nil {
		return ""
	}
	return ledger.FormatKg(*g) + " kg"
}

// kgOrDash shows a total weight, or "-" when no item was weighed (a
// weight of zero would be invented).
func kgOrDash(weighed, grams int64) string {
	if weighed == 0 {
		return "-"
	}
	return ledger.FormatKg(grams)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// group writes a hex string in groups of four: "ab12 cd34 …".
func group(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}

// dateRange is "2021-03-04", or "2021-03-04 to 2021-03-06" when the items'
// dates differ.
func dateRange(items []ledger.CertificateItem) string {
	lo, hi := items[0].Disposal.DisposedOn, items[0].Disposal.DisposedOn
	for _, it := range items {
		lo, hi = min(lo, it.Disposal.DisposedOn), max(hi, it.Disposal.DisposedOn)
	}
	if lo == hi {
		return lo
	}
	return lo + " to " + hi
}

// summarise lists the distinct values of f over items, most frequent
// first, with their counts when there are several: "Shred (1,200);
// Disintegrate (3)". Empty values count as "not recorded".
func summarise(items []ledger.CertificateItem, f func(ledger.CertificateItem) string) string {
	counts := map[string]int{}
	for _, it := range items {
		counts[f(it)]++
	}
	if len(counts) == 1 {
		for v := range counts {
			if v == "" {
				return "not recorded"
			}
			return v
		}
	}
	vals := make([]string, 0, len(counts))
	for v := range counts {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool {
		if counts[vals[i]] != counts[vals[j]] {
			return counts[vals[i]] > counts[vals[j]]
		}
		return vals[i] < vals[j]
	})
	const maxShown = 6
	var parts []string
	for i, v := range vals {
		if i == maxShown {
			parts = append(parts, fmt.Sprintf("and %d other values (see the ledger)", len(vals)-maxShown))
			break
		}
		if v == "" {
			v = "not recorded"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", v, ledger.Thousands(int64(counts[v]))))
	}
	return strings.Join(parts, "; ")
}

// summariseNames lists the distinct names of f over items in order of
// first appearance: all of them when there are at most three, "" (a
// blank line in the signature blocks) when none is recorded, else
// "several (see the ledger)".
func summariseNames(items []ledger.CertificateItem, f func(ledger.CertificateItem) string) string {
	var names []string
	seen := map[string]bool{}
	for _, it := range items {
		if n := f(it); n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
			if len(names) > 3 {
				return "several (see the ledger)"
			}
		}
	}
	return strings.Join(names, "; ")
}

// tr converts UTF-8 text to Windows-1252 for the PDF core fonts: runes
// outside it become "?", tabs become spaces and other control characters
// except newlines become "?".
func tr(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 && c != '\n' {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b = append(b, '\n')
		case r == '\t':
			b = append(b, ' ')
		case r < 0x20 || r == 0x7f:
			b = append(b, '?')
		case r < 0x80:
			b = append(b, byte(r))
		case r >= 0xa0 && r <= 0xff:
			b = append(b, byte(r))
		default:
			if c, ok := cp1252[r]; ok {
				b = append(b, c)
			} else {
				b = append(b, '?')
			}
		}
	}
	return string(b)
}

// cp1252 maps the runes of Windows-1252's 0x80-0x9f range.
var cp1252 = map[rune]byte{
	'\u20ac': 0x80, '\u201a': 0x82, '\u0192': 0x83, '\u201e': 0x84, '\u2026': 0x85, '\u2020': 0x86, '\u2021': 0x87,
	'\u02c6': 0x88, '\u2030': 0x89, '\u0160': 0x8a, '\u2039': 0x8b, '\u0152': 0x8c, '\u017d': 0x8e,
	'\u2018': 0x91, '\u2019': 0x92, '\u201c': 0x93, '\u201d': 0x94, '\u2022': 0x95, '\u2013': 0x96, '\u2014': 0x97,
	'\u02dc': 0x98, '\u2122': 0x99, '\u0161': 0x9a, '\u203a': 0x9b, '\u0153': 0x9c, '\u017e': 0x9e, '\u0178': 0x9f,
}

// issueTime formats a time for display.
func issueTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" }
