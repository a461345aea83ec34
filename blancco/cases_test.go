package blancco

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// reportOf wraps erasure entries in a one-report Blancco document.
func reportOf(erasures ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<root><report><blancco_data>
<description><document_id>doc-1</document_id><document_log><log_entry><author>
<product_name>Blancco Drive Eraser</product_name><product_version>7.16.0</product_version></author></log_entry></document_log></description>
<blancco_erasure_report><entries name="erasures">` + strings.Join(erasures, "\n") + `</entries></blancco_erasure_report>
</blancco_data></report></root>`
}

// erasureOf is one erasure with the given state, standard and extra entries.
func erasureOf(state, standard, extra string) string {
	return `<entries name="erasure"><entry name="state" type="string">` + state + `</entry>
<entry name="erasure_standard_name" type="string">` + standard + `</entry>
<entry name="start_time" type="string">2025-06-23 09:00:12</entry><entry name="end_time" type="string">2025-06-23 10:00:12</entry>` + extra + `
<entries name="target"><entry name="serial" type="string">S1</entry><entry name="model" type="string">M</entry></entries></entries>`
}

func TestParse_Cases(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		err       string // substring of the erasure's error
		sanitised bool
		method    ledger.Method
	}{
		{"OK", reportOf(erasureOf("Successful", "NIST 800-88 Clear", "")), "", true, ledger.Overwrite},
		{"StandardSpacingAndCase", reportOf(erasureOf("Successful", "  national computer security center (NCSC-TG-025) ", "")), "", true, ledger.Overwrite},
		{"TypographicPunctuation", reportOf(erasureOf("Successful", "CESG CPA \u2013 Higher Level", "")), "", true, ledger.Overwrite},
		{"CurlyApostrophe", reportOf(erasureOf("Successful", "Bruce Schneier\u2019s Algorithm", "")), "", true, ledger.Overwrite},
		{"NVMeSanitize", reportOf(erasureOf("Successful", "NVMe Sanitize", "")), "", true, ledger.BlockErase},
		{"ATASecureErase", reportOf(erasureOf("Successful", "ATA Secure Erase", "")), "", true, ledger.BlockErase},
		{"CryptoErase", reportOf(erasureOf("Successful", "Cryptographic Erase", "")), "", true, ledger.CryptoErase},
		{"FirmwareBased", reportOf(erasureOf("Successful", "Firmware Based Erasure", "")), "", true, ledger.BlockErase},
		{"StateCase", reportOf(erasureOf("successful", "NIST 800-88 Clear", "")), "", false, ledger.Overwrite},
		{"SuccessfulWithErrors", reportOf(erasureOf("Successful", "NIST 800-88 Clear", `<entry name="total_errors" type="uint">1</entry>`)), "", false, ledger.Overwrite},
		{"SuccessfulWithFailedSectors", reportOf(erasureOf("Successful", "NIST 800-88 Clear", `<entry name="failed_sectors" type="uint">8</entry>`)), "", false, ledger.Overwrite},
		{"UnknownStandard", reportOf(erasureOf("Successful", "Magic", "")), `unknown erasure standard "Magic"`, false, ""},
		{"NoStandard", reportOf(erasureOf("Successful", "", "")), "no erasure_standard_name", false, ""},
		{"BadCount", reportOf(erasureOf("Successful", "NIST 800-88 Clear", `<entry name="total_errors" type="uint">-1</entry>`)), `total_errors "-1" is not a count`, false, ledger.Overwrite},
		{"BadTime", reportOf(strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), "2025-06-23 09:00:12", "23.06.2025 09:00", 1)), `start_time: time "23.06.2025 09:00"`, false, ledger.Overwrite},
		{"EndBeforeStart", reportOf(strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), "2025-06-23 10:00:12", "2025-06-22 10:00:12", 1)), "end_time 2025-06-22 10:00:12 is before start_time", false, ledger.Overwrite},
		{"BadElapsed", reportOf(erasureOf("Successful", "NIST 800-88 Clear", `<entry name="elapsed_time" type="string">1:99:00</entry>`)), `elapsed_time "1:99:00"`, false, ledger.Overwrite},
		{"NonASCIISerial", reportOf(strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), ">S1<", ">S\u00e91<", 1)), `target serial "Sé1" is not a printable serial`, false, ledger.Overwrite},
		{"ControlCharSerial", reportOf(strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), ">S1<", ">S&#x9;1<", 1)), "is not a printable serial", false, ledger.Overwrite},
		{"NoTarget", reportOf(`<entries name="erasure"><entry name="state">Successful</entry><entry name="erasure_standard_name">NIST 800-88 Clear</entry></entries>`), "the erasure has no target", false, ledger.Overwrite},
		{"CDATAAndEntities", reportOf(strings.Replace(erasureOf("Successful", "Bruce Schneier&apos;s Algorithm", ""), ">M<", "><![CDATA[M&M]]><", 1)), "", true, ledger.Overwrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := Parse("r.xml", strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 {
				t.Fatalf("got %d erasures", len(es))
			}
			e := es[0]
			switch {
			case tc.err == "" && e.Err != nil:
				t.Errorf("unexpected error %v", e.Err)
			case tc.err != "" && (e.Err == nil || !strings.Contains(e.Err.Error(), tc.err)):
				t.Errorf("error %v, want one containing %q", e.Err, tc.err)
			}
			if tc.err != "" && !strings.HasPrefix(e.Err.Error(), "r.xml:") {
				t.Errorf("error does not name the file: %v", e.Err)
			}
			if e.Sanitised() != tc.sanitised {
				t.Errorf("Sanitised() = %v, want %v", e.Sanitised(), tc.sanitised)
			}
			if e.Method != tc.method {
				t.Errorf("Method = %q, want %q", e.Method, tc.method)
			}
		})
	}
}

// TestParse_Hostile covers input that must be refused whole: XML bombs,
// external entities, deep nesting, huge input, other encodings, and what
// is not a Blancco report.
func TestParse_Hostile(t *testing.T) {
	bomb := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<root><report><blancco_data><blancco_erasure_report><entries name="erasures"><entries name="erasure">
<entry name="state">&lol3;</entry></entries></entries></blancco_erasure_report></blancco_data></report></root>`
	xxe := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<root><report><blancco_data><blancco_erasure_report><entries name="erasures"><entries name="erasure">
<entries name="target"><entry name="serial">&xxe;</entry></entries></entries></entries></blancco_erasure_report></blancco_data></report></root>`
	deep := "<root><report><blancco_data>" + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + "</blancco_data></report></root>"
	deepOutside := strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)
	wide := "<root><blancco_data>" + strings.Repeat("<x/>", MaxReportNodes) + "</blancco_data></root>"
	for _, tc := range []struct{ name, in, err string }{
		{"BillionLaughs", bomb, "invalid character entity &lol3;"},
		{"ExternalEntity", xxe, "invalid character entity &xxe;"},
		{"DeepInReport", deep, "nested over 64 deep"},
		{"DeepOutside", deepOutside, "nested over 64 deep"},
		{"TooManyElements", wide, "over 200000 elements"},
		{"Latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><root><blancco_data/></root>`, `encoding "ISO-8859-1" is not UTF-8`},
		{"Empty", "", "no blancco_data element"},
		{"NotXML", "serial,model\nX,Y\n", "no blancco_data element"},
		{"OtherXML", `<?xml version="1.0"?><DATAWIPE><UNIT/></DATAWIPE>`, "no blancco_data element"},
		{"Truncated", `<root><report><blancco_data><description>`, "unexpected EOF"},
		{"Mismatched", `<root><blancco_data></root>`, "not a Blancco XML report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := Parse("r.xml", strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("no error; erasures %+v", es)
			}
			if !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "parse r.xml") {
				t.Errorf("err = %v, want one naming r.xml and containing %q", err, tc.err)
			}
		})
	}
	t.Run("TooBig", func(t *testing.T) {
		big := reportOf(erasureOf("Successful", "NIST 800-88 Clear", "<!--"+strings.Repeat("x", MaxSize)+"-->"))
		_, err := Parse("r.xml", strings.NewReader(big))
		if !errors.Is(err, ErrNotBlancco) || !strings.Contains(err.Error(), "over 67108864 bytes") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("NoErasures", func(t *testing.T) {
		es, err := Parse("r.xml", strings.NewReader(reportOf()))
		if err != nil || len(es) != 0 {
			t.Fatalf("Parse = %v, %v; want no erasures and no error", es, err)
		}
	})
}

func TestErasure_SetSerialAndLocalize(t *testing.T) {
	es, err := Parse("r.xml", strings.NewReader(reportOf(
		strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), ">S1<", "><", 1),
		erasureOf("Successful", "Magic", ""),
		strings.Replace(strings.Replace(erasureOf("Successful", "NIST 800-88 Clear", ""), "2025-06-23 09:00:12", "2025-06-23T09:00:12+0200", 1), "2025-06-23 10:00:12", "2025-06-23T10:00:12+0200", 1),
	)))
	if err != nil {
		t.Fatal(err)
	}
	if err := es[0].SetSerial("bad\x00"); err == nil {
		t.Error("SetSerial took a control character")
	}
	if err := es[0].SetSerial(" WD-1 "); err != nil || es[0].Serial != "WD-1" || !es[0].Sanitised() {
		t.Errorf("SetSerial: %v, serial %q, sanitised %v", err, es[0].Serial, es[0].Sanitised())
	}
	if err := es[1].SetSerial("WD-2"); !errors.Is(err, ErrUnknownStandard) || es[1].Sanitised() {
		t.Errorf("SetSerial on an unknown standard: %v", err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	if es[0].Zoned || !es[2].Zoned {
		t.Fatalf("Zoned = %v, %v", es[0].Zoned, es[2].Zoned)
	}
	if err := es[0].Localize(nil); err == nil {
		t.Error("Localize(nil) did not fail")
	}
	for _, e := range []*Erasure{&es[0], &es[2]} {
		if err := e.Localize(london); err != nil {
			t.Fatal(err)
		}
	}
	if got := es[0].Start.Format(time.RFC3339); got != "2025-06-23T09:00:12+01:00" {
		t.Errorf("localized Start = %s", got)
	}
	if got := es[2].Start.Format(time.RFC3339); got != "2025-06-23T09:00:12+02:00" {
		t.Errorf("a zoned Start moved: %s", got)
	}
}

func TestParseVerification(t *testing.T) {
	for in, want := range map[string]int{
		"100%": 100, "100 %": 100, "Full": 100, "full verification": 100, "1%": 1, "10": 10, "0%": 0,
		"None": 0, "Off": 0, "": -1, "Keine": -1, "101%": -1, "-1%": -1, "half": -1,
	} {
		if got := parseVerification(in); got != want {
			t.Errorf("parseVerification(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"Report", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<root>\n  <report>\n    <blancco_data>\n", true},
		{"BOM", "\xef\xbb\xbf<root><report><blancco_data>", true},
		{"Prefix", "<root><blancco_data_x>", false},
		{"SelfClosing", "<root><blancco_data/>", true},
		{"OtherXML", `<?xml version="1.0"?><DATAWIPE>`, false},
		{"TextMentioning", "the tag <blancco_data> in a note", false},
		{"NwipeLog", "[2025/06/01 10:00:00]  notice: Found /dev/sdb\n", false},
		{"Empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect([]byte(tc.in)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}
