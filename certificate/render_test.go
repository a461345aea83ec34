package certificate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// The -update flag rewrites golden files. Another test file of this
// package may define it first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/golden/cert/NAME, rewriting it
// with -update. A missing golden file fails.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", "cert", name)
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (go test -update creates it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func int64p(v int64) *int64 { return &v }

// testUUID returns a fixed, valid UUID numbered n.
func testUUID(n int) string { return fmt.Sprintf("0195a0b1-0000-7000-8000-%012d", n) }

var testContractor = ledger.Contractor{UUID: testUUID(900), Name: "Acme Secure Destruction Ltd",
	Accreditations: "ADISA, NAID AAA, ISO 27001", ContractRef: "CT-2020-117"}

// sampleDevice returns the data of a device certificate.
func sampleDevice() ledger.CertificateData {
	return ledger.CertificateData{
		Kind: ledger.CertDevice, Subject: "ZC1234AB", Org: "Metropolitan Police Service",
		Destination: "recycled by the contractor after destruction",
		Contractors: []ledger.Contractor{testContractor},
		Items: []ledger.CertificateItem{{
			Device: ledger.Device{UUID: testUUID(1), Serial: "ZC1234AB", AssetTag: "MPS-004211", Type: ledger.HDD,
				Make: "Seagate", Model: "Exos 7E8 ST4000NM0035", CapacityGB: int64p(4000), Site: "Hendon DC"},
			Disposal: ledger.Disposal{UUID: testUUID(2), Serial: "ZC1234AB", Method: ledger.Shred, Category: ledger.Destroy,
				Standard: "DIN 66399 H-5", Tool: "Shred-Tech MDS-10 mobile shredder", Verified: "yes",
				Contractor: testContractor.Name, DisposedOn: "2021-03-04", WeightG: int64p(618), Batch: "SR-2021-Q1-HEN",
				Operator: "J. Smith", Witness: "P. Jones", Notes: "Shredded on site; particles inspected by the witness.", Final: true},
			Weight: ledger.Weight{Grams: int64p(618), Source: ledger.WeightItem},
		}},
	}
}

var sampleTypes = []struct {
	t           ledger.DeviceType
	make, model string
	capGB       int64
	g           int64
}{
	{ledger.HDD, "Seagate", "Exos 7E8", 4000, 618},
	{ledger.SSD, "Samsung", "PM883", 960, 55},
	{ledger.HDD, "HGST", "Ultrastar HE10", 10000, 650},
	{ledger.Tape, "IBM", "LTO-7", 6000, 220},
	{ledger.Phone, "Apple", "iPhone 12", 128, 164},
	{ledger.Laptop, "Dell", "Latitude 7490", 256, 1380},
}

// sampleBatch returns the data of a batch certificate of n items, some
// not weighed.
func sampleBatch(n int) ledger.CertificateData {
	d := ledger.CertificateData{
		Kind: ledger.CertBatch, Subject: "SR-2021-Q1-HEN", Org: "Metropolitan Police Service",
		Destination: "recycled by the contractor after destruction",
		Batch: &ledger.Batch{UUID: testUUID(800), Ref: "SR-2021-Q1-HEN", Site: "Hendon DC", Contractor: testContractor.Name,
			RunOn: "2021-03-04", Witness: "P. Jones", GrossWeightG: int64p(int64(n) * 520), ClosedAt: "2021-03-05T09:30:00.000000000Z"},
		Contractors: []ledger.Contractor{testContractor},
	}
	for i := 0; i < n; i++ {
		s := sampleTypes[i%len(sampleTypes)]
		serial := fmt.Sprintf("SN%07d", i+1)
		it := ledger.CertificateItem{
			Device: ledger.Device{UUID: testUUID(1000 + 2*i), Serial: serial, AssetTag: fmt.Sprintf("MPS-%06d", 4000+i),
				Type: s.t, Make: s.make, Model: s.model, CapacityGB: int64p(s.capGB), Site: "Hendon DC"},
			Disposal: ledger.Disposal{UUID: testUUID(1001 + 2*i), Serial: serial, Method: ledger.Shred, Category: ledger.Destroy,
				Standard: "DIN 66399 H-5", Tool: "Shred-Tech MDS-10", Verified: "yes", Contractor: testContractor.Name,
				DisposedOn: "2021-03-04", Batch: "SR-2021-Q1-HEN", Operator: "J. Smith", Witness: "P. Jones", Final: true},
		}
		if i%7 != 3 {
			it.Disposal.WeightG = int64p(s.g)
		}
		if s.t == ledger.Phone {
			it.Disposal.Method, it.Disposal.Standard = ledger.Disintegrate, "DIN 66399 E-4"
		}
		d.Items = append(d.Items, it)
	}
	// Weights under ledger.WeightRule, as the ledger computes them: own
	// weights, and the rest of the gross shared by the unweighed items.
	var own, unweighed int64
	for _, it := range d.Items {
		if it.Disposal.WeightG != nil {
			own += *it.Disposal.WeightG
		} else {
			unweighed++
		}
	}
	rest, k := *d.Batch.GrossWeightG-own, int64(0)
	for i := range d.Items {
		it := &d.Items[i]
		switch {
		case it.Disposal.WeightG != nil:
			it.Weight = ledger.Weight{Grams: int64p(*it.Disposal.WeightG), Source: ledger.WeightItem}
		case rest > 0:
			share := rest / unweighed
			if k < rest%unweighed {
				share++
			}
			k++
			it.Weight = ledger.Weight{Grams: int64p(share), Source: ledger.WeightBatch}
		}
	}
	return d
}

var testIssuedAt = time.Date(2025, 3, 14, 16, 20, 30, 123456789, time.UTC)

// sampleContent wraps data as certificate number n, signed by fp.
func sampleContent(data ledger.CertificateData, fp string) Content {
	return Content{Number: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer",
		SignerName: "Metropolitan Police Service itad signing key", SignerFingerprint: fp, Data: data}
}

const testFP = "5d41402abc4b2a76b9719d911017c592aaaabbbbccccddddeeeeffff00001111"

// TestEncodeContent_Golden pins the canonical content encoding: the bytes
// as a hex dump, and their SHA-256 as computed independently from the
// documented format (Python hashlib, see the comment below).
func TestEncodeContent_Golden(t *testing.T) {
	c := sampleContent(sampleDevice(), testFP)
	c.Version = 1
	var buf bytes.Buffer
	if err := EncodeContent(&buf, c); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "content-device.hex", []byte(hex.Dump(buf.Bytes())))
	sum := sha256.Sum256(buf.Bytes())
	if got := ContentHash(c); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("ContentHash = %s, want SHA-256 of EncodeContent", got)
	}
	// Computed with Python from the doc comment of EncodeContent:
	// b"itad-certificate-v1\n", then each string as struct.pack(">I",
	// len(b)) + b and each count as struct.pack(">I", n), for the 9 header
	// strings, batch count 0, 1 contractor (4 strings), 1 item (21).
	const want = "176a68981f3a440d0c3a89aaf9393c64b6ab5bfa6d40de84d37082457514bc20"
	if got := ContentHash(c); got != want {
		t.Errorf("ContentHash = %s, want %s", got, want)
	}
}

