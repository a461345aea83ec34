package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// listFlags are the filters of device list and disposal list.
var listFlags = []cli.Flag{
	&cli.StringFlag{Name: "type", Usage: "only devices of this `TYPE` (hdd, ssd, laptop ...)"},
	&cli.StringFlag{Name: "method", Usage: "only disposals by this `METHOD` (shred, wipe ...)"},
	&cli.StringSliceFlag{Name: "year", Usage: "only disposals in these calendar years: 2021, 2021-2024 or 2021,2022 (repeatable)"},
	&cli.StringFlag{Name: "contractor", Usage: "only disposals by this recorded `CONTRACTOR`"},
	&cli.StringFlag{Name: "site", Usage: "only devices at this `SITE` (case ignored)"},
	&cli.StringFlag{Name: "batch", Usage: "only disposals in this batch `REF`"},
	&cli.BoolFlag{Name: "uncertified", Usage: "only final dispositions that no current certificate covers (none issued, or revoked, superseded or stale)"},
	&cli.StringFlag{Name: "since", Usage: "only disposals on or after `DATE` (YYYY-MM-DD)"},
	&cli.StringFlag{Name: "format", Value: "text", Usage: "text, csv or json"},
	&cli.StringFlag{Name: "reason", Usage: "why the records are consulted (logged)"},
}

const listHelp = "A listing is a consultation: it is recorded in the audit trail with the filters and --reason\n" +
	"(required when the ledger's require_reason setting is on), like 'itad device show'.\n" +
	"Text goes through $PAGER (default 'less -FRX') when standard output is a terminal; csv is\n" +
	"neutralised for spreadsheets like every CSV itad writes; json is an array, one object a line."

var deviceListCommand = &cli.Command{
	Name:      "list",
	Usage:     "list devices and their final disposition, with filters",
	ArgsUsage: " ",
	Description: "Lists every device by serial with its final disposition (method, date, contractor, batch)\n" +
		"and whether a current certificate covers it. --type and --site filter the devices; --method,\n" +
		"--year, --contractor, --batch, --since and --uncertified filter their final dispositions, so\n" +
		"they leave out devices not yet disposed of. Filters combine (all must hold).\n\n" +
		"Columns of csv and json: " + strings.Join(ledger.DeviceListColumns, ",") + "\n\n" + listHelp,
	Flags: append(append([]cli.Flag{}, listFlags...), &cli.BoolFlag{Name: "needs-destruction",
		Usage: "only devices whose erasure failed (itad evidence import) with no disposal recorded since: destroy or wipe them again"}),
	Action: listCommandAction("device list", ledger.DeviceListAction, (*ledger.Store).WriteDeviceList),
}

var disposalListCommand = &cli.Command{
	Name:      "list",
	Usage:     "list disposals, with filters (voided ones with --include-void)",
	ArgsUsage: " ",
	Description: "Lists every disposal by date, final or not (a device disposed of twice appears twice), and\n" +
		"whether it is its device's final disposition and covered by a current certificate. Voided\n" +
		"disposals are left out unless --include-void. Filters combine (all must hold).\n\n" +
		"Columns of csv and json: " + strings.Join(ledger.DisposalListColumns, ",") + "\n\n" + listHelp,
	Flags:  append(append([]cli.Flag{}, listFlags...), &cli.BoolFlag{Name: "include-void", Usage: "also list voided disposals (marked void)"}),
	Action: listCommandAction("disposal list", ledger.DisposalListAction, (*ledger.Store).WriteDisposalList),
}

func init() {
	deviceCommand.Subcommands = append(deviceCommand.Subcommands, deviceListCommand)
	disposalCommand.Subcommands = append(disposalCommand.Subcommands, disposalListCommand)
}

// listCommandAction (name: "device list") wires the filter flags to a ledger listing, sent
// through Disclose (recorded, then released) and a pager on a terminal.
func listCommandAction(name, action string, write func(*ledger.Store, io.Writer, ledger.ListQuery, string) (int64, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("%s takes no arguments (got %q): filter with --type, --site, --year ...", name, c.Args().First())
		}
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		if !oneOf(format, "text", "csv", "json") {
			return usageErr("--format %q: use text, csv or json", format)
		}
		years, err := yearsFlag(c) // conventions.go
		if err != nil {
			return err
		}
		q := ledger.ListQuery{Type: c.String("type"), Method: c.String("method"), Years: years,
			Contractor: c.String("contractor"), Site: c.String("site"), Batch: c.String("batch"),
			Uncertified: c.Bool("uncertified"), Since: c.String("since"), IncludeVoid: c.Bool("include-void"),
			NeedsDestruction: c.Bool("needs-destruction")}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.VetDisclosure(action, c.String("reason")); err != nil {
			return err
		}
		payload := q.Payload()
		payload["format"] = format
		out, wait := pager(c.App.Writer, format)
		err = s.Disclose(ledger.Disclosure{Action: action, Subject: q.Subject(), Reason: c.String("reason"), Payload: payload},
			ledger.Sink{W: out}, func(w io.Writer) error {
				n, err := write(s, w, q, format)
				payload["rows"] = n
				return err
			})
		if werr := wait(); err == nil {
			err = werr
		}
		if errors.Is(err, syscall.EPIPE) && out != c.App.Writer {
			err = nil // the pager was quit before the end: recorded, and shown as far as wanted
		}
		if errors.Is(err, ledger.ErrInvalid) { // a filter's value: nothing was listed or recorded
			return &userError{err: err, hint: "see 'itad " + name + " --help'", code: exitUsage}
		}
		return err
	}
}

// pager returns where a listing goes: through $PAGER, or 'less -FRX'
// when PAGER is not set, when w is a terminal and the format is text;
// w itself otherwise (a pipe, a file, a test's buffer), or when the pager
// cannot be started. wait closes the pager's input and waits for it.
func pager(w io.Writer, format string) (io.Writer, func() error) {
	none := func() error { return nil }
	f, ok := w.(*os.File)
	if !ok || format != "text" || !term.IsTerminal(int(f.Fd())) {
		return w, none
	}
	cmdline := os.Getenv("PAGER")
	if cmdline == "" {
		if _, err := exec.LookPath("less"); err != nil {
			return w, none
		}
		cmdline = "less -FRX"
	}
	if strings.TrimSpace(cmdline) == "cat" {
		return w, none
	}
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return w, none
	}
	if err := cmd.Start(); err != nil {
		return w, none
	}
	return in, func() error {
		in.Close()
		cmd.Wait() // quitting the pager early is not a failure
		return nil
	}
}
