package certificate

import (
	"errors"
	"fmt"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/internal/qrcode"
)

// DrawQR draws text as a QR code (error correction level M) in the square
// of side size whose top-left corner is (x, y), in the document's units.
// The square includes the 4-module white quiet zone that readers need,
// painted white so the code also reads on a coloured background.
//
// The modules are vector rectangles, one per horizontal run of dark
// modules, rather than an image: they stay sharp at any resolution (zbarimg
// decodes them at 72 dpi) and keep the PDF small. The fill colour is
// restored afterwards. DrawQR returns an error if text does not fit in a QR
// code, size is not positive, or pdf is already in an error state.
func DrawQR(pdf *gofpdf.Fpdf, x, y, size float64, text string) error {
	return drawQR(pdf, x, y, size, text, -1)
}

// qrMask is the data mask of the QR codes of certificates of layout 3
// and later (drawQR): QR Code pattern 0, (row + column) mod 2 == 0. A fixed
// mask skips building and scoring all eight (internal/qrcode), most of
// the cost of a QR code; every mask decodes.
const qrMask = 0

// drawQR is DrawQR with the data mask fixed to mask (0 to 7), or chosen
// by the penalty rules when mask is -1 (as certificates of layouts 1 and
// 2 were drawn, which must re-render byte for byte).
func drawQR(pdf *gofpdf.Fpdf, x, y, size float64, text string, mask int) error {
	if err := pdf.Error(); err != nil {
		return err
	}
	if size <= 0 {
		return errors.New("draw qr: size must be positive")
	}
	var q *qrcode.QRCode
	var err error
	if mask >= 0 {
		q, err = qrcode.NewWithMask(text, qrcode.Medium, mask)
	} else {
		q, err = qrcode.New(text, qrcode.Medium)
	}
	if err != nil {
		return fmt.Errorf("draw qr: %w", err)
	}
	// Bitmap includes the quiet zone: bm[row][col], true for dark.
	bm := q.Bitmap()
	n := len(bm)
	if n == 0 {
		return errors.New("draw qr: empty bitmap")
	}
	m := size / float64(n) // module side
	r, g, b := pdf.GetFillColor()
	defer pdf.SetFillColor(r, g, b)
	pdf.SetFillColor(255, 255, 255)
	pdf.Rect(x, y, size, size, "F")
	pdf.SetFillColor(0, 0, 0)
	for row := range bm {
		for col := 0; col < len(bm[row]); {
			if !bm[row][col] {
				col++
				continue
			}
			start := col
			for col < len(bm[row]) && bm[row][col] {
				col++
			}
			pdf.Rect(x+float64(start)*m, y+float64(row)*m, float64(col-start)*m, m, "F")
		}
	}
	return pdf.Error()
}
