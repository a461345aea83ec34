package certificate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/itad/itad/internal/gofpdf"
	"github.com/itad/itad/ledger"
)

// fullAppG is an Appendix G record with every field filled.
var fullAppG = ledger.AppendixG{OperatorTitle: "Senior data destruction technician", OperatorOrg: "Acme Secure Destruction Ltd",
	OperatorLocation: "Unit 4, Brent Park Industrial Estate, London NW10", OperatorPhone: "+44 20 7946 0000",
	MediaSource: "Finance directorate, Hendon", Classification: "OFFICIAL-SENSITIVE", DataBackedUp: "yes",
	BackupLocation: "Tape vault B, Hendon DC", MethodDetails: "Shredded to 20 mm particles, two passes",
	VerificationMethod: "full", VerificationDetails: "Particles inspected by the witness",
	PostClassification: "UNCLASSIFIED", Destination: "recycling", DestinationDetails: "Acme, Park Royal smelter",
	ValidatorName: "P. Jones", ValidatorTitle: "Information security officer", ValidatorOrg: "Metropolitan Police Service",
	ValidatorLocation: "New Scotland Yard", ValidatorPhone: "+44 20 7230 1212", ValidatedOn: "2021-03-05", NISTRevision: "2"}

// longBatch is a batch of n items whose makes, models and serials are as
// long as real ones get: the layout must print each whole.
func longBatch(n int) ledger.CertificateData {
	d := sampleBatch(n)
	for i := range d.Items {
		v := &d.Items[i].Device
		switch i % 4 {
		case 0:
			v.Make, v.Model = "Hewlett Packard Enterprise", "MB4000GVYZK"
		case 1:
			v.Serial = fmt.Sprintf("WD-WCC4N%04dXYZ_LONG/%d.X", i, i)
		case 2:
			v.Serial = fmt.Sprintf("ABCDEFGHIJKLMNOPQRSTUVWXYZ%04d0123456789", i)
		}
	}
	return d
}

// unicodeBatch is longBatch with Welsh, Polish, Greek and Cyrillic names,
// makes and serials.
func unicodeBatch(n int) ledger.CertificateData {
	d := withAppG(longBatch(n), fullAppG)
	d.Org = "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn, Llŷn"
	for i := range d.Items {
		v := &d.Items[i].Device
		switch i % 5 {
		case 1:
			v.Make, v.Model = "Łódzkie Zakłady Elektroniczne", "ŻÓŁĆ-4000"
		case 3:
			v.Serial = fmt.Sprintf("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ%04dЖЗИЙКЛМНОПРСТУФ", i)
			v.Make = "Ηλεκτρονική Αλέξανδρος"
		case 4:
			v.Make, v.Model = "Дмитрий Соколов и партнёры", "Накопитель-12"
		}
		d.Items[i].Disposal.Operator = "Łukasz Żółć"
	}
	return d
}

// unicodeDevice is a device certificate with Unicode names and evidence.
func unicodeDevice() ledger.CertificateData {
	d := withAppG(sampleDevice(), fullAppG)
	d.Org = "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn"
	d.Items[0].Device.Make, d.Items[0].Device.Serial = "Αλέξανδρος Дмитрий", "ŁÓDŹ-7-ΑΒΓ-0042"
	d.Items[0].Disposal.Operator = "Łukasz Żółć"
	d.Evidence = []ledger.CertificateEvidence{{Serial: "ŁÓDŹ-7-ΑΒΓ-0042", Name: "nwipe_log_20250314-091502_with_a_very_long_name_from_the_station.txt",
		Kind: ledger.EvidenceNwipeLog, SHA256: strings.Repeat("ab", 32), Tool: "nwipe 0.38", Method: "DoD Short", Verification: "verified (all passes)"}}
	return d
}

func withAppG(d ledger.CertificateData, g ledger.AppendixG) ledger.CertificateData {
	for i := range d.Items {
		d.Items[i].AppG = g
	}
	return d
}

