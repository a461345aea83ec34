package certificate

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"runtime"
	"strings"
	"time"

	// pkcs8 writes and reads encrypted PKCS#8 keys ("ENCRYPTED PRIVATE
	// KEY", RFC 5958 with PBES2 of RFC 8018), which the standard library
	// does not: the format OpenSSL 3 writes by default and reads with
	// `openssl pkey -passin`. It is the package the Go ecosystem uses for
	// this (step-ca, smallstep/crypto, Vault), and has no other
	// dependency than golang.org/x/crypto.
	"github.com/youmark/pkcs8"

	// go-pkcs12 decodes the .p12/.pfx files in which CAs and Windows
	// certificate stores hand out signing identities. It is maintained by
	// SSLMate, supports the PBES2/AES files that OpenSSL 3 writes by default,
	// and is the PKCS#12 package the Go team points to since
	// golang.org/x/crypto/pkcs12 was frozen.
	"software.sslmate.com/src/go-pkcs12"

	"github.com/itad/itad/ledger"
)

// Signer is the signing identity of an organisation: a private key and its
// X.509 certificate. Key is an ECDSA P-256 or RSA key (*ecdsa.PrivateKey or
// *rsa.PrivateKey) whose public half is in Cert. Chain holds the
// certificates that issued Cert, issuer first, and is empty for a
// self-signed certificate; it is embedded in every signature so that
// verifiers can build a path to an organisation root.
type Signer struct {
	Key   crypto.Signer
	Cert  *x509.Certificate
	Chain []*x509.Certificate
}

// GenerateSigner creates a fresh ECDSA P-256 key and a self-signed
// certificate for org, valid from an hour before now for ten years.
//
// The certificate's subject is "CN=<org> itad signing key, O=<org>", its key
// usage is digitalSignature and contentCommitment (non-repudiation) and its
// extended key usage is emailProtection: OpenSSL's default purpose for
// `openssl cms -verify` (smimesign) and NSS's document-signing checks used by
// pdfsig both accept that combination. It returns an error only when the
// system random source fails or org is empty.
func GenerateSigner(org string, now time.Time) (*Signer, error) {
	if org == "" {
		return nil, errors.New("generate signer: organisation name is empty")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signer: %w", err)
	}
	// A positive random 127-bit serial: RFC 5280 allows up to 20 octets
	// and asks for unpredictable serials from CAs.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate signer: %w", err)
	}
	serial.Add(serial, big.NewInt(1)) // never zero
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   org + " itad signing key",
			Organization: []string{org},
		},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(10, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("generate signer: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("generate signer: %w", err)
	}
	return &Signer{Key: key, Cert: cert}, nil
}

// WriteFiles writes the private key to keyPath as a PKCS#8 "PRIVATE KEY" PEM
// block with mode 0600, and the certificate followed by its chain to
// certPath as "CERTIFICATE" PEM blocks with mode 0644. Neither file may
// exist already: WriteFiles refuses to overwrite a key or certificate, and
// removes the key it wrote if the certificate cannot be written.
func (s *Signer) WriteFiles(keyPath, certPath string) error {
	return s.writeFiles(keyPath, certPath, nil)
}

// WriteFilesEncrypted is WriteFiles with the key encrypted under
// passphrase, as an "ENCRYPTED PRIVATE KEY" PEM block: PKCS#8
// EncryptedPrivateKeyInfo with PBES2, PBKDF2-HMAC-SHA256 (KeyIterations
// iterations, a random 16-byte salt) and AES-256-CBC, which OpenSSL reads
// with `openssl pkey -in KEY -passin file:PW`. It returns an error for an
// empty passphrase.
func (s *Signer) WriteFilesEncrypted(keyPath, certPath string, passphrase []byte) error {
	if len(passphrase) == 0 {
		return errors.New("write signer: the passphrase is empty")
	}
	return s.writeFiles(keyPath, certPath, passphrase)
}

// KeyIterations is the PBKDF2 iteration count of encrypted keys: OWASP's
// 2023 figure for PBKDF2-HMAC-SHA256. Unlocking a key costs about a
// quarter of a second, once a command.
const KeyIterations = 600_000

