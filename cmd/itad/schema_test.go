package main

import (
	"bytes"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// relabelSQL replaces an index with replacement, then sets its SQL in
// sqlite_master back to orig (PRAGMA writable_schema): the index then
// looks like itad's but holds other entries.
func relabelSQL(name, orig, replacement string) string {
	return `DROP INDEX ` + name + `; ` + replacement + `; PRAGMA writable_schema = ON; ` +
		`UPDATE sqlite_master SET sql = '` + orig + `' WHERE name = '` + name + `'; PRAGMA writable_schema = OFF;`
}

func execSQL(t *testing.T, h *sql.DB, query string) {
	t.Helper()
	for _, q := range strings.Split(query, ";") {
		if strings.TrimSpace(q) == "" {
			continue
		}
		if _, err := h.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestCLI_RelabelledIndex performs issue 10's first attack with
// database/sql behind itad's back: reports then silently leave
// disposals out and 'itad log' loses events, and verify exits 3 naming
// the index.
func TestCLI_RelabelledIndex(t *testing.T) {
	for i, tc := range []struct {
		index, orig, replacement string
		shows                    []string // a command whose output the attack changes
	}{
		{"disposals_final_year", "CREATE INDEX disposals_final_year ON disposals(is_final, year)",
			"CREATE INDEX disposals_final_year ON disposals(is_final, year) WHERE id NOT IN (1,2)", []string{"export", "--year", "2020"}}, // reports read the summary
		{"events_action", "CREATE INDEX events_action ON events(action)",
			"CREATE INDEX events_action ON events(action) WHERE action <> 'export'", []string{"log", "--action", "export", "--format", "csv"}},
		{"events_subject", "CREATE INDEX events_subject ON events(subject)",
			"CREATE INDEX events_subject ON events(subject) WHERE action <> 'device.show'", []string{"log", "--serial", "STOS00021221", "--format", "csv"}},
		// As many entries, but of another column, or of the right
		// columns in another order: quick_check cannot tell.
		{"disposals_final_year", "CREATE INDEX disposals_final_year ON disposals(is_final, year)",
			"CREATE INDEX disposals_final_year ON disposals(is_final, fin_year)", []string{"export", "--year", "2020"}},
		{"disposals_final_year", "CREATE INDEX disposals_final_year ON disposals(is_final, year)",
			"CREATE INDEX disposals_final_year ON disposals(year, is_final)", []string{"export", "--year", "2020"}},
		{"events_action", "CREATE INDEX events_action ON events(action)",
			"CREATE INDEX events_action ON events((CASE action WHEN 'export' THEN 'x' ELSE action END))", []string{"log", "--action", "export", "--format", "csv"}},
	} {
		// (no '#' in the test's folder: shell opens a file: URI)
		t.Run(tc.index+"_"+strconv.Itoa(i), func(t *testing.T) {
			db := sampleLedger(t)
			mustItad(t, db, "export", "--year", "2020", "-o", filepath.Join(t.TempDir(), "x.csv"))
			mustItad(t, db, "device", "show", "STOS00021221")
			before := mustItad(t, db, tc.shows...)
			execSQL(t, shell(t, db), relabelSQL(tc.index, tc.orig, tc.replacement))
			if after := mustItad(t, db, tc.shows...); after == before {
				t.Fatalf("%s shows the same after the attack: the test no longer performs it", strings.Join(tc.shows, " "))
			}
			out, errOut, code := itad(t, db, "verify")
			if code != exitVerifyFailed || !strings.Contains(out, "database: index_check: index "+tc.index+": ") ||
				!strings.Contains(errOut, "itad: hint: the ledger was changed outside itad") {
				t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
			}
			out, errOut, code = itad(t, db, "verify", "--full")
			if code != exitVerifyFailed || !strings.Contains(out, "database: integrity_check: ") || !strings.Contains(out, tc.index) {
				t.Fatalf("verify --full: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestCLI_ReplacedIndex: an index replaced without relabelling is
// refused by every command (exit 3, the index named), and verify lists it.
func TestCLI_ReplacedIndex(t *testing.T) {
	db := sampleLedger(t)
	execSQL(t, shell(t, db), `DROP INDEX events_action; CREATE INDEX events_action ON events(action) WHERE action <> 'export'`)
	want := `schema: index events_action: its SQL is "CREATE INDEX events_action ON events(action) WHERE action <> 'export'"; ` +
		`itad's migrations create "CREATE INDEX events_action ON events(action)"`
	for _, args := range [][]string{
		{"report"}, {"foi", "--year", "2020"}, {"export", "--year", "2020"}, {"log", "--action", "export"},
		{"device", "add", "NEW-1", "--type", "hdd"}, {"backup", filepath.Join(t.TempDir(), "b.db")}, {"--read-only", "report"},
	} {
		_, errOut, code := itad(t, db, args...)
		if code != exitVerifyFailed || !strings.Contains(errOut, want) || !strings.Contains(errOut, "itad: hint: the ledger's database was changed or damaged outside itad: run 'itad verify'") {
			t.Errorf("%s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
	}
	out, errOut, code := itad(t, db, "verify")
	if code != exitVerifyFailed || !strings.Contains(out, "does NOT verify: 1 problem\n  "+want+"\n") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCLI_RelabelledIndexShell: the same attack with the sqlite3 shell.
func TestCLI_RelabelledIndexShell(t *testing.T) {
	outsideTool(t, "sqlite3", "sqlite3")
	db := sampleLedger(t)
	attack := relabelSQL("events_subject", "CREATE INDEX events_subject ON events(subject)",
		"CREATE INDEX events_subject ON events(subject) WHERE seq > 3")
	if out, err := exec.Command("sqlite3", db, attack).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	out, errOut, code := itad(t, db, "verify")
	if code != exitVerifyFailed || !strings.Contains(out, "database: index_check: index events_subject: ") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCLI_NotALedger: an empty file, a text file and an SQLite database
// of something else are refused by every command and left as they were;
// verify exits 3; only init makes a ledger, and only of the empty file.
func TestCLI_NotALedger(t *testing.T) {
	foreign := func(t *testing.T, path string) {
		h, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		execSQL(t, h, `CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('scones')`)
	}
	for _, tc := range []struct {
		name, why string
		make      func(t *testing.T, path string)
	}{
		{"Empty", "an empty file", func(t *testing.T, path string) { os.WriteFile(path, nil, 0o600) }},
		{"Text", "not an SQLite database", func(t *testing.T, path string) { os.WriteFile(path, []byte("serial,type\nSN-1,hdd\n"), 0o600) }},
		{"ForeignSQLite", "an SQLite database without itad's tables", foreign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "itad.db")
			tc.make(t, db)
			before, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			wantErr := "itad: error: " + db + " is not an itad ledger (" + tc.why + ")\n"
			for _, c := range []struct {
				args []string
				code int
			}{
				{[]string{"verify"}, exitVerifyFailed},
				{[]string{"--read-only", "verify"}, exitVerifyFailed},
				{[]string{"report"}, exitFailure},
				{[]string{"log"}, exitFailure},
				{[]string{"foi"}, exitFailure},
				{[]string{"device", "add", "SN-1", "--type", "hdd"}, exitFailure},
				{[]string{"backup", filepath.Join(t.TempDir(), "b.db")}, exitFailure},
			} {
				out, errOut, code := itad(t, db, c.args...)
				if code != c.code || !strings.HasPrefix(errOut, wantErr) ||
					!strings.Contains(errOut, "itad: hint: create a ledger with 'itad init --org NAME' (where there is no file yet, or an empty one), or check --db (ITAD_DB)") {
					t.Errorf("%s: exit %d (want %d)\n%s%s", strings.Join(c.args, " "), code, c.code, out, errOut)
				}
				if after, _ := os.ReadFile(db); !bytes.Equal(after, before) {
					t.Fatalf("%s changed the file", strings.Join(c.args, " "))
				}
			}
			out, errOut, code := itad(t, db, "init", "--org", "Org")
			if tc.name == "Empty" {
				if code != 0 {
					t.Fatalf("init of an empty file: exit %d\n%s%s", code, out, errOut)
				}
				mustItad(t, db, "verify")
				return
			}
			if code != exitFailure || !strings.HasPrefix(errOut, wantErr) || !strings.Contains(errOut, "itad: hint: init creates a ledger only where there is no file, or an empty one") {
				t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
			}
			if after, _ := os.ReadFile(db); !bytes.Equal(after, before) {
				t.Fatal("init changed the file")
			}
		})
	}
}

// TestCLI_RestoreDamagedSchema: a backup whose schema was changed is
// refused with exit 3, as a tampered one is.
func TestCLI_RestoreDamagedSchema(t *testing.T) {
	db := sampleLedger(t)
	b := filepath.Join(t.TempDir(), "b.db")
	mustItad(t, db, "backup", b)
	h, err := sql.Open("sqlite", "file:"+b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Exec(`CREATE TRIGGER keep AFTER DELETE ON devices BEGIN SELECT 1; END`); err != nil {
		t.Fatal(err)
	}
	h.Close()
	_, errOut, code := itad(t, db, "restore", "--force", b)
	if code != exitVerifyFailed || !strings.Contains(errOut, "schema: trigger keep: itad's migrations do not create it") ||
		!strings.Contains(errOut, "itad: hint: this backup cannot be trusted") {
		t.Fatalf("restore: exit %d\n%s", code, errOut)
	}
	if out, errOut, code := itad(t, b, "verify"); code != exitVerifyFailed || !strings.Contains(out, "schema: trigger keep") {
		t.Fatalf("verify of the backup: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCLI_VerifyDatabaseLine: verify says what it checked of the
// database, and --quick that it checked less.
func TestCLI_VerifyDatabaseLine(t *testing.T) {
	db := sampleLedger(t)
	out := mustItad(t, db, "verify", "--timings")
	if !strings.Contains(out, "\ndatabase:  quick_check ok, index check ok (every index holds exactly its table's rows), foreign keys ok, schema as itad creates it\n") ||
		!strings.Contains(out, "\ntimings:   quick_check+index_check ") || !strings.Contains(out, "; index_check ") {
		t.Fatalf("verify:\n%s", out)
	}
	out = mustItad(t, db, "verify", "--full", "--timings")
	if !strings.Contains(out, "\ndatabase:  integrity_check ok, foreign keys ok, schema as itad creates it\n") ||
		!strings.Contains(out, "\ntimings:   integrity_check ") {
		t.Fatalf("verify --full:\n%s", out)
	}
	if _, errOut, code := itad(t, db, "verify", "--full", "--quick"); code != exitUsage || !strings.Contains(errOut, "--full and --quick cannot be used together") {
		t.Fatalf("verify --full --quick: exit %d\n%s", code, errOut)
	}
	out = mustItad(t, db, "verify", "--quick")
	if !strings.Contains(out, "\ndatabase:  quick_check ok (indexes not checked against their tables") {
		t.Fatalf("verify --quick:\n%s", out)
	}
	if out := mustItad(t, db, "verify", "--json"); !strings.Contains(out, `"database_check": "quick_check+index_check"`) {
		t.Fatalf("verify --json:\n%s", out)
	}
}

// TestCLI_MalformedSchema: SQL in sqlite_master that SQLite cannot parse
// (written with writable_schema) makes the file damaged: exit 3 for the
// ledger's commands, for verify, and for a restore from such a backup.
func TestCLI_MalformedSchema(t *testing.T) {
	db := sampleLedger(t)
	b := filepath.Join(t.TempDir(), "b.db")
	mustItad(t, db, "backup", b)
	for _, path := range []string{db, b} {
		h, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		execSQL(t, h, `PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE INDEX events_action ON' WHERE name = 'events_action'`)
		h.Close()
	}
	for _, args := range [][]string{{"report"}, {"verify"}, {"log"}} {
		_, errOut, code := itad(t, db, args...)
		if code != exitVerifyFailed || !strings.Contains(errOut, "ledger damaged: "+db+": ") || !strings.Contains(errOut, "malformed database schema") ||
			!strings.Contains(errOut, "restore the last backup that verifies") {
			t.Errorf("%s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
	}
	fresh := filepath.Join(t.TempDir(), "new.db")
	_, errOut, code := itad(t, fresh, "restore", b)
	if code != exitVerifyFailed || !strings.Contains(errOut, "malformed database schema") || !strings.Contains(errOut, "itad: hint: this backup cannot be trusted") {
		t.Fatalf("restore: exit %d\n%s", code, errOut)
	}
}
