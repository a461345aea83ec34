package certificate

// This file holds what layout 3 (RenderVersion 3) changes in the
// renderer outside the layout itself (layout3.go): the embedded Unicode
// fonts and their text encoding, and the QR code's link to the public
// verification page.

// useFonts sets up r's fonts: from layout 3 the Go fonts (fontSans regular
// and bold, fontMono), embedded as subsets, with page content compressed;
// before, the PDF core fonts Helvetica and Courier in Windows-1252 and no
// compression, so that layouts 1 and 2 re-render byte for byte.
func (r *renderer) useFonts() {
	if r.layout >= 3 {
		addGoFonts(r.pdf, true, "", "B", "I")
		r.sans, r.mono = fontSans, fontMono
		r.pdf.SetCompression(true)
		return
	}
	r.sans, r.mono = "Helvetica", "Courier"
	r.pdf.SetCompression(false)
}

// tr encodes UTF-8 text for r's fonts: clean (Unicode) from layout 3, tr
// (Windows-1252, "?" for the rest) before.
func (r *renderer) tr(s string) string {
	if r.layout >= 3 {
		return clean(s)
	}
	return tr(s)
}

// ellipsis is "…" in r's font encoding.
func (r *renderer) ellipsis() string {
	if r.layout >= 3 {
		return "\u2026"
	}
	return "\x85"
}

// qrText is the text of the QR code: the public verification URL when the
// certificate has one (layout 3 with public_url set), else QRText.
func (r *renderer) qrText() string {
	if r.layout >= 3 && r.c.PublicURL != "" {
		return VerifyURL(r.c.PublicURL, r.c.Number, r.hash)
	}
	return QRText(r.c.Number, r.hash)
}

// drawQR draws the QR code at (x, y): from layout 3 with the fixed mask
// qrMask, before with the mask the penalty rules choose (as those
// layouts were issued).
func (r *renderer) drawQR(x, y float64) error {
	mask := -1
	if r.layout >= 3 {
		mask = qrMask
	}
	return drawQR(r.pdf, x, y, qrSize, r.qrText(), mask)
}

// qrCaption prints the two lines under the QR code at x in layouts 1
// and 2 (layout 3: qrCaption3).
func (r *renderer) qrCaption(x float64) {
	r.cell(qrSize, 2.8, "Certificate number and", "C", 2)
	r.pdf.SetX(x)
	r.cell(qrSize, 2.8, "content hash (SHA-256)", "C", 0)
}