var layout3Cases = []struct {
	name  string
	data  ledger.CertificateData
	pages int
}{
	{"device", sampleDevice(), 1},
	{"device-appendix-g", withAppG(sampleDevice(), fullAppG), 0},
	{"batch-1", sampleBatch(1), 1},
	{"batch-long", longBatch(12), 0},
}

// TestLayout3_NoOverflow records every line layout 3 writes and checks
// that none is wider than its place, and that every make, model and
// serial is written whole (on one line or across several).
func TestLayout3_NoOverflow(t *testing.T) {
	cases := append(layout3Cases[:len(layout3Cases):len(layout3Cases)], struct {
		name  string
		data  ledger.CertificateData
		pages int
	}{"batch-300", withAppG(longBatch(300), fullAppG), 0}, struct {
		name  string
		data  ledger.CertificateData
		pages int
	}{"batch-300-unicode", unicodeBatch(300), 0}, struct {
		name  string
		data  ledger.CertificateData
		pages int
	}{"device-unicode-evidence", unicodeDevice(), 0})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lines []string
			cellHook = func(text string, width, avail float64) {
				lines = append(lines, text)
				if width > avail+1e-9 {
					t.Errorf("%q is %.2f mm wide in a place of %.2f mm", text, width, avail)
				}
			}
			defer func() { cellHook = nil }()
			if _, err := Render(sampleContent(tc.data, testFP)); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(lines, "")
			for _, it := range tc.data.Items {
				for _, s := range []string{it.Device.Serial, it.Device.Make, it.Device.Model} {
					if !strings.Contains(all, strings.ReplaceAll(s, " ", "")) && !strings.Contains(strings.Join(lines, " "), s) {
						t.Errorf("%q is not written whole", s)
					}
				}
			}
			if strings.Contains(all, "\u2026") {
				t.Error("an ellipsis was written: text was cut")
			}
		})
	}
}

// TestLayout3_Text pins what layout 3 prints, as pdftotext reads it, and
// its page counts: a device and a one-device batch on one page each.
func TestLayout3_Text(t *testing.T) {
	requireTool(t, "pdftotext")
	for _, tc := range layout3Cases {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := Render(sampleContent(tc.data, testFP))
			if err != nil {
				t.Fatal(err)
			}
			out, err := runTool(t, "pdftotext", "-layout", writeTemp(t, "c.pdf", pdf), "-")
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			if n := strings.Count(out, "\f"); tc.pages != 0 && n != tc.pages {
				t.Errorf("%d pages, want %d", n, tc.pages)
			}
			checkGolden(t, "text-v3-"+tc.name+".txt", []byte(out))
		})
	}
}

