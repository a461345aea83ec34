package main

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	forceFlag,
}

// forceFlag lets -o replace an existing file: without it every command
// that writes a named file refuses one that is already there.
var forceFlag = &cli.BoolFlag{Name: "force", Usage: "replace the -o file (and FILE.p7s) if it exists"}

// yearFlags select years for foi, report and export.
var yearFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "year", Usage: "years to include: 2021, 2021-2024 or 2021,2022 (repeatable); default all"},
	&cli.BoolFlag{Name: "financial-year", Usage: "UK financial years (1 April to 31 March), shown as 2020/21; --year 2020 is 2020/21"},
}

const signHelp = "With -o FILE --sign, FILE.p7s is a detached CMS (PKCS #7) signature of FILE made with the\n" +
	"ledger's signing key. Check it with 'itad verify-file FILE', or with OpenSSL:\n\n" +
	"  openssl cms -verify -binary -inform PEM -in FILE.p7s -content FILE -CAfile itad-signing-cert.pem -purpose any -out /dev/null"

// checkDisclose rejects --sign without -o, and an -o FILE (or its
// FILE.p7s) that exists without --force, before any work is done.
func checkDisclose(c *cli.Context) error {
	out := c.String("output")
	if c.Bool("sign") && out == "" {
		return usageErr("--sign needs -o FILE: the signature is written to FILE.p7s")
	}
	if out == "" {
		return nil
	}
	if err := checkOutput(c, out); err != nil {
		return err
	}
	if c.Bool("sign") {
		return checkOutput(c, out+".p7s")
	}
	return nil
}

// checkOutput refuses an output file that exists unless --force.
func checkOutput(c *cli.Context, path string) error {
	if c.Bool("force") {
		return nil
	}
	return existsErr(ledger.CheckNewFile(path))
}

// existsErr gives ledger.ErrFileExists its hint.
func existsErr(err error) error {
	if errors.Is(err, ledger.ErrFileExists) {
		return withHint(err, "choose another file name, or add --force to replace it")
	}
	return err
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

// disclose sends what write produces to -o FILE or standard output
// through ledger's record-then-disclose rule (Store.Disclose): the answer
// is rendered, its event (action, subject, --reason, payload plus the
// output's name, size and SHA-256) committed, and only then released.
// With --sign, FILE.p7s is written after it.
func disclose(c *cli.Context, s *ledger.Store, action, subject string, payload map[string]any, write func(io.Writer) error) error {
	if err := s.VetDisclosure(action, c.String("reason")); err != nil {
		return err
	}
	var signer *certificate.Signer
	if c.Bool("sign") {
		var err error
		if signer, err = loadSigner(c, s); err != nil {
			return err
		}
		payload["signer"] = certificate.Fingerprint(signer.Cert)
	}
	out := c.String("output")
	sink := ledger.Sink{Path: out, W: c.App.Writer, NoClobber: !c.Bool("force")}
	if err := s.Disclose(ledger.Disclosure{Action: action, Subject: subject, Reason: c.String("reason"), Payload: payload}, sink, write); err != nil {
		return existsErr(err)
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
	return existsErr(ledger.WriteNewFile(out+".p7s", sig, 0o644, c.Bool("force")))
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
		q := ledger.FOIQuery{Years: years, FinancialYear: c.Bool("financial-year")}
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
