package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var exportCommand = &cli.Command{
	Name:  "export",
	Usage: "export every final disposition, one row per device, for auditors",
	Description: "Writes one row per device's final disposition with every field, in these columns:\n\n  " +
		strings.Join(ledger.ExportColumns, ",") + "\n\n" +
		"CSV is RFC 4180 (CRLF line ends, UTF-8); cells starting with = + - @ TAB or CR are prefixed\n" +
		"with ' so that a spreadsheet does not run them as formulas (JSON is left unaltered);\n" +
		"--excel adds a byte order mark so that Excel reads the file as UTF-8.\n" +
		"weight_source is item (its own weight), batch (a share of its run's gross weight) or empty.\n" +
		"The sums of an export equal 'itad report' for the same years.\n\n" +
		"Weights: " + ledger.WeightRule + "\n\n" + signHelp,
	Flags: append(append([]cli.Flag{
		&cli.StringFlag{Name: "format", Value: "csv", Usage: "csv or json"},
		&cli.BoolFlag{Name: "excel", Usage: "CSV for Excel: starts with a UTF-8 byte order mark"},
	}, yearFlags...), discloseFlags...),
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		if !oneOf(format, "csv", "json") {
			return usageErr("--format %q: use csv or json", format)
		}
		if c.Bool("excel") && format != "csv" {
			return usageErr("--excel applies to --format csv only")
		}
		years, err := yearsFlag(c)
		if err != nil {
			return err
		}
		if err := checkDisclose(c); err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		q := ledger.ExportQuery{Years: years, FinancialYear: c.Bool("financial-year")}
		payload := map[string]any{"years": q.Years, "financial_year": q.FinancialYear, "format": format, "excel": c.Bool("excel")}
		var sum ledger.ExportSummary
		// A progress bar only when the export goes to a file: on a
		// terminal it would mix with the rows.
		var bar *progress
		if c.String("output") != "" {
			rows, err := s.Report(ledger.ReportQuery{Years: q.Years, FinancialYear: q.FinancialYear})
			if err != nil {
				return err
			}
			var total int64
			for _, r := range rows {
				total += r.Count
			}
			bar = newProgress(c, "export", total)
		}
		err = disclose(c, s, "export", yearsSubject(q.Years, q.FinancialYear), payload, func(w io.Writer) error {
			var err error
			sum, err = s.WriteExport(w, q, ledger.ExportOptions{Format: format, Excel: c.Bool("excel"), Progress: bar.Set})
			bar.Done()
			payload["rows"], payload["weight_grams"] = sum.Rows, sum.WeightG
			return err
		})
		if err != nil || c.String("output") == "" {
			return err
		}
		fmt.Fprintf(c.App.Writer, "exported %s to %s (%s kg, weight recorded for %s of them)\n",
			ledger.CountOf(sum.Rows, "row", "rows"), c.String("output"), ledger.FormatKg(sum.WeightG), ledger.Thousands(sum.WeighedRows))
		if c.Bool("sign") {
			fmt.Fprintf(c.App.Writer, "signature: %s.p7s\n", c.String("output"))
		}
		return nil
	},
}

var verifyFileCommand = &cli.Command{
	Name:      "verify-file",
	Usage:     "check the detached signature of an exported file",
	ArgsUsage: "FILE",
	Description: "Checks FILE against its detached CMS signature (FILE.p7s unless --sig), and that the signer\n" +
		"is a signing identity the ledger's key events recorded (current, or retired since), or one\n" +
		"given with --trusted; a certificate file beside the ledger is not trusted for being there.\n" +
		"Without a ledger (--db), only --trusted. Exit status 3 if the file was changed or the signer\n" +
		"is not trusted. The same check with OpenSSL:\n\n" +
		"  openssl cms -verify -binary -inform PEM -in FILE.p7s -content FILE -CAfile itad-signing-cert.pem -purpose any -out /dev/null",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "sig", Usage: "signature `FILE` (default: FILE.p7s)"},
		&cli.StringSliceFlag{Name: "trusted", Usage: "PEM `FILE` of a certificate whose signatures to accept (repeatable)"},
	},
	Action: func(c *cli.Context) error {
		name, err := oneArg(c, "FILE")
		if err != nil {
			return err
		}
		sigPath := c.String("sig")
		if sigPath == "" {
			sigPath = name + ".p7s"
		}
		// The content is only hashed: it is streamed, never read whole.
		content, err := os.Open(name)
		if err != nil {
			return err
		}
		defer content.Close()
		sig, err := ledger.ReadFileLimit(sigPath, ledger.MaxSignatureBytes, "detached signature")
		if err != nil {
			return withHint(err, "pass the signature with --sig FILE")
		}
		trusted, err := fileTrust(c)
		if err != nil {
			return err
		}
		signer, err := certificate.VerifyDetachedReader(content, sig)
		if err != nil {
			return &userError{err: fmt.Errorf("%s: %w", name, err), code: exitVerifyFailed,
				hint: "the file is not exactly what was signed: obtain the original from the ledger"}
		}
		fp := certificate.Fingerprint(signer)
		if !trusted[fp] {
			return &userError{err: fmt.Errorf("%s: signed by %q (SHA-256 fingerprint %s), which is not a signing identity the ledger recorded nor a trusted certificate",
				name, signer.Subject.CommonName, fp), code: exitVerifyFailed, hint: "pass the signer's certificate with --trusted if you trust it"}
		}
		if c.Bool("json") {
			return printJSON(c, map[string]any{"file": name, "signature": sigPath, "valid": true,
				"signer": signer.Subject.CommonName, "fingerprint": fp})
		}
		fmt.Fprintf(c.App.Writer, "%s: signature valid\nsigned by: %s\nfingerprint (SHA-256): %s\n", name, signer.Subject.CommonName, fp)
		return nil
	},
}

// fileTrust returns the fingerprints verify-file accepts: those the
// ledger's key events recorded, when there is a ledger at --db (opened
// read-only: checking a file changes nothing), and --trusted.
func fileTrust(c *cli.Context) (map[string]bool, error) {
	trusted := map[string]bool{}
	for _, p := range c.StringSlice("trusted") {
		certs, err := certificate.LoadCertificates(p)
		if err != nil {
			return nil, err
		}
		for _, ct := range certs {
			trusted[certificate.Fingerprint(ct)] = true
		}
	}
	s, err := ledger.Open(c.String("db"), ledger.Options{ReadOnly: true})
	if errors.Is(err, ledger.ErrNotInitialised) && len(trusted) > 0 {
		return trusted, nil
	}
	if err != nil {
		return nil, withHint(err, "point --db at the ledger that signed the file, or pass the signer's certificate with --trusted CERT.pem")
	}
	defer s.Close()
	keys, err := recordedFingerprints(s)
	if err != nil {
		return nil, err
	}
	for fp := range keys {
		trusted[fp] = true
	}
	if len(trusted) == 0 {
		return nil, withHint(fmt.Errorf("no trusted certificate: the ledger %s records no signing key", s.Path()),
			"pass the signer's certificate with --trusted CERT.pem")
	}
	return trusted, nil
}
