package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestCLI_DeviceAndDisposalList(t *testing.T) {
	db := sampleLedger(t)
	t.Run("Text", func(t *testing.T) {
		out := mustItad(t, db, "device", "list", "--type", "hdd", "--year", "2021", "--site", "hq annex")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "SERIAL ") || !strings.Contains(out, "STOS00021221") || len(lines) < 2 {
			t.Fatalf("device list:\n%s", out)
		}
		for _, l := range lines[1:] {
			if !strings.Contains(l, " Hard disk drive ") || !strings.Contains(l, "HQ Annex") || !strings.Contains(l, "2021-") {
				t.Errorf("line does not match the filter: %q", l)
			}
		}
	})
	t.Run("CSV", func(t *testing.T) {
		out := mustItad(t, db, "disposal", "list", "--method", "shred", "--format", "csv")
		if !strings.HasPrefix(out, "disposed_on,serial,type,site,method,category,contractor,batch,weight_grams,final,void,certified,disposal_uuid,device_uuid\r\n") {
			t.Fatalf("csv header:\n%.300s", out)
		}
		for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")[1:] {
			if f := strings.Split(l, ","); f[4] != "shred" {
				t.Errorf("method %q in %q", f[4], l)
			}
		}
	})
	t.Run("JSON", func(t *testing.T) {
		for _, args := range [][]string{{"device", "list", "--uncertified", "--json"}, {"device", "list", "--uncertified", "--format", "json"}} {
			var rows []map[string]any
			if err := json.Unmarshal([]byte(mustItad(t, db, args...)), &rows); err != nil || len(rows) == 0 {
				t.Fatalf("%v: %d rows, %v", args, len(rows), err)
			}
			for _, r := range rows {
				if r["certified"] != false || r["disposal_uuid"] == "" {
					t.Errorf("not an uncertified final disposition: %v", r)
				}
			}
		}
	})
	t.Run("Recorded", func(t *testing.T) {
		mustItad(t, db, "disposal", "list", "--contractor", "Albion ITAD plc", "--since", "2021-01-01", "--reason", "audit 7")
		out := mustItad(t, db, "log", "--action", "disposal.list", "--format", "json")
		var evs []struct {
			Subject, Reason string
			Payload         map[string]any
		}
		if err := json.Unmarshal([]byte(out), &evs); err != nil || len(evs) == 0 {
			t.Fatalf("%d events, %v:\n%s", len(evs), err, out)
		}
		e := evs[len(evs)-1]
		if e.Subject != "contractor=Albion ITAD plc since=2021-01-01" || e.Reason != "audit 7" ||
			e.Payload["contractor"] != "Albion ITAD plc" || e.Payload["format"] != "text" || e.Payload["rows"] == nil || e.Payload["sha256"] == nil {
			t.Errorf("event %+v", e)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		if _, errOut, _ := itad(t, db, "device", "list", "--type", "floppy"); !strings.HasSuffix(errOut, "itad: hint: see 'itad device list --help'\n") {
			t.Errorf("hint: %q", errOut)
		}
		for _, tc := range []struct {
			args    []string
			code    int
			errLine string
		}{
			{[]string{"device", "list", "--format", "xml"}, exitUsage, `itad: error: --format "xml": use text, csv or json`},
			{[]string{"device", "list", "--type", "floppy"}, exitUsage, `itad: error: invalid value: unknown type "floppy"`},
			{[]string{"disposal", "list", "--since", "June"}, exitUsage, "itad: error: since: invalid value"},
			{[]string{"device", "list", "S1"}, exitUsage, `itad: error: device list takes no arguments (got "S1")`},
			{[]string{"disposal", "list", "--batch", "NOPE"}, exitFailure, `itad: error: batch "NOPE" not found`},
		} {
			out, errOut, code := itad(t, db, tc.args...)
			if code != tc.code || !strings.HasPrefix(errOut, tc.errLine) || out != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.errLine)
			}
		}
	})
	t.Run("RequireReason", func(t *testing.T) {
		mustItad(t, db, "settings", "set", "require_reason", "yes", "--reason", "policy")
		before := mustItad(t, db, "log", "--action", "device.list", "--format", "json", "--reason", "check")
		out, errOut, code := itad(t, db, "device", "list")
		if code != exitFailure || out != "" || !strings.Contains(errOut, "--reason") {
			t.Errorf("without --reason: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		after := mustItad(t, db, "log", "--action", "device.list", "--format", "json", "--reason", "check")
		if before != after {
			t.Errorf("a refused listing was recorded")
		}
		if out := mustItad(t, db, "device", "list", "--reason", "audit"); !strings.HasPrefix(out, "SERIAL") {
			t.Errorf("with --reason:\n%.200s", out)
		}
	})
}

func TestCLI_BatchListOpen(t *testing.T) {
	db := sampleLedger(t)
	mustItad(t, db, "batch", "add", "RUN-OPEN")
	mustItad(t, db, "batch", "close", "SR-2021-012")
	all := mustItad(t, db, "batch", "list")
	open := mustItad(t, db, "batch", "list", "--open")
	if !strings.Contains(open, "RUN-OPEN") || strings.Contains(open, "SR-2021-012") || !strings.Contains(all, "SR-2021-012") {
		t.Errorf("batch list --open:\n%.500s", open)
	}
	mustItad(t, db, "batch", "close", "RUN-OPEN")
	if open := mustItad(t, db, "batch", "list", "--open"); strings.Contains(open, "RUN-OPEN") {
		t.Errorf("closed batch listed as open:\n%s", open)
	}
}

// commandNames lists every command path of the app, e.g. "device list".
func commandNames() []string {
	var names []string
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			names = append(names, strings.TrimSpace(prefix+" "+c.Name))
			walk(prefix+" "+c.Name, c.Subcommands)
		}
	}
	walk("", newApp(nil, nil).Commands)
	return names
}

