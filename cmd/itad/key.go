package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// passphraseFlag asks for the new key file to be encrypted. It is a switch,
// never the passphrase itself.
var passphraseFlag = &cli.BoolFlag{Name: "passphrase", Usage: "encrypt the key file with a passphrase typed on the terminal " +
	"(automatic when " + passphraseEnv + " names a file holding it)"}

// importFlags name the identity that key import and key rotate take.
var importFlags = []cli.Flag{
	&cli.StringFlag{Name: "cert", Usage: "PEM certificate (chain) to import"},
	&cli.StringFlag{Name: "key", Usage: "PEM private key to import (PKCS#8, encrypted or not, PKCS#1 or SEC1)"},
	&cli.StringFlag{Name: "p12", Usage: "PKCS#12 (.p12, .pfx) file to import"},
	&cli.StringFlag{Name: "password-file", Usage: "file holding the PKCS#12 password on its first line"},
	passphraseFlag,
	&cli.BoolFlag{Name: "no-passphrase", Usage: "with --p12: store the decrypted key unencrypted"},
}

var keyCommand = &cli.Command{
	Name:  "key",
	Usage: "the signing key of certificates of destruction",
	Description: "Certificates are signed with an ECDSA P-256 (or RSA) key and its X.509 certificate, kept\n" +
		"in two PEM files outside the ledger: --key and --cert, by default itad-signing-key.pem\n" +
		"(mode 0600) and itad-signing-cert.pem beside the ledger. The ledger records each key's\n" +
		"fingerprint, never the key, and signs only with the one it recorded last: 'key init' or\n" +
		"'key import' records the first, 'key rotate' replaces it.\n\n" +
		"A key file may be encrypted with a passphrase (--passphrase, or automatically when " + passphraseEnv + "\n" +
		"names a file holding it on its first line); itad then reads the passphrase from that file,\n" +
		"or asks for it on the terminal. The passphrase is never a flag value, and never recorded.",
	Subcommands: []*cli.Command{
		{
			Name:      "init",
			Usage:     "create a signing key and a self-signed certificate naming the organisation",
			ArgsUsage: " ",
			Flags:     []cli.Flag{passphraseFlag},
			Action:    keyInit,
		},
		{
			Name:      "import",
			Usage:     "import an organisation's own certificate and key (PEM or PKCS#12)",
			ArgsUsage: " ",
			Description: "Either --cert and --key (PEM; the certificate file may hold the issuing chain after the\n" +
				"signer's certificate), or --p12 with the password in --password-file. The key is written\n" +
				"where certificates are signed from: itad-signing-key.pem and itad-signing-cert.pem beside\n" +
				"the ledger, or the global flags given before the command ('itad --key K --cert C key\n" +
				"import ...') or ITAD_KEY and ITAD_CERT. Files already there are recorded where they are.\n\n" +
				"A PKCS#12 key is stored encrypted with the passphrase from " + passphraseEnv + " or the terminal;\n" +
				"--no-passphrase stores it unencrypted instead. A PEM key is stored as it came, encrypted\n" +
				"when it was (or when --passphrase or " + passphraseEnv + " asks for it).",
			Flags:  importFlags,
			Action: keyImport,
		},
		keyRotateCommand,
		{
			Name:      "show",
			Usage:     "show the signing certificate, and the signing identities the ledger recorded",
			ArgsUsage: " ",
			Action:    keyShow,
		},
	},
}

// keyInfo is what key show and the key events report.
type keyInfo struct {
	Subject     string `json:"subject"`
	Issuer      string `json:"issuer"`
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
	Fingerprint string `json:"fingerprint"`
	KeyFile     string `json:"key_file"`
	CertFile    string `json:"cert_file"`
	Chain       int    `json:"chain"`     // issuing certificates after the signer's
	Encrypted   bool   `json:"encrypted"` // the key file is passphrase-protected
	Recorded    bool   `json:"recorded"`  // the ledger recorded this key
	// Status is "current", "retired" or "unrecorded" (key show only).
	Status string `json:"status,omitempty"`
	// Identities are the signing identities the ledger recorded, oldest
	// first (key show only).
	Identities []ledger.KeyIdentity `json:"identities,omitempty"`
}

func newKeyInfo(certs []*x509.Certificate, keyPath, certPath string) keyInfo {
	c := certs[0]
	enc, _ := certificate.KeyFileEncrypted(keyPath)
	return keyInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter: c.NotAfter.UTC().Format(time.RFC3339), Fingerprint: certificate.Fingerprint(c),
		KeyFile: keyPath, CertFile: certPath, Chain: len(certs) - 1, Encrypted: enc}
}

func (k keyInfo) record() ledger.KeyRecord {
	return ledger.KeyRecord{Fingerprint: k.Fingerprint, Subject: k.Subject, NotAfter: k.NotAfter}
}

