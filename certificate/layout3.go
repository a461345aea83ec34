package certificate

import (
	"strings"
)

// This file holds what layout 3 (RenderVersion 3) changes in the
// renderer outside the layout itself: the embedded Unicode fonts, the QR
// code's link to the public verification page, and the signature block
// that describes the embedded content.

// useFonts sets up r's fonts: from layout 3 the Go fonts (fontSans regular
// and bold, fontMono), embedded as subsets, with page content compressed;
// before, the PDF core fonts Helvetica and Courier in Windows-1252 and no
// compression, so that layouts 1 and 2 re-render byte for byte.
func (r *renderer) useFonts() {
	if r.layout >= 3 {
		addGoFonts(r.pdf, true, "", "B")
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

// qrCaption prints the two lines under the QR code at x: what it holds,
// or, with a public URL, the verification page's address (the hash left
// out, so that it can be typed): its base, then the certificate number.
func (r *renderer) qrCaption(x float64) {
	if r.layout >= 3 && r.c.PublicURL != "" {
		base := strings.TrimSuffix(r.c.PublicURL, "/") + "/verify/"
		base = strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
		r.pdf.SetX(x - 6)
		r.cell(qrSize+12, 2.8, base, "C", 2)
		r.pdf.SetX(x - 6)
		r.cell(qrSize+12, 2.8, r.c.Number, "C", 0)
		return
	}
	r.cell(qrSize, 2.8, "Certificate number and", "C", 2)
	r.pdf.SetX(x)
	r.cell(qrSize, 2.8, "content hash (SHA-256)", "C", 0)
}

// signatureBlockEmbedded is layout 3's signature block: it names the
// embedded content file and how verification uses it.
func (r *renderer) signatureBlockEmbedded() {
	c := r.c
	r.section("Electronic signature", 25)
	r.field(bodyW, "Signed by", c.SignerName, false)
	r.field(bodyW, "Signing key (SHA-256)", group(c.SignerFingerprint), true)
	r.field(bodyW, "Content hash (SHA-256)", group(r.hash), true)
	r.field(bodyW, "How to verify", "This document carries a digital signature (CMS, PDF incremental update) that any PDF reader can check. "+
		"Its content is embedded in it as "+ContentFileName+" (canonical JSON, whose SHA-256 is the content hash; 'itad cert show FILE.pdf --json' prints it). "+
		"Against the ledger: itad cert verify FILE.pdf", false)
}