// keyOpts are the PBES2 parameters of encrypted keys (see
// WriteFilesEncrypted).
var keyOpts = &pkcs8.Opts{
	Cipher:  pkcs8.AES256CBC,
	KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: KeyIterations, HMACHash: crypto.SHA256},
}

// marshalKeyPEM encodes key as PKCS#8 PEM, encrypted when passphrase is
// not empty.
func marshalKeyPEM(key crypto.Signer, passphrase []byte) ([]byte, error) {
	if len(passphrase) == 0 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	der, err := pkcs8.MarshalPrivateKey(key, passphrase, keyOpts)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

func (s *Signer) writeFiles(keyPath, certPath string, passphrase []byte) error {
	if s == nil || s.Key == nil || s.Cert == nil {
		return errors.New("write signer: signer has no key or certificate")
	}
	keyPEM, err := marshalKeyPEM(s.Key, passphrase)
	if err != nil {
		return fmt.Errorf("write key %s: %w", keyPath, err)
	}
	var certPEM []byte
	for _, c := range append([]*x509.Certificate{s.Cert}, s.Chain...) {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	// Check the certificate path first so that a refusal leaves no key
	// file behind; O_EXCL below still guards against races.
	if _, err := os.Lstat(certPath); err == nil {
		return fmt.Errorf("certificate file %s already exists: refusing to overwrite it", certPath)
	}
	if err := writeNewFile(keyPath, keyPEM, 0o600, "key"); err != nil {
		return err
	}
	if err := writeNewFile(certPath, certPEM, 0o644, "certificate"); err != nil {
		os.Remove(keyPath)
		return err
	}
	return nil
}

// writeNewFile creates path with O_EXCL, so an existing file is never
// truncated, and writes data to it.
func writeNewFile(path string, data []byte, mode os.FileMode, what string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s file %s already exists: refusing to overwrite it", what, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s %s: %w", what, path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s %s: %w", what, path, err)
	}
	return nil
}

// Errors about encrypted keys.
var (
	// ErrKeyEncrypted: the key is encrypted and no passphrase was given.
	ErrKeyEncrypted = errors.New("the private key is encrypted and no passphrase was given")
	// ErrWrongPassphrase: the passphrase does not decrypt the key.
	ErrWrongPassphrase = errors.New("wrong passphrase for the private key")
)

// Passphrase returns the passphrase of an encrypted key. It is called
// only when a key is encrypted; a nil Passphrase means none is available.
type Passphrase func() ([]byte, error)

// LoadSigner reads a signing identity written by WriteFiles or ImportFiles.
//
// The key file must not be accessible by group or others (on Unix); it may
// hold a PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC
// PRIVATE KEY") block with an ECDSA P-256 or RSA (2048 bits or more) key.
// The certificate file holds the signer's certificate first, then
// optionally the certificates that issued it. LoadSigner returns an error
// if a file cannot be read or parsed, the key is of another type or is
// encrypted (ErrKeyEncrypted: use LoadSignerPassphrase), the key does not
// match the certificate, or the chain is not in issuing order.
func LoadSigner(keyPath, certPath string) (*Signer, error) {
	return LoadSignerPassphrase(keyPath, certPath, nil)
}

// LoadSignerPassphrase is LoadSigner for a key that may also be an
// encrypted PKCS#8 key ("ENCRYPTED PRIVATE KEY", as WriteFilesEncrypted
// and OpenSSL 3 write): pass is called once to get its passphrase. It
// returns an error wrapping ErrKeyEncrypted when pass is nil, and
// ErrWrongPassphrase when the passphrase does not decrypt the key.
func LoadSignerPassphrase(keyPath, certPath string, pass Passphrase) (*Signer, error) {
	if err := checkKeyMode(keyPath); err != nil {
		return nil, err
	}
	return readSigner(keyPath, certPath, pass)
}

// ReadSigner reads a key and certificate (chain) in PEM form to import
// them, checking them as LoadSignerPassphrase does except for the mode of
// the key file (it is copied with the mode WriteFiles gives).
func ReadSigner(keyPath, certPath string, pass Passphrase) (*Signer, error) {
	return readSigner(keyPath, certPath, pass)
}

func readSigner(keyPath, certPath string, pass Passphrase) (*Signer, error) {
	keyPEM, err := ledger.ReadFileLimit(keyPath, ledger.MaxKeyFileBytes, "PEM private key")
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	certs, err := LoadCertificates(certPath)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivateKey(keyPEM, pass)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", keyPath, err)
	}
	s, err := newSigner(key, certs)
	if err != nil {
		return nil, fmt.Errorf("load signer %s, %s: %w", keyPath, certPath, err)
	}
	return s, nil
}

