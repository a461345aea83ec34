package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"
)

var certCommand = &cli.Command{
	Name:  "cert",
	Usage: "issue, list, revoke and verify signed certificates of destruction",
	Subcommands: []*cli.Command{
		{
			Name:      "issue",
			Usage:     "issue a signed PDF certificate for a device, or for a destruction run with --batch",
			ArgsUsage: "SERIAL | --batch REF",
			Description: "Renders the certificate from the ledger (NIST SP 800-88 Rev. 1 Appendix G fields), signs\n" +
				"it with the signing key (see 'itad key') and records it: number, devices, content hash,\n" +
				"signer fingerprint. Issuing again for the same device or run supersedes the earlier\n" +
				"certificate. The file is DIR/<number>_<serial or reference>.pdf.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "batch", Usage: "certify every disposal of this closed destruction run"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: ".", Usage: "folder to write the certificate to"},
			},
			Action: certIssue,
		},
		{
			Name:      "revoke",
			Usage:     "revoke a certificate",
			ArgsUsage: "NUMBER",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why it is revoked (recorded)"}},
			Action:    certRevoke,
		},
		{
			Name:      "list",
			Usage:     "list certificates issued",
			ArgsUsage: " ",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "serial", Usage: "only certificates covering this device"}},
			Action:    certList,
		},
		{
			Name:      "verify",
			Usage:     "check a certificate PDF against its signature and the ledger",
			ArgsUsage: "FILE.pdf",
			Description: "Checks that the PDF signature is intact and covers the whole file; that the signer is this\n" +
				"ledger's signing certificate, a key the ledger recorded, or one in --trusted (a signer\n" +
				"certificate or an issuing root); that the certificate number is in the ledger and neither\n" +
				"revoked nor superseded; and that the ledger's current data still gives exactly this\n" +
				"document. Exit status 3 when a check fails.\n\n" +
				"--proof also proves that the certificate's issue is included in the latest signed checkpoint\n" +
				"(or in --checkpoint FILE, exported earlier): an RFC 6962 audit path from the issue event to\n" +
				"the checkpoint's root, whose signature is checked with the ledger's signing certificate (or,\n" +
				"for a checkpoint signed before a key change, a certificate given with --trusted).",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "proof", Usage: "prove the issue is included in a signed checkpoint"},
				&cli.StringFlag{Name: "checkpoint", Usage: "with --proof: a checkpoint file exported earlier (default: the latest in the ledger)"},
				&cli.StringFlag{Name: "trusted", Usage: "PEM file of further trusted signing or root certificates"},
				&cli.StringFlag{Name: "reason", Usage: "why the certificate is checked (logged)"},
			},
			Action: certVerify,
		},
	},
}

func certIssue(c *cli.Context) error {
	kind, subject := ledger.CertDevice, c.Args().First()
	switch {
	case c.IsSet("batch") && c.NArg() != 0:
		return usageErr("give a SERIAL or --batch REF, not both")
	case c.IsSet("batch"):
		kind, subject = ledger.CertBatch, c.String("batch")
	case c.NArg() != 1:
		return usageErr("cert issue takes one SERIAL, or --batch REF")
	}
	dir := c.String("output")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return withHint(fmt.Errorf("output folder %s: %w", dir, err), "choose another with -o DIR")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return withHint(fmt.Errorf("output folder %s is not a folder", dir), "choose another with -o DIR")
	}
	signer, err := loadSigner(c)
	if err != nil {
		return err
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	// The signed file is written to a temporary file while the ledger's
	// write lock is held, and renamed to its final name once the
	// certificate is recorded: a failure before the commit leaves neither
	// a record nor a file; a crash after it leaves the record and the
	// hidden temporary file (re-issue to get a fresh certificate).
	var tmp string
	cert, err := s.IssueCertificate(kind, subject, func(d ledger.CertificateDraft) (ledger.CertificateHashes, error) {
		bar := newProgress(c, "certificate", int64(len(d.Data.Items)))
		iss, err := certificate.IssueProgress(d, signer, bar.Set)
		bar.Set(int64(len(d.Data.Items)))
		bar.Done()
		if err != nil {
			return ledger.CertificateHashes{}, err
		}
		if tmp, err = certificate.WriteTemp(dir, iss.Signed); err != nil {
			return ledger.CertificateHashes{}, err
		}
		return iss.Hashes(), nil
	})
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return issueError(err)
	}
	path, err := certificate.Publish(tmp, certificate.FileName(cert.UUID, cert.Subject))
	if err != nil {
		return fmt.Errorf("certificate %s is recorded but its file was left at %s: %w", cert.UUID, tmp, err)
	}
	if c.Bool("json") {
		return printJSON(c, struct {
			ledger.Certificate
			File string `json:"file"`
		}{cert, path})
	}
	fmt.Fprintf(c.App.Writer, "certificate %s issued for %s %s (%d %s): %s\n", cert.UUID, cert.Kind, cert.Subject,
		cert.Devices, pluralWord(cert.Devices, "device", "devices"), path)
	for _, old := range cert.Supersedes {
		fmt.Fprintf(c.App.Writer, "it supersedes certificate %s\n", old)
	}
	return nil
}

