package certificate

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/itad/itad/internal/gofpdf"
)

// requireTool skips the test if the command-line tool name is missing, or
// fails it when ITAD_REQUIRE_TOOLS=1 (as CI sets it).
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (ITAD_REQUIRE_TOOLS=1): apt-get install poppler-utils qpdf openssl zbar-tools", name)
		}
		t.Skipf("%s not installed: apt-get install poppler-utils qpdf openssl zbar-tools", name)
	}
}

// runTool runs a command and returns its combined output and exit error.
func runTool(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// writeTemp writes data to a new file named name in a temporary directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testNow is the fixed clock of the tests.
var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// samplePDF renders a small reproducible certificate-like PDF with gofpdf:
// core fonts, sorted catalog, fixed dates, pages pages, a QR code on the
// first page if qr, and a link annotation on the first page if link.
func samplePDF(t testing.TB, pages int, qr, link bool) []byte {
	t.Helper()
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(testNow)
	pdf.SetModificationDate(testNow)
	pdf.SetTitle("Certificate of destruction", true)
	for i := 1; i <= pages; i++ {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "B", 16)
		pdf.Cell(0, 10, "Certificate of destruction")
		pdf.Ln(12)
		pdf.SetFont("Helvetica", "", 10)
		for j := 0; j < 20; j++ {
			pdf.CellFormat(0, 6, fmt.Sprintf("Page %d line %d: serial SN-%04d wiped (NIST 800-88 purge)", i, j, i*100+j), "", 1, "", false, 0, "")
		}
		if i == 1 && qr {
			if err := DrawQR(pdf, 150, 20, 40, "https://itad.example/verify/0123456789abcdef"); err != nil {
				t.Fatal(err)
			}
		}
		if i == 1 && link {
			pdf.LinkString(10, 10, 50, 10, "https://itad.example/")
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testSigner returns a fresh ECDSA P-256 signer for "Acme Recycling".
func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := GenerateSigner("Acme Recycling", testNow)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey returns a 2048-bit RSA key shared by the tests (generating
// one takes a while).
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

// issue makes a certificate for key's public half, signed by parentKey
// as parent (self-signed if parent is nil), a CA if ca.
func issue(t testing.TB, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, ca bool) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Acme Recycling"}},
		NotBefore:             testNow.Add(-time.Hour),
		NotAfter:              testNow.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	if ca {
		tmpl.IsCA = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = nil
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newECKey returns a fresh ECDSA key on curve.
func newECKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// chainSigner returns a signer whose leaf (key of type leafKey) is issued
// by an intermediate CA issued by a root CA, and the root.
func chainSigner(t testing.TB, leafKey crypto.Signer) (*Signer, *x509.Certificate) {
	t.Helper()
	rootKey := newECKey(t, elliptic.P256())
	root := issue(t, "Acme Root CA", rootKey, nil, nil, true)
	interKey := newECKey(t, elliptic.P256())
	inter := issue(t, "Acme Issuing CA", interKey, root, rootKey, true)
	leaf := issue(t, "Acme Recycling itad signing key", leafKey, inter, interKey, false)
	return &Signer{Key: leafKey, Cert: leaf, Chain: []*x509.Certificate{inter, root}}, root
}
