package certificate

import (
	"strings"
	"unicode/utf8"

	"github.com/itad/itad/internal/gofpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// The Unicode fonts: the Go fonts (golang.org/x/image/font/gofont, BSD
// licence), embedded as TrueType subsets of the characters a document
// uses. They cover Latin (Welsh ŵ ŷ, Polish, Czech, Nordic...), Greek and
// Cyrillic.
const (
	fontSans = "GoSans" // Go Regular, Go Bold ("B"), Go Italic ("I")
	fontMono = "GoMono" // Go Mono
)

// addGoFonts registers the Go fonts with pdf: the sans-serif family in the
// given styles ("", "B", "I"), and Go Mono if mono. itad's copy of gofpdf
// (internal/gofpdf) parses each font once per process, keyed by these
// package variables' bytes, and subsets it once per set of characters, so
// a document's fonts cost little.
func addGoFonts(pdf *gofpdf.Fpdf, mono bool, styles ...string) {
	ttf := map[string][]byte{"": goregular.TTF, "B": gobold.TTF, "I": goitalic.TTF}
	for _, style := range styles {
		pdf.AddUTF8FontFromBytes(fontSans, style, ttf[style])
	}
	if mono {
		pdf.AddUTF8FontFromBytes(fontMono, "", gomono.TTF)
	}
}

// clean prepares UTF-8 text for the Unicode fonts: tabs become spaces,
// other control characters except newlines (C0, DEL, C1) become "?", and
// invalid UTF-8, characters beyond the Basic Multilingual Plane (which
// gofpdf's two-byte encoding cannot carry) and the noncharacters U+FFFE and
// U+FFFF become U+FFFD. Characters the fonts lack print as the font's
// missing-glyph box but are still extracted as text.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 && c != '\n' || c == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			b.WriteByte('?')
		case r > 0xfffd:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // an invalid byte came as utf8.RuneError
		}
	}
	return b.String()
}
