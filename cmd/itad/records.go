package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns of text for people; stored text in them
// has its control and bidi characters escaped (ledger.PrintableWriter).
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(ledger.PrintableWriter{W: w}, 0, 0, 2, ' ', 0)
}

// optWeight parses an optional weight flag: it must carry its unit
// ("0.62kg", "620g"); a bare number is a usage error.
func optWeight(c *cli.Context, name string) (*int64, error) {
	if !c.IsSet(name) {
		return nil, nil
	}
	g, err := ledger.ParseWeight(c.String(name), "")
	if err != nil {
		return nil, &userError{err: fmt.Errorf("--%s: %s", name, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": ")),
			code: exitUsage, hint: "give the weight with its unit, e.g. 0.62kg or 620g"}
	}
	return &g, nil
}

// listAction builds the Action of a list command: it opens the ledger,
// fetches the records, and prints them as JSON (an empty list, never
// null) or as a table: the header, then one line per record.
func listAction[T any](fetch func(*ledger.Store) ([]T, error), header string, line func(T) string) cli.ActionFunc {
	return func(c *cli.Context) error {
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		items, err := fetch(s)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			if items == nil {
				items = []T{}
			}
			return printJSON(c, items)
		}
		tw := table(c.App.Writer)
		fmt.Fprintln(tw, header)
		for _, it := range items {
			fmt.Fprintln(tw, line(it))
		}
		return tw.Flush()
	}
}

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usageErr("%s takes exactly one %s (got %s)", c.Command.FullName(), what, ledger.CountOf(int64(c.NArg()), "argument", "arguments"))
	}
	return c.Args().First(), nil
}

var initCommand = &cli.Command{
	Name:      "init",
	Usage:     "create the ledger (safe to run again)",
	ArgsUsage: " ",
	Description: "Creates the ledger file named by --db (default ./itad.db) and records the organisation\n" +
		"whose name appears on certificates. Running it again changes nothing; with another --org it\n" +
		"refuses: rename the organisation with 'itad settings set org NAME --reason WHY'.\n" +
		"It creates a ledger only where there is no file, or an empty one (0 bytes, or an SQLite\n" +
		"database with nothing in it): any other file is refused and left alone. No other command\n" +
		"creates a ledger.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "org", Usage: "organisation name, shown on certificates"},
		&cli.StringFlag{Name: "media-destination", Usage: "default media destination for certificates (e.g. \"recycled after destruction\")"},
	},
	Action: func(c *cli.Context) error {
		s, err := openLedgerOpts(c, ledger.Options{Create: true})
		if errors.Is(err, ledger.ErrNotLedger) {
			return withHint(err, "init creates a ledger only where there is no file, or an empty one: move that file away, or choose another --db (ITAD_DB)")
		}
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Init(c.String("org")); err != nil {
			if errors.Is(err, ledger.ErrOrgSet) {
				return withHint(err, fmt.Sprintf("to rename the organisation, run 'itad settings set org %q --reason WHY': every certificate issued before becomes stale", strings.Join(strings.Fields(c.String("org")), " ")))
			}
			return err
		}
		if c.IsSet("media-destination") {
			if err := s.SetSetting(ledger.SettingDestination, strings.TrimSpace(c.String("media-destination")), ""); err != nil {
				return err
			}
		}
		org, _ := s.Setting(ledger.SettingOrg)
		if c.Bool("json") {
			return printJSON(c, map[string]any{"db": s.Path(), "org": org, "schema_version": ledger.SchemaVersion()})
		}
		fmt.Fprintf(c.App.Writer, "ledger %s ready (schema version %d)\n", s.Path(), ledger.SchemaVersion())
		if org == "" {
			fmt.Fprintln(c.App.Writer, "no organisation set: run 'itad init --org NAME' so certificates name it")
		} else {
			fmt.Fprintf(c.App.Writer, "organisation: %s\n", org)
		}
		return nil
	},
}

var contractorCommand = &cli.Command{
	Name:  "contractor",
	Usage: "record and list erasure and destruction contractors",
	Subcommands: []*cli.Command{
		{
			Name:      "add",
			Usage:     "record a contractor",
			ArgsUsage: "NAME",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "accreditations", Usage: "comma-separated, e.g. \"ADISA, NAID AAA, ISO 27001\""},
				&cli.StringFlag{Name: "contract", Usage: "contract reference"},
			},
			Action: func(c *cli.Context) error {
				name, err := oneArg(c, "NAME")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				ct, err := s.AddContractor(ledger.Contractor{Name: name, Accreditations: c.String("accreditations"), ContractRef: c.String("contract")})
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, ct)
				}
				fmt.Fprintf(c.App.Writer, "contractor %s recorded (%s)\n", ct.Name, ct.UUID)
				return nil
			},
		},
		{
			Name:  "list",
			Usage: "list contractors",
			Action: listAction((*ledger.Store).Contractors, "NAME\tACCREDITATIONS\tCONTRACT", func(ct ledger.Contractor) string {
				return ct.Name + "\t" + ct.Accreditations + "\t" + ct.ContractRef
			}),
		},
	},
}

