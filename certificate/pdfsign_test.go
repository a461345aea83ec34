package certificate

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/itad/itad/internal/gofpdf"
)

// checkPdfsig runs pdfsig on a signed PDF and reports whether it says the
// signature is valid and covers the whole document. pdfsig exits 0 even on
// a digest mismatch, so only its output tells.
func checkPdfsig(t *testing.T, signed []byte) (valid, total bool, out string) {
	t.Helper()
	requireTool(t, "pdfsig")
	path := writeTemp(t, "signed.pdf", signed)
	out, _ = runTool(t, "pdfsig", path)
	return strings.Contains(out, "Signature is Valid"), strings.Contains(out, "Total document signed"), out
}

// rsaSignerFromFiles writes an RSA key (PKCS #1) and a self-signed
// certificate as PEM files and loads them with LoadSigner.
func rsaSignerFromFiles(t *testing.T) *Signer {
	t.Helper()
	key := testRSAKey(t)
	cert := issue(t, "Acme Recycling itad signing key", key, nil, nil, false)
	dir := t.TempDir()
	keyPath, certPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(keyPath, certPath)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignPDF_Valid(t *testing.T) {
	ecdsaSigner := testSigner(t)
	chained, _ := chainSigner(t, newECKey(t, elliptic.P256()))
	tests := []struct {
		name   string
		signer func(t *testing.T) *Signer
		pdf    func(t *testing.T) []byte
		opts   SignOptions
	}{
		{"ECDSA/OnePage", func(*testing.T) *Signer { return ecdsaSigner },
			func(t *testing.T) []byte { return samplePDF(t, 1, false, false) },
			SignOptions{Name: "Acme Recycling", Reason: "Certificate of destruction", Location: "Leeds", Time: testNow}},
		{"ECDSA/ThreePagesQR", func(*testing.T) *Signer { return ecdsaSigner },
			func(t *testing.T) []byte { return samplePDF(t, 3, true, false) },
			SignOptions{Reason: "Certificate of destruction", Time: testNow}},
		{"ECDSA/LinkAnnotation", func(*testing.T) *Signer { return ecdsaSigner },
			func(t *testing.T) []byte { return samplePDF(t, 2, false, true) },
			SignOptions{Name: "Société Générale (Recyclage) \\ Ümlaut", Time: testNow}},
		{"ECDSA/Chain", func(*testing.T) *Signer { return chained },
			func(t *testing.T) []byte { return samplePDF(t, 1, true, false) },
			SignOptions{Time: testNow}},
		{"RSA/LoadSigner", rsaSignerFromFiles,
			func(t *testing.T) []byte { return samplePDF(t, 2, true, false) },
			SignOptions{Reason: "Certificate of destruction", Time: testNow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.signer(t)
			in := tt.pdf(t)
			orig := bytes.Clone(in)
			signed, err := SignPDF(in, s, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatal("SignPDF modified its input")
			}
			if !bytes.HasPrefix(signed, in) {
				t.Fatal("signed PDF does not start with the original")
			}

			sig, err := VerifyPDF(signed)
			if err != nil {
				t.Fatalf("VerifyPDF: %v", err)
			}
			if !sig.Signer.Equal(s.Cert) {
				t.Errorf("Signer = %s, want %s", sig.Signer.Subject, s.Cert.Subject)
			}
			if got, want := len(sig.Certificates), 1+len(s.Chain); got != want {
				t.Errorf("%d certificates, want %d", got, want)
			}
			if !bytes.Equal(sig.Unsigned, in) {
				t.Errorf("Unsigned (%d bytes) differs from the input (%d bytes)", len(sig.Unsigned), len(in))
			}
			if sig.SignedLen != len(signed) {
				t.Errorf("SignedLen = %d, want %d", sig.SignedLen, len(signed))
			}
			if !sig.SignedAt.Equal(testNow) {
				t.Errorf("SignedAt = %v, want %v", sig.SignedAt, testNow)
			}

			valid, total, out := checkPdfsig(t, signed)
			if !valid || !total {
				t.Errorf("pdfsig does not report a valid whole-document signature:\n%s", out)
			}
			requireTool(t, "qpdf")
			if out, err := runTool(t, "qpdf", "--check", writeTemp(t, "signed.pdf", signed)); err != nil {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
			checkOpenSSLRanges(t, signed)
		})
	}
}

// checkOpenSSLRanges extracts the signed byte ranges and the CMS from a
// signed PDF by their /ByteRange and checks them with openssl cms.
func checkOpenSSLRanges(t *testing.T, signed []byte) {
	t.Helper()
	requireTool(t, "openssl")
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]`).FindSubmatch(signed)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	a, _ := strconv.Atoi(string(m[1]))
	b, _ := strconv.Atoi(string(m[2]))
	der, err := hex.DecodeString(string(signed[a+1 : b-1]))
	if err != nil {
		t.Fatal(err)
	}
	der, err = trimDER(der)
	if err != nil {
		t.Fatal(err)
	}
	content := append(bytes.Clone(signed[:a]), signed[b:]...)
	cms := writeTemp(t, "sig.der", der)
	data := writeTemp(t, "ranges.bin", content)
	if out, err := runTool(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", cms,
		"-content", data, "-noverify", "-out", os.DevNull); err != nil {
		t.Errorf("openssl cms -verify of the byte ranges: %v\n%s", err, out)
	}
}

// TestSignPDF_Layout pins the bytes of the incremental update that SignPDF
// appends (see its doc comment), with the CMS hex digits masked.
func TestSignPDF_Layout(t *testing.T) {
	in := samplePDF(t, 2, false, false)
	signed, err := SignPDF(in, testSigner(t), SignOptions{Name: "Acme (UK)", Reason: "Test", Location: "Leeds", Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	n := len(in)
	// The sample has pages 3 and 5 (contents 4 and 6), the page tree 1,
	// resources 2, fonts 7 and 8, /Info 9 and the catalog 10: /Size 11.
	objs := []string{
		"10 0 obj\n<<\n/Type /Catalog\n/Pages 1 0 R\n/Names <<\n/EmbeddedFiles << /Names [\n  \n] >>\n>>\n/AcroForm 11 0 R>>\nendobj\n",
		"3 0 obj\n<</Type /Page\n/Parent 1 0 R\n/Resources 2 0 R\n/Contents 4 0 R\n/Annots [12 0 R]>>\nendobj\n",
		"11 0 obj\n<</Fields [12 0 R] /SigFlags 3>>\nendobj\n",
		"12 0 obj\n<</Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /F 132 /Rect [0 0 0 0] /P 3 0 R /V 13 0 R>>\nendobj\n",
		"13 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange %s /Contents <" +
			strings.Repeat("X", 2*contentsReserve) +
			"> /M (D:20250314150926Z) /Name (Acme \\(UK\\)) /Reason (Test) /Location (Leeds)>>\nendobj\n",
	}
	// The /ByteRange has a fixed width: lay out with blanks first.
	sigFormat := objs[4]
	objs[4] = fmt.Sprintf(sigFormat, strings.Repeat(" ", byteRangeWidth))
	var offs []int
	pos := n
	for _, o := range objs {
		offs = append(offs, pos)
		pos += len(o)
	}
	xrefAt := pos
	prev := bytes.LastIndex(in, []byte("\nxref\n")) + 1
	tail := fmt.Sprintf("xref\n3 1\n%010d 00000 n \n10 4\n%010d 00000 n \n%010d 00000 n \n%010d 00000 n \n%010d 00000 n \n"+
		"trailer\n<</Size 14 /Root 10 0 R /Info 9 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n",
		offs[1], offs[0], offs[2], offs[3], offs[4], prev, xrefAt)
	total := xrefAt + len(tail)
	// /ByteRange: a is the offset of "<" of /Contents, b just after ">".
	a := offs[4] + strings.Index(objs[4], "<X")
	b := a + 2*contentsReserve + 2
	objs[4] = fmt.Sprintf(sigFormat, padRight(fmt.Sprintf("[0 %d %d %d]", a, b, total-b), byteRangeWidth))
	want := strings.Join(objs, "") + tail

	got := bytes.Clone(signed[n:])
	// Mask the CMS hex digits.
	for i := a + 1 - n; i < b-1-n && i < len(got); i++ {
		got[i] = 'X'
	}
	if string(got) != want {
		t.Errorf("update:\n%s\nwant:\n%s", abbreviate(string(got)), abbreviate(want))
	}
}

// abbreviate shortens runs of X for error messages.
func abbreviate(s string) string {
	return regexp.MustCompile(`X{20,}`).ReplaceAllString(s, "X...X")
}

// mustSign signs a sample PDF and returns the input and the signed file.
func mustSign(t testing.TB, pages int) (in, signed []byte) {
	t.Helper()
	in = samplePDF(t, pages, true, false)
	signed, err := SignPDF(in, testSigner(t), SignOptions{Reason: "test", Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return in, signed
}

func TestVerifyPDF_Mangled(t *testing.T) {
	in, signed := mustSign(t, 2)
	m := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]`).FindSubmatch(signed)
	a, _ := strconv.Atoi(string(m[1]))
	b, _ := strconv.Atoi(string(m[2]))
	// Positions inside the signed ranges: every 37th byte, plus every byte
	// of the first page's content stream and of the update's first object.
	var positions []int
	for i := 0; i < len(signed); i += 37 {
		if i < a || i >= b {
			positions = append(positions, i)
		}
	}
	stream := bytes.Index(in, []byte("stream\n")) + len("stream\n")
	streamEnd := bytes.Index(in, []byte("endstream"))
	for i := stream; i < streamEnd; i++ {
		positions = append(positions, i)
	}
	for i := len(in); i < len(in)+200; i++ {
		positions = append(positions, i)
	}
	positions = append(positions, a-1, b, len(signed)-1, len(signed)-7)
	pdfsigAt := map[int]bool{stream + 5: true, 0: true, len(in) + 30: true, a - 3: true, len(signed) - 20: true}

	for _, pos := range positions {
		for _, mask := range []byte{0x01, 0x20, 0x80} {
			mangled := bytes.Clone(signed)
			mangled[pos] ^= mask
			sig, err := VerifyPDF(mangled)
			if !errors.Is(err, ErrSignatureInvalid) && !errors.Is(err, ErrMalformedPDF) {
				// Flipping a byte can turn the file into one that is
				// not signed at all (for example "/AcroForm" into
				// "/AcroFoRm"), which is as much a failure.
				if !errors.Is(err, ErrNotSigned) {
					t.Fatalf("byte %d ^ %#x: VerifyPDF = %v, %v; want ErrSignatureInvalid or ErrMalformedPDF", pos, mask, sig, err)
				}
			}
			if pdfsigAt[pos] && mask == 0x01 {
				if valid, _, out := checkPdfsig(t, mangled); valid {
					t.Errorf("byte %d ^ %#x: pdfsig reports a valid signature:\n%s", pos, mask, out)
				}
			}
		}
	}
}

