package main

import (
	"fmt"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var disposeCommand = &cli.Command{
	Name:      "dispose",
	Usage:     "record that a device was wiped or destroyed",
	ArgsUsage: "SERIAL",
	Description: "Records a disposal of a device already in the ledger. A device may have several\n" +
		"(wiped, later shredded); of those not voided, its latest destroy-category disposal, else its\n" +
		"latest, is final and only that one counts in reports. A disposal recorded in error is voided\n" +
		"with 'itad disposal void UUID --reason R', never deleted.\n\n" +
		"Methods (NIST SP 800-88 category): overwrite (clear); block-erase, crypto-erase, degauss\n" +
		"(purge); shred, disintegrate, pulverise, incinerate (destroy). Degauss is refused for flash\n" +
		"and optical media.\n\n" +
		"A device's life in order: nothing follows a destroy-category disposal; the same method on\n" +
		"the same day twice is a duplicate; a new disposal is not dated before the device's latest.\n" +
		"Dates after tomorrow (UTC) or before 1990 are refused. --weight carries its unit (0.62kg,\n" +
		"620g) and must be plausible for the type (see README) unless --allow-unusual-weight.\n\n" +
		"The NIST SP 800-88 Appendix G flags record what its sample certificate asks for beyond the\n" +
		"above; a field not recorded prints \"not recorded\", a validation not recorded \"not validated\"\n" +
		"(record one later with 'itad disposal validate SERIAL').",
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "method", Required: true, Usage: "overwrite, block-erase, crypto-erase, degauss, shred, disintegrate, pulverise or incinerate"},
		&cli.StringFlag{Name: "on", Required: true, Usage: "date, YYYY-MM-DD"},
		&cli.StringFlag{Name: "contractor", Required: true, Usage: "a contractor recorded with 'itad contractor add'"},
		&cli.StringFlag{Name: "standard", Usage: "e.g. \"NIST SP 800-88 Rev. 2\", \"DIN 66399 H-5\""},
		&cli.StringFlag{Name: "tool", Usage: "tool and version, e.g. \"nwipe 0.35\""},
		&cli.StringFlag{Name: "verified", Usage: "yes, no or sample"},
		&cli.StringFlag{Name: "weight", Usage: "with its unit, e.g. 0.62kg or 620g"},
		&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept a weight outside the plausible range for the device's type"},
		&cli.StringFlag{Name: "batch", Usage: "destruction run reference (an open batch)"},
		&cli.StringFlag{Name: "operator", Usage: "who carried out the sanitisation"},
		&cli.StringFlag{Name: "witness", Usage: "who witnessed it"},
		&cli.StringFlag{Name: "notes", Usage: "free text"},
	}, appendixGFlags()...),
	Action: func(c *cli.Context) error {
		serial, err := oneArg(c, "SERIAL")
		if err != nil {
			return err
		}
		w, err := optWeight(c, "weight")
		if err != nil {
			return err
		}
		if err := checkDateFlag(c, "on"); err != nil {
			return err
		}
		p := ledger.Disposal{Serial: serial, Method: ledger.Method(c.String("method")), DisposedOn: c.String("on"),
			Contractor: c.String("contractor"), Standard: c.String("standard"), Tool: c.String("tool"),
			Verified: c.String("verified"), WeightG: w, Batch: c.String("batch"), Operator: c.String("operator"),
			Witness: c.String("witness"), Notes: c.String("notes")}
		if p.AppG, err = appendixGFromFlags(c); err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		p, err = s.RecordDisposalOpts(p, ledger.RecordOptions{AllowUnusualWeight: c.Bool("allow-unusual-weight")})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c, p)
		}
		fmt.Fprintf(c.App.Writer, "disposal of %s recorded: %s (%s) on %s by %s\n", p.Serial, p.Method, p.Category, p.DisposedOn, p.Contractor)
		return nil
	},
}