// TestEncodeContent_GoldenV2 pins content version 2: version 1's bytes
// with the v2 domain, each item followed by its weight under WeightRule
// and the weight's source.
func TestEncodeContent_GoldenV2(t *testing.T) {
	c := sampleContent(sampleDevice(), testFP)
	c.Version = 2
	var buf bytes.Buffer
	if err := EncodeContent(&buf, c); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "content-device-v2.hex", []byte(hex.Dump(buf.Bytes())))
	// Computed with Python: b"itad-certificate-v2\n" + the version 1
	// encoding after its 20-byte domain + struct.pack(">I", 3) + b"618" +
	// struct.pack(">I", 4) + b"item" (the device certificate's one item
	// is the last thing encoded).
	const want = "631bc363882387a4cd63b5c65d44abe3d7508a3d50195bf4d534cfe1881f4053"
	if got := ContentHash(c); got != want {
		t.Errorf("ContentHash = %s, want %s", got, want)
	}
	latest := c
	latest.Version = RenderVersion
	if c.Version = 0; ContentHash(c) != ContentHash(latest) {
		t.Errorf("Version 0 does not mean RenderVersion (%d)", RenderVersion)
	}
}

// TestEncodeContent_Injective: changing any single field changes the hash,
// and moving bytes between neighbouring fields does too.
func TestEncodeContent_Injective(t *testing.T) {
	base := sampleContent(sampleBatch(2), testFP)
	h0 := ContentHash(base)
	mutate := map[string]func(c *Content){
		"number":       func(c *Content) { c.Number = testUUID(43) },
		"issued_at":    func(c *Content) { c.IssuedAt = c.IssuedAt.Add(time.Nanosecond) },
		"issued_by":    func(c *Content) { c.IssuedBy = "x" },
		"signer":       func(c *Content) { c.SignerName += "x" },
		"fingerprint":  func(c *Content) { c.SignerFingerprint = strings.Repeat("0", 64) },
		"org":          func(c *Content) { c.Data.Org += "." },
		"destination":  func(c *Content) { c.Data.Destination = "" },
		"batch":        func(c *Content) { c.Data.Batch = nil },
		"gross":        func(c *Content) { c.Data.Batch.GrossWeightG = nil },
		"version":      func(c *Content) { c.Version = 1 },
		"eff_weight":   func(c *Content) { c.Data.Items[1].Weight.Grams = int64p(1) },
		"weight_src":   func(c *Content) { c.Data.Items[1].Weight.Source = ledger.WeightBatch },
		"accred":       func(c *Content) { c.Data.Contractors[0].Accreditations = "ADISA" },
		"serial":       func(c *Content) { c.Data.Items[1].Device.Serial = "SN0000003" },
		"capacity nil": func(c *Content) { c.Data.Items[0].Device.CapacityGB = nil },
		"weight":       func(c *Content) { c.Data.Items[0].Disposal.WeightG = int64p(619) },
		"notes":        func(c *Content) { c.Data.Items[0].Disposal.Notes = "n" },
		"drop item":    func(c *Content) { c.Data.Items = c.Data.Items[:1] },
		"shift bytes": func(c *Content) {
			c.Data.Items[0].Device.Make, c.Data.Items[0].Device.Model = c.Data.Items[0].Device.Make+" "+c.Data.Items[0].Device.Model, ""
		},
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			c := sampleContent(sampleBatch(2), testFP)
			m(&c)
			if ContentHash(c) == h0 {
				t.Errorf("hash unchanged")
			}
		})
	}
	// The final flag is derived, not content.
	c := sampleContent(sampleBatch(2), testFP)
	c.Data.Items[0].Disposal.Final = false
	if ContentHash(c) != h0 {
		t.Errorf("final flag changed the hash")
	}
}

