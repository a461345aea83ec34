package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/itad/itad/evidence"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var evidenceCommand = &cli.Command{
	Name:  "evidence",
	Usage: "import erasure reports (nwipe, ShredOS) as disposals, keep evidence files, list them",
	Subcommands: []*cli.Command{
		evidenceImportCommand,
		{
			Name:      "attach",
			Usage:     "keep a document that no parser reads (a contractor's certificate, a weighbridge ticket) for a device",
			ArgsUsage: "SERIAL FILE",
			Description: "Keeps FILE's bytes in the ledger with their SHA-256 (an evidence.attach event) and ties them\n" +
				"to the device: 'itad device show' lists it and the device's certificate cites it (current\n" +
				"certificates are marked stale: issue them again). Files over evidence_max_bytes (default\n" +
				"20 MiB: 'itad settings set evidence_max_bytes N') are refused.",
			Flags: []cli.Flag{&cli.StringFlag{Name: "kind", Required: true, Usage: strings.Join(ledger.AttachKinds, ", ")}},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return usageErr("evidence attach takes SERIAL FILE (got %s)", ledger.CountOf(int64(c.NArg()), "argument", "arguments"))
				}
				serial, path := c.Args().Get(0), c.Args().Get(1)
				kind := c.String("kind")
				if !oneOf(kind, ledger.AttachKinds...) {
					return usageErr("--kind %q: use %s", kind, strings.Join(ledger.AttachKinds, ", "))
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				limit, err := s.EvidenceMaxBytes()
				if err != nil {
					return err
				}
				data, err := ledger.ReadFileLimit(path, limit, "file itad keeps (evidence_max_bytes)")
				if err != nil {
					if errors.Is(err, ledger.ErrTooLarge) {
						return withHint(err, "raise the limit with 'itad settings set evidence_max_bytes BYTES', or keep a smaller copy")
					}
					return err
				}
				rec, added, err := s.AttachEvidence(serial, filepath.Base(path), kind, data)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, rec)
				}
				if !added {
					fmt.Fprintf(c.App.Writer, "%s is already attached to %s (sha256 %s): nothing changed\n", rec.Name, serial, rec.SHA256)
					return nil
				}
				fmt.Fprintf(c.App.Writer, "attached %s (%s, %s bytes, sha256 %s) to %s\n", rec.Name, rec.Kind, ledger.Thousands(rec.Size), rec.SHA256, serial)
				return nil
			},
		},
		{
			Name:  "list",
			Usage: "list the evidence files kept",
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return usageErr("evidence list takes no arguments (got %q)", c.Args().First())
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				evs, err := s.EvidenceList()
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, evs)
				}
				tw := table(c.App.Writer)
				fmt.Fprintln(tw, "SHA256\tKIND\tBYTES\tADDED\tNAME\tDEVICES")
				for _, e := range evs {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", e.SHA256[:16], e.Kind, e.Size, e.AddedAt[:10],
						ledger.Printable(e.Name), ledger.Printable(strings.Join(e.Devices, " ")))
				}
				return tw.Flush()
			},
		},
		{
			Name:      "show",
			Usage:     "show one evidence file: its hash, who kept it, the erasures recorded from it",
			ArgsUsage: "SHA256|NAME",
			Description: "SHA256 may be the first 8 or more hex digits. Showing is a consultation: it is recorded\n" +
				"in the audit trail (with --reason where the ledger requires one).",
			Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why the record is consulted (logged)"}},
			Action: func(c *cli.Context) error {
				ref, err := oneArg(c, "SHA256")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				e, err := s.Evidence(ref)
				if err != nil {
					return err
				}
				d := ledger.Disclosure{Action: ledger.EvidenceShowAction, Subject: e.SHA256, Reason: c.String("reason")}
				return s.Disclose(d, ledger.Sink{W: c.App.Writer}, func(w io.Writer) error {
					if c.Bool("json") {
						return writeJSON(w, e)
					}
					return printEvidence(w, e)
				})
			},
		},
		{
			Name:      "export",
			Usage:     "write an evidence file's bytes as they were kept (checked against their SHA-256)",
			ArgsUsage: "SHA256|NAME",
			Description: "Writes the file to -o FILE (or standard output) through the record-then-disclose rule of\n" +
				"'itad export': the disclosure is recorded with its SHA-256 before a byte is released. A file\n" +
				"whose bytes no longer match their SHA-256 is refused (exit 3).\n\n" + signHelp,
			Flags: discloseFlags,
			Action: func(c *cli.Context) error {
				ref, err := oneArg(c, "SHA256")
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
				e, err := s.Evidence(ref)
				if err != nil {
					return err
				}
				data, err := s.EvidenceData(e.SHA256)
				if err != nil {
					return err
				}
				payload := map[string]any{"evidence": e.SHA256, "name": e.Name, "kind": e.Kind}
				if err := disclose(c, s, ledger.EvidenceExportAction, e.SHA256, payload, func(w io.Writer) error {
					_, err := w.Write(data)
					return err
				}); err != nil {
					return err
				}
				if out := c.String("output"); out != "" {
					fmt.Fprintf(c.App.Writer, "exported %s (%s bytes, sha256 %s) to %s\n", e.Name, ledger.Thousands(e.Size), e.SHA256, out)
				}
				return nil
			},
		},
	},
}