func printKey(c *cli.Context, k keyInfo, verb string) error {
	if c.Bool("json") {
		return printJSON(c, k)
	}
	w := c.App.Writer
	if verb != "" {
		fmt.Fprintf(w, "signing key %s: %s\n", verb, k.KeyFile)
	}
	tw := table(w)
	enc := "no"
	if k.Encrypted {
		enc = "yes (passphrase)"
	}
	for _, kv := range [][2]string{{"Subject", k.Subject}, {"Issuer", k.Issuer}, {"Valid from", k.NotBefore},
		{"Valid until", k.NotAfter}, {"SHA-256 fingerprint", k.Fingerprint}, {"Key file", k.KeyFile},
		{"Key encrypted", enc}, {"Certificate file", k.CertFile}} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if k.Chain > 0 {
		fmt.Fprintf(tw, "Issuing chain:\t%s\n", ledger.CountOf(int64(k.Chain), "certificate", "certificates"))
	}
	if verb == "" {
		rec := "no: not recorded by this ledger, which refuses to sign with it"
		switch k.Status {
		case "current":
			rec = "yes: the current signing identity"
		case "retired":
			rec = "retired by a key rotation: it no longer signs for this ledger"
		}
		fmt.Fprintf(tw, "Recorded in ledger:\t%s\n", rec)
	}
	return tw.Flush()
}

func keyInit(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key init takes no arguments")
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	org, err := s.Setting(ledger.SettingOrg)
	if err != nil {
		return err
	}
	if org == "" {
		return withHint(errors.New("no organisation is set: the signing certificate names it"), "set it with 'itad init --org NAME'")
	}
	if err := noIdentityYet(s); err != nil {
		return err
	}
	keyPath, certPath := keyPaths(c)
	pw, err := newKeyPassphrase(c, c.Bool("passphrase"), "set "+passphraseEnv+" to a file holding the passphrase on its first line")
	if err != nil {
		return err
	}
	signer, err := certificate.GenerateSigner(org, time.Now())
	if err != nil {
		return err
	}
	if err := writeSigner(signer, keyPath, certPath, pw); err != nil {
		return withHint(err, "move the existing key away first, or choose other files with --key and --cert")
	}
	info := newKeyInfo([]*x509.Certificate{signer.Cert}, keyPath, certPath)
	if err := s.RecordKey(ledger.KeyInit, info.record()); err != nil {
		// Files we just created and could not record: remove them.
		os.Remove(keyPath)
		os.Remove(certPath)
		return err
	}
	return printKey(c, info, "created")
}

// noIdentityYet refuses key init and key import once the ledger records a
// signing identity: it is changed with key rotate, which says why.
func noIdentityYet(s *ledger.Store) error {
	cur, err := s.CurrentSigningKey()
	if errors.Is(err, ledger.ErrNoSigningKey) {
		return nil
	}
	if err != nil {
		return err
	}
	return withHint(fmt.Errorf("%w (fingerprint %s, recorded by %s, event #%d)", ledger.ErrKeyRecorded, cur.Fingerprint, cur.Action, cur.Seq),
		"change it with 'itad key rotate --reason WHY' (a new key, or --cert/--key or --p12 to import one)")
}

// writeSigner writes the signer's files, the key encrypted when pw is set.
func writeSigner(signer *certificate.Signer, keyPath, certPath string, pw []byte) error {
	if pw != nil {
		return signer.WriteFilesEncrypted(keyPath, certPath, pw)
	}
	return signer.WriteFiles(keyPath, certPath)
}

// checkImportFlags checks the flags of key import (and of key rotate
// given an identity to take).
func checkImportFlags(c *cli.Context, cmd string) error {
	p12, certIn, keyIn := c.String("p12"), c.String("cert"), c.String("key")
	switch {
	case p12 != "" && (certIn != "" || keyIn != ""):
		return usageErr("--p12 and --cert/--key cannot be used together")
	case p12 == "" && (certIn == "" || keyIn == ""):
		return usageErr("%s needs --cert and --key, or --p12", cmd)
	case p12 == "" && c.IsSet("password-file"):
		return usageErr("--password-file is only for --p12")
	case c.Bool("passphrase") && c.Bool("no-passphrase"):
		return usageErr("--passphrase and --no-passphrase cannot be used together")
	case p12 == "" && c.Bool("no-passphrase"):
		return usageErr("--no-passphrase is only for --p12")
	}
	return nil
}