// TestLayout3_AppendixG: every field prints, "not recorded" where it was
// not recorded; a validation that did not happen prints "not validated"
// and no date; Rev. 2 is cited, with IEEE 2883-2022, where the disposal
// says so.
func TestLayout3_AppendixG(t *testing.T) {
	text := func(d ledger.CertificateData) string {
		var b strings.Builder
		cellHook = func(s string, _, _ float64) { b.WriteString(s + "\n") }
		defer func() { cellHook = nil }()
		if _, err := Render(sampleContent(d, testFP)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	full := text(withAppG(sampleDevice(), fullAppG))
	for _, f := range ledger.AppendixGFields {
		v := f.Get(fullAppG)
		switch f.Name {
		case "data_backed_up":
			v = "Yes"
		case "verification_method":
			v = "Full verification"
		case "destination":
			v = "Recycling facility"
		case "nist_revision":
			v = "NIST SP 800-88 Rev. 2 (2025)"
		}
		if !strings.Contains(strings.ReplaceAll(full, "\n", " "), v) && !strings.Contains(strings.ReplaceAll(full, "\n", ""), v) {
			t.Errorf("%s: %q not printed", f.Name, v)
		}
	}
	if !strings.Contains(strings.ReplaceAll(full, "\n", " "), "IEEE 2883-2022") || strings.Contains(full, "not validated") {
		t.Errorf("a validated Rev. 2 disposal:\n%s", full)
	}
	bare := text(sampleDevice())
	if n := strings.Count(bare, "not validated\n"); n != 7 {
		t.Errorf("an unvalidated disposal prints \"not validated\" %d times, want 7 (every line of the block)", n)
	}
	if strings.Contains(bare, "Rev. 2") || !strings.Contains(bare, "not recorded\n") {
		t.Errorf("a disposal without Appendix G records:\n%s", bare)
	}
	// The validation block of a batch only partly validated has no date.
	d := sampleBatch(3)
	d.Items[0].AppG = ledger.AppendixG{ValidatorName: "P. Jones", ValidatedOn: "2021-03-07"}
	partial := text(d)
	if strings.Contains(partial, "2021-03-07") || !strings.Contains(partial, "1 of 3 validated") {
		t.Errorf("a partly validated batch:\n%s", partial)
	}
	// A batch's own record applies to its items.
	d = sampleBatch(2)
	d.BatchAppG = ledger.AppendixG{ValidatorName: "P. Jones", ValidatedOn: "2021-03-06"}
	if s := text(d); !strings.Contains(s, "2021-03-06") {
		t.Errorf("a batch validated as a whole:\n%s", s)
	}
}

func TestBreakLines(t *testing.T) {
	pdf := gofpdf.New("P", "mm", "A4", "")
	addGoFonts(pdf, false, "")
	pdf.SetFont(fontSans, "", 10)
	w := pdf.GetStringWidth("0123456789-") // Go Regular: "-" is a little wider than a digit
	for _, tc := range []struct{ in, want string }{
		{"short", "short"},
		{"Hewlett Packard Enterprise", "Hewlett|Packard|Enterprise"},
		{"12-345678-90", "12-345678-|90"},
		{"12_34/56.78_90123", "12_34/|56.78_90123"},
		{"0123456789012345678901234", "01234567890|12345678901|234"}, // no break point: a fixed width
		{"two\nlines", "two|lines"},
		{"1234 1,380.500", "1234|1,380.500"},     // numbers stay whole
		{"on 2021-03-04 at", "on|2021-03-04|at"}, // and dates
		{"", ""},
		// UTF-8: cut between characters, measured by the font's widths.
		{"ŁÓDŹ-ŻÓŁĆ-01", "ŁÓDŹ-|ŻÓŁĆ-01"},
		{"ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠ", "ΑΒΓΔΕΖΗΘΙ|ΚΛΜΝΞΟΠ"},
		{"Дмитрий Соколов", "Дмитрий|Соколов"},
	} {
		got := strings.Join(breakLines(pdf, tc.in, w), "|")
		if got != tc.want {
			t.Errorf("breakLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.ReplaceAll(got, "|", "") != strings.ReplaceAll(strings.ReplaceAll(tc.in, " ", ""), "\n", "") {
			t.Errorf("breakLines(%q) lost text: %q", tc.in, got)
		}
		for _, l := range breakLines(pdf, tc.in, w) {
			if !utf8.ValidString(l) || pdf.GetStringWidth(l) > w {
				t.Errorf("breakLines(%q): line %q is cut inside a character or too wide", tc.in, l)
			}
		}
	}
}

// TestEncodeContent_AppendixGV3: content version 3 (canonical JSON)
// covers the organisation's location and phone, the ledger defaults, the
// batch's record and every item's Appendix G fields, each of them.
func TestEncodeContent_AppendixGV3(t *testing.T) {
	d := withAppG(sampleDevice(), fullAppG)
	d.OrgLocation, d.OrgPhone, d.Defaults = "London", "101", ledger.AppendixG{Classification: "OFFICIAL"}
	c := sampleContent(d, testFP)
	var buf bytes.Buffer
	if err := EncodeContent(&buf, c); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "content-device-appendix-g-v3.json", buf.Bytes())
	base := ContentHash(c)
	for i, f := range ledger.AppendixGFields {
		c2 := c
		c2.Data = withAppG(sampleDevice(), fullAppG)
		c2.Data.OrgLocation, c2.Data.OrgPhone, c2.Data.Defaults = d.OrgLocation, d.OrgPhone, d.Defaults
		if err := f.Set(&c2.Data.Items[0].AppG, ""); err != nil {
			t.Fatal(err)
		}
		if ContentHash(c2) == base {
			t.Errorf("field %d (%s) is not covered by the content hash", i, f.Name)
		}
	}
	for name, change := range map[string]func(*ledger.CertificateData){
		"org_location":        func(d *ledger.CertificateData) { d.OrgLocation = "Leeds" },
		"org_phone":           func(d *ledger.CertificateData) { d.OrgPhone = "999" },
		"appendix_g_defaults": func(d *ledger.CertificateData) { d.Defaults.Classification = "SECRET" },
		"batch_appendix_g":    func(d *ledger.CertificateData) { d.BatchAppG.MediaSource = "Hendon" },
	} {
		c2 := c
		c2.Data = withAppG(sampleDevice(), fullAppG)
		c2.Data.OrgLocation, c2.Data.OrgPhone, c2.Data.Defaults = d.OrgLocation, d.OrgPhone, d.Defaults
		change(&c2.Data)
		if ContentHash(c2) == base {
			t.Errorf("%s is not covered by the content hash", name)
		}
	}
	c.Version = 2
	if ContentHash(c) == base {
		t.Error("version 2 encodes the Appendix G fields")
	}
}

// BenchmarkRenderLayout compares layout 3 with layout 2 on the same
// content, in one run (ratios, not absolute times, are what it shows):
// a device certificate and a 10,000-item batch.
func BenchmarkRenderLayout(b *testing.B) {
	for _, tc := range []struct {
		name string
		data ledger.CertificateData
	}{{"device", sampleDevice()}, {"batch10000", longBatch(10000)}} {
		for _, layout := range []int{2, 3} {
			b.Run(fmt.Sprintf("%s/layout-%d", tc.name, layout), func(b *testing.B) {
				c := sampleContent(tc.data, testFP)
				for i := 0; i < b.N; i++ {
					if _, err := RenderLayout(c, layout); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestLayout3_OneDeviceBatchOnePage: a one-device batch certificate is one
// page also with the public_url caption under the QR code, the embedded
// content's "How to verify" text and Unicode names.
func TestLayout3_OneDeviceBatchOnePage(t *testing.T) {
	uni := sampleBatch(1)
	uni.Org = "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn"
	uni.Items[0].Device.Serial, uni.Items[0].Device.Make = "ΑΒΓ-0042-ЖЗИЙ", "Łódzkie Zakłady Elektroniczne"
	uni.Items[0].Disposal.Operator = "Łukasz Żółć"
	for name, data := range map[string]ledger.CertificateData{"plain": sampleBatch(1), "unicode": uni} {
		for _, url := range []string{"", "https://certs.dyfed-powys.police.uk/itad"} {
			c := sampleContent(data, testFP)
			c.PublicURL = url
			pages := 0
			cellHook = func(s string, _, _ float64) {
				if strings.HasPrefix(s, "Page ") && strings.Contains(s, " of ") {
					pages++
				}
			}
			_, err := Render(c)
			cellHook = nil
			if err != nil {
				t.Fatal(err)
			}
			if pages != 1 {
				t.Errorf("%s, public_url %q: %d pages, want 1", name, url, pages)
			}
		}
	}
}

// TestOneStop: a name that ends with its own full stop ends the sentence
// with one, in layout 3's statements; an ellipsis is kept.
func TestOneStop(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"by Łukasz Żółć Recykling Sp. z o.o.. Destruction renders", "by Łukasz Żółć Recykling Sp. z o.o. Destruction renders"},
		{"by Acme Ltd.. ", "by Acme Ltd. "},
		{"by Acme Ltd..", "by Acme Ltd."},
		{"by Acme Ltd. Destruction", "by Acme Ltd. Destruction"},
		{"wait... then", "wait... then"},
	} {
		if got := oneStop(tc.in); got != tc.want {
			t.Errorf("oneStop(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// batchWithEvidence is longBatch(n) whose items are all covered by one
// nwipe log, the first also by a photo.
func batchWithEvidence(n int) ledger.CertificateData {
	d := longBatch(n)
	for _, it := range d.Items {
		d.Evidence = append(d.Evidence, ledger.CertificateEvidence{Serial: it.Device.Serial, Name: "nwipe_log_20250314-091502.txt",
			Kind: ledger.EvidenceNwipeLog, SHA256: strings.Repeat("cd", 32), Tool: "nwipe 0.38", Method: "Fill With Zeros", Verification: "verified (last pass)"})
	}
	d.Evidence = append(d.Evidence, ledger.CertificateEvidence{Serial: d.Items[0].Device.Serial, Name: "run-photo.jpg",
		Kind: ledger.EvidencePhoto, SHA256: strings.Repeat("ef", 32)})
	return d
}

// TestLayout3_BatchEvidence: a batch certificate with evidence prints an
// "Evidence" section (per file its name, kind, SHA-256 and every serial it
// covers), every line within its place; one without prints none.
func TestLayout3_BatchEvidence(t *testing.T) {
	for _, n := range []int{3, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			d := batchWithEvidence(n)
			var lines []string
			cellHook = func(text string, width, avail float64) {
				lines = append(lines, text)
				if width > avail+1e-9 {
					t.Errorf("%q is %.2f mm wide in a place of %.2f mm", text, width, avail)
				}
			}
			defer func() { cellHook = nil }()
			if _, err := Render(sampleContent(d, testFP)); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(lines, " ")
			i := strings.Index(all, "Evidence (2 files)")
			if i < 0 {
				t.Fatalf("no evidence section in %q", all)
			}
			sec := all[i:]
			for _, want := range []string{"nwipe_log_20250314-091502.txt", "nwipe log (erasure report)", strings.Repeat("cd", 32),
				"run-photo.jpg", "Photograph", strings.Repeat("ef", 32), fmt.Sprintf("Serials (%d)", n)} {
				if !strings.Contains(sec, want) {
					t.Errorf("the evidence section lacks %q", want)
				}
			}
			joined := strings.Join(lines, "")
			for _, it := range d.Items {
				s := strings.ReplaceAll(it.Device.Serial, " ", "")
				if strings.Count(joined, s) < 2 { // the schedule and the evidence
					t.Errorf("serial %q is not in the evidence section whole", s)
				}
			}
		})
	}
	t.Run("NoEvidence", func(t *testing.T) {
		var lines []string
		cellHook = func(text string, _, _ float64) { lines = append(lines, text) }
		defer func() { cellHook = nil }()
		if _, err := Render(sampleContent(longBatch(3), testFP)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(lines, " "), "Evidence") {
			t.Error("a batch without evidence prints an evidence section")
		}
	})
}

// TestEncodeContent_BatchEvidence: a batch's evidence is in its content
// encoding and canonical JSON (and parses back) only when there is any,
// so batch certificates issued before keep their content hashes.
func TestEncodeContent_BatchEvidence(t *testing.T) {
	enc := func(c Content) []byte {
		var b bytes.Buffer
		if err := EncodeContent(&b, c); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, v := range []int{1, 2, 3} {
		plain := sampleContent(longBatch(3), testFP)
		with := sampleContent(batchWithEvidence(3), testFP)
		plain.Version, with.Version = v, v
		if bytes.Equal(enc(plain), enc(with)) {
			t.Fatalf("version %d: evidence does not change the content encoding", v)
		}
		// Before version 3 the evidence follows the items, only when
		// there is any; in the canonical JSON it is an array, [] when none.
		if v < 3 && !bytes.HasPrefix(enc(with), enc(plain)) {
			t.Errorf("version %d: evidence changed the bytes before it", v)
		}
		if v == 3 && !bytes.HasSuffix(enc(plain), []byte(`],"evidence":[]}`+"\n")) {
			t.Errorf("version 3 without evidence ends %q", enc(plain)[len(enc(plain))-40:])
		}
	}
	c := sampleContent(batchWithEvidence(3), testFP)
	c.Version = 3
	got, err := ParseContentJSON(contentJSON(c))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data.Evidence) != len(c.Data.Evidence) || got.Data.Evidence[3] != c.Data.Evidence[3] {
		t.Errorf("evidence parsed back as %+v", got.Data.Evidence)
	}
}
