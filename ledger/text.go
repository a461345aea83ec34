package ledger

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that could drive a terminal or hide what it says.
//
// Stored text is refused (checkText) or escaped on output (Printable) when
// it holds a C0 control (U+0000–U+001F), DEL, a C1 control (U+0080–U+009F)
// or a bidi control: the embeddings and overrides U+202A–U+202E, the
// isolates U+2066–U+2069, and the marks U+200E, U+200F and U+061C. A
// serial "SN1\u202e321" would otherwise print as "SN1123" reversed, and
// ESC starts terminal escape sequences.

// isBidiControl reports whether r is a bidi embedding, override, isolate
// or mark.
func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// isUnsafeRune reports whether r is refused in single-line text fields and
// escaped by Printable: a C0 or C1 control, DEL, or a bidi control.
func isUnsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || isBidiControl(r)
}

// Printable returns s with every control character (C0, DEL, C1), bidi
// control and invalid UTF-8 byte escaped as Go writes it — \x1b, \u202e,
// \n — and backslashes left alone, so that stored text printed for people
// cannot move the cursor, recolour the terminal or reorder what follows.
// Text without such characters is returned unchanged.
func Printable(s string) string { return printable(s, "") }

// PrintableLines is Printable for multi-line text (notes): newline and tab
// are kept.
func PrintableLines(s string) string { return printable(s, "\t\n") }

// printable escapes as Printable does, except the characters in keep.
func printable(s string, keep string) string {
	clean := true
	for i, r := range s {
		if isUnsafeRune(r) && !strings.ContainsRune(keep, r) || r == utf8.RuneError && isBadByte(s, i) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && isBadByte(s, i):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && strings.ContainsRune(keep, r):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x100 && isUnsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isUnsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBadByte reports whether the RuneError at s[i] is an invalid byte
// rather than a genuine U+FFFD.
func isBadByte(s string, i int) bool {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n == 1
}

// isInvisible reports whether r shows nothing before a cell's first
// visible character: white space, Unicode space separators (NBSP ...),
// format characters (U+200B–U+200F, U+2060–U+2064, U+FEFF, U+00AD,
// U+180E, bidi controls) and other controls. A spreadsheet may skip them
// and still read the cell as a formula.
func isInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Cf, unicode.Cc) ||
		r == 0x180e || r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0 || isBidiControl(r)
}

// formulaAfterInvisibles reports whether s, once leading invisible
// characters are skipped, starts with = + - or @.
func formulaAfterInvisibles(s string) bool {
	for _, r := range s {
		if isInvisible(r) {
			continue
		}
		return r == '=' || r == '+' || r == '-' || r == '@'
	}
	return false
}

// PrintableWriter escapes, in everything written through it, what
// PrintableLines escapes (newline and tab pass), so that stored text in a
// table, a log or an FOI answer cannot drive the terminal. It escapes each
// Write on its own: callers write whole runes in each call, as fmt.Fprintf
// and text/tabwriter do.
type PrintableWriter struct{ W io.Writer }

// Write writes p, escaped, to W. It reports len(p) on success.
func (pw PrintableWriter) Write(p []byte) (int, error) {
	s := string(p)
	if out := PrintableLines(s); out != s {
		if _, err := io.WriteString(pw.W, out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return pw.W.Write(p)
}
