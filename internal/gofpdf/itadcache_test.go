package gofpdf

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/goregular"
)

// TestSplitLinesUTF8: lines break between characters and are measured by
// character.
func TestSplitLinesUTF8(t *testing.T) {
	font := goregular.TTF
	pdf := New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("u", "", font)
	pdf.AddPage()
	pdf.SetFont("u", "", 10)
	text := strings.Repeat("Żółć Серия Ελλάδα ", 20)
	lines := pdf.SplitLines([]byte(text), 60)
	for _, l := range lines {
		if !utf8.Valid(l) {
			t.Fatalf("line %q is not valid UTF-8", l)
		}
		if w := pdf.GetStringWidth(string(bytes.TrimSpace(l))); w > 60 {
			t.Errorf("line %q is %.1f mm wide, more than 60", l, w)
		}
	}
	if len(lines) < 5 {
		t.Errorf("%d lines", len(lines))
	}
}

// TestStringWidthBeyondTable: a character past the font's width table
// (U+10000 and above) is measured with the missing width, not a panic.
func TestStringWidthBeyondTable(t *testing.T) {
	pdf := New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("u", "", goregular.TTF)
	pdf.SetFont("u", "", 10)
	for _, s := range []string{"𐀀", "😀", "a𐀀b"} {
		if w := pdf.GetStringWidth(s); w <= 0 {
			t.Errorf("GetStringWidth(%q) = %v", s, w)
		}
	}
}

// TestFontCache: documents sharing a font parse it once and produce the
// same bytes whether their subset was cached or not.
func TestFontCache(t *testing.T) {
	render := func(text string) []byte {
		pdf := New("P", "mm", "A4", "")
		pdf.SetCatalogSort(true)
		pdf.SetCreationDate(time.Unix(1e9, 0))
		pdf.AddUTF8FontFromBytes("u", "", goregular.TTF)
		pdf.AddPage()
		pdf.SetFont("u", "", 10)
		pdf.Cell(100, 5, text)
		var b bytes.Buffer
		if err := pdf.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a := render("Tŷ Gwŷn Łódź")
	if pc, err := cachedUTF8(goregular.TTF); err != nil || len(pc.cuts) == 0 {
		t.Fatalf("font not cached: %v", err)
	}
	if b := render("Tŷ Gwŷn Łódź"); !bytes.Equal(a, b) {
		t.Error("a cached subset gives other bytes")
	}
	if c := render("Ελλάδα"); bytes.Equal(a, c) {
		t.Error("other text gives the same bytes")
	}
}
