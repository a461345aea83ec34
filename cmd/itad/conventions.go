package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// version is itad's version, set at build time with
// -ldflags "-X main.version=v1.2.0"; empty, it comes from the module's
// build information ("(devel)" for a plain go build).
var version string

// versionString is the version itad reports.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "(devel)" {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// printVersion writes what 'itad version' and 'itad --version' print:
// itad's version, the ledger schema version it writes, and the Go
// version it was built with.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "itad %s\nledger schema version %d\n%s %s/%s\n",
		versionString(), ledger.SchemaVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

var versionCommand = &cli.Command{
	Name:      "version",
	Usage:     "print itad's version, the ledger schema version and the Go version",
	ArgsUsage: " ",
	Action: func(c *cli.Context) error {
		printVersion(c.App.Writer)
		return nil
	},
}

var prepareOnce sync.Once

// prepareCommands readies the command tree once: every command reports
// flag errors in one line (usageError) instead of printing its help
// page, and required flags are marked "(required)" in help and checked
// by itad (urfave/cli prints the whole help page for a missing one).
func prepareCommands(cmds []*cli.Command) {
	prepareOnce.Do(func() {
		walkCommands(cmds)
		// 'itad --version' prints what 'itad version' prints.
		cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) }
	})
}

func walkCommands(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = usageError
		var required []string
		for _, f := range cmd.Flags {
			if markRequired(f) {
				required = append(required, f.Names()[0])
			}
		}
		if len(required) > 0 && cmd.Action != nil {
			action := cmd.Action
			cmd.Action = func(c *cli.Context) error {
				for _, name := range required {
					if !c.IsSet(name) {
						return &userError{err: fmt.Errorf("--%s is required", name), code: exitUsage,
							hint: "see '" + helpName(c) + " --help'"}
					}
				}
				return action(c)
			}
		}
		walkCommands(cmd.Subcommands)
	}
}

// markRequired turns a required flag into one itad checks, its usage
// ending in "(required)", and reports whether it was required.
func markRequired(f cli.Flag) bool {
	var req *bool
	var usage *string
	switch f := f.(type) {
	case *cli.StringFlag:
		req, usage = &f.Required, &f.Usage
	case *cli.StringSliceFlag:
		req, usage = &f.Required, &f.Usage
	case *cli.BoolFlag:
		req, usage = &f.Required, &f.Usage
	case *cli.IntFlag:
		req, usage = &f.Required, &f.Usage
	case *cli.Int64Flag:
		req, usage = &f.Required, &f.Usage
	default:
		return false
	}
	if !*req {
		return false
	}
	*req = false
	if !strings.Contains(*usage, "(required)") {
		*usage += " (required)"
	}
	return true
}

// flagForms says what a flag accepts where its type alone does not.
var flagForms = map[string]string{
	"capacity": "a whole number of GB (e.g. 4000)",
	"devices":  "a whole number (e.g. 400)",
}

