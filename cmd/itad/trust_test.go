package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// The attacks of issue 10 on disclosures and the state they rely on,
// performed as described: raw SQL behind itad's back, stdout redirection,
// a forged actor, --read-only on the live ledger.

// eventCount reads the number of events as the sqlite3 shell would.
func eventCount(t *testing.T, db string) int64 {
	t.Helper()
	var n int64
	if err := shell(t, db).QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTrust_ReasonRequiredDisclosesNothing: with require_reason set,
// `itad export --year 2024 > x.csv`, `itad foi …` and every other
// consultation without --reason write nothing at all to standard output
// and record nothing; with a reason they answer and are recorded.
func TestTrust_ReasonRequiredDisclosesNothing(t *testing.T) {
	db := foiCLILedger(t)
	mustItad(t, db, "settings", "set", "require_reason", "true", "--reason", "DPA policy")
	for _, args := range [][]string{
		{"export", "--year", "2021"},
		{"export", "--year", "2021", "--format", "json"},
		{"foi", "--year", "2020", "--year", "2021"},
		{"foi", "--year", "2021", "--format", "csv"},
		{"report", "--by", "type"},
		{"device", "show", "STOS00021221"},
		{"log"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			before := eventCount(t, db)
			out, errOut, code := itad(t, db, args...)
			if code != exitFailure || out != "" || !strings.Contains(errOut, "a reason is required") || !strings.Contains(errOut, "itad: hint: give --reason") {
				t.Fatalf("exit %d, %d bytes on stdout\n%s", code, len(out), errOut)
			}
			if n := eventCount(t, db); n != before {
				t.Fatalf("recorded %d events", n-before)
			}
			out = mustItad(t, db, append(args, "--reason", "FOI 01.FOI.22.025077")...)
			if out == "" || eventCount(t, db) != before+1 {
				t.Fatalf("with a reason: %d bytes, %d events", len(out), eventCount(t, db)-before)
			}
		})
	}
}

// TestTrust_ActorIsTheGlobalIdentity: `ITAD_ACTOR=mallory itad log
// --actor a.patel` could once record the reading as a.patel (the filter
// flag shadowed the identity) and a plain `itad log` as nobody. The
// filter is now --by-actor; the reader is always the global identity.
func TestTrust_ActorIsTheGlobalIdentity(t *testing.T) {
	db := sampleLedger(t)
	t.Setenv("ITAD_ACTOR", "mallory")
	var out, errOut bytes.Buffer
	if code := run([]string{"itad", "--db", db, "log", "--by-actor", "a.patel"}, &out, &errOut); code != 0 {
		t.Fatalf("log: exit %d %s", code, errOut.String())
	}
	var actor, subject string
	shell(t, db).QueryRow(`SELECT actor, subject FROM events WHERE action = 'log' ORDER BY seq DESC LIMIT 1`).Scan(&actor, &subject)
	if actor != "mallory" || subject != "actor=a.patel" {
		t.Fatalf("log recorded as %q about %q", actor, subject)
	}
	before := eventCount(t, db)
	out.Reset()
	errOut.Reset()
	code := run([]string{"itad", "--db", db, "--actor", " ", "report"}, &out, &errOut)
	if code == 0 || out.Len() != 0 || !strings.Contains(errOut.String(), "no actor") || eventCount(t, db) != before {
		t.Fatalf("blank actor: exit %d, %q %q", code, out.String(), errOut.String())
	}
	if _, errOut, code := itad(t, db, "log", "--actor-filter", "x"); code != exitUsage {
		t.Fatalf("unknown flag: exit %d %s", code, errOut)
	}
}

// TestNoFlagShadowsAGlobal: no command defines a flag named like a global
// one (--actor, --db, --json, --read-only, --key, --cert), which would
// make the command read its own flag where it meant the identity.
func TestNoFlagShadowsAGlobal(t *testing.T) {
	app := newApp(nil, nil)
	global := map[string]bool{}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			global[n] = true
		}
	}
	// key import's and key rotate's --cert and --key name the files to take; the ledger's
	// own are read from the root context (rootContext).
	allowed := map[string]bool{"key import --cert": true, "key import --key": true, "key rotate --cert": true, "key rotate --key": true}
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				for _, n := range f.Names() {
					if global[n] && !allowed[path+c.Name+" --"+n] {
						t.Errorf("itad %s%s defines --%s, a global flag", path, c.Name, n)
					}
				}
			}
			walk(path+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
}

