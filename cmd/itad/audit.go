package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"
)

// tamperedErr gives a verification failure exit status 3 and a hint.
func tamperedErr(err error) error {
	return &userError{err: err, code: exitVerifyFailed,
		hint: "the ledger was changed outside itad: keep this file as evidence, and restore the last backup that verifies"}
}

// ledgerVerifiers returns the signed-note verifiers of the certificates
// given with --trusted (repeatable: after a key change, the current and
// the earlier ones), else of the ledger's signing certificate, else none;
// and the files they came from.
func ledgerVerifiers(c *cli.Context) ([]note.Verifier, []string, error) {
	paths := c.StringSlice("trusted")
	if len(paths) == 0 {
		_, certPath := keyPaths(c)
		if _, err := os.Stat(certPath); err != nil {
			return nil, nil, nil
		}
		paths = []string{certPath}
	}
	var vs []note.Verifier
	for _, p := range paths {
		v, err := checkpointVerifier(p)
		if err != nil {
			return nil, nil, err
		}
		vs = append(vs, v)
	}
	return vs, paths, nil
}

// checkpointVerifier returns the signed-note verifier of the first
// certificate in the PEM file at path.
func checkpointVerifier(path string) (note.Verifier, error) {
	certs, err := certificate.LoadCertificates(path)
	if err != nil {
		return nil, err
	}
	return ledger.NewNoteVerifier(ledger.NoteKeyName(certs[0]), certs[0].PublicKey)
}

var verifyCommand = &cli.Command{
	Name:      "verify",
	Usage:     "prove the ledger was not changed behind itad's back",
	ArgsUsage: " ",
	Description: "Recomputes the hash chain of every event and checks that every table holds exactly what\n" +
		"the events produce: a row edited, deleted or inserted with the sqlite3 shell is named, with\n" +
		"the first bad event or row. Checkpoints stored in the ledger are checked against the log and,\n" +
		"when the signing certificate is at hand, their signatures.\n\n" +
		"--checkpoint FILE checks a checkpoint kept elsewhere ('itad checkpoint export'): its signature,\n" +
		"and that the ledger still extends it, so history before it cannot have been rewritten.\n\n" +
		"The database itself is checked too: its schema (every table, index, trigger and view) against\n" +
		"what itad's migrations create, PRAGMA integrity_check and PRAGMA foreign_key_check. --quick runs\n" +
		"quick_check instead: it counts each index's entries but does not compare them with the rows.\n" +
		"A file that is not an itad ledger fails verification.\n\n" +
		"verify only reads: it records nothing in the ledger.\n" +
		"Exit status 0: verified; 3: the ledger does not verify; 1: it could not be read.",
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "checkpoint", Usage: "checkpoint file exported earlier (repeatable)"},
		&cli.StringSliceFlag{Name: "trusted", Usage: "certificate (PEM) whose key signed the checkpoints (default: the ledger's signing certificate); " +
			"repeat it after a key change, to trust the earlier key too"},
		&cli.BoolFlag{Name: "quick", Usage: "PRAGMA quick_check instead of integrity_check: faster, but index entries are not compared with their table's rows"},
		&cli.BoolFlag{Name: "timings", Usage: "print how long integrity_check took, and verify in all"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("verify takes no arguments (got %q)", c.Args().First())
		}
		vs, certPaths, err := ledgerVerifiers(c)
		if err != nil {
			return err
		}
		var opts ledger.VerifyOptions
		var v note.Verifier
		if len(vs) > 0 {
			v, opts.Verifier, opts.Earlier = vs[0], vs[0], vs[1:]
		}
		for _, f := range c.StringSlice("checkpoint") {
			if v == nil {
				return usageErr("--checkpoint needs the certificate of the signing key: give --trusted CERT")
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			opts.External = append(opts.External, ledger.ExternalCheckpoint{Source: f, Note: data, Verifier: v, Earlier: opts.Earlier})
		}
		opts.Quick = c.Bool("quick")
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
				w := c.App.Writer
				fmt.Fprintf(w, "ledger %s does NOT verify: %d problem(s)\n", s.Path(), len(ve.Problems)+ve.More)
				for i, p := range ve.Problems {
					if i == 20 {
						fmt.Fprintf(w, "  ... and %d more\n", len(ve.Problems)+ve.More-20)
						break
					}
					fmt.Fprintf(w, "  %s\n", p)
				}
			}
			return tamperedErr(err)
		}
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c, map[string]any{"verified": true, "result": res})
		}
		w := c.App.Writer
		fmt.Fprintf(w, "ledger %s verified: %s events, hash chain intact, every table matches its events\n", s.Path(), ledger.Thousands(res.Events))
		if res.Events > 0 {
			fmt.Fprintf(w, "head hash: %s\norigin:    %s\n", res.Head, res.Origin)
		}
		if res.Root != "" {
			fmt.Fprintf(w, "tree root: %s\n", res.Root)
		}
		if res.Database == "quick_check" {
			fmt.Fprintln(w, "database:  quick_check ok (indexes not checked against their tables: run without --quick for that), foreign keys ok, schema as itad creates it")
		} else {
			fmt.Fprintf(w, "database:  %s ok, foreign keys ok, schema as itad creates it\n", res.Database)
		}
		if c.Bool("timings") {
			fmt.Fprintf(w, "timings:   %s %.2f s (alongside the replay), verify %.2f s in all\n", res.Database, res.IntegrityTime.Seconds(), time.Since(start).Seconds())
		}
		for _, cp := range res.Checkpoints {
			fmt.Fprintf(w, "checkpoint (%s) of %s events: consistent, signature %s\n", cp.Source, ledger.Thousands(cp.Size), cp.Signature)
		}
		if v == nil && len(res.Checkpoints) > 0 {
			fmt.Fprintln(w, "checkpoint signatures not checked: no signing certificate (give --trusted CERT)")
		} else if len(certPaths) > 0 && len(res.Checkpoints) > 0 {
			fmt.Fprintf(w, "signatures checked with %s\n", strings.Join(certPaths, ", "))
		}
		return nil
	},
}

