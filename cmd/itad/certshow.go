package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var certShowCommand = &cli.Command{
	Name:      "show",
	Usage:     "print the content a certificate PDF embeds (no ledger needed)",
	ArgsUsage: "FILE.pdf",
	Description: "Certificates issued since layout 3 embed their content as " + certificate.ContentFileName + ": canonical\n" +
		"JSON whose SHA-256 is the content hash printed on the certificate and recorded in the ledger.\n" +
		"show checks that the PDF's signature is intact and covers the whole file, then prints that\n" +
		"content: with --json the embedded bytes exactly, a machine-readable certificate; else a\n" +
		"summary. It does not consult a ledger: use 'itad cert verify FILE.pdf' for that. Exit status 3\n" +
		"when the signature is broken.",
	Action: certShow, // --json (global): the embedded bytes exactly
}

func certShow(c *cli.Context) error {
	file, err := oneArg(c, "FILE.pdf")
	if err != nil {
		return err
	}
	pdf, err := ledger.ReadFileLimit(file, ledger.MaxPDFBytes, "PDF certificate")
	if err != nil {
		return err
	}
	name := filepath.Base(file)
	sig, err := certificate.VerifyPDF(pdf)
	if err != nil {
		return &userError{err: fmt.Errorf("%s: %w", name, err), code: exitVerifyFailed, hint: verifyHint(err)}
	}
	if sig.Unsigned == nil {
		return &userError{err: fmt.Errorf("%s: the signature is in the document's first revision, as itad never signs", name), code: exitVerifyFailed}
	}
	raw, err := certificate.EmbeddedContent(sig.Unsigned)
	if errors.Is(err, certificate.ErrNoEmbeddedContent) {
		return withHint(fmt.Errorf("%s: %w (certificates of layouts 1 and 2 do not)", name, err),
			"check it against the ledger with 'itad cert verify "+file+"'")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	content, err := certificate.ParseContentJSON(raw)
	if err != nil {
		return &userError{err: fmt.Errorf("%s: %w", name, err), code: exitVerifyFailed}
	}
	if c.Bool("json") {
		_, err := c.App.Writer.Write(raw)
		return err
	}
	d := content.Data
	tw := table(c.App.Writer)
	fmt.Fprintf(tw, "certificate\t%s\n", content.Number)
	fmt.Fprintf(tw, "content hash\t%s\n", certificate.ContentHash(content))
	fmt.Fprintf(tw, "issued\t%s by %s\n", content.IssuedAt.UTC().Format("2006-01-02 15:04:05 UTC"), content.IssuedBy)
	fmt.Fprintf(tw, "organisation\t%s\n", d.Org)
	if d.Batch != nil {
		fmt.Fprintf(tw, "covers\tdestruction run %s: %s\n", d.Subject, ledger.CountOf(int64(len(d.Items)), "item", "items"))
	} else {
		fmt.Fprintf(tw, "covers\tdevice %s\n", d.Subject)
	}
	fmt.Fprintf(tw, "signed by\t%s (signing key SHA-256 %s; the PDF signature is intact)\n", certificate.SignerName(sig.Signer), certificate.Fingerprint(sig.Signer))
	if content.SignerFingerprint != certificate.Fingerprint(sig.Signer) {
		fmt.Fprintf(tw, "note\tthe content names signing key %s, not the key that signed the PDF\n", content.SignerFingerprint)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	tw = table(c.App.Writer)
	fmt.Fprintln(tw, "SERIAL\tTYPE\tMAKE / MODEL\tMETHOD\tDATE\tCONTRACTOR")
	for _, it := range d.Items {
		v, p := it.Device, it.Disposal
		mm := v.Make
		if v.Model != "" {
			mm = joinSpace(v.Make, v.Model)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Serial, v.Type.Label(), mm, p.Method, p.DisposedOn, p.Contractor)
	}
	return tw.Flush()
}

func joinSpace(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}