func TestVerifyPDF_Appended(t *testing.T) {
	_, signed := mustSign(t, 1)
	tests := []struct {
		name string
		tail string
	}{
		{"Byte", "\n"},
		{"Text", "hello, world"},
		{"Comment", "%% trailing comment\n"},
		{"IncrementalUpdate", incrementalUpdate(t, signed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mangled := append(bytes.Clone(signed), tt.tail...)
			sig, err := VerifyPDF(mangled)
			if !errors.Is(err, ErrNotWholeFile) {
				t.Fatalf("VerifyPDF = %v, want ErrNotWholeFile", err)
			}
			if sig == nil || sig.SignedLen != len(signed) || sig.Signer == nil {
				t.Fatalf("with ErrNotWholeFile: signature %+v, want SignedLen %d", sig, len(signed))
			}
			if _, total, out := checkPdfsig(t, mangled); total {
				t.Errorf("pdfsig reports the whole document signed:\n%s", out)
			}
		})
	}
}

// incrementalUpdate returns a well-formed incremental update to signed
// that replaces the first page's content stream (object 4) with an empty
// one, as an editor would after signing.
func incrementalUpdate(t *testing.T, signed []byte) string {
	t.Helper()
	last := func(re string) string {
		m := regexp.MustCompile(re).FindAllSubmatch(signed, -1)
		if m == nil {
			t.Fatalf("no %s", re)
		}
		return string(m[len(m)-1][1])
	}
	root, size, prev := last(`/Root (\d+) 0 R`), last(`/Size (\d+)`), last(`startxref\n(\d+)`)
	obj := "4 0 obj\n<</Length 0>>\nstream\n\nendstream\nendobj\n"
	xref := len(signed) + len(obj)
	return obj + fmt.Sprintf("xref\n4 1\n%010d 00000 n \ntrailer\n<</Size %s /Root %s 0 R /Prev %s>>\nstartxref\n%d\n%%%%EOF\n",
		len(signed), size, root, prev, xref)
}