// importedSigner reads the identity named by --cert and --key or by --p12
// (key import, key rotate) and returns it with the passphrase to store its
// key with (nil: unencrypted). A PKCS#12 key is stored encrypted unless
// --no-passphrase; a PEM key as it came, or encrypted when asked.
func importedSigner(c *cli.Context) (*certificate.Signer, []byte, error) {
	p12, certIn, keyIn := c.String("p12"), c.String("cert"), c.String("key")
	if p12 == "" {
		// An encrypted source key is unlocked with the passphrase from
		// the usual sources, and stored encrypted with it again.
		var used []byte
		pass := keyPassphrase(c, keyIn)
		if pass != nil {
			inner := pass
			pass = func() ([]byte, error) {
				pw, err := inner()
				used = pw
				return pw, err
			}
		}
		signer, err := certificate.ReadSigner(keyIn, certIn, pass)
		if err != nil {
			return nil, nil, passphraseError(err)
		}
		if used != nil {
			return signer, used, nil
		}
		pw, err := newKeyPassphrase(c, c.Bool("passphrase"), "set "+passphraseEnv+" to a file holding the passphrase on its first line")
		return signer, pw, err
	}
	data, err := ledger.ReadFileLimit(p12, ledger.MaxKeyFileBytes, "PKCS #12 file")
	if err != nil {
		return nil, nil, err
	}
	password := ""
	if pf := c.String("password-file"); pf != "" {
		pw, err := ledger.ReadFileLimit(pf, ledger.MaxPasswordBytes, "password file")
		if err != nil {
			return nil, nil, err
		}
		password, _, _ = strings.Cut(string(pw), "\n")
		password = strings.TrimSuffix(password, "\r")
	}
	signer, err := certificate.ImportPKCS12(data, password)
	if err != nil {
		return nil, nil, err
	}
	if c.Bool("no-passphrase") {
		return signer, nil, nil
	}
	// The PKCS#12 file was encrypted: its key is not stored in clear
	// unless the user says so.
	pw, err := newKeyPassphrase(c, true, "set "+passphraseEnv+" to a file holding the passphrase to encrypt the key with, "+
		"or pass --no-passphrase to store it unencrypted")
	return signer, pw, err
}

func keyImport(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key import takes no arguments, only flags")
	}
	if err := checkImportFlags(c, "key import"); err != nil {
		return err
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := noIdentityYet(s); err != nil {
		return err
	}
	signer, pw, err := importedSigner(c)
	if err != nil {
		return err
	}
	// This command's --cert and --key name the files to import; the
	// destination is the global --key and --cert.
	keyPath, certPath := keyPaths(rootContext(c))
	// Files already where itad signs from are recorded as they are.
	inPlace := c.String("p12") == "" && sameFile(c.String("key"), keyPath) && sameFile(c.String("cert"), certPath)
	if inPlace && c.Bool("passphrase") {
		return withHint(fmt.Errorf("%s is recorded where it is, and itad does not rewrite it to encrypt it", keyPath),
			"import it from another place to store it encrypted, or encrypt it first with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'")
	}
	if !inPlace {
		if err := writeSigner(signer, keyPath, certPath, pw); err != nil {
			return withHint(err, "move the existing key away first, or choose other files with --key and --cert")
		}
	}
	info := newKeyInfo(append([]*x509.Certificate{signer.Cert}, signer.Chain...), keyPath, certPath)
	if err := s.RecordKey(ledger.KeyImport, info.record()); err != nil {
		if !inPlace {
			os.Remove(keyPath)
			os.Remove(certPath)
		}
		return err
	}
	return printKey(c, info, "imported")
}

// sameFile reports whether a and b name one existing file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

func keyShow(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key show takes no arguments")
	}
	keyPath, certPath := keyPaths(c)
	var hist []ledger.KeyIdentity
	if s, err := openLedger(c); err == nil {
		defer s.Close()
		if hist, err = s.KeyHistory(); err != nil {
			return err
		}
	}
	certs, err := certificate.LoadCertificates(certPath)
	if errors.Is(err, os.ErrNotExist) && len(hist) == 0 {
		return withHint(err, "create a signing key with 'itad key init', or import one with 'itad key import'")
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var info keyInfo
	if certs != nil {
		info = newKeyInfo(certs, keyPath, certPath)
		info.Status = "unrecorded"
		for _, k := range hist {
			if k.Fingerprint == info.Fingerprint {
				info.Recorded, info.Status = true, "retired"
				if k.Current() {
					info.Status = "current"
				}
			}
		}
	}
	info.Identities = hist
	if c.Bool("json") {
		return printJSON(c, info)
	}
	w := c.App.Writer
	if certs != nil {
		if err := printKey(c, info, ""); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "no signing certificate at %s: restore the ledger's key files, or change the key with 'itad key rotate'\n", certPath)
	}
	if len(hist) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nSigning identities recorded in the ledger:")
	tw := table(w)
	fmt.Fprintln(tw, "  STATUS\tFINGERPRINT\tSUBJECT\tRECORDED\tBY\tEVENT\tREASON")
	for i := len(hist) - 1; i >= 0; i-- {
		k := hist[i]
		status := "current"
		if !k.Current() {
			status = fmt.Sprintf("retired (#%d)", k.RetiredSeq)
		}
		day, _, _ := strings.Cut(k.RecordedAt, "T")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t#%d %s\t%s\n", status, k.Fingerprint, k.Subject, day, k.RecordedBy, k.Seq, k.Action, k.Reason)
	}
	return tw.Flush()
}

// rootContext returns the context of the app's root command, where the
// global flags are parsed (the last context of the lineage with a
// command; urfave/cli puts a bare context above it).
func rootContext(c *cli.Context) *cli.Context {
	lineage := c.Lineage()
	for i := len(lineage) - 1; i >= 0; i-- {
		if lineage[i].Command != nil {
			return lineage[i]
		}
	}
	return c
}
