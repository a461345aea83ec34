package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// The demo ledger's operator account for itad serve.
const (
	demoOperator         = "demo-operator"
	demoOperatorPassword = "demo station 2024"
)

var demoCommand = &cli.Command{
	Name:      "demo",
	Usage:     "build a realistic demo ledger and print its yearly report",
	ArgsUsage: "[DIR]",
	Description: "Builds DIR/itad.db (DIR defaults to ./itad-demo): an organisation, three accredited\n" +
		"contractors, a few hundred devices wiped or destroyed over five years, and weighed\n" +
		"destruction runs; then prints the yearly report. Running it again changes nothing.",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "devices", Value: 400, Usage: "how many devices"},
	},
	Action: func(c *cli.Context) error {
		dir := "itad-demo"
		if c.NArg() > 1 {
			return usageErr("demo takes at most one DIR")
		}
		if c.NArg() == 1 {
			dir = c.Args().First()
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(dir, "itad.db")
		s, err := ledger.Open(path, ledger.Options{Create: true})
		if err != nil {
			return err
		}
		defer s.Close()
		s.Actor = globalString(c, "actor")
		res, err := ledger.Demo(s, c.Int("devices"), 2021, 2025)
		if err != nil {
			return err
		}
		// A demo operator for itad serve, made once (its password is
		// printed: this is a demo ledger, never a real one).
		if _, err := s.User(demoOperator); errors.Is(err, ledger.ErrNotFound) {
			if _, err := s.AddUser(demoOperator, ledger.RoleOperator, []byte(demoOperatorPassword)); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		by := []string{"category"}
		rows, err := s.Report(ledger.ReportQuery{By: by})
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return ledger.WriteReport(c.App.Writer, "json", by, rows)
		}
		w := c.App.Writer
		fmt.Fprintf(w, "Demo ledger %s: %s, %s, %s closed this time\n\n", path, ledger.DemoOrg,
			ledger.CountOf(int64(res.Devices), "device", "devices"), ledger.CountOf(int64(res.Closed), "destruction run", "destruction runs"))
		fmt.Fprintf(w, "Items disposed of per year, by NIST SP 800-88 category (final disposition of each device):\n\n")
		if err := ledger.WriteReport(w, "text", by, rows); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nTry (go run ./cmd/itad, or a built itad):\n"+
			"  export ITAD_DB=%s\n"+
			"  itad report --year 2024 --by type,method\n"+
			"  itad foi --year 2023 --year 2024\n"+
			"  itad batch list\n"+
			"  itad key init && itad cert issue --batch SR-2024-Q3-DCN -o %s\n"+
			"  itad verify\n"+
			"\nThe shredder station in a browser (after itad key init, to issue certificates there):\n"+
			"  itad --db %s serve\n"+
			"  then open http://127.0.0.1:8080 and sign in as %s with the password %q\n",
			path, filepath.Join(dir, "certificates"), path, demoOperator, demoOperatorPassword)
		return nil
	},
}
