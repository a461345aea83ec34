package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var batchCommand = &cli.Command{
	Name:  "batch",
	Usage: "destruction runs: many devices destroyed together, weighed once",
	Subcommands: []*cli.Command{
		{
			Name:      "add",
			Usage:     "open a destruction run",
			ArgsUsage: "REF",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "site", Usage: "site where the device was held or the run took place"},
				&cli.StringFlag{Name: "contractor", Usage: "a recorded contractor"},
				&cli.StringFlag{Name: "on", Usage: "date of the run, YYYY-MM-DD"},
				&cli.StringFlag{Name: "witness", Usage: "who witnessed it"},
				&cli.StringFlag{Name: "gross-weight", Usage: "weighed output with its unit, e.g. 412.5kg"},
				&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept a gross weight outside the plausible range"},
			}, appendixGFlags()...),
			Action: func(c *cli.Context) error {
				ref, err := oneArg(c, "REF")
				if err != nil {
					return err
				}
				w, err := optWeight(c, "gross-weight")
				if err != nil {
					return err
				}
				if err := checkDateFlag(c, "on"); err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				g, err := appendixGFromFlags(c)
				if err != nil {
					return err
				}
				b, err := s.AddBatchOpts(ledger.Batch{Ref: ref, Site: c.String("site"), Contractor: c.String("contractor"),
					RunOn: c.String("on"), Witness: c.String("witness"), GrossWeightG: w, AppG: g},
					ledger.RecordOptions{AllowUnusualWeight: c.Bool("allow-unusual-weight")})
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, b)
				}
				fmt.Fprintf(c.App.Writer, "batch %s opened (%s)\n", b.Ref, b.UUID)
				return nil
			},
		},
		{
			Name:      "close",
			Usage:     "close a destruction run, optionally recording its weighed output",
			ArgsUsage: "REF",
			Flags: []cli.Flag{&cli.StringFlag{Name: "gross-weight", Usage: "weighed output with its unit, e.g. 412.5kg"},
				&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept a gross weight outside the plausible range for the run's items"}},
			Action: func(c *cli.Context) error {
				ref, err := oneArg(c, "REF")
				if err != nil {
					return err
				}
				w, err := optWeight(c, "gross-weight")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				b, err := s.CloseBatchOpts(ref, w, ledger.RecordOptions{AllowUnusualWeight: c.Bool("allow-unusual-weight")})
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, b)
				}
				fmt.Fprintf(c.App.Writer, "batch %s closed at %s\n", b.Ref, displayTime(b.ClosedAt))
				return nil
			},
		},
		batchAmendCommand,
		{
			Name:      "show",
			Usage:     "show a destruction run and its devices",
			ArgsUsage: "REF",
			Action: func(c *cli.Context) error {
				ref, err := oneArg(c, "REF")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				bd, err := s.Batch(ref)
				if err != nil {
					return err
				}
				certs, err := s.BatchCertificates(bd.Batch.Ref)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					rows := make([]certRow, len(certs))
					for i, ct := range certs {
						rows[i] = certRow{ct, ct.Status()}
					}
					return printJSON(c, struct {
						ledger.BatchDetail
						Certificates []certRow `json:"certificates"`
					}{bd, rows})
				}
				b := bd.Batch
				gross, status := "not weighed", "open"
				if b.GrossWeightG != nil {
					gross = ledger.FormatKg(*b.GrossWeightG) + " kg"
				}
				if b.ClosedAt != "" {
					status = "closed " + displayTime(b.ClosedAt)
				}
				w := c.App.Writer
				tw := table(w)
				for _, kv := range [][2]string{{"Batch", b.Ref}, {"Status", status}, {"Date", b.RunOn}, {"Site", b.Site},
					{"Contractor", b.Contractor}, {"Witness", b.Witness}, {"Gross weight", gross}} {
					fmt.Fprintf(tw, "%s:\t%s\n", kv[0], dash(kv[1]))
				}
				tw.Flush()
				fmt.Fprintf(w, "\nDevices (%d):\n", len(bd.Disposals))
				tw = table(w)
				fmt.Fprintln(tw, "  SERIAL\tTYPE\tMAKE\tMODEL\tMETHOD\tDATE\tWEIGHT")
				for i, p := range bd.Disposals {
					d := bd.Devices[i]
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Serial, d.Type.Label(), dash(d.Make), dash(d.Model), p.Method, p.DisposedOn,
						weightCell(bd.Weights[i]))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(w, "\nWeight: %s\n", bd.Total.Answer())
				if len(certs) > 0 {
					fmt.Fprintf(w, "\nCertificates (%d):\n", len(certs))
					return printCertificates(w, certs, "  ")
				}
				return nil
			},
		},
		{
			Name:  "list",
			Usage: "list destruction runs",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "open", Usage: "only the runs not yet closed"}},
			Action: func(c *cli.Context) error {
				fetch := (*ledger.Store).Batches
				if c.Bool("open") {
					fetch = (*ledger.Store).OpenBatches
				}
				return listAction(fetch, "REF\tDATE\tSITE\tCONTRACTOR\tGROSS WEIGHT\tCLOSED", func(b ledger.Batch) string {
					g := "-"
					if b.GrossWeightG != nil {
						g = ledger.FormatKg(*b.GrossWeightG) + " kg"
					}
					return strings.Join([]string{b.Ref, dash(b.RunOn), dash(b.Site), dash(b.Contractor), g, dash(displayTime(b.ClosedAt))}, "\t")
				})(c)
			},
		},
	},
}