func TestCLI_Completion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		out := mustItad(t, "", "completion", sh)
		if !strings.Contains(out, "--generate-bash-completion") || !strings.Contains(out, "itad") {
			t.Errorf("%s script:\n%s", sh, out)
		}
	}
	fish := mustItad(t, "", "completion", "fish")
	for _, n := range commandNames() {
		last := n[strings.LastIndex(n, " ")+1:]
		if !strings.Contains(fish, " "+last) {
			t.Errorf("fish completion lacks %q", n)
		}
	}
	// What the bash and zsh scripts ask itad for. (urfave/cli reads
	// os.Args to tell a flag being completed from a command.)
	defer func(a []string) { os.Args = a }(os.Args)
	os.Args = []string{"itad", "--generate-bash-completion"}
	if out := mustItad(t, "", "--generate-bash-completion"); !strings.Contains(out, "device\n") || !strings.Contains(out, "completion\n") {
		t.Errorf("top-level words:\n%s", out)
	}
	os.Args = []string{"itad", "device", "--generate-bash-completion"}
	if out := mustItad(t, "", "device", "--generate-bash-completion"); !strings.Contains(out, "list\n") {
		t.Errorf("device words:\n%s", out)
	}
	if _, errOut, code := itad(t, "", "completion", "powershell"); code != exitUsage || !strings.HasPrefix(errOut, `itad: error: completion: unknown shell "powershell" (bash, zsh or fish)`) {
		t.Errorf("powershell: exit %d, %q", code, errOut)
	}
}

func TestCLI_Man(t *testing.T) {
	page := mustItad(t, "", "man")
	if !strings.HasPrefix(page, ".nh\n.TH itad 1") {
		t.Errorf("man page starts %.40q", page)
	}
	for _, n := range commandNames() {
		// ToMan heads each command with its path, e.g. ".SS device list" or
		// "### list" nested under "## device": look for the last word as a heading.
		last := n[strings.LastIndex(n, " ")+1:]
		if !strings.Contains(page, last) {
			t.Errorf("man page lacks %q", n)
		}
	}
	if _, err := exec.LookPath("man"); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatal("man not installed (ITAD_REQUIRE_TOOLS=1)")
		}
		t.Skip("man not installed: apt-get install man-db")
	}
	f := t.TempDir() + "/itad.1"
	if err := os.WriteFile(f, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("man", "-l", f)
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=100")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "the ledger of IT equipment") || !strings.Contains(string(out), "disposal") {
		t.Errorf("man -l: %v\n%.500s", err, out)
	}
}
