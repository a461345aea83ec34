package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var certCommand = &cli.Command{
	Name:  "cert",
	Usage: "issue, list, revoke and verify signed certificates of destruction",
	Subcommands: []*cli.Command{
		{
			Name:      "issue",
			Usage:     "issue a signed PDF certificate for a device, or for a destruction run with --batch",
			ArgsUsage: "SERIAL... | --serials-file FILE | --uncertified [--year YYYY] [--batch REF] | --batch REF",
			Description: "Renders the certificate from the ledger (NIST SP 800-88 Rev. 1 Appendix G fields), signs\n" +
				"it with the signing key (see 'itad key') and records it: number, devices, content hash,\n" +
				"signer fingerprint. Issuing again for the same device or run supersedes the earlier\n" +
				"certificate, and takes a signed checkpoint in the same transaction (also written to\n" +
				"checkpoint_dir when set). The file is DIR/<number>_<serial or reference>.pdf.\n\n" +
				"Several serials, --serials-file (one serial a line, - for standard input; blank lines and\n" +
				"lines starting with # are skipped) and --uncertified (every device with a final disposition\n" +
				"and no current device certificate, only those disposed of in --year or in the run --batch when\n" +
				"given) issue one device certificate each, in one transaction: all are recorded, or none.\n" +
				"A revoked, superseded or stale certificate is not current: --uncertified issues a device\n" +
				"whose certificate is stale (the ledger changed since it was issued) again, superseding it.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "batch", Usage: "certify every disposal of this closed destruction run (with --uncertified: only this run's devices)"},
				&cli.StringFlag{Name: "serials-file", Usage: "file of serials to certify, one a line (- for standard input)"},
				&cli.BoolFlag{Name: "uncertified", Usage: "certify every device with a final disposition and no current device certificate (none, or revoked, superseded or stale)"},
				&cli.IntFlag{Name: "year", Usage: "with --uncertified: only devices disposed of in this calendar year"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: ".", Usage: "folder to write the certificate to"},
			},
			Action: certIssue,
		},
		{
			Name:      "revoke",
			Usage:     "revoke a certificate",
			ArgsUsage: "NUMBER",
			Description: "Records the revocation and, in the same transaction, a checkpoint covering it, signed with\n" +
				"the signing key (also written to checkpoint_dir when set), so that the revocation cannot be\n" +
				"deleted later without verify noticing.",
			Flags:  []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why it is revoked (recorded)"}},
			Action: certRevoke,
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
			Description: "Checks that the PDF signature is intact and covers the whole file; that the signer is a\n" +
				"signing identity the ledger's key events recorded (current, or retired since), or one in\n" +
				"--trusted (a signer certificate or an issuing root), and is the one the ledger recorded for\n" +
				"this certificate; that the certificate number is in the ledger and neither revoked nor\n" +
				"superseded (checked against its events); that the content the certificate embeds (layout 3 and\n" +
				"later) hashes to the content hash the ledger recorded and the ledger's current data to the same\n" +
				"content (certificates of layouts 1 and 2: that the ledger's current data still renders exactly\n" +
				"this document); and, with checkpoint_dir set, that the ledger extends the newest checkpoint\n" +
				"there (so a revocation deleted behind itad's back is caught). Exit status 3 when a check fails.\n\n" +
				"--proof also proves that the certificate's issue is included in the newest signed checkpoint\n" +
				"(in checkpoint_dir or the ledger, or --checkpoint FILE exported earlier): an RFC 6962 audit\n" +
				"path from the issue event to the checkpoint's root, whose signature is checked with the\n" +
				"ledger's recorded signing certificates (the current one, and those 'itad key rotate' kept\n" +
				"beside the ledger) or --trusted.",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "proof", Usage: "prove the issue is included in a signed checkpoint"},
				&cli.StringFlag{Name: "checkpoint", Usage: "with --proof: a checkpoint file exported earlier, or a folder of them (default: the newest in checkpoint_dir or the ledger)"},
				&cli.StringFlag{Name: "trusted", Usage: "PEM file of further trusted signing or root certificates"},
				&cli.StringFlag{Name: "reason", Usage: "why the certificate is checked (logged)"},
			},
			Action: certVerify,
		},
		certShowCommand, // certshow.go
	},
}