// KeyFileEncrypted reports whether the key file at path holds an
// encrypted PKCS#8 key. It returns an error if the file cannot be read.
func KeyFileEncrypted(path string) (bool, error) {
	data, err := ledger.ReadFileLimit(path, ledger.MaxKeyFileBytes, "PEM private key")
	if err != nil {
		return false, err
	}
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return false, nil
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" {
			return true, nil
		}
	}
}

// checkKeyMode refuses a key file that group or others may read or write,
// as ssh and age do; Windows has no such mode bits.
func checkKeyMode(keyPath string) error {
	fi, err := os.Stat(keyPath)
	if err != nil {
		return fmt.Errorf("load key: %w", err)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("key file %s is readable by others (mode %04o): run chmod 600 %s", keyPath, perm, keyPath)
	}
	return nil
}

// ImportFiles reads an existing key and certificate (chain) in PEM form,
// for example issued by an organisation CA, checks them as LoadSigner does
// (except for the mode of the source key file), and writes them with
// WriteFiles to keyPath and certPath, which must not exist yet.
func ImportFiles(certPEMPath, keyPEMPath, keyPath, certPath string) (*Signer, error) {
	keyPEM, err := ledger.ReadFileLimit(keyPEMPath, ledger.MaxKeyFileBytes, "PEM private key")
	if err != nil {
		return nil, fmt.Errorf("import key: %w", err)
	}
	key, err := parsePrivateKey(keyPEM, nil)
	if err != nil {
		return nil, fmt.Errorf("import key %s: %w", keyPEMPath, err)
	}
	certs, err := LoadCertificates(certPEMPath)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	s, err := newSigner(key, certs)
	if err != nil {
		return nil, fmt.Errorf("import %s, %s: %w", keyPEMPath, certPEMPath, err)
	}
	if err := s.WriteFiles(keyPath, certPath); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return s, nil
}

// ImportPKCS12 decodes a PKCS#12 (.p12, .pfx) file holding one private key
// and its certificate, optionally with the issuing certificates in any
// order. It returns the signer with its chain in issuing order; certificates
// that are not part of the signer's chain are dropped. It returns an error
// if the password is wrong, the file is malformed, or the key fails the
// checks of LoadSigner. Write the result with WriteFiles.
func ImportPKCS12(p12 []byte, password string) (*Signer, error) {
	key, first, others, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		return nil, fmt.Errorf("import pkcs12: %w", err)
	}
	signer, err := checkKey(key)
	if err != nil {
		return nil, fmt.Errorf("import pkcs12: %w", err)
	}
	all := append([]*x509.Certificate{first}, others...)
	// The leaf is the certificate of the key, wherever it sits in the file.
	var leaf *x509.Certificate
	for _, c := range all {
		if publicKeyEqual(signer.Public(), c.PublicKey) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return nil, errors.New("import pkcs12: no certificate matches the private key")
	}
	// Walk up from the leaf, picking the issuer of the current certificate
	// among the others until a self-signed root or a missing issuer.
	certs := []*x509.Certificate{leaf}
	for cur := leaf; len(certs) <= len(all); {
		var next *x509.Certificate
		for _, c := range all {
			if c != cur && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		certs = append(certs, next)
		cur = next
	}
	s, err := newSigner(signer, certs)
	if err != nil {
		return nil, fmt.Errorf("import pkcs12: %w", err)
	}
	return s, nil
}

