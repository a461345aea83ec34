package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// discloseFlags are the flags of every command that discloses ledger data.
var discloseFlags = []cli.Flag{
	&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
	&cli.BoolFlag{Name: "sign", Usage: "also write a detached CMS signature to FILE.p7s (needs -o)"},
	&cli.StringFlag{Name: "reason", Usage: "why, recorded in the access log (DPA 2018 s62)"},
}

// yearFlags select years for foi, report and export.
var yearFlags = []cli.Flag{
	&cli.IntSliceFlag{Name: "year", Usage: "a year to include (repeatable); default all"},
	&cli.BoolFlag{Name: "financial-year", Usage: "UK financial years (1 April to 31 March), shown as 2020/21; --year 2020 is 2020/21"},
}

const signHelp = "With -o FILE --sign, FILE.p7s is a detached CMS (PKCS #7) signature of FILE made with the\n" +
	"ledger's signing key. Check it with 'itad verify-file FILE', or with OpenSSL:\n\n" +
	"  openssl cms -verify -binary -inform PEM -in FILE.p7s -content FILE -CAfile itad-signing-cert.pem -purpose any -out /dev/null"

// checkDisclose rejects --sign without -o, before any work is done.
func checkDisclose(c *cli.Context) error {
	if c.Bool("sign") && c.String("output") == "" {
		return usageErr("--sign needs -o FILE: the signature is written to FILE.p7s")
	}
	return nil
}

// yearsSubject names the years of a disclosure in its access-log event.
func yearsSubject(years []int, financial bool) string {
	if len(years) == 0 {
		return "all years"
	}
	var ls []string
	for _, y := range years {
		if financial {
			ls = append(ls, ledger.FormatFinancialYear(y))
		} else {
			ls = append(ls, strconv.Itoa(y))
		}
	}
	return strings.Join(ls, ",")
}