func certIssue(c *cli.Context) error {
	req, err := issueRequest(c)
	if err != nil {
		return err
	}
	dir := c.String("output")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return withHint(fmt.Errorf("output folder %s: %w", dir, err), "choose another with -o DIR")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return withHint(fmt.Errorf("output folder %s is not a folder", dir), "choose another with -o DIR")
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	signer, err := loadSigner(c, s)
	if err != nil {
		return err
	}
	ns, err := noteSigner(signer)
	if err != nil {
		return err
	}
	// Each signed file is written to a temporary file while the ledger's
	// write lock is held, and renamed to its final name once the
	// certificates are recorded: a failure before the commit leaves
	// neither records nor files; a crash after it leaves the records and
	// the hidden temporary files (re-issue to get fresh certificates).
	var tmps []string
	var bar *progress
	many := c.NArg() > 1 || c.IsSet("serials-file") || req.Uncertified
	certs, err := s.IssueCertificates(req, ns, func(i, n int, d ledger.CertificateDraft) (ledger.CertificateHashes, error) {
		var iss *certificate.Issued
		var err error
		if many {
			if bar == nil {
				bar = newProgress(c, "certificates", int64(n))
			}
			iss, err = certificate.Issue(d, signer)
			bar.Set(int64(i + 1))
		} else {
			items := newProgress(c, "certificate", int64(len(d.Data.Items)))
			iss, err = certificate.IssueProgress(d, signer, items.Set)
			items.Set(int64(len(d.Data.Items)))
			items.Done()
		}
		if err != nil {
			return ledger.CertificateHashes{}, err
		}
		write := certificate.WriteTemp
		if many {
			write = certificate.WriteTempNoSync // synced together below
		}
		tmp, err := write(dir, iss.Signed)
		if err != nil {
			return ledger.CertificateHashes{}, err
		}
		tmps = append(tmps, tmp)
		if many && i == n-1 {
			// Every file is on disk before the ledger records any.
			if err := certificate.SyncFiles(dir, tmps); err != nil {
				return ledger.CertificateHashes{}, err
			}
		}
		return iss.Hashes(), nil
	})
	bar.Done()
	// A checkpoint that could not be written to checkpoint_dir leaves the
	// certificates recorded: publish them, then say so.
	var dirErr *ledger.CheckpointDirError
	if err != nil && !errors.As(err, &dirErr) {
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
		return checkpointErr(issueError(err))
	}
	if many && len(certs) == 0 {
		fmt.Fprintln(c.App.ErrWriter, "itad: no device without a current certificate: nothing issued")
	}
	type issued struct {
		ledger.Certificate
		File string `json:"file"`
	}
	out := make([]issued, len(certs))
	for i, cert := range certs {
		path, perr := certificate.Publish(tmps[i], certificate.FileName(cert.UUID, cert.Subject))
		if perr != nil {
			return fmt.Errorf("certificate %s is recorded but its file was left at %s: %w", cert.UUID, tmps[i], perr)
		}
		out[i] = issued{cert, path}
	}
	if c.Bool("json") {
		var perr error
		if many {
			perr = printJSON(c, out)
		} else {
			perr = printJSON(c, out[0])
		}
		if perr != nil {
			return perr
		}
		return checkpointErr(err)
	}
	var cp *ledger.Checkpoint
	for _, o := range out {
		fmt.Fprintf(c.App.Writer, "certificate %s issued for %s %s (%s): %s\n", o.UUID, o.Kind, o.Subject,
			ledger.CountOf(int64(o.Devices), "device", "devices"), o.File)
		for _, old := range o.Supersedes {
			fmt.Fprintf(c.App.Writer, "it supersedes certificate %s\n", old)
		}
		if o.Checkpoint != nil {
			cp = o.Checkpoint
		}
	}
	if many {
		fmt.Fprintf(c.App.Writer, "%s issued in one transaction\n", ledger.CountOf(int64(len(out)), "certificate", "certificates"))
	}
	printTakenCheckpoint(c.App.Writer, cp)
	return checkpointErr(err)
}