func TestVerifyPDF_Errors(t *testing.T) {
	in, signed := mustSign(t, 1)
	tests := []struct {
		name string
		pdf  []byte
		want error
	}{
		{"Empty", nil, ErrMalformedPDF},
		{"NotPDF", []byte("hello"), ErrMalformedPDF},
		{"HeaderOnly", []byte("%PDF-1.3\n"), ErrMalformedPDF},
		{"Unsigned", in, ErrNotSigned},
		{"Truncated", signed[:len(signed)-10], ErrMalformedPDF},
		// Cut inside the update: the last complete revision is unsigned.
		{"TruncatedInUpdate", signed[:len(in)+1000], ErrNotSigned},
		{"ZeroContents", bytes.Replace(signed, regexp.MustCompile(`/Contents <[0-9a-f]+>`).Find(signed),
			[]byte("/Contents <"+strings.Repeat("0", 2*contentsReserve)+">"), 1), ErrSignatureInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyPDF(tt.pdf)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyPDF = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyPDF_OtherSigner checks that a signature made by another key
// over the same document verifies but names the other signer: callers
// must compare Signer with the certificate they trust.
func TestVerifyPDF_OtherSigner(t *testing.T) {
	in := samplePDF(t, 1, false, false)
	a, b := testSigner(t), testSigner(t)
	signed, err := SignPDF(in, b, SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := VerifyPDF(signed)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(sig.Signer) == Fingerprint(a.Cert) || Fingerprint(sig.Signer) != Fingerprint(b.Cert) {
		t.Fatal("Signer is not the certificate that signed")
	}
}

func TestSignPDF_Errors(t *testing.T) {
	in, signed := mustSign(t, 1)
	s := testSigner(t)
	tests := []struct {
		name string
		pdf  []byte
	}{
		{"Empty", nil},
		{"NotPDF", []byte("hello")},
		{"AlreadySigned", signed},
		{"DataAfterEOF", append(bytes.Clone(in), "garbage"...)},
		{"NoFinalNewline", in[:len(in)-1]},
		{"Truncated", in[:len(in)/2]},
		{"BadStartxref", bytes.Replace(in, []byte("startxref\n"), []byte("startxref\n9"), 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SignPDF(tt.pdf, s, SignOptions{})
			if !errors.Is(err, ErrMalformedPDF) {
				t.Fatalf("SignPDF = %v, want ErrMalformedPDF", err)
			}
		})
	}
	if _, err := SignPDF(in, &Signer{}, SignOptions{}); err == nil {
		t.Error("SignPDF with an empty signer succeeded")
	}
}

func FuzzVerifyPDF(f *testing.F) {
	in, signed := mustSign(f, 1)
	f.Add(signed)
	f.Add(in)
	f.Add(append(bytes.Clone(signed), "\n"...))
	f.Add(signed[:len(signed)-100])
	f.Add([]byte("%PDF-1.3\nxref\n0 1\n0000000000 65535 f \ntrailer\n<</Root 1 0 R>>\nstartxref\n9\n%%EOF\n"))
	f.Add([]byte("%PDF-1.3\n1 0 obj\n<</Type /Catalog /AcroForm <</Fields [<</FT /Sig /V <</SubFilter /adbe.pkcs7.detached /ByteRange [0 1 2 3] /Contents <00>>>>>]>>>>\nendobj\nxref\n1 1\n0000000009 00000 n \ntrailer\n<</Root 1 0 R>>\nstartxref\n118\n%%EOF\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, pdf []byte) {
		sig, err := VerifyPDF(pdf)
		if err == nil && (sig == nil || sig.Signer == nil || sig.SignedLen != len(pdf)) {
			t.Fatalf("VerifyPDF succeeded with %+v", sig)
		}
		if err != nil && !errors.Is(err, ErrNotWholeFile) && sig != nil {
			t.Fatalf("VerifyPDF returned a signature with %v", err)
		}
	})
}

// BenchmarkSignPDF measures signing a rendered one-page PDF.
func BenchmarkSignPDF(b *testing.B) {
	in := samplePDF(b, 1, true, false)
	s := testSigner(b)
	opts := SignOptions{Reason: "Certificate of destruction", Time: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignPDF(in, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderSignPDF measures rendering a one-page certificate with a
// QR code and signing it, the per-certificate cost.
func BenchmarkRenderSignPDF(b *testing.B) {
	s := testSigner(b)
	opts := SignOptions{Reason: "Certificate of destruction", Time: testNow}
	b.ReportAllocs()
	for b.Loop() {
		in := samplePDF(b, 1, true, false)
		if _, err := SignPDF(in, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPDF measures verifying a signed one-page PDF.
func BenchmarkVerifyPDF(b *testing.B) {
	_, signed := mustSign(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyPDF(signed); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleSignPDF() {
	// A one-page PDF, rendered reproducibly.
	doc := gofpdf.New("P", "mm", "A4", "")
	doc.SetCatalogSort(true)
	doc.SetCreationDate(testNow)
	doc.SetModificationDate(testNow)
	doc.AddPage()
	doc.SetFont("Helvetica", "", 12)
	doc.Cell(0, 10, "Certificate of destruction")
	var buf bytes.Buffer
	if err := doc.Output(&buf); err != nil {
		panic(err)
	}
	unsigned := buf.Bytes()

	s, err := GenerateSigner("Acme Recycling", testNow)
	if err != nil {
		panic(err)
	}
	signed, err := SignPDF(unsigned, s, SignOptions{Reason: "Certificate of destruction", Time: testNow})
	if err != nil {
		panic(err)
	}
	sig, err := VerifyPDF(signed)
	if err != nil {
		panic(err)
	}
	fmt.Println(sig.Signer.Subject.CommonName)
	fmt.Println(Fingerprint(sig.Signer) == Fingerprint(s.Cert))
	fmt.Println(sig.SignedAt)
	fmt.Println(bytes.Equal(sig.Unsigned, unsigned))
	// Output:
	// Acme Recycling itad signing key
	// true
	// 2025-03-14 15:09:26 +0000 UTC
	// true
}