var checkpointCommand = &cli.Command{
	Name:      "checkpoint",
	Usage:     "sign the event log's size and Merkle root, to prove later that history was not rewritten",
	ArgsUsage: " ",
	Description: "Verifies the ledger, then signs a checkpoint (C2SP tlog-checkpoint signed note) with the\n" +
		"certificate signing key and records it. Keep copies of checkpoints elsewhere ('itad checkpoint\n" +
		"export -o FILE'): 'itad verify --checkpoint FILE' then proves that the ledger still extends\n" +
		"them, even against someone who can rewrite the database file.",
	Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
	Subcommands: []*cli.Command{
		{
			Name:      "export",
			Usage:     "write the latest checkpoint (a small signed text file) to keep elsewhere",
			ArgsUsage: " ",
			Flags:     []cli.Flag{&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "file to write (default: standard output)"}},
			Action: func(c *cli.Context) error {
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
					if err := os.WriteFile(out, []byte(cp.Note), 0o644); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "checkpoint of %s events written to %s\n", ledger.Thousands(cp.Size), out)
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
		sig, err := loadSigner(c)
		if err != nil {
			return err
		}
		name := ledger.NoteKeyName(sig.Cert)
		ns, err := ledger.NewNoteSigner(name, sig.Key)
		if err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := s.Verify(ledger.VerifyOptions{}); errors.Is(err, ledger.ErrTampered) {
			return tamperedErr(fmt.Errorf("not signing a checkpoint of a ledger that does not verify: %w", err))
		} else if err != nil {
			return err
		}
		cp, err := s.CreateCheckpoint(ns, c.String("reason"))
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return printJSON(c, cp)
		}
		vkey, _ := ledger.NoteVerifierKey(name, sig.Cert.PublicKey)
		w := c.App.Writer
		fmt.Fprintf(w, "checkpoint of %s events signed and recorded (event #%d):\n\n%s\n", ledger.Thousands(cp.Size), cp.Seq, cp.Note)
		fmt.Fprintf(w, "verifier key: %s\n", vkey)
		fmt.Fprintln(w, "keep a copy elsewhere: itad checkpoint export -o FILE")
		return nil
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
		&cli.StringFlag{Name: "actor", Usage: "events by this actor"},
		&cli.StringFlag{Name: "serial", Usage: "events about this device"},
		&cli.StringFlag{Name: "action", Usage: "events of this action, e.g. device.amend, report, foi"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text, csv or json"},
		&cli.StringFlag{Name: "reason", Usage: "why the trail is read (recorded)"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr("log takes no arguments (got %q): use --serial, --actor, --action, --since", c.Args().First())
		}
		format := c.String("format")
		if c.Bool("json") {
			format = "json"
		}
		f := ledger.LogFilter{Since: c.String("since"), Until: c.String("until"), Actor: c.String("actor"),
			Action: c.String("action"), Serial: c.String("serial")}
		lw, err := ledger.NewLogWriter(c.App.Writer, format)
		if err != nil {
			return usageErr("--format: %v", err)
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		var subject []string
		for _, kv := range [][2]string{{"since", f.Since}, {"until", f.Until}, {"actor", f.Actor}, {"action", f.Action}, {"serial", f.Serial}} {
			if kv[1] != "" {
				subject = append(subject, kv[0]+"="+kv[1])
			}
		}
		if len(subject) == 0 {
			subject = []string{"all"}
		}
		if err := s.LogAccess(ledger.LogAction, strings.Join(subject, " "), c.String("reason"), f); err != nil {
			return err
		}
		if err := s.AuditLog(f, lw.Write); err != nil {
			return err
		}
		return lw.Close()
	},
}