// Fingerprint returns the lowercase hex SHA-256 of the certificate's DER
// encoding, the value `openssl x509 -noout -fingerprint -sha256` prints
// (there in uppercase with colons).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// LoadCertificates reads a PEM file of one or more "CERTIFICATE" blocks, in
// file order. Text between blocks is ignored; it returns an error if the
// file holds no certificate, a block of another type (such as a private key
// pasted by mistake) or a certificate that does not parse.
func LoadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := ledger.ReadFileLimit(path, ledger.MaxKeyFileBytes, "PEM certificate file")
	if err != nil {
		return nil, fmt.Errorf("load certificates: %w", err)
	}
	certs, err := parseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("load certificates %s: %w", path, err)
	}
	return certs, nil
}

func parseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// parsePrivateKey returns the key of the first private-key PEM block in
// data, calling pass for the passphrase of an "ENCRYPTED PRIVATE KEY".
// "EC PARAMETERS" blocks, which `openssl ecparam -genkey` writes before
// the key, are skipped.
func parsePrivateKey(data []byte, pass Passphrase) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key block")
		}
		if _, legacy := block.Headers["Proc-Type"]; legacy {
			// OpenSSL's traditional encryption (MD5-derived key).
			return nil, errors.New("the private key is encrypted in OpenSSL's legacy format: convert it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'")
		}
		var key any
		var err error
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "ENCRYPTED PRIVATE KEY":
			key, err = decryptPKCS8(block.Bytes, pass)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
		if err != nil {
			return nil, err
		}
		return checkKey(key)
	}
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo with the passphrase
// from pass.
func decryptPKCS8(der []byte, pass Passphrase) (key any, err error) {
	if pass == nil {
		return nil, ErrKeyEncrypted
	}
	pw, err := pass()
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("%w: the passphrase is empty", ErrWrongPassphrase)
	}
	// The library decrypts CBC without checking that the ciphertext is a
	// whole number of blocks, and crypto/cipher panics on that: a
	// malformed file must be an error.
	defer func() {
		if r := recover(); r != nil {
			key, err = nil, fmt.Errorf("malformed encrypted private key: %v", r)
		}
	}()
	key, _, err = pkcs8.ParsePrivateKey(der, pw)
	switch {
	case err == nil:
		return key, nil
	case strings.Contains(err.Error(), "incorrect password"):
		return nil, ErrWrongPassphrase
	}
	return nil, fmt.Errorf("encrypted private key: %w", err)
}

// checkKey accepts the key types that pdfsig and OpenSSL verify in CMS
// signatures: ECDSA on P-256 and RSA of at least 2048 bits.
func checkKey(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("unsupported ECDSA curve %s: use P-256", k.Curve.Params().Name)
		}
		return k, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too short: use 2048 bits or more", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return nil, errors.New("ed25519 keys are rejected by pdfsig and OpenSSL for CMS signatures: use ECDSA P-256")
	default:
		return nil, fmt.Errorf("unsupported private key type %T: use ECDSA P-256 or RSA", key)
	}
}

// newSigner checks that key matches certs[0] and that each following
// certificate issued the one before it.
func newSigner(key crypto.Signer, certs []*x509.Certificate) (*Signer, error) {
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	if !publicKeyEqual(key.Public(), certs[0].PublicKey) {
		return nil, errors.New("the private key does not match the certificate's public key")
	}
	for i := 1; i < len(certs); i++ {
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return nil, fmt.Errorf("certificate %d was not issued by certificate %d: %w", i, i+1, err)
		}
	}
	s := &Signer{Key: key, Cert: certs[0]}
	if len(certs) > 1 {
		s.Chain = certs[1:]
	}
	return s, nil
}

func publicKeyEqual(a crypto.PublicKey, b any) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// MoveFile moves the file from to the path to, which must not exist: it
// is created with O_EXCL and the mode of from, then from is removed. It
// is how a rotated key's files are set aside without ever overwriting
// another.
func MoveFile(from, to string) error {
	fi, err := os.Stat(from)
	if err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	data, err := ledger.ReadFileLimit(from, ledger.MaxKeyFileBytes, "key or certificate file")
	if err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	if err := writeNewFile(to, data, fi.Mode().Perm(), "destination"); err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	if err := os.Remove(from); err != nil {
		os.Remove(to)
		return fmt.Errorf("move %s: %w", from, err)
	}
	return nil
}
