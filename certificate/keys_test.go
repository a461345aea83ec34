package certificate

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGenerateSigner(t *testing.T) {
	s, err := GenerateSigner("Acme Recycling", testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cert
	if got, want := c.Subject.CommonName, "Acme Recycling itad signing key"; got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
	if got := c.Subject.Organization; len(got) != 1 || got[0] != "Acme Recycling" {
		t.Errorf("O = %q", got)
	}
	if !c.NotBefore.Equal(testNow.Add(-time.Hour)) || !c.NotAfter.Equal(testNow.AddDate(10, 0, 0)) {
		t.Errorf("validity %v .. %v", c.NotBefore, c.NotAfter)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %b", c.KeyUsage)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v is not a large positive random number", c.SerialNumber)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil || !bytes.Equal(c.RawIssuer, c.RawSubject) {
		t.Errorf("not self-signed: %v", err)
	}
	k, ok := s.Key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		t.Errorf("key %T is not ECDSA P-256", s.Key)
	}
	if len(s.Chain) != 0 {
		t.Errorf("chain of %d", len(s.Chain))
	}
	if _, err := GenerateSigner("", testNow); err == nil {
		t.Error("GenerateSigner accepted an empty organisation")
	}
}

func TestWriteFiles_LoadSigner(t *testing.T) {
	chained, _ := chainSigner(t, newECKey(t, elliptic.P256()))
	tests := []struct {
		name string
		s    *Signer
	}{
		{"ECDSA", testSigner(t)},
		{"RSA", &Signer{Key: testRSAKey(t), Cert: issue(t, "rsa", testRSAKey(t), nil, nil, false)}},
		{"Chain", chained},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath, certPath := filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.crt")
			if err := tt.s.WriteFiles(keyPath, certPath); err != nil {
				t.Fatal(err)
			}
			for path, want := range map[string]os.FileMode{keyPath: 0o600, certPath: 0o644} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				// The umask may clear bits of the certificate's mode,
				// never add them.
				if got := fi.Mode().Perm(); got&^want != 0 || (path == keyPath && got != want) {
					t.Errorf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
				}
			}
			keyPEM, _ := os.ReadFile(keyPath)
			if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
				t.Errorf("key file is not PKCS #8 PEM:\n%.40s", keyPEM)
			}
			got, err := LoadSigner(keyPath, certPath)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Cert.Equal(tt.s.Cert) || !publicKeyEqual(got.Key.Public(), tt.s.Cert.PublicKey) {
				t.Error("loaded signer differs")
			}
			if len(got.Chain) != len(tt.s.Chain) {
				t.Errorf("chain of %d, want %d", len(got.Chain), len(tt.s.Chain))
			}
		})
	}
}

func TestWriteFiles_RefusesOverwrite(t *testing.T) {
	s := testSigner(t)
	tests := []struct {
		name     string
		existing string // "key" or "cert"
		wantErr  string
	}{
		{"ErrKeyExists", "key", "key file"},
		{"ErrCertExists", "cert", "certificate file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath, certPath := filepath.Join(dir, "k"), filepath.Join(dir, "c")
			existing := map[string]string{"key": keyPath, "cert": certPath}[tt.existing]
			if err := os.WriteFile(existing, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := s.WriteFiles(keyPath, certPath)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "refusing to overwrite") {
				t.Fatalf("WriteFiles = %v, want a refusal naming the %s", err, tt.wantErr)
			}
			if b, _ := os.ReadFile(existing); string(b) != "precious" {
				t.Error("existing file was changed")
			}
			// Nothing else is left behind.
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("%d files in the directory, want 1", len(entries))
			}
		})
	}
}

