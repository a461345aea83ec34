package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// Exit statuses.
const (
	exitFailure      = 1
	exitUsage        = 2
	exitVerifyFailed = 3
	// exitNotPinned: verify --require-pinned found the ledger verified but
	// not pinned by a trusted checkpoint kept outside it.
	exitNotPinned = 4
)

// userError is an error with a hint telling the user what to do next and
// the exit status to use.
type userError struct {
	err  error
	hint string
	code int
}

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &userError{err: fmt.Errorf(format, a...), code: exitUsage}
}

func withHint(err error, hint string) error {
	return &userError{err: err, hint: hint, code: exitFailure}
}

// newApp builds the command-line application writing to stdout and stderr.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "itad",
		Usage: "the ledger of IT equipment at its end of life",
		Description: "itad records every drive, laptop and phone that is wiped or destroyed, issues signed\n" +
			"certificates of destruction, and answers auditors' and FOI questions from the ledger.\n" +
			"Start with 'itad init --org NAME', or try 'itad demo'.",
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "itad.db", EnvVars: []string{"ITAD_DB"}, Usage: "ledger file"},
			&cli.StringFlag{Name: "actor", Value: defaultActor(), EnvVars: []string{"ITAD_ACTOR"}, Usage: "who is acting, recorded on every change"},
			&cli.BoolFlag{Name: "json", Usage: "machine-readable JSON output"},
			&cli.BoolFlag{Name: "read-only", Usage: "open the ledger without changing it (automatic when it cannot be written): " +
				"for checking a copy; consultations are then not recorded"},
			&cli.StringFlag{Name: "key", EnvVars: []string{"ITAD_KEY"}, Usage: "signing key file (default: itad-signing-key.pem beside the ledger)"},
			&cli.StringFlag{Name: "cert", EnvVars: []string{"ITAD_CERT"}, Usage: "signing certificate file (default: itad-signing-cert.pem beside the ledger)"},
		},
		Commands: []*cli.Command{
			initCommand, contractorCommand, deviceCommand, disposeCommand, batchCommand,
			importCommand, reportCommand, demoCommand,
			foiCommand, exemptCommand, exportCommand, verifyFileCommand,
			keyCommand, certCommand,
			backupCommand, restoreCommand,
			verifyCommand, checkpointCommand, logCommand, disposalCommand, settingsCommand,
			evidenceCommand,               // evidence.go
			completionCommand, manCommand, // completion.go
			serveCommand, userCommand, // serve.go, user.go
			versionCommand,
		},
		Version: versionString(),
		// urfave/cli would call os.Exit itself; let run decide.
		ExitErrHandler:         func(*cli.Context, error) {},
		HideHelpCommand:        true,
		EnableBashCompletion:   true, // for 'itad completion bash|zsh'
		UseShortOptionHandling: true,
		// Remember --db for the disk-full hint, which run prints after
		// the command has returned.
		Before: func(c *cli.Context) error {
			c.App.Metadata["db"] = c.String("db")
			return nil
		},
		Metadata:     map[string]any{},
		OnUsageError: usageError,
	}
	prepareCommands(app.Commands)
	return app
}

// run runs the application and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	args = interspersed(app, helpArgs(app, args))
	err := unknownCommand(app, args)
	if err == nil {
		err = app.Run(args)
	}
	if err == nil {
		return 0
	}
	code, hint := exitFailure, hintFor(err)
	var ue *userError
	if errors.As(err, &ue) {
		code = ue.code
		if ue.hint != "" {
			hint = ue.hint
		}
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) && ue == nil {
		code = ec.ExitCode()
	}
	if ue == nil && errors.Is(err, ledger.ErrTampered) {
		code = exitVerifyFailed // nothing was answered from a ledger that does not verify
	}
	if ledger.IsDiskError(err) {
		db, _ := app.Metadata["db"].(string)
		if db == "" {
			db = "itad.db"
		}
		hint = "the disk holding " + db + " is full or failing: free space, then run itad verify"
	}
	if strings.HasPrefix(err.Error(), "flag provided but not defined") || strings.Contains(err.Error(), "Required flag") {
		code = exitUsage
	}
	msg := ledger.PrintableLines(err.Error()) // may quote stored text
	if jsonRequested(app, args) {
		writeJSONError(stderr, msg, hint, code)
		return code
	}
	fmt.Fprintf(stderr, "itad: error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(stderr, "itad: hint: %s\n", hint)
	}
	return code
}

// helpArgs turns 'itad help [COMMAND...]' into 'itad [COMMAND...] --help'.
func helpArgs(app *cli.App, args []string) []string {
	for i := 1; i < len(args); {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			i += flagArity(app.Flags, a)
			continue
		}
		if a != "help" {
			break
		}
		out := append(slices.Clone(args[:i]), args[i+1:]...)
		return append(out, "--help")
	}
	return args
}

