package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var keyRotateCommand = &cli.Command{
	Name:      "rotate",
	Usage:     "replace the signing identity: a new key, or one imported (recorded with the reason)",
	ArgsUsage: " ",
	Description: "Makes a new key and self-signed certificate (as 'key init'), or takes one with --cert and\n" +
		"--key or --p12 (as 'key import'), and records a key.rotate event naming the old and the new\n" +
		"fingerprints, who did it and why (--reason). From then on only the new key signs; the old\n" +
		"one is retired: refused for new signatures, still trusted for what it signed.\n\n" +
		"The old certificate is kept beside the ledger as itad-signing-cert.<first 16 hex digits of\n" +
		"its fingerprint>.pem, so that certificates and checkpoints it signed keep verifying; the old\n" +
		"key file is set aside as itad-signing-key.<same>.retired.pem, for you to destroy.",
	Flags:  append([]cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why the key is changed (recorded)"}}, importFlags...),
	Action: keyRotate,
}

func keyRotate(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("key rotate takes no arguments, only flags")
	}
	take := c.IsSet("cert") || c.IsSet("key") || c.IsSet("p12")
	if take {
		if err := checkImportFlags(c, "key rotate"); err != nil {
			return err
		}
	} else if c.Bool("no-passphrase") || c.IsSet("password-file") {
		return usageErr("--no-passphrase and --password-file go with --p12")
	}
	root := rootContext(c)
	s, err := openLedger(root)
	if err != nil {
		return err
	}
	defer s.Close()
	cur, err := s.CurrentSigningKey()
	if errors.Is(err, ledger.ErrNoSigningKey) {
		return withHint(err, "create the first one with 'itad key init', or import it with 'itad key import'")
	}
	if err != nil {
		return err
	}
	var signer *certificate.Signer
	var pw []byte
	if take {
		if signer, pw, err = importedSigner(c); err != nil {
			return err
		}
	} else {
		org, err := s.Setting(ledger.SettingOrg)
		if err != nil {
			return err
		}
		if org == "" {
			return withHint(errors.New("no organisation is set: the signing certificate names it"), "set it with 'itad init --org NAME'")
		}
		if pw, err = newKeyPassphrase(c, c.Bool("passphrase"), "set "+passphraseEnv+" to a file holding the passphrase on its first line"); err != nil {
			return err
		}
		if signer, err = certificate.GenerateSigner(org, time.Now()); err != nil {
			return err
		}
	}
	newFP := certificate.Fingerprint(signer.Cert)
	if newFP == cur.Fingerprint {
		return usageErr("the key given is already the current signing identity (fingerprint %s)", newFP)
	}

	keyPath, certPath := keyPaths(root)
	// Set the current files aside, undoing that if anything fails later.
	moved, err := retireFiles(root, cur, keyPath, certPath)
	if err != nil {
		return err
	}
	undo := func() {
		for i := len(moved) - 1; i >= 0; i-- {
			certificate.MoveFile(moved[i][1], moved[i][0])
		}
	}
	if err := writeSigner(signer, keyPath, certPath, pw); err != nil {
		undo()
		return withHint(err, "move the file away first, or choose other files with --key and --cert")
	}
	info := newKeyInfo(append([]*x509.Certificate{signer.Cert}, signer.Chain...), keyPath, certPath)
	old, _, err := s.RotateKey(info.record(), c.String("reason"))
	if err != nil {
		os.Remove(keyPath)
		os.Remove(certPath)
		undo()
		return err
	}
	if c.Bool("json") {
		return printJSON(c, map[string]any{"retired": old, "current": info, "retired_cert_file": retiredCertPath(root, old.Fingerprint)})
	}
	w := c.App.Writer
	fmt.Fprintf(w, "signing key rotated: %s retired, %s current (%s)\n", old.Fingerprint[:16], newFP[:16], c.String("reason"))
	if _, err := os.Stat(retiredCertPath(root, old.Fingerprint)); err == nil {
		fmt.Fprintf(w, "retired certificate kept as %s: what it signed keeps verifying\n", retiredCertPath(root, old.Fingerprint))
	} else {
		fmt.Fprintf(c.App.ErrWriter, "itad: warning: the retired certificate is not beside the ledger: keep a copy as %s, or pass it with --trusted to verify checkpoints it signed\n",
			retiredCertPath(root, old.Fingerprint))
	}
	for _, m := range moved {
		if m[1] == retiredKeyPath(keyPath, old.Fingerprint) {
			fmt.Fprintf(w, "retired key set aside as %s: it can no longer sign for this ledger; destroy it when you no longer need it\n", m[1])
		}
	}
	return printKey(c, info, "in use")
}

// retireFiles moves the current identity's files aside: the certificate to
// retiredCertPath, the key to retiredKeyPath. The files in place must be
// the current identity's, or absent (a lost key is replaced all the same);
// a certificate file of another key is refused, as it may be a swapped
// pair. It returns the moves made, from and to.
func retireFiles(c *cli.Context, cur ledger.KeyIdentity, keyPath, certPath string) ([][2]string, error) {
	certs, err := certificate.LoadCertificates(certPath)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(keyPath); err == nil {
			return nil, withHint(fmt.Errorf("key file %s has no certificate beside it (%s)", keyPath, certPath),
				"move the key file away, then rotate")
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fp := certificate.Fingerprint(certs[0]); fp != cur.Fingerprint {
		return nil, &userError{err: fmt.Errorf("certificate file %s (fingerprint %s) is not the ledger's current signing identity (fingerprint %s)",
			certPath, fp, cur.Fingerprint), code: exitVerifyFailed,
			hint: "move the key and certificate files away (they may have been swapped), then rotate"}
	}
	var moved [][2]string
	for _, m := range [][2]string{{certPath, retiredCertPath(c, cur.Fingerprint)}, {keyPath, retiredKeyPath(keyPath, cur.Fingerprint)}} {
		if _, err := os.Stat(m[0]); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := certificate.MoveFile(m[0], m[1]); err != nil {
			for i := len(moved) - 1; i >= 0; i-- {
				certificate.MoveFile(moved[i][1], moved[i][0])
			}
			return nil, err
		}
		moved = append(moved, m)
	}
	return moved, nil
}