// writeKeyPair writes key in the given PEM block type and the certificate
// chain to dir, and returns their paths.
func writeKeyPair(t *testing.T, dir string, keyPEM []byte, certs ...*x509.Certificate) (keyPath, certPath string) {
	t.Helper()
	keyPath, certPath = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	var certPEM []byte
	for _, c := range certs {
		certPEM = append(certPEM, pemCert(c.Raw)...)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

func pkcs8PEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestLoadSigner_KeyFormats(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	rsaKey := testRSAKey(t)
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	// openssl ecparam -genkey writes an EC PARAMETERS block first.
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
	tests := []struct {
		name string
		key  crypto.Signer
		pem  []byte
	}{
		{"PKCS8/ECDSA", ec, pkcs8PEM(t, ec)},
		{"SEC1/ECDSA", ec, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})},
		{"SEC1WithParams/ECDSA", ec, append(ecParams, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)},
		{"PKCS8/RSA", rsaKey, pkcs8PEM(t, rsaKey)},
		{"PKCS1/RSA", rsaKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := issue(t, "key", tt.key, nil, nil, false)
			keyPath, certPath := writeKeyPair(t, t.TempDir(), tt.pem, cert)
			s, err := LoadSigner(keyPath, certPath)
			if err != nil {
				t.Fatal(err)
			}
			if !publicKeyEqual(s.Key.Public(), tt.key.Public()) {
				t.Error("wrong key")
			}
		})
	}
}

