package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// TestCLI_Conventions pins the exact stderr and exit status of usage
// errors: unknown commands, flag values, --year forms, --json errors.
func TestCLI_Conventions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Org")
	next := time.Now().UTC().Year() + 1
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"UnknownCommand", []string{"repport"}, 2, "itad: error: unknown command \"repport\"\nitad: hint: did you mean 'report'?\n"},
		{"UnknownCommandWithSub", []string{"devcie", "show", "X"}, 2, "itad: error: unknown command \"devcie\"\nitad: hint: did you mean 'device show'?\n"},
		{"UnknownSubcommand", []string{"cert", "isue", "X"}, 2, "itad: error: unknown command \"cert isue\"\nitad: hint: did you mean 'cert issue'?\n"},
		{"UnknownFar", []string{"zzzzzz"}, 2, "itad: error: unknown command \"zzzzzz\"\nitad: hint: see 'itad --help'\n"},
		{"Capacity", []string{"device", "add", "S1", "--type", "hdd", "--capacity", "4TB"}, 2,
			"itad: error: --capacity: \"4TB\" is not a whole number of GB (e.g. 4000)\nitad: hint: see 'itad device add --help'\n"},
		{"UnknownFlag", []string{"device", "add", "S1", "--typ", "hdd"}, 2,
			"itad: error: unknown flag --typ\nitad: hint: did you mean --type? (see 'itad device add --help')\n"},
		{"NeedsValue", []string{"report", "--format"}, 2, "itad: error: --format needs a value\nitad: hint: see 'itad report --help'\n"},
		{"Required", []string{"dispose", "S1", "--on", "2021-01-01", "--contractor", "a"}, 2,
			"itad: error: --method is required\nitad: hint: see 'itad dispose --help'\n"},
		{"Year2", []string{"report", "--year", "21"}, 2,
			fmt.Sprintf("itad: error: --year: \"21\" is not a year: years are four digits, 1990 to %d\nitad: hint: give --year as 2021, 2021-2024 or 2021,2022\n", next)},
		{"YearBackwards", []string{"export", "--year", "2024-2021"}, 2,
			"itad: error: --year: \"2024-2021\" ends before it starts: write the earlier year first\nitad: hint: give --year as 2021, 2021-2024 or 2021,2022\n"},
		{"YearFuture", []string{"foi", "--year", "2999"}, 2,
			fmt.Sprintf("itad: error: --year: \"2999\" is not a year: years are four digits, 1990 to %d\nitad: hint: give --year as 2021, 2021-2024 or 2021,2022\n", next)},
		{"YearRange", []string{"report", "--year", "2021-2024"}, 0, ""},
		{"YearList", []string{"report", "--year", "2021,2022"}, 0, ""},
		{"BadDate", []string{"dispose", "S1", "--method", "shred", "--on", "2021-13-01", "--contractor", "a"}, 2,
			"itad: error: --on: date \"2021-13-01\" is not a valid ISO 8601 date (YYYY-MM-DD)\nitad: hint: give the date as YYYY-MM-DD, e.g. 2024-03-31\n"},
		{"BadWeight", []string{"dispose", "S1", "--method", "shred", "--on", "2021-01-01", "--contractor", "a", "--weight", "heavy"}, 2, ""},
		{"JSONUnknown", []string{"--json", "repport"}, 2, "{\"error\":\"unknown command \\\"repport\\\"\",\"hint\":\"did you mean 'report'?\",\"code\":2}\n"},
		{"JSONAfter", []string{"report", "--year", "21", "--json"}, 2,
			fmt.Sprintf("{\"error\":\"--year: \\\"21\\\" is not a year: years are four digits, 1990 to %d\",\"hint\":\"give --year as 2021, 2021-2024 or 2021,2022\",\"code\":2}\n", next)},
		{"JSONFailure", []string{"--json", "device", "show", "NOPE"}, 1,
			"{\"error\":\"device \\\"NOPE\\\" not found\",\"hint\":\"record it first with 'itad device add SERIAL --type TYPE', or import a CSV\",\"code\":1}\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if tt.name == "BadWeight" {
				if !strings.HasPrefix(errOut, "itad: error: --weight: ") || strings.Count(errOut, "\n") != 2 {
					t.Fatalf("stderr:\n%s", errOut)
				}
				return
			}
			if errOut != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, tt.stderr)
			}
			if code != 0 && strings.Contains(out, "USAGE") {
				t.Errorf("help page printed on a usage error:\n%s", out)
			}
		})
	}
}

