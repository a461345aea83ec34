package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"
)

// What pins the history: the trusted keys, the checkpoints kept outside
// the ledger, and how verify reports them.

// trustedCerts returns the certificates trusted to sign checkpoints: every
// certificate in the files given (--trusted, repeatable after a key
// change), else the signing certificates the ledger recorded that are
// found beside it (recordedCertFiles: the current one, and those key
// rotate kept), else none; and the files they came from.
func trustedCerts(c *cli.Context, s *ledger.Store, given []string) ([]*x509.Certificate, []string, error) {
	var certs []*x509.Certificate
	if len(given) == 0 {
		rs, err := recordedCertFiles(c, s)
		if err != nil {
			return nil, nil, err
		}
		var paths []string
		for _, r := range rs {
			certs, paths = append(certs, r.cert), append(paths, r.path)
		}
		return certs, paths, nil
	}
	for _, p := range given {
		cs, err := certificate.LoadCertificates(p)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, cs...)
	}
	return certs, given, nil
}

// readCheckpointArg reads a checkpoint given on the command line: a file,
// or a directory (a checkpoint_dir), whose newest checkpoint is read.
func readCheckpointArg(path string) (ledger.ExternalCheckpoint, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file, data, err := ledger.NewestInDir(path)
		if errors.Is(err, ledger.ErrNoCheckpoint) {
			return ledger.ExternalCheckpoint{}, withHint(fmt.Errorf("--checkpoint %s: the folder holds no checkpoint-<size>.txt file", path),
				"give a checkpoint file exported with 'itad checkpoint export -o FILE'")
		}
		if err != nil {
			return ledger.ExternalCheckpoint{}, err
		}
		return ledger.ExternalCheckpoint{Source: file, Note: data}, nil
	}
	data, err := ledger.ReadFileLimit(path, ledger.MaxCheckpointSize, "checkpoint")
	if err != nil {
		return ledger.ExternalCheckpoint{}, err
	}
	return ledger.ExternalCheckpoint{Source: path, Note: data}, nil
}

// dirCheckpoint returns the newest checkpoint in the ledger's
// checkpoint_dir; ok is false when the setting is empty or the directory
// holds none yet. A directory that cannot be read (a copy of the ledger
// checked elsewhere) is noted on standard error and pins nothing.
func dirCheckpoint(c *cli.Context, s *ledger.Store) (x ledger.ExternalCheckpoint, ok bool, err error) {
	dir, err := s.Setting(ledger.SettingCheckpointDir)
	if err != nil || dir == "" {
		return x, false, err
	}
	file, data, err := ledger.NewestInDir(dir)
	if errors.Is(err, ledger.ErrNoCheckpoint) {
		return x, false, nil
	}
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "itad: note: %v: its checkpoints are not checked (give one with --checkpoint FILE)\n", err)
		return x, false, nil
	}
	return ledger.ExternalCheckpoint{Source: file, Note: data}, true, nil
}

// proofCerts returns the certificates trusted to sign checkpoints in cert
// verify: the signing certificates the ledger recorded that are found
// beside it (recordedCerts) and those in --trusted.
func proofCerts(c *cli.Context, s *ledger.Store) ([]*x509.Certificate, error) {
	certs, err := recordedCerts(c, s)
	if err != nil {
		return nil, err
	}
	if f := c.String("trusted"); f != "" {
		cs, err := certificate.LoadCertificates(f)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cs...)
	}
	return certs, nil
}

// openCheckpoint opens a checkpoint kept outside the ledger: its signature
// checked with certs when there are any (exit 3 when it does not verify).
func openCheckpoint(x ledger.ExternalCheckpoint, certs []*x509.Certificate) (ledger.Checkpoint, error) {
	if len(certs) == 0 {
		cp, err := ledger.ParseCheckpointText(x.Note)
		if err != nil {
			return cp, &userError{err: fmt.Errorf("checkpoint %s: %w", x.Source, err), code: exitVerifyFailed}
		}
		return cp, nil
	}
	cp, _, err := ledger.OpenCheckpoint(x.Note, certs)
	switch {
	case errors.Is(err, ledger.ErrUntrustedCheckpoint):
		return cp, &userError{err: fmt.Errorf("checkpoint %s: %w", x.Source, err), code: exitVerifyFailed, hint: untrustedHint}
	case errors.Is(err, ledger.ErrTampered):
		return cp, &userError{err: fmt.Errorf("checkpoint %s: %w", x.Source, err), code: exitVerifyFailed}
	}
	return cp, err
}

// checkDirExtended checks that the ledger extends the newest checkpoint in
// checkpoint_dir, if there is one: exit 3 when events it covers were
// removed or changed.
func checkDirExtended(c *cli.Context, s *ledger.Store, certs []*x509.Certificate) error {
	x, ok, err := dirCheckpoint(c, s)
	if err != nil || !ok {
		return err
	}
	cp, err := openCheckpoint(x, certs)
	if err != nil {
		return err
	}
	if _, _, _, err := s.ConsistencyProof(cp); errors.Is(err, ledger.ErrTampered) {
		return tamperedErr(fmt.Errorf("the ledger does not extend %s: %w", x.Source, err))
	} else if err != nil {
		return err
	}
	return nil
}

// noteSigner returns the signed-note signer of the ledger's signing key,
// which signs checkpoints.
func noteSigner(sig *certificate.Signer) (note.Signer, error) {
	return ledger.NewNoteSigner(ledger.NoteKeyName(sig.Cert), sig.Key)
}

// checkpointErr gives hints to the errors of taking a checkpoint: the
// ledger does not extend the newest one in checkpoint_dir (exit 3), or the
// one just recorded could not be written there.
func checkpointErr(err error) error {
	var de *ledger.CheckpointDirError
	switch {
	case errors.As(err, &de):
		return withHint(err, fmt.Sprintf("the change is recorded: make %s writable (or change it with 'itad settings set %s DIR'), "+
			"then run 'itad checkpoint' to write a new checkpoint there", de.Dir, ledger.SettingCheckpointDir))
	case errors.Is(err, ledger.ErrTampered):
		return &userError{err: err, code: exitVerifyFailed,
			hint: "run 'itad verify': the ledger lost or changed events that the checkpoint in " + ledger.SettingCheckpointDir + " covers"}
	}
	return err
}

// untrustedHint is the hint for a checkpoint no trusted key signed.
const untrustedHint = "after a key change, pass the earlier certificate with --trusted OLD.pem as well as the current one; " +
	"otherwise the checkpoint was not signed by this ledger's key"

// notPinnedErr is the error of verify --require-pinned for a ledger that
// verified but is not pinned.
func notPinnedErr(res ledger.VerifyResult) error {
	return &userError{code: exitNotPinned, err: fmt.Errorf("the ledger verified but is not %s", strings.TrimPrefix(ledger.PinStatus(res), "NOT ")),
		hint: fmt.Sprintf("sign a checkpoint with 'itad checkpoint' and keep it outside the ledger ('itad settings set %s DIR' does so for every new one), "+
			"or give the latest with --checkpoint FILE", ledger.SettingCheckpointDir)}
}
