package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// passphraseEnv names the file holding the signing key's passphrase on its
// first line. A passphrase is never taken from a flag's value: flags show
// in ps and shell histories.
const passphraseEnv = "ITAD_KEY_PASSPHRASE_FILE"

// keyPaths returns the signing key and certificate files: --key and --cert,
// else itad-signing-key.pem and itad-signing-cert.pem beside the ledger.
// Keys never enter the database.
func keyPaths(c *cli.Context) (keyPath, certPath string) {
	dir := filepath.Dir(c.String("db"))
	keyPath, certPath = c.String("key"), c.String("cert")
	if keyPath == "" {
		keyPath = filepath.Join(dir, "itad-signing-key.pem")
	}
	if certPath == "" {
		certPath = filepath.Join(dir, "itad-signing-cert.pem")
	}
	return keyPath, certPath
}

// retiredCertPath is where key rotate keeps a retired identity's
// certificate beside the ledger: itad-signing-cert.<first 16 hex digits of
// its fingerprint>.pem.
func retiredCertPath(c *cli.Context, fingerprint string) string {
	return filepath.Join(filepath.Dir(c.String("db")), "itad-signing-cert."+fingerprint[:16]+".pem")
}

// retiredKeyPath is where key rotate sets a retired key aside, beside the
// key file.
func retiredKeyPath(keyPath, fingerprint string) string {
	return filepath.Join(filepath.Dir(keyPath), "itad-signing-key."+fingerprint[:16]+".retired.pem")
}

// loadSigner loads the ledger's signing identity for a new signature. The
// certificate must be the identity the ledger records as current
// (ledger.CheckSigner): a swapped, unrecorded or retired key pair is
// refused with exit status 3 before its key is even decrypted. An
// encrypted key is unlocked with the passphrase from ITAD_KEY_PASSPHRASE_FILE
// or a prompt on the terminal.
func loadSigner(c *cli.Context, s *ledger.Store) (*certificate.Signer, error) {
	keyPath, certPath := keyPaths(c)
	noKey := "create a signing key with 'itad key init', or import one with 'itad key import'"
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		return nil, withHint(err, noKey)
	}
	certs, err := certificate.LoadCertificates(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, withHint(err, noKey)
	}
	if err != nil {
		return nil, err
	}
	if err := s.CheckSigner(certificate.Fingerprint(certs[0])); err != nil {
		return nil, signerRefused(err)
	}
	signer, err := certificate.LoadSignerPassphrase(keyPath, certPath, keyPassphrase(c, keyPath))
	return signer, passphraseError(err)
}

// signerRefused gives the refusals of ledger.CheckSigner exit status 3
// (a trust failure) and a hint.
func signerRefused(err error) error {
	hint := "restore the ledger's key files, or record a new one with 'itad key rotate --reason WHY'"
	switch {
	case errors.Is(err, ledger.ErrRetiredKey):
		hint = "sign with the current key (see 'itad key show'), or make a new one with 'itad key rotate --reason WHY'"
	case errors.Is(err, ledger.ErrNoSigningKey):
		hint = "record this key pair with 'itad key import --cert CERT --key KEY' (it may stay where it is), or make one with 'itad key init'"
	}
	return &userError{err: err, code: exitVerifyFailed, hint: hint}
}

// passphraseError adds hints to the errors of unlocking an encrypted key.
func passphraseError(err error) error {
	switch {
	case errors.Is(err, certificate.ErrKeyEncrypted):
		return withHint(err, "put the passphrase on the first line of a file only you can read and set "+passphraseEnv+" to its name, or run itad on a terminal to be asked")
	case errors.Is(err, certificate.ErrWrongPassphrase):
		return withHint(err, "check the file named by "+passphraseEnv+", or type the passphrase again")
	}
	return err
}

// keyPassphrase returns the certificate.Passphrase that unlocks the key
// at keyPath: the first line of the file named by ITAD_KEY_PASSPHRASE_FILE,
// else one typed on the terminal (not echoed), else none (nil: an
// encrypted key then fails with certificate.ErrKeyEncrypted).
func keyPassphrase(c *cli.Context, keyPath string) certificate.Passphrase {
	if os.Getenv(passphraseEnv) == "" && !stdinTerminal() {
		return nil
	}
	return func() ([]byte, error) {
		if f := os.Getenv(passphraseEnv); f != "" {
			return passphraseFile(f)
		}
		return promptPassphrase(c, "passphrase of the signing key "+keyPath+": ", false)
	}
}

