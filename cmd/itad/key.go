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

var keyCommand = &cli.Command{
	Name:  "key",
	Usage: "the signing key of certificates of destruction",
	Description: "Certificates are signed with an ECDSA P-256 (or RSA) key and its X.509 certificate, kept\n" +
		"in two PEM files outside the ledger: --key and --cert, by default itad-signing-key.pem\n" +
		"(mode 0600) and itad-signing-cert.pem beside the ledger. The ledger records each key's\n" +
		"fingerprint, never the key.",
	Subcommands: []*cli.Command{
		{
			Name:      "init",
			Usage:     "create a signing key and a self-signed certificate naming the organisation",
			ArgsUsage: " ",
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
				"import ...') or ITAD_KEY and ITAD_CERT.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "cert", Usage: "PEM certificate (chain) to import"},
				&cli.StringFlag{Name: "key", Usage: "PEM private key to import (unencrypted)"},
				&cli.StringFlag{Name: "p12", Usage: "PKCS#12 (.p12, .pfx) file to import"},
				&cli.StringFlag{Name: "password-file", Usage: "file holding the PKCS#12 password on its first line"},
			},
			Action: keyImport,
		},
		{
			Name:      "show",
			Usage:     "show the signing certificate: subject, issuer, validity and SHA-256 fingerprint",
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
	Chain       int    `json:"chain"`    // issuing certificates after the signer's
	Recorded    bool   `json:"recorded"` // the ledger recorded this key
}

func newKeyInfo(certs []*x509.Certificate, keyPath, certPath string) keyInfo {
	c := certs[0]
	return keyInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter: c.NotAfter.UTC().Format(time.RFC3339), Fingerprint: certificate.Fingerprint(c),
		KeyFile: keyPath, CertFile: certPath, Chain: len(certs) - 1}
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
	for _, kv := range [][2]string{{"Subject", k.Subject}, {"Issuer", k.Issuer}, {"Valid from", k.NotBefore},
		{"Valid until", k.NotAfter}, {"SHA-256 fingerprint", k.Fingerprint}, {"Key file", k.KeyFile}, {"Certificate file", k.CertFile}} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if k.Chain > 0 {
		fmt.Fprintf(tw, "Issuing chain:\t%s\n", ledger.CountOf(int64(k.Chain), "certificate", "certificates"))
	}
	if verb == "" {
		rec := "no: not recorded by 'itad key init' or 'itad key import' in this ledger"
		if k.Recorded {
			rec = "yes"
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
	keyPath, certPath := keyPaths(c)
	signer, err := certificate.GenerateSigner(org, time.Now())
	if err != nil {
		return err
	}
	if err := signer.WriteFiles(keyPath, certPath); err != nil {
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

func keyImport(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key import takes no arguments, only flags")
	}
	p12, certIn, keyIn := c.String("p12"), c.String("cert"), c.String("key")
	switch {
	case p12 != "" && (certIn != "" || keyIn != ""):
		return usageErr("--p12 and --cert/--key cannot be used together")
	case p12 == "" && (certIn == "" || keyIn == ""):
		return usageErr("key import needs --cert and --key, or --p12")
	case p12 == "" && c.IsSet("password-file"):
		return usageErr("--password-file is only for --p12")
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	// This command's --cert and --key name the files to import; the
	// destination is the global --key and --cert.
	keyPath, certPath := keyPaths(rootContext(c))
	var signer *certificate.Signer
	if p12 != "" {
		data, err := os.ReadFile(p12)
		if err != nil {
			return err
		}
		password := ""
		if pf := c.String("password-file"); pf != "" {
			pw, err := os.ReadFile(pf)
			if err != nil {
				return err
			}
			password, _, _ = strings.Cut(string(pw), "\n")
			password = strings.TrimSuffix(password, "\r")
		}
		if signer, err = certificate.ImportPKCS12(data, password); err != nil {
			return err
		}
		if err := signer.WriteFiles(keyPath, certPath); err != nil {
			return withHint(err, "move the existing key away first, or choose other files with --key and --cert")
		}
	} else {
		if signer, err = certificate.ImportFiles(certIn, keyIn, keyPath, certPath); err != nil {
			return err
		}
	}
	info := newKeyInfo(append([]*x509.Certificate{signer.Cert}, signer.Chain...), keyPath, certPath)
	if err := s.RecordKey(ledger.KeyImport, info.record()); err != nil {
		os.Remove(keyPath)
		os.Remove(certPath)
		return err
	}
	return printKey(c, info, "imported")
}

func keyShow(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key show takes no arguments")
	}
	keyPath, certPath := keyPaths(c)
	certs, err := certificate.LoadCertificates(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return withHint(err, "create a signing key with 'itad key init', or import one with 'itad key import'")
	}
	if err != nil {
		return err
	}
	info := newKeyInfo(certs, keyPath, certPath)
	if s, err := openLedger(c); err == nil {
		defer s.Close()
		keys, err := s.SigningKeys()
		if err != nil {
			return err
		}
		for _, k := range keys {
			info.Recorded = info.Recorded || k.Fingerprint == info.Fingerprint
		}
	}
	return printKey(c, info, "")
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
