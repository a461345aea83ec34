package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// tamperedErr gives a verification failure exit status 3 and a hint.
func tamperedErr(err error) error {
	return &userError{err: err, code: exitVerifyFailed,
		hint: "the ledger was changed outside itad: keep this file as evidence, and restore the last backup that verifies"}
}

var verifyCommand = &cli.Command{
	Name:      "verify",
	Usage:     "prove the ledger was not changed behind itad's back",
	ArgsUsage: " ",
	Description: "Recomputes the hash chain of every event and checks that every table holds exactly what\n" +
		"the events produce: a row edited, deleted or inserted with the sqlite3 shell is named, with\n" +
		"the first bad event or row. Checkpoints stored in the ledger are checked against the log and,\n" +
		"when the signing certificate is at hand, their signatures: one signed by a key not trusted\n" +
		"fails (after a key change, give the old certificate with --trusted too).\n\n" +
		"Checkpoints kept outside the ledger — --checkpoint FILE ('itad checkpoint export'), or the\n" +
		"newest in checkpoint_dir ('itad settings set checkpoint_dir DIR') — are checked too: their\n" +
		"signature, and that the ledger still extends them, so the events they cover cannot have been\n" +
		"rewritten or removed.\n\n" +
		"verify then says which events a trusted checkpoint pins, and whether every change is pinned\n" +
		"by a checkpoint kept outside the ledger; --require-pinned makes that a condition of success.\n\n" +
		"The database itself is checked too: its schema (every table, index, trigger and view) against\n" +
		"what itad's migrations create, PRAGMA quick_check (the file's pages), the index check (every\n" +
		"index holds exactly its table's rows, in its declared order) and PRAGMA foreign_key_check.\n" +
		"--full runs integrity_check instead of the first two (slower; it finds the same about indexes).\n" +
		"--quick runs quick_check alone: it counts each index's entries but does not compare them with the rows.\n" +
		"A file that is not an itad ledger fails verification.\n\n" +
		"verify only reads: it records nothing in the ledger.\n" +
		"Exit status 0: verified (pinned or not: read the summary); 3: the ledger does not verify;\n" +
		"4: with --require-pinned, verified but not pinned; 1: it could not be read.",
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "checkpoint", Usage: "checkpoint file exported earlier, or a folder of them (its newest) (repeatable)"},
		&cli.StringSliceFlag{Name: "trusted", Usage: "certificate (PEM) whose key signed the checkpoints (default: the signing certificates the ledger recorded, current and retired, found beside it); " +
			"repeat it after a key change, to trust the earlier key too"},
		&cli.BoolFlag{Name: "require-pinned", Usage: "fail (exit 4) unless a trusted checkpoint kept outside the ledger covers every change"},
		&cli.BoolFlag{Name: "full", Usage: "PRAGMA integrity_check instead of quick_check and the index check: slower"},
		&cli.BoolFlag{Name: "quick", Usage: "PRAGMA quick_check alone: faster, but index entries are not compared with their table's rows"},
		&cli.BoolFlag{Name: "timings", Usage: "print how long the database checks took, the index check among them, and verify in all"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("verify takes no arguments (got %q)", c.Args().First())
		}
		start := time.Now()
		// Inspect: a ledger whose schema differs is opened, so that
		// Verify names the differences.
		s, err := openLedgerOpts(c, ledger.Options{Inspect: true})
		switch {
		case errors.Is(err, ledger.ErrNotLedger):
			return &userError{err: err, code: exitVerifyFailed, hint: notLedgerHint}
		case errors.Is(err, ledger.ErrDamaged):
			return tamperedErr(err)
		}
		if err != nil {
			return err
		}
		defer s.Close()
		if c.Bool("full") && c.Bool("quick") {
			return usageErr("--full and --quick cannot be used together")
		}
		opts := ledger.VerifyOptions{Full: c.Bool("full"), Quick: c.Bool("quick")}
		certs, certPaths, err := trustedCerts(c, s, c.StringSlice("trusted"))
		if err != nil {
			return err
		}
		opts.Trusted = certs
		for _, f := range c.StringSlice("checkpoint") {
			x, err := readCheckpointArg(f)
			if err != nil {
				return err
			}
			opts.External = append(opts.External, x)
		}
		if x, ok, err := dirCheckpoint(c, s); err != nil {
			return err
		} else if ok {
			opts.External = append(opts.External, x)
		}
		total, err := s.VerifyWork()
		if err != nil {
			return err
		}
		bar := newProgress(c, "verify", total)
		opts.Progress = bar.Set
		res, err := s.Verify(opts)
		bar.Done()
		var ve *ledger.VerifyError
		if errors.As(err, &ve) {
			if c.Bool("json") {
				probs := []string{}
				for _, p := range ve.Problems {
					probs = append(probs, p.Error())
				}
				printJSON(c, map[string]any{"verified": false, "problems": probs, "more": ve.More})
			} else {
				ledger.WriteVerifyProblems(c.App.Writer, s.Path(), ve)
			}
			if onlyUntrusted(ve) {
				return &userError{err: err, code: exitVerifyFailed, hint: untrustedHint}
			}
			return tamperedErr(err)
		}
		if err != nil {
			return err
		}
		if c.Bool("json") {
			if err := printJSON(c, map[string]any{"verified": true, "pinned": res.Pinning.Complete, "result": res}); err != nil {
				return err
			}
		} else {
			ledger.WriteVerified(c.App.Writer, s.Path(), res, certPaths)
		}
		if c.Bool("timings") && !c.Bool("json") {
			fmt.Fprintf(c.App.Writer, "timings:   %s %.2f s (alongside the replay; index_check %.2f s of it), verify %.2f s in all\n",
				res.Database, res.IntegrityTime.Seconds(), res.IndexTime.Seconds(), time.Since(start).Seconds())
		}
		if c.Bool("require-pinned") && !res.Pinning.Complete {
			return notPinnedErr(res)
		}
		return nil
	},
}

