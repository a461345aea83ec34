package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var importCommand = &cli.Command{
	Name:      "import",
	Usage:     "import devices and disposals from a CSV file",
	ArgsUsage: "FILE.csv",
	Description: "The file must have this header (columns in any order; optional ones may be empty):\n\n  " +
		strings.Join(ledger.ImportColumns, ",") + "\n\n" +
		"weight_kg is kilograms with up to three decimals; disposed_on is YYYY-MM-DD.\n" +
		"The whole file is checked: if any row is bad, nothing is imported and every problem is\n" +
		"listed as FILE:LINE: field: problem. Rows already in the ledger are skipped, so importing\n" +
		"the same file twice changes nothing. New contractors and batches are created and reported.",
	Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
	Action: func(c *cli.Context) error {
		name, err := oneArg(c, "FILE.csv")
		if err != nil {
			return err
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		s, err := openLedgerOpts(c, ledger.Options{CacheKiB: 128 * 1024})
		if err != nil {
			return err
		}
		defer s.Close()
		res, err := s.Import(name, f, ledger.ImportOptions{Reason: c.String("reason")})
		var ie *ledger.ImportError
		if errors.As(err, &ie) {
			if c.Bool("json") {
				printJSON(c, ie)
			}
			return withHint(err, "fix the rows named above and import the file again")
		}
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c, res)
		}
		w := c.App.Writer
		fmt.Fprintf(w, "imported %s: %d rows, %d devices added, %d disposals added, %d already recorded\n",
			name, res.Rows, res.DevicesAdded, res.DisposalsAdded, res.Unchanged)
		if len(res.NewContractors) > 0 {
			fmt.Fprintf(w, "new contractors (%d): %s\n", len(res.NewContractors), firstFew(res.NewContractors, "; "))
		}
		if len(res.NewBatches) > 0 {
			fmt.Fprintf(w, "new batches (%d): %s\n", len(res.NewBatches), firstFew(res.NewBatches, ", "))
		}
		return nil
	},
}

var reportCommand = &cli.Command{
	Name:  "report",
	Usage: "counts and weights per year of each device's final disposition",
	Description: "Counts each device once, by its final disposition: its latest destroy-category disposal,\n" +
		"else its latest. Weights are the sum of recorded weights, with how many items they cover;\n" +
		"no weight is ever estimated.",
	Flags: []cli.Flag{
		&cli.IntSliceFlag{Name: "year", Usage: "a year to include (repeatable); default all"},
		&cli.StringSliceFlag{Name: "by", Usage: "group by type,method,category,contractor,site"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text, csv or json"},
		&cli.BoolFlag{Name: "financial-year", Usage: "UK financial years (1 April to 31 March), shown as 2020/21"},
		&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"},
	},
	Action: func(c *cli.Context) error {
		by, err := ledger.ParseBy(c.StringSlice("by"))
		if err != nil {
			return usageErr("--by: %v", err)
		}
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		if format != "text" && format != "csv" && format != "json" {
			return usageErr("--format %q: use text, csv or json", format)
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		q := ledger.ReportQuery{Years: c.IntSlice("year"), By: by, FinancialYear: c.Bool("financial-year")}
		rows, err := s.Report(q)
		if err != nil {
			return err
		}
		if err := s.LogAccess("report", "report", c.String("reason"), map[string]any{"years": q.Years, "by": by, "financial_year": q.FinancialYear, "format": format}); err != nil {
			return err
		}
		return ledger.WriteReport(c.App.Writer, format, by, rows)
	},
}

// firstFew joins up to ten names and says how many more there are.
func firstFew(names []string, sep string) string {
	const max = 10
	if len(names) <= max {
		return strings.Join(names, sep)
	}
	return fmt.Sprintf("%s and %d more (itad --json import lists them all)", strings.Join(names[:max], sep), len(names)-max)
}