// TestTrust_ReadOnlyOnTheLiveLedger: `itad --read-only export --sign -o
// f.csv` on the live, writable ledger once produced a signed export and
// recorded nothing. Now every consultation of a writable ledger opened
// read-only is refused: no file, no signature, no output.
func TestTrust_ReadOnlyOnTheLiveLedger(t *testing.T) {
	db := foiCLILedger(t)
	mustItad(t, db, "key", "init")
	f := filepath.Join(t.TempDir(), "f.csv")
	for _, args := range [][]string{
		{"--read-only", "export", "--sign", "-o", f, "--reason", "audit"},
		{"--read-only", "export", "--reason", "audit"},
		{"--read-only", "foi", "--reason", "audit"},
		{"--read-only", "report", "--reason", "audit"},
		{"--read-only", "device", "show", "STOS00021221", "--reason", "audit"},
		{"--read-only", "log", "--reason", "audit"},
	} {
		before := eventCount(t, db)
		out, errOut, code := itad(t, db, args...)
		if code != exitFailure || out != "" || !strings.Contains(errOut, "must be recorded") || !strings.Contains(errOut, "drop --read-only") {
			t.Fatalf("%v: exit %d %q\n%s", args, code, out, errOut)
		}
		if _, err := os.Stat(f); err == nil {
			t.Fatalf("%v wrote %s", args, f)
		}
		if _, err := os.Stat(f + ".p7s"); err == nil {
			t.Fatalf("%v wrote %s.p7s", args, f)
		}
		if eventCount(t, db) != before {
			t.Fatalf("%v changed the ledger", args)
		}
	}
	// verify stays available read-only: it discloses nothing.
	mustItad(t, db, "--read-only", "verify")
}

// TestTrust_TamperedStateAnswersNothing: a revocation cleared, an
// exemption deleted or require_reason switched off with raw SQL makes
// cert verify, foi and the next consultation fail with exit 3, before
// anything is printed.
func TestTrust_TamperedStateAnswersNothing(t *testing.T) {
	t.Run("RevokedCertificateVerifiesAgain", func(t *testing.T) {
		f := newCertFixture(t, 0)
		number, pdf := f.issue(t, "ZC1234AB")
		mustItad(t, f.db, "cert", "revoke", number, "--reason", "issued against the wrong serial")
		if _, _, code := itad(t, f.db, "cert", "verify", pdf); code != exitVerifyFailed {
			t.Fatalf("revoked: exit %d", code)
		}
		if _, err := shell(t, f.db).Exec(`update certificates set revoked_at='', revoke_reason=''`); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := itad(t, f.db, "cert", "verify", pdf)
		if code != exitVerifyFailed || strings.Contains(out, "valid certificate") || !strings.Contains(errOut, "its events say revoked") {
			t.Fatalf("after clearing the revocation: exit %d\n%s%s", code, out, errOut)
		}
		if out, errOut, code := itad(t, f.db, "cert", "list"); code != exitVerifyFailed || out != "" {
			t.Fatalf("cert list: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("ExemptionDeleted", func(t *testing.T) {
		db := foiCLILedger(t)
		mustItad(t, db, "exempt", "set", "contractor.name", "--section", "24(1)", "--section", "31(1)", "--reason", "FOI policy 2022")
		if out := mustItad(t, db, "foi", "--year", "2021"); strings.Contains(out, "Shredwell") {
			t.Fatalf("withheld contractor in the answer:\n%s", out)
		}
		if _, err := shell(t, db).Exec(`delete from exemptions where field='contractor.name'`); err != nil {
			t.Fatal(err)
		}
		before := eventCount(t, db)
		for _, format := range []string{"text", "markdown", "json", "csv"} {
			out, errOut, code := itad(t, db, "foi", "--year", "2020", "--year", "2021", "--format", format)
			if code != exitVerifyFailed || out != "" || !strings.Contains(errOut, "exemption contractor.name") || !strings.Contains(errOut, "itad verify") {
				t.Fatalf("%s: exit %d\n%s%s", format, code, out, errOut)
			}
		}
		if eventCount(t, db) != before {
			t.Fatal("a refused FOI answer was recorded")
		}
	})
	t.Run("RequireReasonSwitchedOff", func(t *testing.T) {
		db := sampleLedger(t)
		mustItad(t, db, "settings", "set", "require_reason", "true", "--reason", "DPA policy")
		if _, err := shell(t, db).Exec(`update settings set value='false' where key='require_reason'`); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := itad(t, db, "export")
		if code != exitVerifyFailed || out != "" || !strings.Contains(errOut, "setting require_reason") {
			t.Fatalf("export: exit %d %d bytes\n%s", code, len(out), errOut)
		}
	})
}
