package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/itad/itad/certificate"
	"github.com/urfave/cli/v2"
)

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

// loadSigner loads the ledger's signing identity, with a hint when there
// is none yet.
func loadSigner(c *cli.Context) (*certificate.Signer, error) {
	keyPath, certPath := keyPaths(c)
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		return nil, withHint(err, "create a signing key with 'itad key init', or import one with 'itad key import'")
	}
	return certificate.LoadSigner(keyPath, certPath)
}