var deviceCommand = &cli.Command{
	Name:  "device",
	Usage: "record devices and show their history",
	Subcommands: []*cli.Command{
		{
			Name:      "add",
			Usage:     "record a device",
			ArgsUsage: "SERIAL",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "type", Required: true, Usage: "hdd, ssd, tape, usb, optical, memory-card, laptop, desktop, server, phone, tablet, network, printer, other"},
				&cli.StringFlag{Name: "make", Usage: "manufacturer, e.g. Seagate"},
				&cli.StringFlag{Name: "model", Usage: "model, e.g. Exos 7E8"},
				&cli.Int64Flag{Name: "capacity", Usage: "capacity in GB"},
				&cli.StringFlag{Name: "asset-tag", Usage: "the organisation's asset tag"},
				&cli.StringFlag{Name: "site", Usage: "site where the device was held or the run took place"},
			},
			Action: func(c *cli.Context) error {
				serial, err := oneArg(c, "SERIAL")
				if err != nil {
					return err
				}
				d := ledger.Device{Serial: serial, Type: ledger.DeviceType(c.String("type")), Make: c.String("make"),
					Model: c.String("model"), AssetTag: c.String("asset-tag"), Site: c.String("site")}
				if c.IsSet("capacity") {
					v := c.Int64("capacity")
					d.CapacityGB = &v
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				if d, err = s.AddDevice(d); err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, d)
				}
				fmt.Fprintf(c.App.Writer, "device %s recorded (%s)\n", d.Serial, d.UUID)
				return nil
			},
		},
		deviceAmendCommand, // amend.go
		{
			Name:      "show",
			Usage:     "show a device and its whole history",
			ArgsUsage: "SERIAL",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why the record is consulted (logged)"}},
			Action: func(c *cli.Context) error {
				serial, err := oneArg(c, "SERIAL")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				h, err := s.History(serial)
				if err != nil {
					return err
				}
				d := ledger.Disclosure{Action: "device.show", Subject: h.Device.Serial, Reason: c.String("reason")}
				return s.Disclose(d, ledger.Sink{W: c.App.Writer}, func(w io.Writer) error {
					if c.Bool("json") {
						return writeJSON(w, h)
					}
					return printHistory(w, h)
				})
			},
		},
	},
}

func printHistory(w io.Writer, h ledger.DeviceHistory) error {
	d := h.Device
	tw := table(w)
	capStr := ""
	if d.CapacityGB != nil {
		capStr = ledger.FormatCapacity(*d.CapacityGB)
	}
	rows := [][2]string{{"Serial", d.Serial}}
	if len(h.FormerSerials) > 0 {
		rows = append(rows, [2]string{"Former serials", strings.Join(h.FormerSerials, ", ") + " (corrected)"})
	}
	rows = append(rows, [][2]string{{"Asset tag", d.AssetTag}, {"Type", d.Type.Label()},
		{"Make", d.Make}, {"Model", d.Model}, {"Capacity", capStr}, {"Site", d.Site}, {"UUID", d.UUID}}...)
	for _, kv := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDisposals (%d):\n", len(h.Disposals))
	tw = table(w)
	fmt.Fprintln(tw, "  DATE\tMETHOD\tCATEGORY\tCONTRACTOR\tWEIGHT\tBATCH\tVERIFIED\tOPERATOR\tWITNESS\tFINAL\tUUID")
	for _, p := range h.Disposals {
		wt := "-"
		if p.WeightG != nil {
			wt = ledger.FormatKg(*p.WeightG) + " kg"
		}
		final := ""
		if p.Final {
			final = "final"
		}
		if p.Void != nil {
			final = "VOID"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.DisposedOn, p.Method, p.Category, p.Contractor, wt,
			dash(p.Batch), dash(p.Verified), dash(p.Operator), dash(p.Witness), final, p.UUID)
	}
	tw.Flush()
	for _, p := range h.Disposals {
		if v := p.Void; v != nil {
			fmt.Fprintf(w, "  %s voided by %s at %s (event #%d): %s\n", p.UUID, v.Actor, v.At.Format("2006-01-02 15:04:05Z"), v.Seq, v.Reason)
		}
	}
	if err := printDeviceEvidence(w, h); err != nil { // evidence.go
		return err
	}
	fmt.Fprintf(w, "\nCertificates (%d):\n", len(h.Certificates))
	if len(h.Certificates) > 0 {
		if err := printCertificates(w, h.Certificates, "  "); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nHistory (%s):\n", ledger.CountOf(int64(len(h.Events)), "event", "events"))
	tw = table(w)
	for _, e := range h.Events {
		reason := ""
		if e.Reason != "" {
			reason = "reason: " + e.Reason
		}
		if cs, ok := ledger.EventChanges(e); ok { // corrections: what changed
			reason = strings.TrimSpace(ledger.FormatChanges(cs) + "  " + reason)
		}
		action := e.Action
		if e.Subject != h.Device.Serial { // an import names its file; a certificate its number
			action += " " + e.Subject
		}
		fmt.Fprintf(tw, "  #%d\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format("2006-01-02 15:04:05Z"), e.Actor, action, reason)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