// issueRequest reads what 'cert issue' is to certify: SERIAL..., lines of
// --serials-file (- for standard input), --uncertified with --year and
// --batch as filters, or one run with --batch REF.
func issueRequest(c *cli.Context) (ledger.CertificateRequest, error) {
	var req ledger.CertificateRequest
	for _, a := range c.Args().Slice() {
		req.Subjects = append(req.Subjects, ledger.CertSubject{Kind: ledger.CertDevice, Subject: a})
	}
	if f := c.String("serials-file"); c.IsSet("serials-file") {
		serials, err := readSerials(c, f)
		if err != nil {
			return req, err
		}
		for _, sn := range serials {
			req.Subjects = append(req.Subjects, ledger.CertSubject{Kind: ledger.CertDevice, Subject: sn})
		}
	}
	switch {
	case c.Bool("uncertified"):
		req.Uncertified, req.Year, req.Batch = true, c.Int("year"), c.String("batch")
		if c.IsSet("year") && (req.Year < 1900 || req.Year > 9999) {
			return req, usageErr("--year must be a calendar year such as 2024")
		}
	case c.IsSet("year"):
		return req, usageErr("--year goes with --uncertified")
	case c.IsSet("batch") && len(req.Subjects) != 0:
		return req, usageErr("give SERIAL... (or --serials-file) or --batch REF, not both (with --uncertified, --batch selects the run's devices)")
	case c.IsSet("batch"):
		req.Subjects = []ledger.CertSubject{{Kind: ledger.CertBatch, Subject: c.String("batch")}}
	case len(req.Subjects) == 0 && c.IsSet("serials-file"):
		return req, usageErr("--serials-file %s lists no serial", c.String("serials-file"))
	case len(req.Subjects) == 0:
		return req, usageErr("cert issue takes SERIAL..., --serials-file FILE, --uncertified or --batch REF")
	}
	return req, nil
}

// maxSerialsFile bounds a --serials-file.
const maxSerialsFile = 64 << 20

// readSerials reads one serial a line from file (standard input for "-"),
// skipping blank lines and lines starting with "#".
func readSerials(c *cli.Context, file string) ([]string, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(c.App.Reader, maxSerialsFile+1))
		if err == nil && len(data) > maxSerialsFile {
			err = fmt.Errorf("more than %d bytes", maxSerialsFile)
		}
		if err != nil {
			return nil, fmt.Errorf("read serials from standard input: %w", err)
		}
	} else if data, err = ledger.ReadFileLimit(file, maxSerialsFile, "serials file"); err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}

// printTakenCheckpoint reports the checkpoint a revocation or a
// supersession took.
func printTakenCheckpoint(w io.Writer, cp *ledger.Checkpoint) {
	if cp != nil {
		fmt.Fprintf(w, "checkpoint of %s events signed and recorded (event #%d)\n", ledger.Thousands(cp.Size), cp.Seq)
	}
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
	// Revoking takes a checkpoint signed with the ledger's key.
	signer, err := loadSigner(c, s)
	if err != nil {
		return err
	}
	ns, err := noteSigner(signer)
	if err != nil {
		return err
	}
	cert, err := s.RevokeCertificate(number, c.String("reason"), ns)
	var dirErr *ledger.CheckpointDirError
	if err != nil && !errors.As(err, &dirErr) {
		return checkpointErr(err)
	}
	if c.Bool("json") {
		if perr := printJSON(c, cert); perr != nil {
			return perr
		}
		return checkpointErr(err)
	}
	fmt.Fprintf(c.App.Writer, "certificate %s (%s %s) revoked: %s\n", cert.UUID, cert.Kind, cert.Subject, cert.RevokeReason)
	printTakenCheckpoint(c.App.Writer, cert.Checkpoint)
	return checkpointErr(err)
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
				status += " and " + ledger.CountOf(int64(n), "later change", "later changes")
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
	pdf, err := ledger.ReadFileLimit(file, ledger.MaxPDFBytes, "PDF certificate")
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
	cpCerts, err := proofCerts(c, s)
	if err != nil {
		return err
	}
	// The ledger must extend the newest checkpoint in checkpoint_dir:
	// deleting the events after an earlier checkpoint (a revocation, say)
	// shows here.
	if err := checkDirExtended(c, s, cpCerts); err != nil {
		return err
	}
	number, v, verr := certificate.Verify(pdf, trust, s)
	if number == "" {
		return &userError{err: fmt.Errorf("%s: %w", filepath.Base(file), verr), code: exitVerifyFailed, hint: verifyHint(verr)}
	}
	// Looking a certificate up is a consultation of the ledger: a failed
	// check is recorded as it is refused, a verdict before it is printed.
	consult := ledger.Disclosure{Action: "cert.verify", Subject: number, Reason: c.String("reason"),
		Payload: map[string]any{"file": filepath.Base(file), "valid": verr == nil}}
	refuse := func(err error) error {
		if lerr := s.Disclose(consult, ledger.Sink{W: io.Discard}, func(io.Writer) error { return nil }); lerr != nil {
			return lerr
		}
		return err
	}
	if verr != nil {
		return refuse(&userError{err: fmt.Errorf("%s: %w", filepath.Base(file), verr), code: exitVerifyFailed, hint: verifyHint(verr)})
	}
	ct := v.Certificate
	var cp ledger.Checkpoint
	var path int
	if c.Bool("proof") {
		if cp, path, err = proveIssue(c, s, ct.Seq, cpCerts); err != nil {
			consult.Payload["valid"] = false
			return refuse(err)
		}
	} else if c.IsSet("checkpoint") {
		return usageErr("--checkpoint goes with --proof")
	}
	return s.Disclose(consult, ledger.Sink{W: c.App.Writer}, func(w io.Writer) error {
		if c.Bool("json") {
			out := map[string]any{"valid": true, "file": file, "certificate": certRow{ct, ct.Status()},
				"signer": certificate.SignerName(v.Signature.Signer)}
			if c.Bool("proof") {
				out["included_in_checkpoint"] = map[string]any{"size": cp.Size, "root_hash": cp.Root.String(), "event": ct.Seq, "audit_path": path}
			}
			return writeJSON(w, out)
		}
		fmt.Fprintf(w, "%s: valid certificate %s for %s %s (%s), issued %s by %s\n", file, ct.UUID, ct.Kind, ct.Subject,
			ledger.CountOf(int64(ct.Devices), "device", "devices"), ct.IssuedAt, ct.IssuedBy)
		fmt.Fprintf(w, "signed by %s (SHA-256 %s); content hash %s matches the ledger\n",
			certificate.SignerName(v.Signature.Signer), ct.SignerFingerprint, ct.ContentHash)
		if c.Bool("proof") {
			fmt.Fprintf(w, "issue (event #%d) included in the signed checkpoint of %s, root %s: audit path of %s verified\n",
				ct.Seq, ledger.CountOf(cp.Size, "event", "events"), cp.Root, ledger.CountOf(int64(path), "hash", "hashes"))
		}
		return nil
	})
}