var batchAmendFlags = []amendFlag{{"site", "site"}, {"contractor", "contractor"}, {"on", "run_on"}, {"witness", "witness"},
	{"gross-weight", "gross_weight_grams"}}

var batchAmendCommand = &cli.Command{
	Name:      "amend",
	Usage:     "correct a destruction run, open or closed (the correction and its reason are kept)",
	ArgsUsage: "REF",
	Description: "Records a batch.amend event with each changed field's old and new value and updates the\n" +
		"batch, whether it is open or closed; closing it is not undone. Reports, FOI answers and exports\n" +
		"use the corrected values (a changed --gross-weight changes the share of each unweighed item).\n" +
		"--gross-weight \"\" records that the run was not weighed; --contractor \"\" names none.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "gross-weight", Usage: "weighed output, e.g. 412.5kg"},
		&cli.StringFlag{Name: "witness", Usage: "who witnessed it"}, &cli.StringFlag{Name: "on", Usage: "date of the run, YYYY-MM-DD"},
		&cli.StringFlag{Name: "site", Usage: "site where the device was held or the run took place"}, &cli.StringFlag{Name: "contractor", Usage: "a recorded contractor"},
		&cli.StringFlag{Name: "reason", Required: true, Usage: "why the record was wrong (required)"},
		&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept a gross weight outside the plausible range for the run's items"},
	},
	Action: amendAction("REF", batchAmendFlags, func(c *cli.Context, s *ledger.Store, ref string, set map[string]string) (string, []ledger.Change, error) {
		b, cs, err := s.AmendBatchOpts(ref, set, c.String("reason"), c.Bool("allow-unusual-weight"))
		return "batch " + b.Ref, cs, err
	}),
}

// displayTime shows a stored RFC 3339 UTC time to the second for people.
func displayTime(s string) string {
	t, err := time.Parse(ledger.TimeFormat, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// weightCell shows an item's weight under ledger.WeightRule: "0.620 kg",
// "0.650 kg (share of run)" or "-".
func weightCell(w ledger.Weight) string {
	switch {
	case w.Grams == nil:
		return "-"
	case w.Source == ledger.WeightBatch:
		return ledger.FormatKg(*w.Grams) + " kg (share of run)"
	}
	return ledger.FormatKg(*w.Grams) + " kg"
}
