package main

import (
	"bytes"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

var passwordFileFlag = &cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of this file (default: ask on the terminal)"}

var userCommand = &cli.Command{
	Name:  "user",
	Usage: "manage the named accounts that sign in to itad serve",
	Description: "Accounts have one role: operator (devices, disposals, runs, the station, certificates),\n" +
		"auditor (reads everything), foi (FOI answers) or admin (accounts, settings, keys, exemptions).\n" +
		"Passwords are hashed with argon2id; every change is an event naming who made it, never the hash.",
	Subcommands: []*cli.Command{
		{Name: "add", Usage: "create an account", ArgsUsage: "NAME",
			Flags:  []cli.Flag{&cli.StringFlag{Name: "role", Required: true, Usage: "operator, auditor, foi or admin"}, passwordFileFlag},
			Action: userAdd},
		{Name: "list", Usage: "list accounts", ArgsUsage: " ", Action: userList},
		{Name: "disable", Usage: "disable an account and end its sessions", ArgsUsage: "NAME", Action: userChange(func(s *ledger.Store, n string) (ledger.User, error) { return s.DisableUser(n) }, "disabled")},
		{Name: "enable", Usage: "enable an account again (also lifts a lock-out)", ArgsUsage: "NAME", Action: userChange(func(s *ledger.Store, n string) (ledger.User, error) { return s.EnableUser(n) }, "enabled")},
		{Name: "set-role", Usage: "change an account's role", ArgsUsage: "NAME ROLE", Action: userSetRole},
		{Name: "reset-password", Usage: "set a new password (ends the account's sessions)", ArgsUsage: "NAME", Flags: []cli.Flag{passwordFileFlag}, Action: userResetPassword},
	},
}

// readPassword reads a new password from --password-file, or twice from
// the terminal.
func readPassword(c *cli.Context, name string) ([]byte, error) {
	if f := c.String("password-file"); f != "" {
		data, err := ledger.ReadFileLimit(f, ledger.MaxPasswordBytes, "password file")
		if err != nil {
			return nil, withHint(fmt.Errorf("password file: %w", err), "give a file holding the password on its first line")
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
	if !stdinTerminal() {
		return nil, usageErr("no terminal to ask for the password of %s on: give --password-file FILE", name)
	}
	return promptPassphrase(c, "password for "+name+": ", true)
}

func userErr(err error) error {
	switch {
	case errors.Is(err, ledger.ErrConflict):
		return withHint(err, "choose another name, or see 'itad user list'")
	case errors.Is(err, ledger.ErrNotFound):
		return withHint(err, "see 'itad user list'")
	}
	return err
}

func userAdd(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	if err := ledger.CheckRole(c.String("role")); err != nil {
		return usageErr("%v", err)
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	pw, err := readPassword(c, name)
	if err != nil {
		return err
	}
	u, err := s.AddUser(name, c.String("role"), pw)
	if err != nil {
		return userErr(err)
	}
	fmt.Fprintf(c.App.Writer, "account %s created with role %s\n", u.Name, u.Role)
	return nil
}

func userList(c *cli.Context) error {
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	us, err := s.Users()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(c, us)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE")
	for _, u := range us {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, state)
	}
	return tw.Flush()
}

func userChange(fn func(*ledger.Store, string) (ledger.User, error), what string) cli.ActionFunc {
	return func(c *cli.Context) error {
		name, err := oneArg(c, "NAME")
		if err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		u, err := fn(s, name)
		if err != nil {
			return userErr(err)
		}
		fmt.Fprintf(c.App.Writer, "account %s %s\n", u.Name, what)
		return nil
	}
}

func userSetRole(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageErr("user set-role takes NAME ROLE")
	}
	if err := ledger.CheckRole(c.Args().Get(1)); err != nil {
		return usageErr("%v", err)
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.SetUserRole(c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return userErr(err)
	}
	fmt.Fprintf(c.App.Writer, "account %s now has role %s\n", u.Name, u.Role)
	return nil
}

func userResetPassword(c *cli.Context) error {
	name, err := oneArg(c, "NAME")
	if err != nil {
		return err
	}
	s, err := openLedger(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.User(name); err != nil {
		return userErr(err)
	}
	pw, err := readPassword(c, name)
	if err != nil {
		return err
	}
	u, err := s.ResetPassword(name, pw)
	if err != nil {
		return userErr(err)
	}
	fmt.Fprintf(c.App.Writer, "account %s has a new password; its sessions ended\n", u.Name)
	return nil
}
