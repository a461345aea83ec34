package main

import (
	"fmt"
	"strings"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// Corrections (device amend, disposal amend) and ledger settings.

// amendFlags maps flags to the fields they set.
type amendFlag struct{ flag, field string }

func collectAmend(c *cli.Context, fs []amendFlag) (map[string]string, error) {
	set := map[string]string{}
	for _, f := range fs {
		if !c.IsSet(f.flag) {
			continue
		}
		v := c.String(f.flag)
		if f.field == "weight_grams" && strings.TrimSpace(v) != "" && strings.ToLower(strings.TrimSpace(v)) != "none" {
			g, err := ledger.ParseWeight(v, "kg")
			if err != nil {
				return nil, usageErr("--weight: %v", err)
			}
			v = fmt.Sprint(g)
		} else if f.field == "weight_grams" {
			v = ""
		}
		set[f.field] = v
	}
	if len(set) == 0 {
		names := make([]string, len(fs))
		for i, f := range fs {
			names[i] = "--" + f.flag
		}
		return nil, usageErr("nothing to amend: give at least one of %s", strings.Join(names, ", "))
	}
	return set, nil
}

func printChanges(c *cli.Context, what string, cs []ledger.Change) error {
	if c.Bool("json") {
		return printJSON(c, map[string]any{"amended": what, "changes": cs})
	}
	fmt.Fprintf(c.App.Writer, "%s amended: %s\n", what, ledger.FormatChanges(cs))
	return nil
}

var deviceAmendFlags = []amendFlag{{"asset-tag", "asset_tag"}, {"type", "type"}, {"make", "make"}, {"model", "model"},
	{"capacity", "capacity_gb"}, {"site", "site"}}

var deviceAmendCommand = &cli.Command{
	Name:      "amend",
	Usage:     "correct a device's record (the correction and its reason are kept in its history)",
	ArgsUsage: "SERIAL",
	Description: "Records a device.amend event with each changed field's old and new value and updates the\n" +
		"device. The serial cannot be changed. An empty value (--asset-tag \"\") clears an optional field.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "type"}, &cli.StringFlag{Name: "make"}, &cli.StringFlag{Name: "model"},
		&cli.StringFlag{Name: "asset-tag"}, &cli.StringFlag{Name: "capacity", Usage: "capacity in GB (\"\" when not known)"},
		&cli.StringFlag{Name: "site"},
		&cli.StringFlag{Name: "reason", Required: true, Usage: "why the record was wrong (required)"},
	},
	Action: func(c *cli.Context) error {
		serial, err := oneArg(c, "SERIAL")
		if err != nil {
			return err
		}
		set, err := collectAmend(c, deviceAmendFlags)
		if err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		d, cs, err := s.AmendDevice(serial, set, c.String("reason"))
		if err != nil {
			return err
		}
		return printChanges(c, "device "+d.Serial, cs)
	},
}

var disposalAmendFlags = []amendFlag{{"method", "method"}, {"on", "disposed_on"}, {"contractor", "contractor"},
	{"standard", "standard"}, {"tool", "tool"}, {"verified", "verified"}, {"weight", "weight_grams"}, {"batch", "batch"},
	{"operator", "operator"}, {"witness", "witness"}, {"notes", "notes"}}

var disposalCommand = &cli.Command{
	Name:  "disposal",
	Usage: "correct disposal records",
	Subcommands: []*cli.Command{
		{
			Name:      "amend",
			Usage:     "correct a disposal record (the correction and its reason are kept)",
			ArgsUsage: "UUID",
			Description: "Records a disposal.amend event with each changed field's old and new value, updates the\n" +
				"disposal and recomputes the device's final disposition; reports use the corrected values.\n" +
				"Find the UUID with 'itad device show SERIAL'. --weight \"\" records that it was not weighed;\n" +
				"--batch \"\" takes the disposal out of its batch.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "method"}, &cli.StringFlag{Name: "on", Usage: "date, YYYY-MM-DD"},
				&cli.StringFlag{Name: "contractor"}, &cli.StringFlag{Name: "standard"}, &cli.StringFlag{Name: "tool"},
				&cli.StringFlag{Name: "verified", Usage: "yes, no or sample"}, &cli.StringFlag{Name: "weight", Usage: "e.g. 0.62kg or 620g"},
				&cli.StringFlag{Name: "batch"}, &cli.StringFlag{Name: "operator"}, &cli.StringFlag{Name: "witness"},
				&cli.StringFlag{Name: "notes"},
				&cli.StringFlag{Name: "reason", Required: true, Usage: "why the record was wrong (required)"},
			},
			Action: func(c *cli.Context) error {
				uuid, err := oneArg(c, "UUID")
				if err != nil {
					return err
				}
				set, err := collectAmend(c, disposalAmendFlags)
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				p, cs, err := s.AmendDisposal(uuid, set, c.String("reason"))
				if err != nil {
					return err
				}
				return printChanges(c, "disposal "+p.UUID+" of "+p.Serial, cs)
			},
		},
	},
}

var settingsCommand = &cli.Command{
	Name:  "settings",
	Usage: "show and change ledger settings",
	Subcommands: []*cli.Command{
		{
			Name:  "list",
			Usage: "show the settings",
			Action: func(c *cli.Context) error {
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				set, err := s.Settings()
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, set)
				}
				tw := table(c.App.Writer)
				for _, k := range sortedSettingKeys() {
					fmt.Fprintf(tw, "%s\t%s\t(%s)\n", k, set[k], ledger.SettingKeys[k])
				}
				return tw.Flush()
			},
		},
		{
			Name:      "set",
			Usage:     "change a setting (recorded with its reason)",
			ArgsUsage: "KEY VALUE",
			Description: "Keys: org, media_destination, require_reason. With require_reason true, every report,\n" +
				"export, FOI answer, device shown and reading of the audit log must give --reason.\n" +
				"Changing org or media_destination once set needs --reason, and makes every current certificate\n" +
				"stale (it names them, or says how many): issue them again with 'itad cert issue'.",
			Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return usageErr("settings set takes KEY VALUE (got %d arguments)", c.NArg())
				}
				key := c.Args().Get(0)
				v, err := ledger.ValidateSetting(key, c.Args().Get(1))
				if err != nil {
					return usageErr("%v", err)
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				cur, err := s.Setting(key)
				if err != nil {
					return err
				}
				if cur == v {
					fmt.Fprintf(c.App.Writer, "%s is already %q\n", key, v)
					return nil
				}
				if (key == ledger.SettingOrg || key == ledger.SettingDestination) && cur != "" && strings.TrimSpace(c.String("reason")) == "" {
					return usageErr("changing %s from %q changes what every certificate says: give --reason WHY", key, cur)
				}
				if err := s.SetSetting(key, v, c.String("reason")); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "%s set to %q\n", key, v)
				return nil
			},
		},
	},
}

func sortedSettingKeys() []string {
	return []string{ledger.SettingOrg, ledger.SettingDestination, ledger.SettingRequireReason}
}