// issueError adds hints to the refusals of IssueCertificate.
func issueError(err error) error {
	switch {
	case errors.Is(err, ledger.ErrNoOrg):
		return withHint(err, "set it with 'itad init --org NAME'")
	case errors.Is(err, ledger.ErrBatchOpen):
		return withHint(err, "close it with 'itad batch close REF [--gross-weight W]'")
	case errors.Is(err, ledger.ErrNoDisposal):
		return withHint(err, "record the disposal with 'itad dispose SERIAL --method M --on DATE --contractor NAME'")
	}
	return err
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func certRevoke(c *cli.Context) error {
	number, err := oneArg(c, "NUMBER")
	if err != nil {
		return err
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	cert, err := s.RevokeCertificate(number, c.String("reason"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(c, cert)
	}
	fmt.Fprintf(c.App.Writer, "certificate %s (%s %s) revoked: %s\n", cert.UUID, cert.Kind, cert.Subject, cert.RevokeReason)
	return nil
}

// certRow is a certificate in list output.
type certRow struct {
	ledger.Certificate
	Status string `json:"status"`
}

func certList(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErr("cert list takes no arguments")
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	certs, err := s.Certificates(c.String("serial"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		rows := make([]certRow, len(certs))
		for i, ct := range certs {
			rows[i] = certRow{ct, ct.Status()}
		}
		return printJSON(c, rows)
	}
	return printCertificates(c.App.Writer, certs, "")
}

// printCertificates writes certificates as a table, each line indented.
func printCertificates(w io.Writer, certs []ledger.Certificate, indent string) error {
	tw := table(w)
	fmt.Fprintf(tw, "%sNUMBER\tKIND\tSUBJECT\tDEVICES\tISSUED\tBY\tSTATUS\n", indent)
	for _, ct := range certs {
		status := ct.Status()
		switch status {
		case "superseded":
			status += " by " + ct.SupersededBy
		case "revoked":
			status += ": " + ct.RevokeReason
		case "stale":
			status += ": " + ct.Stale[0].String()
			if n := len(ct.Stale) - 1; n > 0 {
				status += fmt.Sprintf(" and %d later %s", n, pluralWord(n, "change", "changes"))
			}
		}
		issued := ct.IssuedAt
		if t, err := ct.IssuedTime(); err == nil {
			issued = t.Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%d\t%s\t%s\t%s\n", indent, ct.UUID, ct.Kind, ct.Subject, ct.Devices, issued, ct.IssuedBy, status)
	}
	return tw.Flush()
}

func certVerify(c *cli.Context) error {
	file, err := oneArg(c, "FILE.pdf")
	if err != nil {
		return err
	}
	pdf, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	trust, err := verifyTrust(c, s)
	if err != nil {
		return err
	}
	number, v, verr := certificate.Verify(pdf, trust, s)
	if number != "" {
		// Looking a certificate up is a consultation of the ledger.
		if err := s.LogAccess("cert.verify", number, c.String("reason"), nil); err != nil {
			return err
		}
	}
	if verr != nil {
		return &userError{err: fmt.Errorf("%s: %w", filepath.Base(file), verr), code: exitVerifyFailed, hint: verifyHint(verr)}
	}
	ct := v.Certificate
	var cp ledger.Checkpoint
	var path int
	if c.Bool("proof") {
		if cp, path, err = proveIssue(c, s, ct.Seq); err != nil {
			return err
		}
	} else if c.IsSet("checkpoint") {
		return usageErr("--checkpoint goes with --proof")
	}
	if c.Bool("json") {
		out := map[string]any{"valid": true, "file": file, "certificate": certRow{ct, ct.Status()},
			"signer": certificate.SignerName(v.Signature.Signer)}
		if c.Bool("proof") {
			out["included_in_checkpoint"] = map[string]any{"size": cp.Size, "root_hash": cp.Root.String(), "event": ct.Seq, "audit_path": path}
		}
		return printJSON(c, out)
	}
	fmt.Fprintf(c.App.Writer, "%s: valid certificate %s for %s %s (%d %s), issued %s by %s\n", file, ct.UUID, ct.Kind, ct.Subject,
		ct.Devices, pluralWord(ct.Devices, "device", "devices"), ct.IssuedAt, ct.IssuedBy)
	fmt.Fprintf(c.App.Writer, "signed by %s (SHA-256 %s); content hash %s matches the ledger\n",
		certificate.SignerName(v.Signature.Signer), ct.SignerFingerprint, ct.ContentHash)
	if c.Bool("proof") {
		fmt.Fprintf(c.App.Writer, "issue (event #%d) included in the signed checkpoint of %d events, root %s: audit path of %d hashes verified\n",
			ct.Seq, cp.Size, cp.Root, path)
	}
	return nil
}

// proveIssue proves that event seq (a certificate's issue) is included in
// the checkpoint from --checkpoint, else the latest stored one, after
// checking the checkpoint's signature with the ledger's signing
// certificate. It returns the checkpoint and the audit path's length.
func proveIssue(c *cli.Context, s *ledger.Store, seq int64) (ledger.Checkpoint, int, error) {
	var cp ledger.Checkpoint
	_, certPath := keyPaths(c)
	v, err := checkpointVerifier(certPath)
	if err != nil {
		return cp, 0, withHint(fmt.Errorf("--proof needs the signing certificate: %w", err), "point --cert at the ledger's signing certificate")
	}
	var text []byte
	if f := c.String("checkpoint"); f != "" {
		if text, err = os.ReadFile(f); err != nil {
			return cp, 0, err
		}
	} else {
		stored, err := s.LatestCheckpoint()
		if errors.Is(err, ledger.ErrNoCheckpoint) {
			return cp, 0, withHint(err, "sign one with 'itad checkpoint', then verify again")
		}
		if err != nil {
			return cp, 0, err
		}
		text = []byte(stored.Note)
	}
	// After a key change, a checkpoint signed by the earlier key verifies
	// when its certificate is given with --trusted.
	var earlier []note.Verifier
	if f := c.String("trusted"); f != "" {
		certs, err := certificate.LoadCertificates(f)
		if err != nil {
			return cp, 0, err
		}
		for _, cert := range certs {
			if ev, err := ledger.NewNoteVerifier(ledger.NoteKeyName(cert), cert.PublicKey); err == nil {
				earlier = append(earlier, ev)
			}
		}
	}
	if cp, err = ledger.ParseCheckpoint(text, v, earlier...); err != nil {
		return cp, 0, &userError{err: fmt.Errorf("checkpoint: %w", err), code: exitVerifyFailed}
	}
	if seq > cp.Size {
		return cp, 0, withHint(fmt.Errorf("the certificate was issued in event #%d, after the checkpoint of %d events", seq, cp.Size),
			"sign a newer checkpoint with 'itad checkpoint', then verify again")
	}
	proof, err := s.ProveEventIncluded(seq, cp)
	if err != nil {
		return cp, 0, &userError{err: fmt.Errorf("inclusion proof: %w", err), code: exitVerifyFailed}
	}
	return cp, len(proof), nil
}

// verifyTrust gathers the trusted signers: the ledger's signing
// certificate file, the keys recorded in the ledger, and --trusted.
func verifyTrust(c *cli.Context, s *ledger.Store) (certificate.Trust, error) {
	var t certificate.Trust
	_, certPath := keyPaths(c)
	if certs, err := certificate.LoadCertificates(certPath); err == nil {
		t.Certificates = append(t.Certificates, certs[0])
	} else if !errors.Is(err, os.ErrNotExist) {
		return t, err
	}
	keys, err := s.SigningKeys()
	if err != nil {
		return t, err
	}
	for _, k := range keys {
		t.Fingerprints = append(t.Fingerprints, k.Fingerprint)
	}
	if f := c.String("trusted"); f != "" {
		certs, err := certificate.LoadCertificates(f)
		if err != nil {
			return t, err
		}
		t.Certificates = append(t.Certificates, certs...)
	}
	return t, nil
}

func verifyHint(err error) string {
	switch {
	case errors.Is(err, certificate.ErrUntrustedSigner):
		return "if you trust the signer, pass its certificate (or its issuing root) with --trusted FILE.pem"
	case errors.Is(err, certificate.ErrSuperseded):
		return "ask for the current certificate: 'itad cert list --serial SERIAL'"
	case errors.Is(err, certificate.ErrStale):
		return "the certificate no longer matches the ledger: issue it again as the error says, and give the new one out"
	case errors.Is(err, certificate.ErrContentChanged):
		return "see what changed with 'itad device show SERIAL', then issue a new certificate"
	case errors.Is(err, certificate.ErrNotReproducible):
		return "verify with the itad version that issued the certificate"
	case errors.Is(err, certificate.ErrNotWholeFile):
		return "bytes were appended after signing: the document may have been edited"
	}
	return ""
}