// proveIssue proves that event seq (a certificate's issue) is included in
// the checkpoint from --checkpoint, else the newer of the newest in
// checkpoint_dir and the latest stored one, after checking the
// checkpoint's signature with the ledger's signing certificate (or one in
// --trusted). It returns the checkpoint and the audit path's length.
func proveIssue(c *cli.Context, s *ledger.Store, seq int64, certs []*x509.Certificate) (ledger.Checkpoint, int, error) {
	var cp ledger.Checkpoint
	if len(certs) == 0 {
		return cp, 0, withHint(errors.New("--proof needs the signing certificate"), "point --cert at the ledger's signing certificate")
	}
	var x ledger.ExternalCheckpoint
	if f := c.String("checkpoint"); f != "" {
		var err error
		if x, err = readCheckpointArg(f); err != nil {
			return cp, 0, err
		}
	} else {
		dir, inDir, err := dirCheckpoint(c, s)
		if err != nil {
			return cp, 0, err
		}
		stored, err := s.LatestCheckpoint()
		if err != nil && !errors.Is(err, ledger.ErrNoCheckpoint) {
			return cp, 0, err
		}
		dirCP, _ := ledger.ParseCheckpointText(dir.Note)
		switch {
		case inDir && (err != nil || dirCP.Size >= stored.Size):
			x = dir
		case err == nil:
			x = ledger.ExternalCheckpoint{Source: "ledger", Note: []byte(stored.Note)}
		default:
			return cp, 0, withHint(err, "sign one with 'itad checkpoint', then verify again")
		}
	}
	cp, err := openCheckpoint(x, certs)
	if err != nil {
		return cp, 0, err
	}
	if seq > cp.Size {
		return cp, 0, withHint(fmt.Errorf("the certificate was issued in event #%d, after the checkpoint of %s", seq, ledger.CountOf(cp.Size, "event", "events")),
			"sign a newer checkpoint with 'itad checkpoint', then verify again")
	}
	proof, err := s.ProveEventIncluded(seq, cp)
	if err != nil {
		return cp, 0, &userError{err: fmt.Errorf("inclusion proof: %w", err), code: exitVerifyFailed}
	}
	return cp, len(proof), nil
}

// verifyTrust gathers the trusted signers: the fingerprints the ledger's
// key events recorded (current and retired), and --trusted. A certificate
// file beside the ledger is not trusted for being there.
func verifyTrust(c *cli.Context, s *ledger.Store) (certificate.Trust, error) {
	var t certificate.Trust
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
	case errors.Is(err, certificate.ErrEmbeddedContent):
		return "the document states other content than the ledger recorded for its number: do not rely on it"
	}
	return ""
}
