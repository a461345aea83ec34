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

var importCommand = &cli.Command{
	Name:      "import",
	Usage:     "import devices and disposals from a CSV file or an .xlsx workbook",
	ArgsUsage: "FILE.csv|FILE.xlsx",
	Description: "The file's header names its columns, in any order:\n\n  " +
		strings.Join(ledger.ImportColumns, ",") + "\n\n" +
		"Only " + strings.Join(ledger.RequiredColumns, ", ") + " are required; the others may be left out or empty.\n" +
		"Headers are matched ignoring case, spaces, punctuation and a unit in brackets, and these\n" +
		"names are known too (give others with --map 'Your Header=column'):\n\n" + aliasTable() + "\n" +
		"CSV: comma, semicolon or tab separated (from the header line); UTF-8 with or without BOM,\n" +
		"UTF-16 with BOM, or --encoding windows-1252|latin1. .xlsx: the first sheet, or --sheet NAME;\n" +
		"lines are the sheet's row numbers.\n" +
		"weight_kg is kilograms with up to three decimals; disposed_on is YYYY-MM-DD.\n" +
		"Each row is checked as 'itad dispose' checks one: dates, plausible weights, and each\n" +
		"device's life in order (rows for one device in file order).\n" +
		"The whole file is checked: if any row is bad, nothing is imported and every problem is\n" +
		"listed as FILE:LINE: field: problem. Rows already in the ledger are skipped, so importing\n" +
		"the same file twice changes nothing. New contractors and batches are created and reported.\n" +
		"--dry-run checks the file and says what would be added, writing nothing (same exit status).",
	Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"},
		&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept weights outside the plausible range for their type in every row " +
			"(one row says so with \"unusual\" in its notes)"},
		&cli.StringFlag{Name: "encoding", Usage: "encoding of a CSV file without a byte-order mark: utf-8 (default), windows-1252 or latin1"},
		&cli.StringSliceFlag{Name: "map", Usage: "name a column whose header itad does not know, as 'Your Header=column' (repeatable)"},
		&cli.StringFlag{Name: "sheet", Usage: "the sheet of an .xlsx workbook to import (default: the first)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "check the file and print what would be added, without writing anything"}},
	Action: func(c *cli.Context) error {
		name, err := oneArg(c, "FILE.csv")
		if err != nil {
			return err
		}
		colMap, err := ledger.ParseColumnMap(c.StringSlice("map"))
		if err != nil {
			return usageErr("%s", strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
		}
		if e := strings.ToLower(c.String("encoding")); e != "" && !oneOf(e, append(ledger.ImportEncodings, "utf8", "cp1252", "iso-8859-1")...) {
			return usageErr("--encoding %q: use %s", c.String("encoding"), strings.Join(ledger.ImportEncodings, ", "))
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
		bar := newProgress(c, fileLabel("import", name), fileSize(f)).Bytes()
		res, err := s.Import(name, f, ledger.ImportOptions{Reason: c.String("reason"), Progress: bar.Set,
			AllowUnusualWeight: c.Bool("allow-unusual-weight"), Encoding: c.String("encoding"), Map: colMap,
			Sheet: c.String("sheet"), DryRun: c.Bool("dry-run")})
		bar.Done()
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
		rows, devs, disps := ledger.CountOf(int64(res.Rows), "row", "rows"), ledger.CountOf(int64(res.DevicesAdded), "device", "devices"),
			ledger.CountOf(int64(res.DisposalsAdded), "disposal", "disposals")
		if c.Bool("dry-run") {
			fmt.Fprintf(w, "dry run of %s: %s, %s and %s would be added, %s already recorded; nothing was written\n", name,
				rows, devs, disps, ledger.Thousands(int64(res.Unchanged)))
		} else {
			fmt.Fprintf(w, "imported %s: %s, %s added, %s added, %s already recorded\n", name,
				rows, devs, disps, ledger.Thousands(int64(res.Unchanged)))
		}
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
		"else its latest. Each weight is given with how many items it covers.\n\n" +
		"Weights: " + ledger.WeightRule + "\n\n" +
		"--format pdf -o FILE writes the annual summary for management: totals by year, type and\n" +
		"method with weights and their coverage, and a chart of items per year by NIST SP 800-88\n" +
		"category. The same ledger always gives the same PDF bytes.\n\n" + signHelp,
	Flags: append([]cli.Flag{
		&cli.StringSliceFlag{Name: "by", Usage: "group by type,method,category,contractor,site"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text, csv, json or pdf (pdf needs -o)"},
	}, append(append([]cli.Flag{}, yearFlags...), discloseFlags...)...),
	Action: func(c *cli.Context) error {
		by, err := ledger.ParseBy(c.StringSlice("by"))
		if err != nil {
			return usageErr("--by: %v", err)
		}
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		if !oneOf(format, "text", "csv", "json", "pdf") {
			return usageErr("--format %q: use text, csv, json or pdf", format)
		}
		if format == "pdf" && c.String("output") == "" {
			return usageErr("--format pdf needs -o FILE")
		}
		if format == "pdf" && len(by) > 0 {
			return usageErr("--by does not apply to --format pdf, which shows totals by year, type and method")
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
		fin := c.Bool("financial-year")
		payload := map[string]any{"years": years, "by": by, "financial_year": fin, "format": format}
		var write func(io.Writer) error
		if format == "pdf" {
			pdf, err := annualPDF(s, years, fin)
			if err != nil {
				return err
			}
			write = func(w io.Writer) error { _, err := w.Write(pdf); return err }
		} else {
			rows, err := s.Report(ledger.ReportQuery{Years: years, By: by, FinancialYear: fin})
			if err != nil {
				return err
			}
			write = func(w io.Writer) error { return ledger.WriteReport(w, format, by, rows) }
		}
		if err := disclose(c, s, "report", "report", payload, write); err != nil {
			return err
		}
		if format == "pdf" {
			fmt.Fprintf(c.App.Writer, "wrote %s\n", c.String("output"))
		}
		return nil
	},
}

// annualPDF renders the annual summary of the years from one snapshot.
func annualPDF(s *ledger.Store, years []int, fin bool) ([]byte, error) {
	q := func(by ...string) ledger.ReportQuery {
		return ledger.ReportQuery{Years: years, FinancialYear: fin, By: by}
	}
	rs, err := s.Reports(q(), q("type"), q("method"), q("category"))
	if err != nil {
		return nil, err
	}
	org, err := s.Setting(ledger.SettingOrg)
	if err != nil {
		return nil, err
	}
	asOf, err := s.DataAsOf()
	if err != nil {
		return nil, err
	}
	return certificate.RenderAnnualReport(certificate.AnnualReport{Org: org, FinancialYear: fin, AsOf: asOf,
		ByYear: rs[0], ByType: rs[1], ByMethod: rs[2], ByCategory: rs[3], WeightRule: ledger.WeightRule})
}

// aliasTable lists the header names import knows for each column.
func aliasTable() string {
	var b strings.Builder
	for _, col := range ledger.ImportColumns {
		fmt.Fprintf(&b, "  %-12s %s\n", col, strings.Join(ledger.ImportAliases[col], ", "))
	}
	return b.String()
}

// firstFew joins up to ten names and says how many more there are.
func firstFew(names []string, sep string) string {
	const max = 10
	if len(names) <= max {
		return strings.Join(names, sep)
	}
	return fmt.Sprintf("%s and %d more (itad --json import lists them all)", strings.Join(names[:max], sep), len(names)-max)
}