// hintFor suggests the next step for common errors.
func hintFor(err error) string {
	var nf *ledger.NotFoundError
	var re *ledger.RuleError
	switch {
	case errors.Is(err, ledger.ErrNotInitialised):
		return "create one with 'itad init --org NAME', or point --db (ITAD_DB) at your ledger"
	case errors.As(err, &nf):
		switch nf.Kind {
		case "contractor":
			return "record it first with 'itad contractor add NAME', or see 'itad contractor list'"
		case "device":
			return "record it first with 'itad device add SERIAL --type TYPE', or import a CSV"
		case "batch":
			return "open it first with 'itad batch add REF'"
		case "disposal":
			return "find the disposal's UUID with 'itad device show SERIAL'"
		}
	case errors.Is(err, ledger.ErrVoided):
		return "a void disposal stays in the history as it was: record the right one with 'itad dispose'"
	case errors.Is(err, ledger.ErrNotLedger):
		return notLedgerHint
	case errors.Is(err, ledger.ErrNewerSchema):
		return "install the newer itad that wrote this ledger"
	case errors.Is(err, ledger.ErrTampered):
		return "nothing was answered: run 'itad verify' to see every problem, and restore the last good backup (itad restore)"
	case errors.Is(err, ledger.ErrDisclosureNotRecorded):
		return "drop --read-only: a ledger that can be written records every consultation; to consult a copy, put it on read-only media or make it unwritable"
	case errors.Is(err, ledger.ErrReasonRequired):
		return "give --reason WHY: this ledger records why it is consulted (settings require_reason)"
	case errors.As(err, &re): // refused by a rule: its hint says how to proceed
		return re.Hint
	case errors.Is(err, ledger.ErrReadOnly):
		return "the ledger file or its folder cannot be written (or --read-only was given): make changes to the live ledger"
	}
	return ""
}

func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// openLedger opens the ledger named by --db with the actor from --actor.
func openLedger(c *cli.Context) (*ledger.Store, error) {
	return openLedgerOpts(c, ledger.Options{})
}

func openLedgerOpts(c *cli.Context, opts ledger.Options) (*ledger.Store, error) {
	opts.ReadOnly = opts.ReadOnly || c.Bool("read-only")
	s, err := ledger.Open(c.String("db"), opts)
	if err != nil {
		return nil, openError(err)
	}
	if s.ReadOnly() {
		fmt.Fprintf(c.App.ErrWriter, "itad: note: %s is open read-only: it will not be changed, and consultations are not recorded in its audit trail\n", s.Path())
	}
	s.Actor = globalString(c, "actor")
	s.OnWait = func() {
		fmt.Fprintln(c.App.ErrWriter, "itad: waiting for another itad process to finish writing the ledger (a large import?)")
	}
	s.OnStale = func(ns []ledger.StaleNotice) { warnStale(c.App.ErrWriter, ns) }
	return s, nil
}

// warnStale says which certificates a change has just made stale, and how
// to issue them again: each one, or for many (an organisation renamed)
// how many.
func warnStale(w io.Writer, ns []ledger.StaleNotice) {
	const each = 5
	if len(ns) > each {
		fmt.Fprintf(w, "itad: warning: %d certificates are now stale (%s): issue each again with 'itad cert issue' (see 'itad cert list')\n",
			len(ns), ns[0].Cause.What)
		return
	}
	for _, n := range ns {
		ct := n.Certificate
		fmt.Fprintf(w, "itad: warning: certificate %s for %s %s is now stale (%s): issue it again with '%s'\n",
			ct.UUID, ct.Kind, ct.Subject, n.Cause.What, ct.IssueCommand())
	}
}

// globalString reads a global flag from the root context (key.go
// rootContext), so that a command's own flag can never shadow it
// (TestNoFlagShadowsAGlobal).
func globalString(c *cli.Context, name string) string {
	return rootContext(c).String(name)
}

// notLedgerHint follows "FILE is not an itad ledger".
const notLedgerHint = "create a ledger with 'itad init --org NAME' (where there is no file yet, or an empty one), or check --db (ITAD_DB)"

// openError gives the errors of opening a ledger their exit status and
// hint: a file that is not a ledger is a failure (1); a ledger whose
// database was changed or damaged outside itad fails verification (3).
func openError(err error) error {
	switch {
	case errors.Is(err, ledger.ErrNotLedger):
		return &userError{err: err, code: exitFailure, hint: notLedgerHint}
	case errors.Is(err, ledger.ErrTampered), errors.Is(err, ledger.ErrDamaged):
		return &userError{err: err, code: exitVerifyFailed,
			hint: "the ledger's database was changed or damaged outside itad: run 'itad verify' to list every problem, keep this file as evidence, and restore the last backup that verifies"}
	}
	return err
}

// printJSON writes v as indented JSON.
func printJSON(c *cli.Context, v any) error {
	return writeJSON(c.App.Writer, v)
}