// disclose writes what write produces to -o FILE or standard output, then
// records the disclosure with s.LogAccess(action, subject, --reason, payload
// plus the output's name, size and SHA-256), and with --sign writes
// FILE.p7s. A file appears under its name only once the access is logged.
func disclose(c *cli.Context, s *ledger.Store, action, subject string, payload map[string]any, write func(io.Writer) error) error {
	var signer *certificate.Signer
	if c.Bool("sign") {
		var err error
		if signer, err = loadSigner(c); err != nil {
			return err
		}
		payload["signer"] = certificate.Fingerprint(signer.Cert)
	}
	out := c.String("output")
	if out == "" {
		d := ledger.NewOutputDigest(c.App.Writer)
		if err := write(d); err != nil {
			return err
		}
		payload["output"], payload["bytes"], payload["sha256"] = "-", d.Len(), d.SHA256()
		return s.LogAccess(action, subject, c.String("reason"), payload)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	d := ledger.NewOutputDigest(tmp)
	err = write(d)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	payload["output"], payload["bytes"], payload["sha256"] = filepath.Base(out), d.Len(), d.SHA256()
	if err := s.LogAccess(action, subject, c.String("reason"), payload); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	if signer == nil {
		return nil
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	sig, err := certificate.SignDetached(data, signer, s.Now())
	if err != nil {
		return err
	}
	return os.WriteFile(out+".p7s", sig, 0o644)
}

var foiCommand = &cli.Command{
	Name:  "foi",
	Usage: "answer a Freedom of Information request about disposals",
	Description: "Prints a ready-to-paste answer for each year: storage devices (hdd, ssd, tape, usb, optical,\n" +
		"memory-card) shredded or otherwise destroyed, by count and weight; the proportion destroyed\n" +
		"rather than wiped; those incinerated; all items of electronics and hardware destroyed; the\n" +
		"contractors and sites; and the sanitisation standards used. Each device counts once, by its\n" +
		"final disposition. A weight is given with how many items it covers, never as a bare 0.\n" +
		"Fields marked with 'itad exempt set' are withheld, citing the sections of the Act, in every\n" +
		"format.\n\n" + "Weights: " + ledger.WeightRule + "\n\n" + signHelp,
	Flags: append(append([]cli.Flag{
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text, markdown, json or csv"},
	}, yearFlags...), discloseFlags...),
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		if !oneOf(format, "text", "markdown", "json", "csv") {
			return usageErr("--format %q: use text, markdown, json or csv", format)
		}
		if err := checkDisclose(c); err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		q := ledger.FOIQuery{Years: c.IntSlice("year"), FinancialYear: c.Bool("financial-year")}
		a, err := s.FOI(q)
		if err != nil {
			return err
		}
		var withheld []string
		for _, e := range a.Withheld {
			withheld = append(withheld, e.Field)
		}
		payload := map[string]any{"years": q.Years, "financial_year": q.FinancialYear, "format": format, "withheld": withheld}
		return disclose(c, s, "foi", yearsSubject(q.Years, q.FinancialYear), payload, func(w io.Writer) error {
			return ledger.WriteFOI(w, format, a)
		})
	},
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

var exemptCommand = &cli.Command{
	Name:  "exempt",
	Usage: "withhold contractor names or sites from FOI answers, citing exemptions",
	Description: "A withheld field (" + strings.Join(ledger.ExemptFields, " or ") + ") appears in no FOI answer, in any format:\n" +
		"the answer says it is withheld under the sections given, such as 24(1) (national security)\n" +
		"and 31(1) (law enforcement). Internal reports and exports are not affected.",
	Subcommands: []*cli.Command{
		{
			Name:      "set",
			Usage:     "withhold a field under one or more sections of the Act",
			ArgsUsage: "FIELD",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "section", Required: true, Usage: "a section of the Freedom of Information Act 2000, e.g. 24(1) (repeatable)"},
				&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail (e.g. the public interest test)"},
			},
			Action: func(c *cli.Context) error {
				field, err := oneArg(c, "FIELD")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				e, changed, err := s.SetExemption(field, c.StringSlice("section"), c.String("reason"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, e)
				}
				verb := "is now"
				if !changed {
					verb = "was already"
				}
				fmt.Fprintf(c.App.Writer, "%s %s withheld from FOI answers: %s\n", e.Field, verb, e.Statement())
				return nil
			},
		},
		{
			Name:      "clear",
			Usage:     "stop withholding a field",
			ArgsUsage: "FIELD",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
			Action: func(c *cli.Context) error {
				field, err := oneArg(c, "FIELD")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				if err := s.ClearExemption(field, c.String("reason")); err != nil {
					if errors.Is(err, ledger.ErrNotFound) {
						return withHint(fmt.Errorf("%s is not withheld", field), "see 'itad exempt list'")
					}
					return err
				}
				fmt.Fprintf(c.App.Writer, "%s is no longer withheld from FOI answers\n", field)
				return nil
			},
		},
		{
			Name:      "list",
			Usage:     "list the fields withheld from FOI answers",
			ArgsUsage: " ",
			Action: func(c *cli.Context) error {
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				es, err := s.Exemptions()
				if err != nil {
					return err
				}
				if c.Bool("json") {
					if es == nil {
						es = []ledger.Exemption{}
					}
					return printJSON(c, es)
				}
				if len(es) == 0 {
					fmt.Fprintln(c.App.Writer, "no fields are withheld from FOI answers")
					return nil
				}
				var rows [][]string
				for _, e := range es {
					rows = append(rows, []string{e.Field, strings.Join(e.Sections, ", ")})
				}
				return ledger.WriteTable(c.App.Writer, []string{"FIELD", "SECTIONS"}, nil, rows)
			},
		},
	},
}

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
		if err := checkDisclose(c); err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		q := ledger.ExportQuery{Years: c.IntSlice("year"), FinancialYear: c.Bool("financial-year")}
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
		fmt.Fprintf(c.App.Writer, "exported %s rows to %s (%s kg, weight recorded for %s of them)\n",
			ledger.Thousands(sum.Rows), c.String("output"), ledger.FormatKg(sum.WeightG), ledger.Thousands(sum.WeighedRows))
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
		"is the ledger's signing certificate (--cert, default itad-signing-cert.pem beside the ledger)\n" +
		"or one given with --trusted. Exit status 3 if the file was changed or the signer is not\n" +
		"trusted. The same check with OpenSSL:\n\n" +
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
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		sig, err := os.ReadFile(sigPath)
		if err != nil {
			return withHint(err, "pass the signature with --sig FILE")
		}
		trusted := map[string]bool{}
		_, certPath := keyPaths(c)
		if certs, err := certificate.LoadCertificates(certPath); err == nil {
			trusted[certificate.Fingerprint(certs[0])] = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, p := range c.StringSlice("trusted") {
			certs, err := certificate.LoadCertificates(p)
			if err != nil {
				return err
			}
			for _, ct := range certs {
				trusted[certificate.Fingerprint(ct)] = true
			}
		}
		if len(trusted) == 0 {
			return withHint(fmt.Errorf("no trusted certificate: %s does not exist", certPath),
				"pass the ledger's certificate with --cert or --trusted CERT.pem")
		}
		signer, err := certificate.VerifyDetached(data, sig)
		if err != nil {
			return &userError{err: fmt.Errorf("%s: %w", name, err), code: exitVerifyFailed,
				hint: "the file is not exactly what was signed: obtain the original from the ledger"}
		}
		fp := certificate.Fingerprint(signer)
		if !trusted[fp] {
			return &userError{err: fmt.Errorf("%s: signed by %q (SHA-256 fingerprint %s), which is not a trusted certificate",
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
