package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var backupCommand = &cli.Command{
	Name:      "backup",
	Usage:     "copy the ledger to FILE while it is in use, and check the copy",
	ArgsUsage: "FILE",
	Description: "Writes a consistent copy of the ledger to FILE while other itad processes keep working\n" +
		"(SQLite's VACUUM INTO reads one snapshot). The copy is then opened and checked before it\n" +
		"is put in place with the full verification: its schema, PRAGMA integrity_check, PRAGMA\n" +
		"foreign_key_check, every event's hash and link, and every table against its events. FILE\n" +
		"is never left half-written: it appears only once every check has passed.\n\n" +
		"The backup is recorded as an event in the ledger (file, events, head hash and the copy's\n" +
		"SHA-256); the copy itself does not contain that event. Restore with 'itad restore FILE'.",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Usage: "replace FILE if it exists"},
		&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"},
	},
	Action: func(c *cli.Context) error {
		dest, err := oneArg(c, "FILE")
		if err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		bar := newProgress(c, "backup", 0).Bytes()
		res, err := s.Backup(dest, ledger.BackupOptions{Force: c.Bool("force"), Reason: c.String("reason"),
			Progress: func(done, total int64) { bar.SetTotal(total); bar.Set(done) }})
		bar.Done()
		switch {
		case errors.Is(err, ledger.ErrBackupExists):
			return withHint(err, "choose a new file name, or add --force to replace it")
		case errors.Is(err, ledger.ErrDamaged):
			return &userError{err: err, code: exitVerifyFailed,
				hint: "the ledger itself may be damaged: keep your last good backup safe and see 'itad restore --help'"}
		case err != nil:
			return err
		}
		if c.Bool("json") {
			return printJSON(c, res)
		}
		w := c.App.Writer
		fmt.Fprintf(w, "backup written to %s (%s)\n", res.File, formatSize(res.Bytes))
		fmt.Fprintf(w, "sha256 %s\n", res.SHA256)
		printHealth(w, res.Checked)
		fmt.Fprintf(w, "recorded as event %s in %s\n", ledger.Thousands(res.Seq), s.Path())
		return nil
	},
}

var restoreCommand = &cli.Command{
	Name:      "restore",
	Usage:     "replace the ledger with a backup, after checking it",
	ArgsUsage: "FILE",
	Description: "Checks the backup FILE (its schema, integrity_check, foreign_key_check, the event chain and\n" +
		"every table: the full verification; exit status 3 if it fails), then replaces the ledger named by --db with it in one\n" +
		"atomic rename. A ledger that has events the backup lacks, or that is not an extension of\n" +
		"the backup, is kept unless --force is given: back it up first.\n\n" +
		"Stop every other itad process using the ledger first: restore refuses while another\n" +
		"process has it open. --dry-run checks the backup and says what restore would do, changing\n" +
		"nothing: use it to test backups regularly.",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Usage: "replace a ledger that has events the backup lacks, or cannot be read"},
		&cli.BoolFlag{Name: "dry-run", Usage: "check the backup and compare, but change nothing"},
	},
	Action: func(c *cli.Context) error {
		src, err := oneArg(c, "FILE")
		if err != nil {
			return err
		}
		bar := newProgress(c, "restore", 0).Bytes()
		res, err := ledger.Restore(c.String("db"), src, ledger.RestoreOptions{Force: c.Bool("force"), DryRun: c.Bool("dry-run"),
			Progress: func(done, total int64) { bar.SetTotal(total); bar.Set(done) }})
		bar.Done()
		var conflict *ledger.RestoreConflictError
		switch {
		case errors.As(err, &conflict) && conflict.Unreadable != nil:
			return withHint(err, "if the ledger is damaged, add --force to replace it with the backup")
		case errors.As(err, &conflict):
			return withHint(err, "keep those events: back the ledger up first ('itad backup FILE'); to replace it anyway, add --force")
		case errors.Is(err, ledger.ErrLedgerBusy):
			return withHint(err, "stop every other itad process using this ledger (imports, reports, scheduled jobs), then run restore again")
		case errors.Is(err, ledger.ErrDamaged):
			return &userError{err: err, code: exitVerifyFailed, hint: "this backup cannot be trusted: restore an older one; the ledger was not changed"}
		case errors.Is(err, ledger.ErrNotLedger):
			return withHint(err, "name a file written by 'itad backup'")
		case err != nil:
			return err
		}
		if c.Bool("json") {
			return printJSON(c, res)
		}
		w := c.App.Writer
		fmt.Fprintf(w, "backup %s\n", res.Backup)
		printHealth(w, res.Checked)
		verb := "restored"
		if res.DryRun {
			verb = "dry run: would restore"
		}
		switch {
		case !res.Existed:
			fmt.Fprintf(w, "%s %s (a new ledger file)\n", verb, res.Ledger)
		case res.Diverged:
			fmt.Fprintf(w, "%s %s, replacing a ledger that was not an extension of the backup (--force)\n", verb, res.Ledger)
		case res.Discarded > 0:
			what := ledger.Thousands(res.Discarded) + " newer events"
			if res.Discarded == 1 {
				what = "newer event"
			}
			fmt.Fprintf(w, "%s %s, discarding its %s (--force)\n", verb, res.Ledger, what)
		default:
			fmt.Fprintf(w, "%s %s (it had %s; the backup extends them)\n", verb, res.Ledger, ledger.CountOf(res.LiveEvents, "event", "events"))
		}
		if res.Migrated > 0 {
			fmt.Fprintf(w, "upgraded from schema version %d to %d\n", res.Migrated, ledger.SchemaVersion())
		}
		if res.DryRun {
			fmt.Fprintln(w, "nothing was changed")
		}
		return nil
	},
}

// printHealth says what was checked and what the file holds.
func printHealth(w io.Writer, h ledger.Health) {
	verify := "full verification not available in this itad"
	if h.Verified {
		verify = "verify ok"
	}
	fmt.Fprintf(w, "checked: integrity %s, foreign keys %s, event chain %s, %s\n", h.Integrity, h.ForeignKeys, h.Chain, verify)
	head := h.HeadHash
	if head == "" {
		head = "none"
	}
	fmt.Fprintf(w, "events: %s, head hash %s\n", ledger.Thousands(h.Events), head)
	var rows []string
	for _, t := range h.Tables {
		rows = append(rows, t.Table+" "+ledger.Thousands(t.Rows))
	}
	fmt.Fprintf(w, "rows: %s\n", strings.Join(rows, ", "))
}