// TestRender_Reproducible: the same content gives the same bytes, and the
// bytes are pinned (changing the layout breaks the verification of every
// certificate already issued: see RenderVersion).
//
// Every layout version stays reproducible: certificates issued in layout
// 1 must still verify.
func TestRender_Reproducible(t *testing.T) {
	for _, tc := range []struct {
		name string
		data ledger.CertificateData
	}{{"device", sampleDevice()}, {"batch", sampleBatch(130)}} {
		// Every layout stays reachable and pinned: certificates issued in
		// an earlier layout must still verify.
		for layout := 1; layout <= RenderVersion; layout++ {
			t.Run(fmt.Sprintf("%s/layout-%d", tc.name, layout), func(t *testing.T) {
				c := sampleContent(tc.data, testFP)
				a, err := RenderLayout(c, layout)
				if err != nil {
					t.Fatal(err)
				}
				b, err := RenderLayout(c, layout)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, b) {
					t.Fatal("two renders differ")
				}
				if layout == RenderVersion {
					if cur, err := Render(c); err != nil || !bytes.Equal(cur, a) {
						t.Fatalf("Render is not the latest layout (%v)", err)
					}
				}
				if got := PDFLayout(a); got != layout {
					t.Errorf("PDFLayout = %d, want %d", got, layout)
				}
				// Layouts 1 and 2 are re-rendered by Verify: their bytes
				// are pinned. From layout 3 Verify reads the embedded
				// content instead (its bytes are pinned by
				// TestEncodeContentJSON_Golden), and the PDF's compressed
				// streams may change with compress/zlib.
				if layout <= 2 {
					sum := sha256.Sum256(a)
					checkGolden(t, fmt.Sprintf("render-v%d-%s.sha256", layout, tc.name), []byte(hex.EncodeToString(sum[:])+"\n"))
				}
				if n, err := Number(a); err != nil || n != c.Number {
					t.Errorf("Number = %q, %v; want %s", n, err, c.Number)
				}
			})
		}
	}
	if _, err := RenderLayout(sampleContent(sampleDevice(), testFP), RenderVersion+1); err == nil {
		t.Error("an unknown layout rendered")
	}
}

