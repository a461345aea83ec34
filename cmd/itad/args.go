package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed lets flags follow positional arguments, as in
// "itad dispose SERIAL --method shred": urfave/cli v2 (like the flag
// package) stops reading flags at the first positional argument, so the
// leaf command's flags are moved in front of its positionals. A "--"
// ends flag handling as usual.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags := app.Flags
	cmds := app.Commands
	// Walk global flags and the command path.
	for len(rest) > 0 {
		a := rest[0]
		if a == "--" {
			return append(out, rest...)
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			n := flagArity(flags, a)
			if n > len(rest) {
				n = len(rest)
			}
			out = append(out, rest[:n]...)
			rest = rest[n:]
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil {
			break // a positional of the leaf command
		}
		out = append(out, a)
		rest = rest[1:]
		flags, cmds = cmd.Flags, nil
		// urfave/cli adds a "help" subcommand at run time: not a real one.
		for _, sc := range cmd.Subcommands {
			if sc.Name != "help" {
				cmds = append(cmds, sc)
			}
		}
		if len(cmds) == 0 {
			break
		}
	}
	// Leaf command: flags first, then positionals. Global flags (--json,
	// --db, ...) written after the command are moved to the front.
	var global, fl, pos []string
	for len(rest) > 0 {
		a := rest[0]
		if a == "--" {
			pos = append(pos, rest...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if !hasFlag(flags, a) && hasFlag(app.Flags, a) {
				n := min(flagArity(app.Flags, a), len(rest))
				global = append(global, rest[:n]...)
				rest = rest[n:]
				continue
			}
			n := flagArity(flags, a)
			if n > len(rest) {
				n = len(rest)
			}
			fl = append(fl, rest[:n]...)
			rest = rest[n:]
			continue
		}
		pos = append(pos, a)
		rest = rest[1:]
	}
	res := append([]string{out[0]}, global...)
	res = append(res, out[1:]...)
	return append(append(res, fl...), pos...)
}

// hasFlag reports whether arg ("--name" or "--name=v") names one of flags.
func hasFlag(flags []cli.Flag, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// flagArity is how many arguments a flag occupies: 1 for booleans and
// --name=value, else 2.
func flagArity(flags []cli.Flag, arg string) int {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return 1
	}
	if name == "help" || name == "h" {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if _, ok := f.(*cli.BoolFlag); ok {
					return 1
				}
				return 2
			}
		}
	}
	return 1 // unknown: let the parser report it
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
