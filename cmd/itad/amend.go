package main

import (
	"fmt"
	"strings"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// Corrections (device amend, disposal amend, disposal void) and ledger
// settings; batch amend is in batch.go.

// amendFlags maps flags to the fields they set.
type amendFlag struct{ flag, field string }

func collectAmend(c *cli.Context, fs []amendFlag) (map[string]string, error) {
	set := map[string]string{}
	for _, f := range fs {
		if !c.IsSet(f.flag) {
			continue
		}
		v := c.String(f.flag)
		weight := f.field == "weight_grams" || f.field == "gross_weight_grams"
		if weight && strings.TrimSpace(v) != "" && strings.ToLower(strings.TrimSpace(v)) != "none" {
			g, err := ledger.ParseWeight(v, "")
			if err != nil {
				return nil, usageErr("--%s: %s", f.flag, strings.TrimPrefix(err.Error(), ledger.ErrInvalid.Error()+": "))
			}
			v = fmt.Sprint(g)
		} else if weight {
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

// amendAction is the action of device amend, disposal amend and batch
// amend: the one argument (named arg), the changed flags (fs), the ledger,
// then amend, which makes the correction and names what it amended.
func amendAction(arg string, fs []amendFlag, amend func(c *cli.Context, s *ledger.Store, key string, set map[string]string) (string, []ledger.Change, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		key, err := oneArg(c, arg)
		if err != nil {
			return err
		}
		set, err := collectAmend(c, fs)
		if err != nil {
			return err
		}
		s, err := openLedger(c)
		if err != nil {
			return err
		}
		defer s.Close()
		what, cs, err := amend(c, s, key, set)
		if err != nil {
			return err
		}
		return printChanges(c, what, cs)
	}
}

func printChanges(c *cli.Context, what string, cs []ledger.Change) error {
	if c.Bool("json") {
		return printJSON(c, map[string]any{"amended": what, "changes": cs})
	}
	fmt.Fprintf(c.App.Writer, "%s amended: %s\n", what, ledger.FormatChanges(cs))
	return nil
}

var deviceAmendFlags = []amendFlag{{"serial", "serial"}, {"asset-tag", "asset_tag"}, {"type", "type"}, {"make", "make"},
	{"model", "model"}, {"capacity", "capacity_gb"}, {"site", "site"}}

var deviceAmendCommand = &cli.Command{
	Name:      "amend",
	Usage:     "correct a device's record (the correction and its reason are kept in its history)",
	ArgsUsage: "SERIAL",
	Description: "Records a device.amend event with each changed field's old and new value and updates the\n" +
		"device. An empty value (--asset-tag \"\") clears an optional field.\n\n" +
		"--serial NEW corrects a mistyped serial (its own device.serial event). The old serial still\n" +
		"finds the device in 'itad device show' and 'itad log --serial'; an import naming the old serial\n" +
		"is refused for that row. Another device may then be recorded with the old serial ('itad device\n" +
		"add'); the old serial then finds that one.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "serial", Usage: "the correct serial"},
		&cli.StringFlag{Name: "type", Usage: "device type: hdd, ssd, tape, usb, optical, memory-card, laptop, desktop, server, phone, tablet, network, printer, other"}, &cli.StringFlag{Name: "make", Usage: "manufacturer, e.g. Seagate"}, &cli.StringFlag{Name: "model", Usage: "model, e.g. Exos 7E8"},
		&cli.StringFlag{Name: "asset-tag", Usage: "the organisation's asset tag"}, &cli.StringFlag{Name: "capacity", Usage: "capacity in GB (\"\" when not known)"},
		&cli.StringFlag{Name: "site", Usage: "site where the device was held or the run took place"},
		&cli.StringFlag{Name: "reason", Required: true, Usage: "why the record was wrong (required)"},
	},
	Action: amendAction("SERIAL", deviceAmendFlags, func(c *cli.Context, s *ledger.Store, serial string, set map[string]string) (string, []ledger.Change, error) {
		d, cs, err := s.AmendDevice(serial, set, c.String("reason"))
		return "device " + d.Serial, cs, err
	}),
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
				"--batch \"\" takes the disposal out of its batch.\n\n" +
				"A corrected weight or date passes the checks of 'itad dispose'. A correction may move a date\n" +
				"backwards, but a device keeps at most one destruction, nothing dated after it, and no two\n" +
				"disposals by the same method on the same day.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "method", Usage: "overwrite, block-erase, crypto-erase, degauss, shred, disintegrate, pulverise or incinerate"}, &cli.StringFlag{Name: "on", Usage: "date, YYYY-MM-DD"},
				&cli.StringFlag{Name: "contractor", Usage: "a contractor recorded with 'itad contractor add'"}, &cli.StringFlag{Name: "standard", Usage: "sanitisation standard, e.g. NIST SP 800-88 Purge"}, &cli.StringFlag{Name: "tool", Usage: "tool and version, e.g. \"nwipe 0.35\""},
				&cli.StringFlag{Name: "verified", Usage: "yes, no or sample"}, &cli.StringFlag{Name: "weight", Usage: "with its unit, e.g. 0.62kg or 620g"},
				&cli.BoolFlag{Name: "allow-unusual-weight", Usage: "accept a weight outside the plausible range for the device's type"},
				&cli.StringFlag{Name: "batch", Usage: "destruction run reference"}, &cli.StringFlag{Name: "operator", Usage: "who carried out the sanitisation"}, &cli.StringFlag{Name: "witness", Usage: "who witnessed it"},
				&cli.StringFlag{Name: "notes", Usage: "free text"},
				&cli.StringFlag{Name: "reason", Required: true, Usage: "why the record was wrong (required)"},
			},
			Action: amendAction("UUID", disposalAmendFlags, func(c *cli.Context, s *ledger.Store, uuid string, set map[string]string) (string, []ledger.Change, error) {
				p, cs, err := s.AmendDisposalOpts(uuid, set, c.String("reason"), ledger.RecordOptions{AllowUnusualWeight: c.Bool("allow-unusual-weight")})
				return "disposal " + p.UUID + " of " + p.Serial, cs, err
			}),
		},
		{
			Name:      "void",
			Usage:     "void a disposal recorded in error (it stays in the history, marked void)",
			ArgsUsage: "UUID",
			Description: "Records a disposal.void event. The disposal is not deleted: 'itad device show' lists it\n" +
				"marked void, with who voided it, when and why. It leaves every report, export, FOI answer,\n" +
				"certificate and batch total, and the device's final disposition is recomputed from its\n" +
				"other disposals (none if it has no other). A void cannot be undone: record the disposal\n" +
				"again with 'itad dispose'. Find the UUID with 'itad device show SERIAL'.",
			Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why the disposal was recorded in error (required)"}},
			Action: func(c *cli.Context) error {
				uuid, err := oneArg(c, "UUID")
				if err != nil {
					return err
				}
				s, err := openLedger(c)
				if err != nil {
					return err
				}
				defer s.Close()
				p, err := s.VoidDisposal(uuid, c.String("reason"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(c, p)
				}
				fmt.Fprintf(c.App.Writer, "disposal %s of %s voided (%s on %s, event #%d): reports now use the device's other disposals (see 'itad device show %s')\n",
					p.UUID, p.Serial, p.Method, p.DisposedOn, p.Void.Seq, p.Serial)
				return nil
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
			Description: "Keys: org, media_destination, require_reason, checkpoint_dir, evidence_max_bytes,\n" +
				"default_contractor, default_site, default_operator (evidence import). With require_reason true, every\n" +
				"report, export, FOI answer, device shown and reading of the audit log must give --reason.\n" +
				"checkpoint_dir, the absolute path of an existing writable folder outside the ledger (another\n" +
				"disk or share), receives a copy of every new checkpoint; verify and cert verify then check\n" +
				"that the ledger extends the newest one there. An empty value turns it off.\n" +
				"public_url, an https:// or http:// base URL without query or fragment: certificates issued while\n" +
				"it is set carry URL/verify/<number>?h=<content hash> in their QR code and print the address.\n" +
				"Changing org or media_destination once set needs --reason, and makes every current certificate\n" +
				"stale (it names them, or says how many): issue them again with 'itad cert issue'.",
			Flags: []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, recorded in the audit trail"}},
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return usageErr("settings set takes KEY VALUE (got %s)", ledger.CountOf(int64(c.NArg()), "argument", "arguments"))
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
				if key == ledger.SettingCheckpointDir && v != "" {
					fmt.Fprintln(c.App.Writer, "every new checkpoint will be written there: run 'itad checkpoint' to write one now")
				}
				return nil
			},
		},
	},
}

func sortedSettingKeys() []string {
	return []string{ledger.SettingOrg, ledger.SettingDestination, ledger.SettingRequireReason, ledger.SettingCheckpointDir,
		ledger.SettingEvidenceMaxBytes, ledger.SettingDefaultContractor, ledger.SettingDefaultSite, ledger.SettingDefaultOperator,
		ledger.SettingOrgLocation, ledger.SettingOrgPhone, ledger.SettingClassification, ledger.SettingPublicURL}
}