// newKeyPassphrase returns the passphrase to encrypt a new key file with:
// the one in ITAD_KEY_PASSPHRASE_FILE if set, else when want, one typed
// twice on the terminal. It returns nil (no encryption) when neither is
// set, and an error when want but there is no terminal to ask on.
func newKeyPassphrase(c *cli.Context, want bool, hint string) ([]byte, error) {
	if f := os.Getenv(passphraseEnv); f != "" {
		return passphraseFile(f)
	}
	if !want {
		return nil, nil
	}
	if !stdinTerminal() {
		return nil, withHint(errors.New("a passphrase is needed to encrypt the key, and there is no terminal to ask for it"), hint)
	}
	return promptPassphrase(c, "passphrase to encrypt the signing key with: ", true)
}

// passphraseFile reads the passphrase on the first line of path.
func passphraseFile(path string) ([]byte, error) {
	data, err := ledger.ReadFileLimit(path, ledger.MaxPasswordBytes, "passphrase file")
	if err != nil {
		return nil, withHint(fmt.Errorf("passphrase file (%s): %w", passphraseEnv, err), "set "+passphraseEnv+" to a file holding the passphrase on its first line")
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, withHint(fmt.Errorf("passphrase file %s (%s) has an empty first line", path, passphraseEnv), "write the passphrase on its first line")
	}
	return line, nil
}

func stdinTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// promptPassphrase asks for a passphrase on the terminal without echo,
// twice when confirm.
func promptPassphrase(c *cli.Context, prompt string, confirm bool) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	fmt.Fprint(c.App.ErrWriter, "itad: "+prompt)
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(c.App.ErrWriter)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(pw) == 0 {
		return nil, errors.New("the passphrase is empty")
	}
	if confirm {
		fmt.Fprint(c.App.ErrWriter, "itad: the same passphrase again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if !bytes.Equal(pw, again) {
			return nil, withHint(errors.New("the two passphrases differ"), "run the command again and type the same passphrase twice")
		}
	}
	return pw, nil
}

// recordedCert is a certificate file beside the ledger whose fingerprint
// the ledger's key events record.
type recordedCert struct {
	path string
	cert *x509.Certificate
	key  ledger.KeyIdentity
}

// recordedCerts returns the certificates beside the ledger (the current
// file --cert, and the itad-signing-cert.<fingerprint>.pem files kept by
// key rotate) whose fingerprints the ledger recorded: the current
// identity's first, then the retired ones, newest first. Files the ledger
// never recorded are ignored: they are not trusted just for being there.
func recordedCerts(c *cli.Context, s *ledger.Store) ([]*x509.Certificate, error) {
	rs, err := recordedCertFiles(c, s)
	var out []*x509.Certificate
	for _, r := range rs {
		out = append(out, r.cert)
	}
	return out, err
}

func recordedCertFiles(c *cli.Context, s *ledger.Store) ([]recordedCert, error) {
	hist, err := s.KeyHistory()
	if err != nil {
		return nil, err
	}
	_, certPath := keyPaths(c)
	paths := []string{certPath}
	for _, dir := range []string{filepath.Dir(c.String("db")), filepath.Dir(certPath)} {
		m, _ := filepath.Glob(filepath.Join(dir, "itad-signing-cert.*.pem"))
		paths = append(paths, m...)
	}
	found := map[string]recordedCert{}
	for _, p := range paths {
		certs, err := certificate.LoadCertificates(p)
		if err != nil {
			continue // missing or not a certificate: nothing to trust
		}
		fp := certificate.Fingerprint(certs[0])
		if _, dup := found[fp]; dup {
			continue
		}
		for _, k := range hist {
			if k.Fingerprint == fp {
				found[fp] = recordedCert{path: p, cert: certs[0], key: k}
			}
		}
	}
	var out []recordedCert
	for i := len(hist) - 1; i >= 0; i-- {
		if r, ok := found[hist[i].Fingerprint]; ok {
			out = append(out, r)
			delete(found, hist[i].Fingerprint)
		}
	}
	return out, nil
}

// recordedFingerprints returns the fingerprints of every identity the
// ledger recorded, current and retired.
func recordedFingerprints(s *ledger.Store) (map[string]ledger.KeyIdentity, error) {
	hist, err := s.KeyHistory()
	if err != nil {
		return nil, err
	}
	out := map[string]ledger.KeyIdentity{}
	for _, k := range hist {
		out[k.Fingerprint] = k
	}
	return out, nil
}
