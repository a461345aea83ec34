package main

import (
	"fmt"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// appendixGCategory groups the Appendix G flags in help output.
const appendixGCategory = "NIST SP 800-88 Appendix G"

// appendixGFlags are one flag a field of ledger.AppendixGFields
// (--operator-title, --validated-on, ...).
func appendixGFlags() []cli.Flag {
	fs := make([]cli.Flag, 0, len(ledger.AppendixGFields))
	for _, f := range ledger.AppendixGFields {
		fs = append(fs, &cli.StringFlag{Name: f.Flag(), Usage: f.Usage, Category: appendixGCategory})
	}
	return fs
}

// appendixGFromFlags reads the Appendix G flags that are set.
func appendixGFromFlags(c *cli.Context) (ledger.AppendixG, error) {
	var g ledger.AppendixG
	for _, f := range ledger.AppendixGFields {
		if !c.IsSet(f.Flag()) {
			continue
		}
		if err := f.Set(&g, c.String(f.Flag())); err != nil {
			return g, &userError{err: fmt.Errorf("--%s: %w", f.Flag(), err), code: exitUsage}
		}
	}
	return g, nil
}

// validateFlags are the flags of 'disposal validate' and 'batch validate'.
var validateFlags = []cli.Flag{
	&cli.StringFlag{Name: "name", Required: true, Usage: "who validated the sanitisation"},
	&cli.StringFlag{Name: "title", Usage: "their title"},
	&cli.StringFlag{Name: "org", Usage: "their organisation"},
	&cli.StringFlag{Name: "location", Usage: "their location"},
	&cli.StringFlag{Name: "phone", Usage: "their phone"},
	&cli.StringFlag{Name: "on", Required: true, Usage: "date of the validation, YYYY-MM-DD"},
	&cli.StringFlag{Name: "reason", Usage: "why it is recorded now (kept in the log)"},
}

// validationFromFlags is the validation block the validate flags give.
func validationFromFlags(c *cli.Context) (ledger.AppendixG, error) {
	if err := checkDateFlag(c, "on"); err != nil {
		return ledger.AppendixG{}, err
	}
	g := ledger.AppendixG{ValidatorName: c.String("name"), ValidatorTitle: c.String("title"), ValidatorOrg: c.String("org"),
		ValidatorLocation: c.String("location"), ValidatorPhone: c.String("phone"), ValidatedOn: c.String("on")}
	return g, g.Validate()
}

// appendixGCommand returns the 'validate' and 'details' subcommands of
// disposal (what "SERIAL") or batch (what "REF"), recording with set.
func appendixGCommands(what, of string, set func(s *ledger.Store, subject string, g ledger.AppendixG, reason string) error) []*cli.Command {
	record := func(fields func(*cli.Context) (ledger.AppendixG, error), done string) cli.ActionFunc {
		return func(c *cli.Context) error {
			subject, err := oneArg(c, what)
			if err != nil {
				return err
			}
			g, err := fields(c)
			if err != nil {
				return err
			}
			if g.IsZero() {
				return usageErr("nothing to record: give at least one of the %s flags", appendixGCategory)
			}
			s, err := openLedger(c)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := set(s, subject, g, c.String("reason")); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s of %s recorded\n", done, subject)
			return nil
		}
	}
	return []*cli.Command{
		{
			Name:      "validate",
			Usage:     "record who validated the sanitisation of " + of + " and when (NIST SP 800-88 Appendix G)",
			ArgsUsage: what,
			Description: "Records the validation block of the certificate as an appendix_g.set event. Until a\n" +
				"validation is recorded, certificates print \"not validated\" in its place, never a date.\n" +
				"Current certificates that print it become stale: issue them again.",
			Flags:  validateFlags,
			Action: record(validationFromFlags, "validation"),
		},
		{
			Name:      "details",
			Usage:     "record NIST SP 800-88 Appendix G details of " + of + " after the fact",
			ArgsUsage: what,
			Description: "Records the Appendix G fields given (the same flags as when recording it) as an\n" +
				"appendix_g.set event; fields not given keep their value. Current certificates that print\n" +
				"them become stale: issue them again.",
			Flags:  append(appendixGFlags(), &cli.StringFlag{Name: "reason", Usage: "why it is recorded now (kept in the log)"}),
			Action: record(appendixGFromFlags, "appendix G details"),
		},
	}
}

func init() {
	disposalCommand.Subcommands = append(disposalCommand.Subcommands, appendixGCommands("SERIAL", "a device's final disposition",
		func(s *ledger.Store, serial string, g ledger.AppendixG, reason string) error {
			return s.SetDisposalAppendixG(serial, g, reason)
		})...)
	batchCommand.Subcommands = append(batchCommand.Subcommands, appendixGCommands("REF", "a destruction run",
		func(s *ledger.Store, ref string, g ledger.AppendixG, reason string) error {
			return s.SetBatchAppendixG(ref, g, reason)
		})...)
}