var evidenceImportCommand = &cli.Command{
	Name:      "import",
	Usage:     "record the erasures in nwipe/ShredOS reports as disposals, and keep the reports",
	ArgsUsage: "FILE|DIR...",
	Description: "Reads each file (a folder is read whole), telling its format from its content (" +
		strings.Join(evidence.FormatNames(), ", ") + ";\n" +
		"--format forces one). Each device a report covers:\n\n" +
		"  wiped successfully         a disposal (overwrite, NIST clear; tool, method, verification from\n" +
		"                             the report, dated the day the wipe ended), device added if new\n" +
		"  failed, aborted, errors    a failed attempt: in the device's history, never a disposal, and\n" +
		"                             listed by 'itad device list --needs-destruction'\n" +
		"  Verify Zeros / Verify Ones a verification of an earlier wipe, never a sanitisation\n" +
		"  no readable serial         refused, naming file, line and device path: --serial PATH=SERIAL\n" +
		"  contradicts the ledger     refused, naming both (same serial, other model)\n\n" +
		"Each file's bytes are kept in the ledger with their SHA-256 ('itad evidence list'); importing\n" +
		"the same report again changes nothing. nwipe logs give local times with no zone: they are read\n" +
		"in --timezone (default the machine's), which is recorded with each erasure. A device the ledger\n" +
		"does not hold is added: NVMe devices are ssd, others take --type. Exit status 1 if any device\n" +
		"was refused (the others are recorded).",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "force the format: " + strings.Join(evidence.FormatNames(), ", ")},
		&cli.StringFlag{Name: "timezone", Usage: "`ZONE` the report's local times were written in (IANA name; default the machine's)"},
		&cli.StringSliceFlag{Name: "serial", Usage: "`PATH=SERIAL` for a device whose report has no readable serial (repeatable)"},
		&cli.StringFlag{Name: "contractor", Usage: "contractor of the disposals (default: setting default_contractor)"},
		&cli.StringFlag{Name: "site", Usage: "site of devices added (default: setting default_site)"},
		&cli.StringFlag{Name: "operator", Usage: "who ran the erasure (default: setting default_operator)"},
		&cli.StringFlag{Name: "type", Usage: "`TYPE` of devices added whose report does not say (hdd, ssd, usb ...)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "check and report, record nothing"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() == 0 {
			return usageErr("evidence import needs FILE or DIR (an nwipe log, a folder of them)")
		}
		serials, err := evidence.ParseSerials(c.StringSlice("serial"))
		if err != nil {
			return usageErr("%v", err)
		}
		if c.String("format") != "" {
			if _, err := evidence.Lookup(c.String("format")); err != nil {
				return usageErr("%v", err)
			}
		}
		if t := c.String("type"); t != "" {
			if _, err := ledger.ParseDeviceType(t); err != nil {
				return usageErr("--type: %v", err)
			}
		}
		loc, zone := evidence.MachineZone()
		if z := c.String("timezone"); z != "" {
			if loc, err = evidence.LoadZone(z); err != nil {
				return usageErr("%v", err)
			}
			zone = z
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		limit, err := s.EvidenceMaxBytes()
		if err != nil {
			return err
		}
		r, err := evidence.NewReader(c.Args().Slice(), evidence.Options{Format: c.String("format"), Location: loc, Zone: zone,
			Serials: serials, MaxBytes: limit})
		if err != nil {
			return err
		}
		res, err := s.ImportEvidence(r.Next, ledger.EvidenceImportOptions{Contractor: c.String("contractor"), Site: c.String("site"),
			Operator: c.String("operator"), Type: ledger.DeviceType(c.String("type")), DryRun: c.Bool("dry-run")})
		if err != nil {
			if errors.Is(err, ledger.ErrTooLarge) {
				return withHint(err, "raise the limit with 'itad settings set evidence_max_bytes BYTES'")
			}
			return err
		}
		var unused []string
		for p := range serials {
			if !r.Used[p] {
				unused = append(unused, p)
			}
		}
		sort.Strings(unused)
		for _, f := range r.Skipped {
			fmt.Fprintf(c.App.ErrWriter, "itad: warning: %s: not an erasure report itad reads: skipped\n", ledger.Printable(f))
		}
		return printEvidenceImport(c, res, unused)
	},
}

