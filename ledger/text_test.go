package ledger

import (
	"errors"
	"strings"
	"testing"
)

// TestValidate_RefusesControlsAndBidi: every text field itad validates
// refuses C0 and C1 controls, DEL and bidi controls; notes keep newline
// and tab only.
func TestValidate_RefusesControlsAndBidi(t *testing.T) {
	bad := []string{"\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\x1b", "\x00", "\x7f", "\u0085", "\u009b", "\n", "\t"}
	for _, c := range bad {
		v := "SN1" + c + "23"
		checks := map[string]func() error{
			"serial":     func() error { d := Device{Serial: v, Type: "hdd"}; return d.Validate() },
			"asset_tag":  func() error { d := Device{Serial: "S", AssetTag: v, Type: "hdd"}; return d.Validate() },
			"make":       func() error { d := Device{Serial: "S", Make: v, Type: "hdd"}; return d.Validate() },
			"model":      func() error { d := Device{Serial: "S", Model: v, Type: "hdd"}; return d.Validate() },
			"site":       func() error { d := Device{Serial: "S", Site: v, Type: "hdd"}; return d.Validate() },
			"contractor": func() error { ct := Contractor{Name: "A" + v}; return ct.Validate() },
			"batch":      func() error { b := Batch{Ref: v}; return b.Validate() },
			"witness":    func() error { b := Batch{Ref: "R", Witness: v}; return b.Validate() },
			"operator": func() error {
				p := Disposal{Method: "shred", DisposedOn: "2021-01-01", Contractor: "A", Operator: v}
				return p.Validate()
			},
		}
		for field, check := range checks {
			if field == "contractor" && strings.TrimSpace(c) == "" {
				continue // names collapse white space (NEL, newline, tab) to one space
			}
			err := check()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), field) {
				t.Errorf("%s %q: got %v, want ErrInvalid naming the field", field, v, err)
			}
		}
	}
	for _, tc := range []struct {
		notes string
		ok    bool
	}{{"line 1\nline 2\ttabbed", true}, {"crlf\r\nline", true}, {"esc \x1b[2J", false}, {"bidi \u202e", false}, {"c1 \u009b", false}, {"bell \a", false}} {
		p := Disposal{Method: "shred", DisposedOn: "2021-01-01", Contractor: "A", Notes: tc.notes}
		if err := p.Validate(); (err == nil) != tc.ok {
			t.Errorf("notes %q: %v, want ok=%v", tc.notes, err, tc.ok)
		}
	}
	s := mustOpen(t)
	s.Actor = "evil\u202e"
	if _, err := s.AddContractor(Contractor{Name: "Acme"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "actor") {
		t.Errorf("actor with a bidi override: %v", err)
	}
}

// TestImport_RefusesControls: an import row with a bidi override in its
// serial or ESC in its notes is refused, naming the file, line and field.
func TestImport_RefusesControls(t *testing.T) {
	for _, tc := range []struct{ row, field string }{
		{"SN1\u202e23,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\n", "serial"},
		{"SN2,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\"note \x1b[31m\"\n", "notes"},
		{"SN3,,hdd,Ma\u0085ke,,,,shred,,,,Acme,2021-01-05,,,,,\n", "make"},
	} {
		s := mustOpen(t)
		_, err := importString(s, "bad.csv", header+tc.row)
		if err == nil || !strings.Contains(err.Error(), "bad.csv:2: "+tc.field) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("import of %q: %v, want an error naming bad.csv, line 2 and %s", tc.row, err, tc.field)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, one, lines string }{
		{"plain é ₂", "plain é ₂", "plain é ₂"},
		{"SN\u202e1", `SN\u202e1`, `SN\u202e1`},
		{"a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"a\nb\tc\rd", `a\nb\tc\rd`, "a\nb\tc\\rd"},
		{"c1\u0085", `c1\x85`, `c1\x85`},
		{"bad\xffbyte", `bad\xffbyte`, `bad\xffbyte`},
		{"\u2066iso\u2069", `\u2066iso\u2069`, `\u2066iso\u2069`},
	} {
		if got := Printable(tc.in); got != tc.one {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.one)
		}
		if got := PrintableLines(tc.in); got != tc.lines {
			t.Errorf("PrintableLines(%q) = %q, want %q", tc.in, got, tc.lines)
		}
	}
}