func TestCLI_Version(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	want := fmt.Sprintf("itad %s\nledger schema version %d\n%s %s/%s\n", versionString(), ledger.SchemaVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, errOut, code := itad(t, db, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("itad %v: exit %d\n%s%s\nwant:\n%s", args, code, out, errOut, want)
		}
	}
	out, _, code := itad(t, db, "help")
	if code != 0 || !strings.Contains(out, "VERSION:\n   "+versionString()) || !strings.Contains(out, "COMMANDS:") {
		t.Errorf("itad help: exit %d\n%s", code, out)
	}
	out, _, code = itad(t, db, "help", "dispose")
	if code != 0 || !strings.Contains(out, "itad dispose") || !strings.Contains(out, "(required)") {
		t.Errorf("itad help dispose: exit %d\n%s", code, out)
	}
}

// TestCommandTree_FlagsDescribed walks every command: each flag has a
// description, and every required flag says "(required)".
func TestCommandTree_FlagsDescribed(t *testing.T) {
	app := newApp(&strings.Builder{}, &strings.Builder{})
	var walk func(path string, cmds []*cli.Command)
	check := func(path string, flags []cli.Flag) {
		for _, f := range flags {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok {
				continue
			}
			if strings.TrimSpace(df.GetUsage()) == "" {
				t.Errorf("%s --%s has no description", path, f.Names()[0])
			}
		}
	}
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := path + " " + c.Name
			check(p, c.Flags)
			walk(p, c.Subcommands)
		}
	}
	check("itad", app.Flags)
	walk("itad", app.Commands)
	for _, f := range disposeCommand.Flags {
		if f.Names()[0] == "method" && !strings.HasSuffix(f.(*cli.StringFlag).Usage, "(required)") {
			t.Errorf("dispose --method not marked (required): %q", f.(*cli.StringFlag).Usage)
		}
	}
}

// TestCLI_NoClobber: every command that writes a named file refuses an
// existing one without --force, before any work, and leaves it alone.
func TestCLI_NoClobber(t *testing.T) {
	f := newCertFixture(t, 0)
	mustItad(t, f.db, "checkpoint")
	const mine = "the user's own file\n"
	for _, tt := range []struct {
		name string
		args []string // FILE is replaced by the path
		file string   // the existing file, if not FILE
	}{
		{"Export", []string{"export", "-o", "FILE"}, ""},
		{"ReportCSV", []string{"report", "--format", "csv", "-o", "FILE"}, ""},
		{"ReportPDF", []string{"report", "--format", "pdf", "-o", "FILE"}, ""},
		{"FOI", []string{"foi", "-o", "FILE"}, ""},
		{"Signature", []string{"export", "-o", "FILE", "--sign"}, "FILE.p7s"},
		{"CheckpointExport", []string{"checkpoint", "export", "-o", "FILE"}, ""},
		{"Backup", []string{"backup", "FILE"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			existing := path
			if tt.file != "" {
				existing = strings.ReplaceAll(tt.file, "FILE", path)
			}
			if err := os.WriteFile(existing, []byte(mine), 0o644); err != nil {
				t.Fatal(err)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "FILE", path)
			}
			before := eventCount(t, f.db)
			_, errOut, code := itad(t, f.db, args...)
			wantErr := "itad: error: file already exists: " + existing + "\nitad: hint: choose another file name, or add --force to replace it\n"
			if tt.name == "Backup" {
				wantErr = "" // its own wording, tested in backup tests
			}
			if code != 1 || (wantErr != "" && errOut != wantErr) {
				t.Fatalf("exit %d\n%s\nwant:\n%s", code, errOut, wantErr)
			}
			if b, _ := os.ReadFile(existing); string(b) != mine {
				t.Fatalf("%s was replaced", existing)
			}
			if after := eventCount(t, f.db); after != before {
				t.Errorf("refused output recorded %d events", after-before)
			}
			mustItad(t, f.db, append(args, "--force")...)
			if b, _ := os.ReadFile(existing); string(b) == mine {
				t.Fatalf("--force did not replace %s", existing)
			}
		})
	}
}

func TestParseYears(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{"2021"}, "[2021]"},
		{[]string{"2021-2024"}, "[2021 2022 2023 2024]"},
		{[]string{"2022,2021", "2021"}, "[2021 2022]"},
		{[]string{"2021 - 2022"}, "error"},
		{[]string{"21"}, "error"},
		{[]string{"1989"}, "error"},
		{[]string{"2031"}, "error"},
		{[]string{"02021"}, "error"},
		{[]string{"2024-2021"}, "error"},
	} {
		got, err := parseYears(tt.in, 2030)
		s := fmt.Sprint(got)
		if got == nil {
			s = "[]"
		}
		if err != nil {
			s = "error"
		}
		if s != tt.want {
			t.Errorf("parseYears(%q) = %s (%v), want %s", tt.in, s, err, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"report", "device", "dispose", "disposal", "import", "export"}
	for in, want := range map[string]string{"repport": "report", "devcie": "device", "exprot": "export", "x": "", "zzzzzz": ""} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