// printEvidenceImport reports an import: a line a device on standard
// output, refusals on standard error, then the totals.
func printEvidenceImport(c *cli.Context, res ledger.EvidenceImportResult, unusedSerials []string) error {
	if c.Bool("json") {
		if err := printJSON(c, res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Files {
			state := "kept"
			if !f.New {
				state = "already kept"
			}
			fmt.Fprintf(c.App.Writer, "%s: %s, %s (sha256 %s)\n", ledger.Printable(f.Name), f.Kind, state, f.SHA256)
			for _, d := range f.Devices {
				if d.Err != nil {
					continue
				}
				what := d.Outcome
				switch {
				case d.Outcome == ledger.OutcomeSanitised:
					what = "sanitised: disposal " + d.Disposal
				case d.Outcome == ledger.OutcomeFailed:
					what = "FAILED: recorded as a failed attempt, not a disposal (itad device list --needs-destruction)"
				case d.Outcome == ledger.OutcomeVerified:
					what = "verification of an earlier wipe recorded"
				case d.Outcome == "unchanged":
					what = "already recorded: unchanged"
				}
				if d.Added {
					what += " (device added)"
				}
				fmt.Fprintf(c.App.Writer, "  line %d %s %s: %s\n", d.Line, d.Path, ledger.Printable(d.Serial), what)
			}
		}
	}
	for _, f := range res.Files {
		for _, d := range f.Devices {
			if d.Err != nil {
				fmt.Fprintf(c.App.ErrWriter, "itad: error: %s\n", ledger.Printable(d.Err.Error()))
			}
		}
	}
	for _, p := range unusedSerials {
		fmt.Fprintf(c.App.ErrWriter, "itad: warning: --serial %s: no device with that path in the files\n", p)
	}
	if !c.Bool("json") {
		prefix := ""
		if res.DryRun {
			prefix = "dry run, nothing recorded: "
		}
		fmt.Fprintf(c.App.Writer, "%s%s (%d new): %d sanitised, %d failed, %d verifications, %d unchanged, %d refused; %s added\n",
			prefix, ledger.CountOf(int64(len(res.Files)), "file", "files"), res.FilesAdded, res.Sanitised, res.Failed, res.Verified,
			res.Unchanged, res.Refused, ledger.CountOf(int64(res.DevicesAdded), "device", "devices"))
	}
	if res.Refused > 0 {
		return withHint(fmt.Errorf("%s refused (the others were recorded)", ledger.CountOf(int64(res.Refused), "device", "devices")),
			"give a serial with --serial PATH=SERIAL, a type with --type, or correct the ledger, then import again: what is recorded stays unchanged")
	}
	return nil
}

// printEvidence shows one evidence file.
func printEvidence(w io.Writer, e ledger.EvidenceRecord) error {
	tw := table(w)
	for _, kv := range [][2]string{{"SHA-256", e.SHA256}, {"Name", ledger.Printable(e.Name)}, {"Kind", e.Kind},
		{"Bytes", ledger.Thousands(e.Size)}, {"Kept", fmt.Sprintf("%s by %s (event #%d)", e.AddedAt, ledger.Printable(e.AddedBy), e.Seq)},
		{"Devices", ledger.Printable(strings.Join(e.Devices, ", "))}} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	tw.Flush()
	fmt.Fprintf(w, "\nErasures (%d):\n", len(e.Erasure))
	return printErasures(w, e.Erasure)
}

// printErasures lists erasures, one a line.
func printErasures(w io.Writer, ers []ledger.ErasureRecord) error {
	tw := table(w)
	fmt.Fprintln(tw, "  ENDED\tSERIAL\tOUTCOME\tTOOL\tMETHOD\tVERIFY\tPATH\tLINE\tDISPOSAL\tDETAIL")
	for _, e := range ers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", dash(e.EndedAt), ledger.Printable(e.Serial), e.Outcome,
			dash(ledger.Printable(e.Tool)), dash(ledger.Printable(e.MethodName)), dash(e.Verify), ledger.Printable(e.Path), e.Line,
			dash(e.Disposal), dash(ledger.Printable(e.Detail)))
	}
	return tw.Flush()
}

// printDeviceEvidence is device show's part: the erasures and the files.
func printDeviceEvidence(w io.Writer, h ledger.DeviceHistory) error {
	if len(h.Erasures) == 0 && len(h.Evidence) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nErasures (%d):\n", len(h.Erasures))
	if err := printErasures(w, h.Erasures); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nEvidence (%d):\n", len(h.Evidence))
	tw := table(w)
	for _, e := range h.Evidence {
		fmt.Fprintf(tw, "  %s\t%s\t%s bytes\t%s\n", e.SHA256, e.Kind, ledger.Thousands(e.Size), ledger.Printable(e.Name))
	}
	return tw.Flush()
}
