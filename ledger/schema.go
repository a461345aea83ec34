package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/itad/itad"
	sqlite3 "modernc.org/sqlite/lib"
)

// Checks of the database itself
//
// Verify proves that the rows are what the events say; the checks here
// are about what holds the rows. SQLite keeps the schema, every table,
// index, trigger and view with the SQL that made it, in sqlite_master,
// and anyone holding the file can change it (PRAGMA writable_schema).
// Replace an index with a partial one and the queries that use it
// silently skip rows (a report, an FOI answer or the audit trail leaves
// disposals or events out) while every row still matches its event; add
// a trigger and itad's own writes do more than itad says.
//
// So the schema is compared, object by object, with what itad creates:
// every sqlite_master row (type, name, tbl_name and sql; the rootpage is
// where SQLite put it and is not compared) must be one that itad's
// migrations create, and each of those must be there. The expected schema
// is not written down a second time: it is what the embedded migrations
// (itad.Migrations) leave in an in-memory database, built once per process
// (schemaAt). A ledger migrated from an older version step by step holds
// the same rows as a new one, since a released migration is never edited;
// sqlite_autoindex_* rows (the indexes behind UNIQUE and PRIMARY KEY
// constraints, with a NULL sql) are compared like the others.
//
// Open makes the comparison (a few dozen rows: microseconds) and refuses a
// ledger whose schema differs, so that no command reads through a replaced
// index; Verify makes it too, names every difference, and runs PRAGMA
// integrity_check (or quick_check) and PRAGMA foreign_key_check on its own
// connection, alongside the replay and in the same snapshot.
//
// What the comparison cannot see: an index built with other contents whose
// SQL was then set back to the original text in sqlite_master. The schema
// then says what itad expects, and only integrity_check, which checks that
// every index holds exactly the rows of its table, finds the rows missing
// from it. quick_check only counts each index's entries: it notices a
// partial index, not one with as many entries but other values
// (verify --quick).
//
// A file that is not an itad ledger is refused by Open (ErrNotLedger)
// before SQLite writes anything to it: an empty (0-byte) file, a file that
// is not an SQLite database, an SQLite database without itad's tables.
// Only Options.Create makes a ledger, and only where there is no file, an
// empty one, or an SQLite database with nothing in it (what an interrupted
// 'itad init' leaves).

// SchemaError names an object of the database schema (a row of
// sqlite_master) that is not what itad's migrations create: one they do
// not create, one missing, or one whose type, table or SQL differs.
type SchemaError struct {
	Type    string // table, index, trigger or view
	Name    string
	Problem string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("schema: %s %s: %s", e.Type, e.Name, e.Problem)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *SchemaError) Is(target error) bool { return target == ErrTampered }

// DatabaseError is a problem SQLite found in the database file: a line of
// PRAGMA integrity_check or quick_check, a row of PRAGMA
// foreign_key_check, or a read that failed on a damaged page.
type DatabaseError struct {
	Check   string // "integrity_check", "quick_check", "foreign_key_check" or "read"
	Problem string
}

func (e *DatabaseError) Error() string { return fmt.Sprintf("database: %s: %s", e.Check, e.Problem) }

// Is makes errors.Is(err, ErrTampered) true.
func (e *DatabaseError) Is(target error) bool { return target == ErrTampered }

// schemaObject is one row of sqlite_master.
type schemaObject struct {
	typ, name, table string
	sql              sql.NullString
}