// onlyUntrusted reports whether every problem is a checkpoint that no
// trusted key signed.
func onlyUntrusted(ve *ledger.VerifyError) bool {
	for _, p := range ve.Problems {
		if !errors.Is(p, ledger.ErrUntrustedCheckpoint) {
			return false
		}
	}
	return ve.More == 0
}

var checkpointCommand = &cli.Command{
	Name:      "checkpoint",
	Usage:     "sign the event log's size and Merkle root, to prove later that history was not rewritten",
	ArgsUsage: " ",
	Description: "Verifies the ledger, then signs a checkpoint (C2SP tlog-checkpoint signed note) with the\n" +
		"certificate signing key and records it. Keep copies of checkpoints elsewhere ('itad checkpoint\n" +
		"export -o FILE', or 'itad settings set checkpoint_dir DIR' to have every new one written there):\n" +
		"'itad verify' then proves that the ledger still extends them, even against someone who can\n" +
		"rewrite the database file. With checkpoint_dir set, no checkpoint is signed (exit 3) unless the\n" +
		"ledger extends the newest one there.",
	Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
	Subcommands: []*cli.Command{
		{
			Name:      "export",
			Usage:     "write the latest checkpoint (a small signed text file) to keep elsewhere",
			ArgsUsage: " ",
			Flags: []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: standard output)"},
				&cli.BoolFlag{Name: "force", Usage: "replace the -o file if it exists"}},
			Action: func(c *cli.Context) error {
				if out := c.String("output"); out != "" {
					if err := checkOutput(c, out); err != nil {
						return err
					}
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				cp, err := s.LatestCheckpoint()
				if errors.Is(err, ledger.ErrNoCheckpoint) {
					return withHint(err, "make one with 'itad checkpoint'")
				}
				if err != nil {
					return err
				}
				if out := c.String("output"); out != "" {
					if err := ledger.WriteNewFile(out, []byte(cp.Note), 0o644, c.Bool("force")); err != nil {
						return existsErr(err)
					}
					fmt.Fprintf(c.App.Writer, "checkpoint of %s written to %s\n", ledger.CountOf(cp.Size, "event", "events"), out)
					return nil
				}
				_, err = io.WriteString(c.App.Writer, cp.Note)
				return err
			},
		},
		{
			Name:  "list",
			Usage: "list the checkpoints recorded in the ledger",
			Action: listAction((*ledger.Store).Checkpoints, "EVENT\tSIZE\tROOT HASH\tCREATED\tBY", func(cp ledger.Checkpoint) string {
				return fmt.Sprintf("#%d\t%d\t%s\t%s\t%s", cp.Seq, cp.Size, cp.Root, cp.CreatedAt, cp.CreatedBy)
			}),
		},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("unknown checkpoint command %q (export, list)", c.Args().First())
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		sig, err := loadSigner(c, s)
		if err != nil {
			return err
		}
		name := ledger.NoteKeyName(sig.Cert)
		ns, err := noteSigner(sig)
		if err != nil {
			return err
		}
		if _, err := s.Verify(ledger.VerifyOptions{}); errors.Is(err, ledger.ErrTampered) {
			return tamperedErr(fmt.Errorf("not signing a checkpoint of a ledger that does not verify: %w", err))
		} else if err != nil {
			return err
		}
		cp, err := s.CreateCheckpoint(ns, c.String("reason"))
		var de *ledger.CheckpointDirError
		if err != nil && !errors.As(err, &de) {
			return checkpointErr(err)
		}
		if c.Bool("json") {
			if perr := printJSON(c, cp); perr != nil {
				return perr
			}
			return checkpointErr(err)
		}
		vkey, _ := ledger.NoteVerifierKey(name, sig.Cert.PublicKey)
		w := c.App.Writer
		fmt.Fprintf(w, "checkpoint of %s signed and recorded (event #%d):\n\n%s\n", ledger.CountOf(cp.Size, "event", "events"), cp.Seq, cp.Note)
		fmt.Fprintf(w, "verifier key: %s\n", vkey)
		if dir, _ := s.Setting(ledger.SettingCheckpointDir); dir != "" && err == nil {
			fmt.Fprintf(w, "written to %s\n", dir)
		} else if dir == "" {
			fmt.Fprintf(w, "keep a copy elsewhere: itad checkpoint export -o FILE (or 'itad settings set %s DIR' to keep every new one there)\n", ledger.SettingCheckpointDir)
		}
		return checkpointErr(err)
	},
}

