package ledger

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad"
)

// schemaRows renders every row of sqlite_master but the rootpage.
func schemaRows(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	must(t, err)
	defer db.Close()
	objs, err := readSchema(db)
	must(t, err)
	var b strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&b, "%s %s on %s: %v %q\n", o.typ, o.name, o.table, o.sql.Valid, o.sql.String)
	}
	return b.String()
}

// ledgerAtVersion writes a ledger as an itad that knew only the first n
// migrations would have: those migrations, applied one transaction each,
// recorded in schema_version.
func ledgerAtVersion(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", n))
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	defer db.Close()
	for _, m := range itad.Migrations()[:n] {
		tx, err := db.Begin()
		must(t, err)
		_, err = tx.Exec(m.SQL)
		must(t, err)
		_, err = tx.Exec(`INSERT INTO schema_version(version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UTC().Format(time.RFC3339))
		must(t, err)
		must(t, tx.Commit())
	}
	return path
}

// TestSchema_MigratedEqualsFresh: a ledger made at any earlier schema
// version, or by an earlier itad (the v1 fixture, at version 3), and then
// migrated by Open has exactly the schema of a new one, so Open's and
// Verify's comparison accept it.
func TestSchema_MigratedEqualsFresh(t *testing.T) {
	fresh := mustOpen(t)
	want := schemaRows(t, fresh.Path())
	if !strings.Contains(want, "index sqlite_autoindex_devices_1 on devices: false") {
		t.Fatalf("fresh schema lacks the autoindexes:\n%s", want)
	}
	paths := map[string]string{}
	for n := 1; n < SchemaVersion(); n++ {
		paths[fmt.Sprintf("version %d", n)] = ledgerAtVersion(t, n)
	}
	data, err := os.ReadFile("../testdata/ledger/v1-device-import.db")
	must(t, err)
	paths["v1 fixture"] = filepath.Join(t.TempDir(), "itad.db")
	must(t, os.WriteFile(paths["v1 fixture"], data, 0o600))
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			if got := schemaRows(t, path); got != want {
				t.Fatalf("migrated schema differs from a new ledger's\n--- got\n%s--- want\n%s", got, want)
			}
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// TestOpen_NotALedger: every file that is not an itad ledger is refused
// by Open, with or without Create and read-only, and left byte for byte
// as it was (no header written, no WAL switch, no -wal file); only Create
// turns an empty file into a ledger.
func TestOpen_NotALedger(t *testing.T) {
	foreign := func(t *testing.T, path string) {
		db, err := sql.Open("sqlite", "file:"+path)
		must(t, err)
		defer db.Close()
		_, err = db.Exec(`CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('scones')`)
		must(t, err)
	}
	cases := []struct {
		name   string
		make   func(t *testing.T, path string)
		want   string // in the error of every open
		create bool   // Options.Create makes a ledger of it
	}{
		{"EmptyFile", func(t *testing.T, path string) { must(t, os.WriteFile(path, nil, 0o600)) }, "is not an itad ledger (an empty file)", true},
		{"TextFile", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte("serial,type\nSN-1,hdd\n"), 0o600))
		}, "is not an itad ledger (not an SQLite database)", false},
		{"ZeroesFile", func(t *testing.T, path string) { must(t, os.WriteFile(path, make([]byte, 8192), 0o600)) },
			"is not an itad ledger (not an SQLite database)", false},
		{"ForeignSQLite", foreign, "is not an itad ledger (an SQLite database without itad's tables)", false},
		{"EmptySQLite", func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", "file:"+path)
			must(t, err)
			defer db.Close()
			_, err = db.Exec(`PRAGMA user_version = 7`) // writes the header, creates nothing
			must(t, err)
		}, "is not an itad ledger (an SQLite database with nothing in it)", true},
		{"Directory", func(t *testing.T, path string) { must(t, os.Mkdir(path, 0o700)) }, "is not an itad ledger (it is a directory)", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []Options{{}, {ReadOnly: true}, {Inspect: true}, {Create: true}} {
				if opts.Create && tc.create {
					continue
				}
				path := filepath.Join(t.TempDir(), "itad.db")
				tc.make(t, path)
				before, _ := os.ReadFile(path)
				s, err := Open(path, opts)
				if err == nil {
					s.Close()
					t.Fatalf("Open(%+v) of a file that is not a ledger succeeded", opts)
				}
				if !errors.Is(err, ErrNotLedger) || err.Error() != path+" "+tc.want {
					t.Fatalf("Open(%+v) = %v, want ErrNotLedger: %s %s", opts, err, path, tc.want)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
					t.Fatalf("Open(%+v) changed the file", opts)
				}
				for _, side := range []string{"-wal", "-shm", "-journal"} {
					if _, err := os.Stat(path + side); err == nil && tc.name != "ForeignSQLite" {
						t.Errorf("Open(%+v) left a %s file", opts, side)
					}
				}
			}
			if !tc.create {
				return
			}
			path := filepath.Join(t.TempDir(), "itad.db")
			tc.make(t, path)
			s, err := Open(path, Options{Create: true})
			if err != nil {
				t.Fatalf("Open(Create): %v", err)
			}
			defer s.Close()
			must(t, s.Init("Org"))
			if _, err := s.Verify(VerifyOptions{}); err != nil {
				t.Fatalf("verify the new ledger: %v", err)
			}
		})
	}
}

// The index definitions of migrations 1 and 4 that the attacks replace.
const (
	finalYearSQL = `CREATE INDEX disposals_final_year ON disposals(is_final, year)`
	actionSQL    = `CREATE INDEX events_action ON events(action)`
	subjectSQL   = `CREATE INDEX events_subject ON events(subject)`
)

// relabel replaces an index with a partial one, then writes the original
// SQL back into sqlite_master with writable_schema: the attack of issue
// 10 point 1, made behind itad's back.
func relabel(t *testing.T, db *sql.DB, name, orig, replacement string) {
	t.Helper()
	for _, q := range []string{
		`DROP INDEX ` + name,
		replacement,
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_master SET sql = '` + orig + `' WHERE name = '` + name + `'`,
		`PRAGMA writable_schema = OFF`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// dbProblems returns the *DatabaseError problems of err.
func dbProblems(err error) []*DatabaseError {
	var ve *VerifyError
	var out []*DatabaseError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			if de, ok := p.(*DatabaseError); ok {
				out = append(out, de)
			}
		}
	}
	return out
}

// extraEntry leaves disposals_final_year with an entry for a row that is
// not in its table, behind itad's back: a copy of row 1 is inserted (the
// index gets its entry), the index's row in sqlite_master is taken away
// so that SQLite forgets the index, the copy is deleted (the index keeps
// its entry), and the sqlite_master row is put back as it was.
func extraEntry(t *testing.T, s *Store) {
	t.Helper()
	db := rawDB(t, s)
	db.SetMaxOpenConns(1)
	var root int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'disposals_final_year'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	step := func(qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// A new connection reads the schema afresh.
		db.Close()
		db = rawDB(t, s)
		db.SetMaxOpenConns(1)
	}
	step(`CREATE TEMP TABLE copy AS SELECT * FROM disposals WHERE id = 1`,
		`UPDATE copy SET id = 999, uuid = 'copy'`,
		`INSERT INTO disposals SELECT * FROM copy`,
		`PRAGMA writable_schema = ON`,
		`DELETE FROM sqlite_master WHERE name = 'disposals_final_year'`)
	step(`DELETE FROM disposals WHERE id = 999`)
	step(`PRAGMA writable_schema = ON`,
		fmt.Sprintf(`INSERT INTO sqlite_master VALUES ('index', 'disposals_final_year', 'disposals', %d, '%s')`, root, finalYearSQL))
}

// TestVerify_RelabelledIndex: an index replaced by one with other
// entries (a partial one, one on another expression or column, in
// another order, with an extra entry) and relabelled with its original
// SQL hides or misplaces disposals in reports and events in the audit
// trail. Its schema says what itad expects, so Open cannot tell; Verify's
// index check (the default) and integrity_check (Full) name the index;
// quick_check alone finds only those with another number of entries.
func TestVerify_RelabelledIndex(t *testing.T) {
	// Reports read the summary; an export of a year reads
	// disposals_final_year.
	report2021 := func(t *testing.T, s *Store) int64 {
		var n int64
		must(t, s.Export(ExportQuery{Years: []int{2021}}, func(*ExportRow) error { n++; return nil }))
		return n
	}
	auditCount := func(f LogFilter) func(t *testing.T, s *Store) int64 {
		return func(t *testing.T, s *Store) int64 {
			var n int64
			must(t, s.AuditLog(f, func(Event) error { n++; return nil }))
			return n
		}
	}
	relabelled := func(index, orig, replacement string) func(t *testing.T, s *Store) {
		return func(t *testing.T, s *Store) { relabel(t, rawDB(t, s), index, orig, replacement) }
	}
	cases := []struct {
		name, index string
		attack      func(t *testing.T, s *Store)
		// changed counts what the index serves, before and after (nil:
		// the attack is checked another way)
		changed func(t *testing.T, s *Store) int64
		// quick: quick_check finds it too (it counts each index's
		// entries, but does not compare them with the table's rows)
		quick bool
	}{
		{"PartialFinalYear", "disposals_final_year", relabelled("disposals_final_year", finalYearSQL, finalYearSQL+" WHERE id NOT IN (1, 2)"), report2021, true},
		{"MovedFinalYear", "disposals_final_year", relabelled("disposals_final_year", finalYearSQL,
			"CREATE INDEX disposals_final_year ON disposals(is_final, (CASE WHEN id IN (1, 2) THEN 1999 ELSE year END))"), report2021, false},
		{"OtherColumnFinalYear", "disposals_final_year", relabelled("disposals_final_year", finalYearSQL,
			"CREATE INDEX disposals_final_year ON disposals(is_final, fin_year)"), report2021, false},
		{"SwappedColumnsFinalYear", "disposals_final_year", relabelled("disposals_final_year", finalYearSQL,
			"CREATE INDEX disposals_final_year ON disposals(year, is_final)"), report2021, false},
		{"ExtraEntryFinalYear", "disposals_final_year", extraEntry, nil, true},
		{"PartialAction", "events_action", relabelled("events_action", actionSQL, actionSQL+" WHERE action NOT IN ('certificate.revoke')"),
			auditCount(LogFilter{Action: "certificate.revoke"}), true},
		{"OtherExpressionAction", "events_action", relabelled("events_action", actionSQL,
			"CREATE INDEX events_action ON events((CASE WHEN action = 'certificate.revoke' THEN 'x' ELSE action END))"),
			auditCount(LogFilter{Action: "certificate.revoke"}), false},
		{"DescendingAction", "events_action", relabelled("events_action", actionSQL, "CREATE INDEX events_action ON events(action DESC)"),
			auditCount(LogFilter{Action: "certificate.revoke"}), false},
		{"PartialSubject", "events_subject", relabelled("events_subject", subjectSQL, subjectSQL+" WHERE subject <> 'SN-A1'"),
			auditCount(LogFilter{Serial: "SN-A1"}), true},
		{"OtherColumnSubject", "events_subject", relabelled("events_subject", subjectSQL, "CREATE INDEX events_subject ON events(actor)"),
			auditCount(LogFilter{Serial: "SN-A1"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := verifyFixture(t)
			var before int64
			if tc.changed != nil {
				before = tc.changed(t, s)
			}
			tc.attack(t, s)
			s2, err := Open(s.Path(), Options{})
			if err != nil {
				t.Fatalf("open: %v (the relabelled schema is what itad expects)", err)
			}
			defer s2.Close()
			if tc.changed != nil {
				if after := tc.changed(t, s2); after == before {
					t.Fatalf("the attack changed nothing (%d before and after): the test no longer performs it", before)
				}
			} else if n := q1(t, rawDB(t, s2), `SELECT count(*) FROM disposals INDEXED BY disposals_final_year WHERE is_final = 1`); n <= q1(t, rawDB(t, s2), `SELECT count(*) FROM disposals NOT INDEXED WHERE is_final = 1`) {
				t.Fatalf("the index holds no extra entry: the test no longer performs it")
			}
			for _, mode := range []struct {
				name   string
				opts   VerifyOptions
				checks []string // what may name the index
			}{
				{"Default", VerifyOptions{}, []string{"quick_check", "index_check"}},
				{"Full", VerifyOptions{Full: true}, []string{"integrity_check"}},
			} {
				_, err = s2.Verify(mode.opts)
				if !errors.Is(err, ErrTampered) {
					t.Fatalf("verify (%s): %v, want it to fail", mode.name, err)
				}
				probs := dbProblems(err)
				if len(probs) == 0 || !slices.Contains(mode.checks, probs[0].Check) || !strings.Contains(probs[0].Problem, tc.index) {
					t.Fatalf("verify (%s): %v, want %v naming %s", mode.name, err, mode.checks, tc.index)
				}
				var ve *VerifyError
				errors.As(err, &ve)
				for _, p := range ve.Problems {
					if _, ok := p.(*DatabaseError); !ok {
						t.Errorf("verify (%s): problem %v: the rows are all intact", mode.name, p)
					}
				}
			}
			// The index check finds each one on its own, without
			// quick_check's count.
			c, err := openRaw(s2.Path(), false)
			must(t, err)
			defer c.close()
			objs, err := readSchemaRaw(c)
			must(t, err)
			ix, err := checkIndexes(c, objs, 10)
			must(t, err)
			if len(ix.problems) == 0 || !strings.Contains(ix.problems[0].Error(), "index_check: index "+tc.index+": ") || len(ix.unsupported) > 0 {
				t.Fatalf("index check: %v (unsupported %v), want it to name %s", ix.problems, ix.unsupported, tc.index)
			}
			// Documented: quick_check does not compare an index's entries
			// with its table's rows.
			_, err = s2.Verify(VerifyOptions{Quick: true})
			if probs := dbProblems(err); tc.quick != (len(probs) > 0) || tc.quick && probs[0].Check != "quick_check" {
				t.Fatalf("verify --quick: %v (want a quick_check problem: %v)", err, tc.quick)
			}
		})
	}
}

// TestCheckIndexes_Intact: on a ledger written only by itad the index
// check reads every index (none unsupported) and finds nothing; the
// default Verify says which checks ran.
func TestCheckIndexes_Intact(t *testing.T) {
	s, _ := verifyFixture(t)
	c, err := openRaw(s.Path(), false)
	must(t, err)
	defer c.close()
	objs, err := readSchemaRaw(c)
	must(t, err)
	ix, err := checkIndexes(c, objs, 10)
	must(t, err)
	if len(ix.problems) > 0 || len(ix.unsupported) > 0 {
		t.Fatalf("index check of an intact ledger: %v, unsupported %v", ix.problems, ix.unsupported)
	}
	for _, tc := range []struct {
		opts VerifyOptions
		want string
	}{{VerifyOptions{}, "quick_check+index_check"}, {VerifyOptions{Full: true}, "integrity_check"}, {VerifyOptions{Quick: true}, "quick_check"}} {
		res, err := s.Verify(tc.opts)
		must(t, err)
		if res.Database != tc.want {
			t.Errorf("Verify(%+v).Database = %q, want %q", tc.opts, res.Database, tc.want)
		}
	}
}

// TestVerify_Schema: every change to the schema behind itad's back is
// named by Verify (exit 3 in the CLI), and Open refuses the ledger, so
// that no command reads through it.
func TestVerify_Schema(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want []string // the schema problems, in order
	}{
		{"PartialIndex", `DROP INDEX disposals_final_year; ` + finalYearSQL + ` WHERE id NOT IN (1, 2)`, []string{
			`schema: index disposals_final_year: its SQL is "CREATE INDEX disposals_final_year ON disposals(is_final, year) WHERE id NOT IN (1, 2)"; ` +
				`itad's migrations create "CREATE INDEX disposals_final_year ON disposals(is_final, year)"`}},
		{"ExtraTrigger", `CREATE TRIGGER hide AFTER INSERT ON disposals BEGIN UPDATE disposals SET is_final = 0 WHERE id = new.id; END`,
			[]string{`schema: trigger hide: itad's migrations do not create it (added behind itad's back)`}},
		{"ExtraView", `CREATE VIEW v AS SELECT * FROM devices`, []string{`schema: view v: itad's migrations do not create it (added behind itad's back)`}},
		{"ExtraTable", `CREATE TABLE notes (x)`, []string{`schema: table notes: itad's migrations do not create it (added behind itad's back)`}},
		{"ExtraIndex", `CREATE INDEX devices_site ON devices(site)`, []string{`schema: index devices_site: itad's migrations do not create it (added behind itad's back)`}},
		{"MissingIndex", `DROP INDEX events_subject`, []string{`schema: index events_subject: missing: itad's migrations create it on table events (dropped behind itad's back?)`}},
		{"IndexOnOtherTable", `DROP INDEX disposals_batch; CREATE INDEX disposals_batch ON batches(id)`, []string{
			`schema: index disposals_batch: it is on table batches; itad's migrations create it on disposals`}},
		{"TableAsView", `ALTER TABLE exemptions RENAME TO exemptions_old; CREATE VIEW exemptions AS SELECT * FROM exemptions_old WHERE 0`, []string{
			`schema: view exemptions: itad's migrations create a table of that name, not a view`,
			`schema: table exemptions_old: itad's migrations do not create it (added behind itad's back)`,
			`schema: index sqlite_autoindex_exemptions_old_1: itad's migrations do not create it (added behind itad's back)`,
			`schema: index sqlite_autoindex_exemptions_1: missing: itad's migrations create it on table exemptions (dropped behind itad's back?)`}},
		{"MissingTable", `DROP TABLE exemptions`, []string{
			`schema: table exemptions: missing: itad's migrations create it (dropped behind itad's back?)`,
			`schema: index sqlite_autoindex_exemptions_1: missing: itad's migrations create it on table exemptions (dropped behind itad's back?)`}},
		{"ColumnAdded", `ALTER TABLE settings ADD COLUMN note TEXT`, []string{
			`schema: table settings: its SQL is "CREATE TABLE settings (\n    key   TEXT PRIMARY KEY,\n    value TEXT NOT NULL,\n    seq   INTEGER NOT NULL -- event that last set it\n, note TEXT)"; ` +
				`itad's migrations create "CREATE TABLE settings (\n    key   TEXT PRIMARY KEY,\n    value TEXT NOT NULL,\n    seq   INTEGER NOT NULL -- event that last set it\n)"`}},
		{"LongTableChanged", `ALTER TABLE disposals ADD COLUMN hidden INTEGER`, []string{
			`schema: table disposals: its SQL is …"    INTEGER NOT NULL\n, voided_seq INTEGER NOT NULL DEFAULT 0, hidden INTEGER)"; ` +
				`itad's migrations create …"    INTEGER NOT NULL\n, voided_seq INTEGER NOT NULL DEFAULT 0)"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := verifyFixture(t)
			if _, err := rawDB(t, s).Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			// Every open but Inspect refuses it, naming the first problem.
			for _, opts := range []Options{{}, {ReadOnly: true}} {
				_, err := Open(s.Path(), opts)
				var ve *VerifyError
				if !errors.Is(err, ErrTampered) || !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want[0]) {
					t.Fatalf("Open(%+v) = %v, want a refusal naming %q", opts, err, tc.want[0])
				}
			}
			s2, err := Open(s.Path(), Options{Inspect: true})
			must(t, err)
			defer s2.Close()
			_, err = s2.Verify(VerifyOptions{})
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("verify: %v, want a *VerifyError", err)
			}
			var got []string
			for _, p := range ve.Problems {
				if _, ok := p.(*SchemaError); ok {
					got = append(got, p.Error())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("schema problems:\n%s\nwant:\n%s\nall: %v", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), ve.Problems)
			}
		})
	}
}

// TestVerify_ForeignKeys: a row left pointing at nothing is named by
// foreign_key_check, after what the replay found.
func TestVerify_ForeignKeys(t *testing.T) {
	s, _ := verifyFixture(t)
	_, err := rawDB(t, s).Exec(`DELETE FROM certificates WHERE id = 3`)
	must(t, err)
	_, err = s.Verify(VerifyOptions{})
	probs := dbProblems(err)
	if len(probs) == 0 || probs[0].Check != "foreign_key_check" ||
		probs[0].Problem != "a certificate_devices row refers to a missing certificates row" {
		t.Fatalf("verify: %v", err)
	}
	var ve *VerifyError
	errors.As(err, &ve)
	if _, ok := ve.Problems[0].(*TableError); !ok {
		t.Errorf("first problem %v, want the replay's", ve.Problems[0])
	}
}

// TestVerify_CorruptFile: pages overwritten with garbage are a failed
// verification (problems named), not a read error.
func TestVerify_CorruptFile(t *testing.T) {
	s, _ := verifyFixture(t)
	path := s.Path()
	s.Close()
	// Fold the WAL in, so that the pages are in the file.
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	_, err = db.Exec(`PRAGMA journal_mode = DELETE`)
	must(t, err)
	var page, events int64
	must(t, db.QueryRow(`PRAGMA page_size`).Scan(&page))
	must(t, db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'events'`).Scan(&events))
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt(bytes.Repeat([]byte{0x5a}, int(page)), (events-1)*page)
	must(t, err)
	f.Close()
	s2, err := Open(path, Options{Inspect: true})
	must(t, err)
	defer s2.Close()
	_, err = s2.Verify(VerifyOptions{})
	if probs := dbProblems(err); !errors.Is(err, ErrTampered) || len(probs) == 0 {
		t.Fatalf("verify of a corrupt file: %v", err)
	}
}

// TestRestore_DamagedSchema: a backup whose schema was changed is
// refused as damaged (exit 3 in the CLI), at this version and at an older
// one that restore would upgrade.
func TestRestore_DamagedSchema(t *testing.T) {
	s := backupFixture(t, 3)
	dir := t.TempDir()
	cur := filepath.Join(dir, "cur.db")
	_, err := s.Backup(cur, BackupOptions{})
	must(t, err)
	db, err := sql.Open("sqlite", "file:"+cur)
	must(t, err)
	_, err = db.Exec(`CREATE TRIGGER hide AFTER INSERT ON disposals BEGIN DELETE FROM disposals WHERE id = new.id; END`)
	must(t, err)
	db.Close()
	live := filepath.Join(dir, "live.db")
	_, err = Restore(live, cur, RestoreOptions{})
	if !errors.Is(err, ErrDamaged) || !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "schema: trigger hide: itad's migrations do not create it") {
		t.Fatalf("restore of a backup with a trigger added: %v", err)
	}

	old := ledgerAtVersion(t, 3)
	db, err = sql.Open("sqlite", "file:"+old)
	must(t, err)
	_, err = db.Exec(`CREATE INDEX events_subject ON events(subject) WHERE 0`) // what migration 4 would create
	must(t, err)
	db.Close()
	_, err = Restore(live, old, RestoreOptions{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "schema version 3") || !strings.Contains(err.Error(), "schema: index events_subject") {
		t.Fatalf("restore of an old backup with an index added: %v", err)
	}
	if _, err := os.Stat(live); err == nil {
		t.Fatal("a refused restore made a ledger")
	}

	empty := filepath.Join(dir, "empty.db")
	must(t, os.WriteFile(empty, nil, 0o600))
	if _, err = Restore(live, empty, RestoreOptions{}); !errors.Is(err, ErrNotLedger) || !strings.Contains(err.Error(), "(an empty file)") {
		t.Fatalf("restore of an empty file: %v", err)
	}
}

// BenchmarkOpen_SchemaCheck measures what every Open adds: reading
// sqlite_master and the schema version, and comparing them with the
// expected schema.
func BenchmarkOpen_SchemaCheck(b *testing.B) {
	s := mustOpen(b)
	for b.Loop() {
		objs, v, err := readLedgerSchema(s.db)
		if err != nil {
			b.Fatal(err)
		}
		if probs, err := checkSchema(objs, v); err != nil || len(probs) > 0 {
			b.Fatal(err, probs)
		}
	}
}
