package certificate

import (
	"testing"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"Gwŷn Rhŵd, Łukasz Żółć, Dvořák, Øyvind, Ελλάδα, Жж, €", "Gwŷn Rhŵd, Łukasz Żółć, Dvořák, Øyvind, Ελλάδα, Жж, €"},
		{"a\tb\nc", "a b\nc"},
		{"bell\a nul\x00 cr\r del\x7f c1\u0085 esc\x1b", "bell? nul? cr? del? c1? esc?"},
		{"emoji 😀 and 𝔸", "emoji \ufffd and \ufffd"},
		{"bad \xff\xfe utf8", "bad \ufffd\ufffd utf8"},
		{"nonchar \uffff \ufffe, replacement \ufffd", "nonchar \ufffd \ufffd, replacement \ufffd"},
		{"", ""},
	} {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
