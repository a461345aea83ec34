package certificate

import (
	"bytes"
	"testing"

	"github.com/itad/itad/internal/gofpdf"
)

func BenchmarkProtoGoFonts(b *testing.B) {
	for b.Loop() {
		pdf := gofpdf.New("P", "mm", "A4", "")
		addGoFonts(pdf, true, "", "B")
		pdf.AddPage()
		pdf.SetFont(fontSans, "", 10)
		pdf.Cell(100, 5, "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn Łukasz Żółć")
		pdf.SetFont(fontSans, "B", 10)
		pdf.Cell(100, 5, "Certificate of destruction 0123456789")
		pdf.SetFont(fontMono, "", 10)
		pdf.Cell(100, 5, "abcdef0123456789")
		var buf bytes.Buffer
		if err := pdf.Output(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