// schemaQuery reads the schema in a stable order.
const schemaQuery = `SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name`

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readSchema reads sqlite_master through database/sql.
func readSchema(q queryer) ([]schemaObject, error) {
	rows, err := q.QueryContext(context.Background(), schemaQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// readSchemaRaw reads sqlite_master on a raw connection (Verify's).
func readSchemaRaw(c *rawConn) ([]schemaObject, error) {
	st, err := c.prepare(schemaQuery)
	if err != nil {
		return nil, err
	}
	defer st.finalize()
	var out []schemaObject
	for {
		ok, err := st.step()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		o := schemaObject{typ: st.text(0), name: st.text(1), table: st.text(2)}
		if st.ctype(3) != colNull {
			o.sql = sql.NullString{String: st.text(3), Valid: true}
		}
		out = append(out, o)
	}
}

// readLedgerSchema reads sqlite_master and, when it has a schema_version
// table, the schema version, both in one read transaction: an upgrade by
// another process cannot come between them.
func readLedgerSchema(db *sql.DB) (objs []schemaObject, version int, err error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	// BEGIN DEFERRED takes no lock until the first read, and no write lock.
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return nil, 0, err
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)
	if objs, err = readSchema(conn); err != nil {
		return nil, 0, err
	}
	for _, o := range objs {
		if o.typ == "table" && o.name == "schema_version" {
			err = conn.QueryRowContext(ctx, `SELECT coalesce(max(version),0) FROM schema_version`).Scan(&version)
			if err != nil {
				return nil, 0, fmt.Errorf("read schema version: %w", err)
			}
		}
	}
	return objs, version, nil
}

var schemas struct {
	sync.Mutex
	at map[int]map[string]schemaObject
}

// schemaAt returns the schema (by name) that the first n migrations
// create, computed once per process and version by applying them to an
// in-memory database.
func schemaAt(n int) (map[string]schemaObject, error) {
	schemas.Lock()
	defer schemas.Unlock()
	if m, ok := schemas.at[n]; ok {
		return m, nil
	}
	ms := itad.Migrations()
	if n < 0 || n > len(ms) {
		return nil, fmt.Errorf("no schema version %d (this itad knows 1 to %d)", n, len(ms))
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	for _, m := range ms[:n] {
		if _, err := db.Exec(m.SQL); err != nil {
			return nil, fmt.Errorf("expected schema: migration %d (%s): %w", m.Version, m.Description, err)
		}
	}
	objs, err := readSchema(db)
	if err != nil {
		return nil, fmt.Errorf("expected schema: %w", err)
	}
	m := map[string]schemaObject{}
	for _, o := range objs {
		m[o.name] = o
	}
	if schemas.at == nil {
		schemas.at = map[int]map[string]schemaObject{}
	}
	schemas.at[n] = m
	return m, nil
}

// compareSchema returns a *SchemaError for every object of have that is
// not in want or differs from it, then for every object of want missing
// from have, in name order.
func compareSchema(have []schemaObject, want map[string]schemaObject) []error {
	var probs []error
	seen := map[string]bool{}
	for _, o := range have {
		seen[o.name] = true
		w, ok := want[o.name]
		var p string
		switch {
		case !ok:
			p = "itad's migrations do not create it (added behind itad's back)"
		case o.typ != w.typ:
			p = fmt.Sprintf("itad's migrations create a %s of that name, not a %s", w.typ, o.typ)
		case o.table != w.table:
			p = fmt.Sprintf("it is on table %s; itad's migrations create it on %s", o.table, w.table)
		case o.sql != w.sql:
			h, x := sqlExcerpts(o.sql, w.sql)
			p = fmt.Sprintf("its SQL is %s; itad's migrations create %s", h, x)
		default:
			continue
		}
		probs = append(probs, &SchemaError{Type: o.typ, Name: o.name, Problem: p})
	}
	var missing []string
	for name := range want {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		w := want[name]
		p := "missing: itad's migrations create it (dropped behind itad's back?)"
		if w.table != w.name {
			p = fmt.Sprintf("missing: itad's migrations create it on table %s (dropped behind itad's back?)", w.table)
		}
		probs = append(probs, &SchemaError{Type: w.typ, Name: name, Problem: p})
	}
	return probs
}

// sqlExcerpts quotes two differing SQL texts for a message: whole when
// short, else from a little before where they first differ.
func sqlExcerpts(have, want sql.NullString) (string, string) {
	if !have.Valid || !want.Valid {
		show := func(s sql.NullString) string {
			if !s.Valid {
				return "NULL"
			}
			return strconv.Quote(s.String)
		}
		return show(have), show(want)
	}
	h, w := have.String, want.String
	const short, before, after = 160, 60, 60
	if len(h) <= short && len(w) <= short {
		return strconv.Quote(h), strconv.Quote(w)
	}
	i := 0
	for i < len(h) && i < len(w) && h[i] == w[i] {
		i++
	}
	cut := func(s string) string {
		from, to, pre, post := max(0, i-before), min(len(s), i+after), "", ""
		if from > 0 {
			pre = "…"
		}
		if to < len(s) {
			post = "…"
		}
		return pre + strconv.Quote(s[from:to]) + post
	}
	return cut(h), cut(w)
}

// hasTableProblem reports whether one of the schema problems is about a
// table, whose rows Verify then cannot read as it expects.
func hasTableProblem(probs []error) bool {
	for _, p := range probs {
		if se, ok := p.(*SchemaError); ok && se.Type == "table" {
			return true
		}
	}
	return false
}

// probeFile looks at a file about to be opened as a ledger, before SQLite
// does (SQLite would write a header into an empty file and switch a
// foreign database to WAL). It returns empty for a 0-byte file (with no
// -wal file holding its pages), and an error matching ErrNotLedger for a
// directory, a device or a file that is not an SQLite database.
func probeFile(path string) (empty bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	if fi.IsDir() {
		return false, fmt.Errorf("%s is %w (it is a directory)", path, ErrNotLedger)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s is %w (not a regular file)", path, ErrNotLedger)
	}
	if fi.Size() == 0 {
		if wi, err := os.Stat(path + "-wal"); err == nil && wi.Size() > 0 {
			return false, nil // its pages may all be in the WAL: let SQLite read it
		}
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	// Every SQLite database starts with a 100-byte header whose first 16
	// bytes are this string.
	var head [100]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || !bytes.HasPrefix(head[:], []byte("SQLite format 3\x00")) {
		return false, fmt.Errorf("%s is %w (not an SQLite database)", path, ErrNotLedger)
	}
	return false, nil
}

// classifySchema decides from its schema whether the database at path is
// an itad ledger (it has a schema_version table), a new one to be made
// (nothing in it, and create), or not a ledger (ErrNotLedger).
func classifySchema(path string, objs []schemaObject, create bool) (fresh bool, err error) {
	if len(objs) == 0 {
		if create {
			return true, nil
		}
		return false, fmt.Errorf("%s is %w (an SQLite database with nothing in it)", path, ErrNotLedger)
	}
	for _, o := range objs {
		if o.typ == "table" && o.name == "schema_version" {
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is %w (an SQLite database without itad's tables)", path, ErrNotLedger)
}

// schemaReadError classifies a failure to read sqlite_master: a file
// SQLite does not recognise is not a ledger, a damaged schema is
// ErrDamaged.
func schemaReadError(path string, err error) error {
	switch {
	case isSQLiteCode(err, sqlite3.SQLITE_NOTADB):
		return fmt.Errorf("%s is %w (not an SQLite database: %v)", path, ErrNotLedger, err)
	case isSQLiteCode(err, sqlite3.SQLITE_CORRUPT):
		return fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	return fmt.Errorf("open %s: read its schema: %w", path, err)
}

// schemaMismatch is the error Open returns for a ledger whose schema is
// not what itad's migrations create: a *VerifyError of *SchemaError.
func schemaMismatch(path string, probs []error) error {
	return fmt.Errorf("open %s: its database schema is not what itad creates: %w", path, &VerifyError{Problems: probs})
}

// checkSchema compares the ledger's schema with what version's
// migrations create.
func checkSchema(objs []schemaObject, version int) ([]error, error) {
	want, err := schemaAt(version)
	if err != nil {
		return nil, err
	}
	return compareSchema(objs, want), nil
}

// dbCheckResult is what checkDatabase found: problems from
// integrity_check (or quick_check and the index check), fk from
// foreign_key_check.
type dbCheckResult struct {
	problems, fk []error
	elapsed      time.Duration
	// indexTime is the index check's part of elapsed.
	indexTime time.Duration
	// check names what ran: "integrity_check", "quick_check" or
	// "quick_check+index_check".
	check string
	err   error
}

// checkDatabase runs PRAGMA integrity_check (full), or quick_check and
// the index check of every index in objs (indexcheck.go; neither full nor
// quick), or quick_check alone (quick), then PRAGMA foreign_key_check, on
// c, returning one *DatabaseError for each line they report (at most
// maxLines of integrity_check). A check that fails on a damaged page is
// reported as a problem too. The index check runs on ic, at the same time,
// when it is not nil (on c after quick_check otherwise). An index the
// index check cannot read as it must makes integrity_check run too.
func checkDatabase(c, ic *rawConn, full, quick bool, objs []schemaObject, maxLines int) dbCheckResult {
	start := time.Now()
	r := dbCheckResult{check: "integrity_check"}
	if quick || !full {
		r.check = "quick_check"
	}
	var ix indexCheckResult
	var ixErr error
	runIndexes := func(c *rawConn) {
		t := time.Now()
		ix, ixErr = checkIndexes(c, objs, maxLines)
		r.indexTime = time.Since(t)
	}
	indexes := !full && !quick
	var wg sync.WaitGroup
	if indexes && ic != nil {
		wg.Add(1)
		go func() { defer wg.Done(); runIndexes(ic) }()
	}
	lines, err := pragmaLines(c, fmt.Sprintf("PRAGMA %s(%d)", r.check, max(1, maxLines)))
	for _, msg := range lines {
		if msg != "ok" {
			r.problems = append(r.problems, &DatabaseError{Check: r.check, Problem: msg})
		}
	}
	check := r.check
	if err == nil {
		check = "foreign_key_check"
		err = foreignKeyCheck(c, &r.fk)
	}
	if indexes {
		if ic == nil && err == nil {
			runIndexes(c)
		}
		wg.Wait()
		r.check = "quick_check+index_check"
		r.problems = append(r.problems, ix.problems...)
		switch {
		case err == nil && ixErr != nil:
			check, err = "index_check", ixErr
		case err == nil && len(ix.unsupported) > 0:
			// Not an index itad creates (the schema check names it): let
			// integrity_check judge its entries.
			check, r.check = "integrity_check", "integrity_check"
			var lines []string
			lines, err = pragmaLines(c, fmt.Sprintf("PRAGMA integrity_check(%d)", max(1, maxLines)))
			for _, msg := range lines {
				if msg != "ok" {
					r.problems = append(r.problems, &DatabaseError{Check: "integrity_check", Problem: msg})
				}
			}
		}
	}
	switch {
	case err != nil && isCorrupt(err):
		r.problems = append(r.problems, &DatabaseError{Check: check, Problem: err.Error()})
	case err != nil:
		r.err = fmt.Errorf("verify: %s: %w", check, err)
	}
	r.elapsed = time.Since(start)
	return r
}

// pragmaLines returns the lines (first column) a PRAGMA reports.
func pragmaLines(c *rawConn, q string) ([]string, error) {
	st, err := c.prepare(q)
	if err != nil {
		return nil, err
	}
	defer st.finalize()
	var out []string
	for {
		ok, err := st.step()
		if err != nil || !ok {
			return out, err
		}
		out = append(out, st.text(0))
	}
}

// foreignKeyCheck appends a *DatabaseError to fk for each row PRAGMA
// foreign_key_check reports: table, rowid (NULL for a WITHOUT ROWID
// table), the table referred to, and the constraint's index.
func foreignKeyCheck(c *rawConn, fk *[]error) error {
	st, err := c.prepare(`PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer st.finalize()
	for {
		ok, err := st.step()
		if err != nil || !ok {
			return err
		}
		row := "a " + st.text(0) + " row"
		if st.ctype(1) != colNull {
			row = st.text(0) + " row " + strconv.FormatInt(st.int64(1), 10)
		}
		*fk = append(*fk, &DatabaseError{Check: "foreign_key_check",
			Problem: fmt.Sprintf("%s refers to a missing %s row", row, st.text(2))})
	}
}

// isCorrupt reports whether err is SQLite finding the file damaged
// (SQLITE_CORRUPT, or SQLITE_NOTADB past the header).
func isCorrupt(err error) bool {
	var re *rawError
	if errors.As(err, &re) {
		return re.code&0xff == sqlite3.SQLITE_CORRUPT || re.code&0xff == sqlite3.SQLITE_NOTADB
	}
	return isSQLiteCode(err, sqlite3.SQLITE_CORRUPT) || isSQLiteCode(err, sqlite3.SQLITE_NOTADB)
}