func TestLoadSigner_Errors(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	cert := issue(t, "key", ec, nil, nil, false)
	other := issue(t, "other", newECKey(t, elliptic.P256()), nil, nil, false)
	p384 := newECKey(t, elliptic.P384())
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	chained, _ := chainSigner(t, ec)
	tests := []struct {
		name    string
		keyPEM  []byte
		certs   []*x509.Certificate
		mode    os.FileMode
		wantErr string
	}{
		{"ErrKeyReadableByOthers", pkcs8PEM(t, ec), []*x509.Certificate{cert}, 0o644, "is readable by others (mode 0644): run chmod 600 "},
		{"ErrKeyReadableByGroup", pkcs8PEM(t, ec), []*x509.Certificate{cert}, 0o640, "(mode 0640)"},
		{"ErrMismatch", pkcs8PEM(t, ec), []*x509.Certificate{other}, 0o600, "does not match the certificate"},
		{"ErrP384", pkcs8PEM(t, p384), []*x509.Certificate{issue(t, "p384", p384, nil, nil, false)}, 0o600, "use P-256"},
		{"ErrEd25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER}), []*x509.Certificate{cert}, 0o600, "ed25519"},
		{"ErrShortRSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(smallRSA)}), []*x509.Certificate{cert}, 0o600, "too short"},
		{"ErrEncrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), []*x509.Certificate{cert}, 0o600, "encrypted"},
		{"ErrNoKey", pemCert(cert.Raw), []*x509.Certificate{cert}, 0o600, "unexpected PEM block \"CERTIFICATE\""},
		{"ErrEmptyKey", nil, []*x509.Certificate{cert}, 0o600, "no PEM private key"},
		{"ErrChainOrder", pkcs8PEM(t, ec), []*x509.Certificate{chained.Cert, chained.Chain[1], chained.Chain[0]}, 0o600, "was not issued by"},
		{"ErrNoCert", pkcs8PEM(t, ec), nil, 0o600, "no PEM CERTIFICATE block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyPath, certPath := writeKeyPair(t, t.TempDir(), tt.keyPEM, tt.certs...)
			if err := os.Chmod(keyPath, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSigner(keyPath, certPath)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadSigner = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := LoadSigner(filepath.Join(t.TempDir(), "missing"), "missing"); err == nil {
		t.Error("LoadSigner of a missing key succeeded")
	}
}

func TestImportFiles(t *testing.T) {
	s, _ := chainSigner(t, newECKey(t, elliptic.P256()))
	src := t.TempDir()
	// The source key may be world-readable: ImportFiles does not judge
	// where it came from, only where it goes.
	keyPEM, certPEM := writeKeyPair(t, src, pkcs8PEM(t, s.Key), append([]*x509.Certificate{s.Cert}, s.Chain...)...)
	if err := os.Chmod(keyPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	keyPath, certPath := filepath.Join(dst, "signing.key"), filepath.Join(dst, "signing.crt")
	got, err := ImportFiles(certPEM, keyPEM, keyPath, certPath)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(s.Cert) || len(got.Chain) != 2 {
		t.Fatal("imported signer differs")
	}
	if _, err := LoadSigner(keyPath, certPath); err != nil {
		t.Fatalf("LoadSigner after ImportFiles: %v", err)
	}
	if _, err := ImportFiles(certPEM, keyPEM, keyPath, certPath); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second ImportFiles = %v, want a refusal to overwrite", err)
	}
}

// TestImportPKCS12 imports .p12 files made by openssl pkcs12 -export with
// OpenSSL 3's defaults (AES-256-CBC, PBKDF2, SHA-256 MAC), with the chain
// in either order.
func TestImportPKCS12(t *testing.T) {
	requireTool(t, "openssl")
	s, _ := chainSigner(t, newECKey(t, elliptic.P256()))
	rsaSigner := &Signer{Key: testRSAKey(t), Cert: issue(t, "rsa", testRSAKey(t), nil, nil, false)}
	tests := []struct {
		name  string
		s     *Signer
		extra []*x509.Certificate // -certfile, in this order
	}{
		{"ECDSA/ChainInOrder", s, s.Chain},
		{"ECDSA/ChainReversed", s, []*x509.Certificate{s.Chain[1], s.Chain[0]}},
		{"RSA/NoChain", rsaSigner, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keyPath, certPath := writeKeyPair(t, dir, pkcs8PEM(t, tt.s.Key), tt.s.Cert)
			p12Path := filepath.Join(dir, "id.p12")
			args := []string{"pkcs12", "-export", "-inkey", keyPath, "-in", certPath, "-out", p12Path, "-passout", "pass:s3cret"}
			if len(tt.extra) > 0 {
				var bundle []byte
				for _, c := range tt.extra {
					bundle = append(bundle, pemCert(c.Raw)...)
				}
				args = append(args, "-certfile", writeTemp(t, "chain.pem", bundle))
			}
			if out, err := runTool(t, "openssl", args...); err != nil {
				t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			p12, err := os.ReadFile(p12Path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ImportPKCS12(p12, "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			if !got.Cert.Equal(tt.s.Cert) {
				t.Errorf("leaf %s, want %s", got.Cert.Subject, tt.s.Cert.Subject)
			}
			if len(got.Chain) != len(tt.s.Chain) {
				t.Fatalf("chain of %d, want %d", len(got.Chain), len(tt.s.Chain))
			}
			for i := range got.Chain {
				if !got.Chain[i].Equal(tt.s.Chain[i]) {
					t.Errorf("chain[%d] = %s, want %s", i, got.Chain[i].Subject, tt.s.Chain[i].Subject)
				}
			}
			if _, err := ImportPKCS12(p12, "wrong"); err == nil {
				t.Error("ImportPKCS12 accepted a wrong password")
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	requireTool(t, "openssl")
	s := testSigner(t)
	out, err := runTool(t, "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", writeTemp(t, "c.pem", pemCert(s.Cert.Raw)))
	if err != nil {
		t.Fatal(err, out)
	}
	// "sha256 Fingerprint=AB:CD:..."
	_, hexColons, _ := strings.Cut(strings.TrimSpace(out), "=")
	want := strings.ToLower(strings.ReplaceAll(hexColons, ":", ""))
	if got := Fingerprint(s.Cert); got != want || len(got) != 64 {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
}

func TestLoadCertificates(t *testing.T) {
	a, b := testSigner(t).Cert, testSigner(t).Cert
	tests := []struct {
		name    string
		data    string
		want    int
		wantErr string
	}{
		{"OK", "Bag Attributes\n" + string(pemCert(a.Raw)) + "\n" + string(pemCert(b.Raw)), 2, ""},
		{"ErrEmpty", "", 0, "no PEM CERTIFICATE block"},
		{"ErrKeyInBundle", string(pemCert(a.Raw)) + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0, "unexpected PEM block \"PRIVATE KEY\""},
		{"ErrBadCert", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, "certificate 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs, err := LoadCertificates(writeTemp(t, "bundle.pem", []byte(tt.data)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadCertificates = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(certs) != tt.want {
				t.Fatalf("LoadCertificates = %d certificates, %v; want %d", len(certs), err, tt.want)
			}
		})
	}
}

// TestWriteFilesEncrypted_LoadSigner: an encrypted key round-trips with
// its passphrase; without one, with a wrong one, or as a damaged file it
// is a clear error, never a panic.
func TestWriteFilesEncrypted_LoadSigner(t *testing.T) {
	s := testSigner(t)
	dir := t.TempDir()
	keyPath, certPath := filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.crt")
	if err := s.WriteFilesEncrypted(keyPath, certPath, nil); err == nil {
		t.Fatal("WriteFilesEncrypted accepted an empty passphrase")
	}
	if err := s.WriteFilesEncrypted(keyPath, certPath, []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(keyPath)
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")) {
		t.Fatalf("key file is not encrypted PKCS #8:\n%.60s", keyPEM)
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o", fi.Mode().Perm())
	}
	if enc, err := KeyFileEncrypted(keyPath); !enc || err != nil {
		t.Errorf("KeyFileEncrypted = %v, %v", enc, err)
	}
	pass := func(pw string) Passphrase { return func() ([]byte, error) { return []byte(pw), nil } }
	damaged := filepath.Join(dir, "damaged.key")
	block, _ := pem.Decode(keyPEM)
	os.WriteFile(damaged, pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes[:len(block.Bytes)-3]}), 0o600)
	for _, tt := range []struct {
		name    string
		key     string
		pass    Passphrase
		wantErr error  // nil: loads
		wantMsg string // or an error containing this
	}{
		{"OK", keyPath, pass("correct horse"), nil, ""},
		{"ErrKeyEncrypted", keyPath, nil, ErrKeyEncrypted, ""},
		{"ErrWrongPassphrase", keyPath, pass("battery staple"), ErrWrongPassphrase, ""},
		{"ErrWrongPassphrase/Empty", keyPath, pass(""), ErrWrongPassphrase, ""},
		{"PassphraseError", keyPath, func() ([]byte, error) { return nil, errors.New("no terminal") }, nil, "no terminal"},
		{"Damaged", damaged, pass("correct horse"), nil, "load key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadSignerPassphrase(tt.key, certPath, tt.pass)
			switch {
			case tt.wantErr == nil && tt.wantMsg == "":
				if err != nil || !got.Cert.Equal(s.Cert) || !publicKeyEqual(got.Key.Public(), s.Cert.PublicKey) {
					t.Fatalf("LoadSignerPassphrase = %v", err)
				}
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantMsg)
			}
		})
	}
	// ReadSigner (import) reads it too, and an unencrypted file is not
	// reported as encrypted.
	if _, err := ReadSigner(keyPath, certPath, pass("correct horse")); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "k")
	s.WriteFiles(plain, plain+".crt")
	if enc, err := KeyFileEncrypted(plain); enc || err != nil {
		t.Errorf("KeyFileEncrypted(plain) = %v, %v", enc, err)
	}
}

// BenchmarkLoadSignerEncrypted measures unlocking an encrypted key
// (PBKDF2 with KeyIterations), paid once by each signing command.
func BenchmarkLoadSignerEncrypted(b *testing.B) {
	s, err := GenerateSigner("Bench", testNow)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	keyPath, certPath := filepath.Join(dir, "k"), filepath.Join(dir, "c")
	if err := s.WriteFilesEncrypted(keyPath, certPath, []byte("bench passphrase")); err != nil {
		b.Fatal(err)
	}
	pass := func() ([]byte, error) { return []byte("bench passphrase"), nil }
	for b.Loop() {
		if _, err := LoadSignerPassphrase(keyPath, certPath, pass); err != nil {
			b.Fatal(err)
		}
	}
}