var logCommand = &cli.Command{
	Name:      "log",
	Usage:     "print the audit trail: who changed, consulted or disclosed what, when and why",
	ArgsUsage: " ",
	Description: "Every change and every consultation or disclosure is an event with its time, actor and\n" +
		"reason (DPA 2018 s62). Reading the trail is itself recorded, as a \"log\" event.\n" +
		"--serial selects the events about a device, including its certificates.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "since", Usage: "events on or after this date (YYYY-MM-DD, UTC)"},
		&cli.StringFlag{Name: "until", Usage: "events on or before this date (YYYY-MM-DD, UTC)"},
		&cli.StringFlag{Name: "by-actor", Usage: "events by this actor (the global --actor says who is reading)"},
		&cli.StringFlag{Name: "serial", Usage: "events about this device"},
		&cli.StringFlag{Name: "action", Usage: "events of this action, e.g. device.amend, report, foi"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text, csv or json"},
		&cli.StringFlag{Name: "reason", Usage: "why the trail is read (recorded)"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("log takes no arguments (got %q): use --serial, --by-actor, --action, --since", c.Args().First())
		}
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		f := ledger.LogFilter{Since: c.String("since"), Until: c.String("until"), Actor: c.String("by-actor"),
			Action: c.String("action"), Serial: c.String("serial")}
		if _, err := ledger.NewLogWriter(io.Discard, format); err != nil {
			return usageErr("--format: %v", err)
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		var subject []string
		payload := map[string]any{}
		for _, kv := range [][2]string{{"since", f.Since}, {"until", f.Until}, {"actor", f.Actor}, {"action", f.Action}, {"serial", f.Serial}} {
			if kv[1] != "" {
				subject = append(subject, kv[0]+"="+kv[1])
				payload[kv[0]] = kv[1]
			}
		}
		if len(subject) == 0 {
			subject = []string{"all"}
		}
		payload["format"] = format
		d := ledger.Disclosure{Action: ledger.LogAction, Subject: strings.Join(subject, " "), Reason: c.String("reason"), Payload: payload}
		return s.Disclose(d, ledger.Sink{W: c.App.Writer}, func(w io.Writer) error {
			lw, err := ledger.NewLogWriter(w, format)
			if err != nil {
				return err
			}
			if err := s.AuditLog(f, lw.Write); err != nil {
				return err
			}
			return lw.Close()
		})
	},
}