var (
	reInvalidValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([\w-]+): `)
	reUndefined    = regexp.MustCompile(`^flag provided but not defined: -+([\w-]+)`)
	reNeedsArg     = regexp.MustCompile(`^flag needs an argument: -+([\w-]+)`)
)

// usageError is every command's OnUsageError: one line naming the flag
// and what it accepts, a hint, exit status 2, and no help page.
func usageError(c *cli.Context, err error, _ bool) error {
	hint := "see '" + helpName(c) + " --help'"
	msg := err.Error()
	if m := reInvalidValue.FindStringSubmatch(msg); m != nil {
		form := flagForms[m[2]]
		if form == "" {
			form = "a whole number"
		}
		msg = fmt.Sprintf("--%s: %q is not %s", m[2], m[1], form)
	} else if m := reUndefined.FindStringSubmatch(msg); m != nil {
		msg = "unknown flag --" + m[1]
		if s := suggest(m[1], flagNames(c)); s != "" {
			hint = "did you mean --" + s + "? (" + hint + ")"
		}
	} else if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		msg = "--" + m[1] + " needs a value"
	}
	return &userError{err: fmt.Errorf("%s", msg), hint: hint, code: exitUsage}
}

// helpName is the command's full name, "itad device add", from the
// contexts' lineage.
func helpName(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command == nil || ctx.Command.Name == "" || ctx.Command.Name == "itad" {
			continue
		}
		if len(names) == 0 || names[0] != ctx.Command.Name {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	return strings.Join(append([]string{"itad"}, names...), " ")
}

func flagNames(c *cli.Context) []string {
	var names []string
	var flags []cli.Flag
	if c.Command != nil {
		flags = c.Command.Flags
	}
	for _, f := range append(flags, c.App.Flags...) {
		names = append(names, f.Names()...)
	}
	return names
}

// unknownCommand checks the command path of args (after interspersed)
// before the application runs: a name that is no command or subcommand
// is a usage error naming it, with the nearest command as a hint.
func unknownCommand(app *cli.App, args []string) error {
	rest := args[1:]
	flags, cmds := app.Flags, app.Commands
	var path []string
	var cur *cli.Command
	for len(rest) > 0 {
		a := rest[0]
		if a == "--" {
			return nil
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			rest = rest[min(flagArity(flags, a), len(rest)):]
			continue
		}
		if cmd := findCommand(cmds, a); cmd != nil {
			path, cur = append(path, cmd.Name), cmd
			flags, cmds = cmd.Flags, nil
			for _, sc := range cmd.Subcommands {
				if sc.Name != "help" {
					cmds = append(cmds, sc)
				}
			}
			rest = rest[1:]
			if len(cmds) == 0 {
				return nil
			}
			continue
		}
		if cur != nil && cur.Action != nil {
			return nil // a positional argument of a command with subcommands
		}
		var names []string
		for _, c := range cmds {
			names = append(names, c.Names()...)
		}
		bad := strings.Join(append(slices.Clone(path), a), " ")
		ue := &userError{err: fmt.Errorf("unknown command %q", bad), code: exitUsage,
			hint: "see '" + strings.Join(append([]string{"itad"}, path...), " ") + " --help'"}
		if s := suggest(a, names); s != "" {
			want := append(slices.Clone(path), s)
			// "devcie show": suggest "device show" when the next word is
			// one of the suggestion's subcommands.
			if len(rest) > 1 {
				if sc := findCommand(findCommand(cmds, s).Subcommands, rest[1]); sc != nil {
					want = append(want, sc.Name)
				}
			}
			ue.hint = "did you mean '" + strings.Join(want, " ") + "'?"
		}
		return ue
	}
	return nil
}

// suggest returns the name nearest to s by edit distance, if near enough
// to be a slip (at most 2 edits, and fewer than half of s).
func suggest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := editDistance(strings.ToLower(s), n)
		if d < bestD && d*2 < len(s)+1 {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (optimal string
// alignment) of a and b: insertions, deletions, substitutions and swaps
// of adjacent letters each count 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// yearsFlag reads --year: each value a year (2021), a range (2021-2024)
// or a list (2021,2022); years are four digits from 1990 to next year.
// The years come back sorted, each once; none means all.
func yearsFlag(c *cli.Context) ([]int, error) {
	ys, err := parseYears(c.StringSlice("year"), time.Now().UTC().Year()+1)
	if err != nil {
		return nil, &userError{err: err, code: exitUsage, hint: "give --year as 2021, 2021-2024 or 2021,2022"}
	}
	return ys, nil
}

func parseYears(vals []string, last int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	year := func(s, whole string) (int, error) {
		y, err := strconv.Atoi(s)
		if err != nil || len(s) != 4 || y < 1990 || y > last {
			return 0, fmt.Errorf("--year: %q is not a year: years are four digits, 1990 to %d", whole, last)
		}
		return y, nil
	}
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			from, to, isRange := strings.Cut(part, "-")
			a, err := year(from, part)
			if err != nil {
				return nil, err
			}
			b := a
			if isRange {
				if b, err = year(to, part); err != nil {
					return nil, err
				}
				if b < a {
					return nil, fmt.Errorf("--year: %q ends before it starts: write the earlier year first", part)
				}
			}
			for y := a; y <= b; y++ {
				if !seen[y] {
					seen[y] = true
					out = append(out, y)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// jsonRequested reports whether --json was given among the global flags
// (interspersed moves them to the front).
func jsonRequested(app *cli.App, args []string) bool {
	for _, a := range args[1:] {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// writeJSONError writes an error as JSON for --json:
// {"error": "...", "hint": "...", "code": 2}.
func writeJSONError(w io.Writer, msg, hint string, code int) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Error string `json:"error"`
		Hint  string `json:"hint"`
		Code  int    `json:"code"`
	}{msg, hint, code})
}

// checkDateFlag refuses a malformed date flag (exit status 2) before any
// work; whether the date is plausible (not in the future, not before
// 1990) is the ledger's rule.
func checkDateFlag(c *cli.Context, name string) error {
	if !c.IsSet(name) {
		return nil
	}
	if _, err := ledger.ParseDate(c.String(name)); err != nil {
		return &userError{err: fmt.Errorf("--%s: %s", name, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": ")),
			code: exitUsage, hint: "give the date as YYYY-MM-DD, e.g. 2024-03-31"}
	}
	return nil
}