// TestRender_Tools checks rendered and signed certificates with qpdf,
// pdfsig, pdftotext and zbarimg.
func TestRender_Tools(t *testing.T) {
	s := testSigner(t)
	for _, tc := range []struct {
		name     string
		data     ledger.CertificateData
		minPages int
	}{{"device", sampleDevice(), 1}, {"batch", sampleBatch(150), 3}} {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := Issue(ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: tc.data}, s)
			if err != nil {
				t.Fatal(err)
			}
			path := writeTemp(t, "cert.pdf", iss.Signed)
			t.Run("qpdf", func(t *testing.T) {
				requireTool(t, "qpdf")
				if out, err := runTool(t, "qpdf", "--check", path); err != nil {
					t.Fatalf("qpdf --check: %v\n%s", err, out)
				}
			})
			t.Run("pdfsig", func(t *testing.T) {
				valid, total, out := checkPdfsig(t, iss.Signed)
				if !valid || !total {
					t.Fatalf("pdfsig:\n%s", out)
				}
			})
			t.Run("pdftotext", func(t *testing.T) {
				requireTool(t, "pdftotext")
				out, err := runTool(t, "pdftotext", "-layout", path, "-")
				if err != nil {
					t.Fatalf("pdftotext: %v\n%s", err, out)
				}
				if pages := strings.Count(out, "\f"); pages < tc.minPages {
					t.Errorf("%d pages, want at least %d", pages, tc.minPages)
				}
				for _, want := range []string{tc.data.Org, testUUID(42), "Page 1 of", group(iss.ContentHash), group(iss.Content.SignerFingerprint)} {
					if !strings.Contains(out, want) {
						t.Errorf("text lacks %q", want)
					}
				}
				for _, it := range tc.data.Items {
					if !strings.Contains(out, it.Device.Serial) {
						t.Errorf("text lacks serial %s", it.Device.Serial)
					}
				}
			})
			t.Run("zbarimg", func(t *testing.T) {
				requireTool(t, "pdftoppm")
				if _, err := exec.LookPath("zbarimg"); err != nil {
					t.Skip("zbarimg not installed: apt-get install zbar-tools")
				}
				prefix := filepath.Join(t.TempDir(), "page")
				if out, err := runTool(t, "pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", path, prefix); err != nil {
					t.Fatalf("pdftoppm: %v\n%s", err, out)
				}
				matches, _ := filepath.Glob(prefix + "*.png")
				if len(matches) != 1 {
					t.Fatalf("pdftoppm wrote %v", matches)
				}
				// zbarimg prints warnings on stderr: read stdout only.
				out, err := exec.Command("zbarimg", "-q", "--raw", matches[0]).Output()
				if err != nil {
					t.Fatalf("zbarimg: %v\n%s", err, out)
				}
				if want := QRText(testUUID(42), iss.ContentHash); strings.TrimSpace(string(out)) != want {
					t.Errorf("QR code reads %q, want %q", out, want)
				}
			})
		})
	}
}

func TestSanitiseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ZC1234AB", "ZC1234AB"},
		{"../../etc/x", "etc_x"},
		{"..", "unnamed"},
		{".", "unnamed"},
		{"", "unnamed"},
		{"   ", "unnamed"},
		{"SN 123 456", "SN_123_456"},
		{"a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j"},
		{"Ünïcødé-序列号", "Ünïcødé-序列号"}, // letters of every script stay
		{"Łódź/Żółć", "Łódź_Żółć"},
		{"ΑΒΓ 42", "ΑΒΓ_42"},
		{"Серия №7", "Серия_7"},
		{"Tŷ Gwŷn", "Tŷ_Gwŷn"},
		{"\u0301accent first", "accent_first"}, // a mark with no letter before it
		{"bad\xffutf8", "bad_utf8"},
		{"\ue000private", "private"},
		{strings.Repeat("ż", 40), strings.Repeat("ż", 32)}, // 64 bytes, cut between characters
		{"serial\x00nul\nline", "serial_nul_line"},
		{"...hidden", "hidden"},
		{"trailing...", "trailing"},
		{"a....b____c", "a.b_c"},
		{"-rf", "rf"},
		{strings.Repeat("x", 100), strings.Repeat("x", 64)},
		{strings.Repeat("y", 63) + ".z", strings.Repeat("y", 63)},
		{"SR-2021-Q1-HEN", "SR-2021-Q1-HEN"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got := SanitiseName(tt.in)
			if got != tt.want {
				t.Errorf("SanitiseName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			name := FileName(testUUID(1), tt.in)
			if filepath.Base(name) != name || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
				t.Errorf("FileName(%q) = %q escapes or hides", tt.in, name)
			}
			if filepath.Join("out", name) != "out/"+name {
				t.Errorf("FileName(%q) = %q does not stay in its folder", tt.in, name)
			}
		})
	}
}

func TestWriteTempPublish(t *testing.T) {
	dir := t.TempDir()
	tmp, err := WriteTemp(dir, []byte("%PDF-1.3 test"))
	if err != nil {
		t.Fatal(err)
	}
	name := FileName(testUUID(1), "../../etc/passwd")
	final, err := Publish(tmp, name)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(final) != dir {
		t.Fatalf("published to %s, outside %s", final, dir)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind")
	}
	tmp2, _ := WriteTemp(dir, []byte("other"))
	if _, err := Publish(tmp2, name); err == nil {
		t.Errorf("Publish replaced an existing file")
	}
	if _, err := Publish(tmp2, "../x.pdf"); err == nil {
		t.Errorf("Publish accepted a path")
	}
}

// BenchmarkIssueSingle renders and signs a one-device certificate.
func BenchmarkIssueSingle(b *testing.B) {
	s := testSigner(b)
	d := ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: sampleDevice()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(d, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueBatch10000 renders and signs a certificate of a
// 10,000-device destruction run.
func BenchmarkIssueBatch10000(b *testing.B) {
	s := testSigner(b)
	d := ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: sampleBatch(10000)}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		iss, err := Issue(d, s)
		if err != nil {
			b.Fatal(err)
		}
		size = len(iss.Signed)
	}
	b.ReportMetric(float64(size)/1e6, "MB/pdf")
}

// TestRenderProgress: the callback sees the schedule's rows being drawn,
// and does not change the output.
func TestRenderProgress(t *testing.T) {
	c := sampleContent(sampleBatch(600), strings.Repeat("ab", 32))
	var seen []int64
	got, err := RenderProgress(c, func(n int64) { seen = append(seen, n) })
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("RenderProgress output differs from Render")
	}
	if fmt.Sprint(seen) != "[0 256 512]" {
		t.Fatalf("progress calls %v for %d items, want [0 256 512]", seen, len(c.Data.Items))
	}
}

// BenchmarkIssueSingleLayout2 renders and signs the one-device
// certificate in layout 2 (core fonts, uncompressed, QR mask by penalty):
// the cost before layout 3, to compare with BenchmarkIssueSingle in one run.
func BenchmarkIssueSingleLayout2(b *testing.B) {
	s := testSigner(b)
	c := NewContent(ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: sampleDevice()}, s.Cert)
	b.ReportAllocs()
	for b.Loop() {
		unsigned, err := RenderLayout(c, 2)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := SignPDF(unsigned, s, SignOptions{Reason: "Certificate " + c.Number, Time: c.IssuedAt}); err != nil {
			b.Fatal(err)
		}
	}
}
