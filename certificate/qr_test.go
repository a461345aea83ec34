package certificate

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/internal/qrcode"
)

// qrPDF renders one A4 page with a QR code of text at (x, y) of side size
// mm, on a coloured background if bg.
func qrPDF(t *testing.T, text string, size float64, bg bool) []byte {
	return qrPDFMask(t, text, size, bg, -1)
}

// qrPDFMask is qrPDF with the QR code's mask fixed (-1: chosen).
func qrPDFMask(t *testing.T, text string, size float64, bg bool, mask int) []byte {
	t.Helper()
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(testNow)
	pdf.SetModificationDate(testNow)
	pdf.AddPage()
	if bg {
		pdf.SetFillColor(200, 220, 255)
		pdf.Rect(0, 0, 210, 297, "F")
	}
	pdf.SetFillColor(10, 20, 30)
	if err := drawQR(pdf, 20, 30, size, text, mask); err != nil {
		t.Fatal(err)
	}
	if r, g, b := pdf.GetFillColor(); r != 10 || g != 20 || b != 30 {
		t.Errorf("fill colour (%d, %d, %d) not restored", r, g, b)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDrawQR_Decodes(t *testing.T) {
	requireTool(t, "pdftoppm")
	requireTool(t, "zbarimg")
	tests := []struct {
		name string
		text string
		size float64 // mm
		dpi  int
		bg   bool
	}{
		{"URL", "https://itad.example/verify/7f3c9a1e-5b2d-4c8e-9f10-2a3b4c5d6e7f", 40, 100, false},
		{"URLAt72dpi", "https://itad.example/verify/7f3c9a1e-5b2d-4c8e-9f10-2a3b4c5d6e7f", 40, 72, false},
		{"Fingerprint", "sha256:" + strings.Repeat("0123456789abcdef", 4), 35, 100, true},
		{"Short", "SN-0001", 20, 100, false},
		{"Long", strings.Repeat("itad certificate of destruction ", 8), 60, 100, false},
	}
	for _, tt := range tests {
		for _, mask := range []int{-1, qrMask} {
			t.Run(fmt.Sprintf("%s/mask%d", tt.name, mask), func(t *testing.T) {
				pdfPath := writeTemp(t, "qr.pdf", qrPDFMask(t, tt.text, tt.size, tt.bg, mask))
				if got := zbar(t, pdfPath, 1, tt.dpi); got != tt.text {
					t.Errorf("decoded %q, want %q", got, tt.text)
				}
			})
		}
	}
}

// zbar renders page of the PDF at path at dpi and returns the text of the
// QR code zbarimg decodes there.
func zbar(t *testing.T, pdfPath string, page, dpi int) string {
	t.Helper()
	requireTool(t, "pdftoppm")
	requireTool(t, "zbarimg")
	{
		{
			prefix := filepath.Join(filepath.Dir(pdfPath), "page")
			if out, err := runTool(t, "pdftoppm", "-r", fmt.Sprint(dpi), "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-png", "-singlefile", pdfPath, prefix); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			// zbarimg may print D-Bus noise on stderr: read stdout only.
			var stderr bytes.Buffer
			cmd := exec.Command("zbarimg", "--raw", "-q", prefix+".png")
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("zbarimg: %v\n%s", err, stderr.String())
			}
			return strings.TrimSuffix(string(stdout), "\n")
		}
	}
}

func TestDrawQR_Errors(t *testing.T) {
	tests := []struct {
		name string
		size float64
		text string
	}{
		{"ErrZeroSize", 0, "x"},
		{"ErrTooLong", 40, strings.Repeat("x", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdf := gofpdf.New("P", "mm", "A4", "")
			pdf.AddPage()
			if err := DrawQR(pdf, 0, 0, tt.size, tt.text); err == nil {
				t.Fatal("DrawQR succeeded")
			}
		})
	}
}

// TestDrawQR_Size checks that runs of dark modules are merged: a QR code
// adds far fewer rectangles to the page than it has dark modules.
func TestDrawQR_Size(t *testing.T) {
	text := "https://itad.example/verify/7f3c9a1e-5b2d-4c8e-9f10-2a3b4c5d6e7f"
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	for _, row := range q.Bitmap() {
		for _, d := range row {
			if d {
				dark++
			}
		}
	}
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.AddPage()
	if err := DrawQR(pdf, 0, 0, 40, text); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	// One white background rectangle, then one per run of dark modules.
	rects := bytes.Count(buf.Bytes(), []byte(" re f"))
	if rects < 2 || rects > dark*2/3 {
		t.Errorf("%d rectangles for %d dark modules", rects, dark)
	}
}

// BenchmarkDrawQR compares a certificate's QR code with the mask chosen
// by the penalty rules (layouts 1 and 2) and with the fixed mask (layout 3).
func BenchmarkDrawQR(b *testing.B) {
	text := VerifyURL("https://certs.example.org/itad", testUUID(42), strings.Repeat("ab", 32))
	for _, mask := range []int{-1, qrMask} {
		b.Run(fmt.Sprintf("mask%d", mask), func(b *testing.B) {
			pdf := gofpdf.New("P", "mm", "A4", "")
			pdf.AddPage()
			for b.Loop() {
				if err := drawQR(pdf, 10, 10, 34, text, mask); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
