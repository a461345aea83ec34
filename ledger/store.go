package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/itad/itad"
	"golang.org/x/sys/unix"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is an open itad ledger: one SQLite file.
type Store struct {
	db   *sql.DB
	path string

	// Now is the clock used for event times; tests replace it.
	Now func() time.Time
	// Actor is recorded on every event written through this store.
	Actor string
	// OnWait, when set, is called (once per change) when a change has
	// waited writeNotice for another process's write transaction, so that
	// the user can be told why nothing is happening.
	OnWait func()
	// OnStale, when set, is told of the certificates a change has just
	// made stale (stale.go), once per change, after it is committed.
	OnStale func([]StaleNotice)

	writeWait time.Duration
	// readOnly: opened with mode=ro (openReadOnly); immutable: and with
	// immutable=1, for a read-only folder.
	readOnly, immutable bool
	// writable: opened read-only on request (Options.ReadOnly) although
	// the file and its folder can be written. Consultations of such a
	// ledger are refused rather than left unrecorded (disclose.go).
	writable bool
}

// busyTimeoutMS is the DSN's busy_timeout: how long a statement waits for
// a lock (in WAL mode reads never wait for writers). Writes wait longer:
// see Options.WriteWait and (*Store).begin.
const busyTimeoutMS = 30000

// writeNotice is how long a change waits for another writer before
// OnWait is called.
const writeNotice = time.Second

// Options control Open.
type Options struct {
	// Create makes a new ledger where there is no file, an empty (0-byte)
	// one, or an SQLite database with nothing in it. Without it, opening a
	// missing file is ErrNotInitialised. A file that is not an itad ledger
	// is refused either way (ErrNotLedger) and left as it was.
	Create bool
	// Inspect opens a ledger whose database schema differs from what
	// itad's migrations create, so that Verify can name the differences;
	// without it Open refuses such a ledger. Only verification uses it.
	Inspect bool
	// CacheKiB sets SQLite's page cache (default 64 MiB); imports want a
	// large one.
	CacheKiB int
	// WriteWait bounds how long a change waits for another process's
	// write transaction to end (default 10 minutes). An import holds the
	// write lock for its whole run: a million rows take about a minute.
	WriteWait time.Duration
	// ReadOnly opens the ledger without writing to it: for verifying or
	// consulting a copy on read-only media. Open falls back to it by
	// itself when the file or its folder cannot be written. Changes then
	// fail with ErrReadOnly, and consultations are not recorded
	// (LogAccess): say so to the user (Store.ReadOnly).
	ReadOnly bool
}

// Open opens (and migrates) the ledger at path. It returns
// ErrNotInitialised when the file does not exist and opts.Create is false,
// an error matching ErrNotLedger for a file that is not an itad ledger
// (see the top of schema.go), ErrNewerSchema when the file was written by
// a newer itad, ErrDamaged when SQLite cannot read its schema, and a
// *VerifyError of *SchemaError (matching ErrTampered) when its schema is
// not what itad's migrations create (unless opts.Inspect). A ledger that
// cannot be written is opened read-only (Options.ReadOnly).
func Open(path string, opts Options) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if !opts.Create {
			return nil, fmt.Errorf("%w: no ledger at %s", ErrNotInitialised, path)
		}
	} else if empty, err := probeFile(path); err != nil {
		return nil, err
	} else if empty && !opts.Create {
		return nil, fmt.Errorf("%s is %w (an empty file)", path, ErrNotLedger)
	}
	cache := opts.CacheKiB
	if cache == 0 {
		cache = 64 * 1024
	}
	if opts.ReadOnly {
		s, err := openReadOnly(path, cache, false, opts.Inspect)
		if err == nil {
			s.writable = canWrite(path)
		}
		return s, err
	}
	// Pragmas go in the DSN so that every pooled connection gets them.
	// _txlock=immediate takes the write lock at BEGIN, so a writer waits
	// (busy_timeout) instead of failing on lock upgrade. WAL mode, which
	// is kept in the file, is set by open once the file is known to be a
	// ledger: a foreign database is left as it was.
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "synchronous(normal)")
	// Keep statement journals (which multi-row INSERTs need) in memory: on
	// disk they cost a page write for every page an import touches.
	q.Add("_pragma", "temp_store(memory)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cache))
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, Now: func() time.Time { return time.Now().UTC() }, Actor: "unknown", writeWait: opts.WriteWait}
	if s.writeWait <= 0 {
		s.writeWait = 10 * time.Minute
	}
	if err := s.open(opts); err != nil {
		db.Close()
		if isReadOnly(err) && !opts.Create {
			return openReadOnly(path, cache, false, opts.Inspect)
		}
		return nil, err
	}
	return s, nil
}

// open checks that the database is an itad ledger (or, with opts.Create,
// nothing yet), switches it to WAL, migrates it and compares its schema
// with what the migrations create.
func (s *Store) open(opts Options) error {
	objs, have, err := readLedgerSchema(s.db)
	if err != nil {
		if isReadOnly(err) {
			return err
		}
		return schemaReadError(s.path, err)
	}
	fresh, err := classifySchema(s.path, objs, opts.Create)
	if err != nil {
		return err
	}
	if have > SchemaVersion() {
		return fmt.Errorf("open %s: %w: schema version %d, this itad knows up to %d: upgrade itad", s.path, ErrNewerSchema, have, SchemaVersion())
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode=wal`).Scan(&mode); err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	if have < SchemaVersion() {
		if !fresh {
			// Migrate only what the earlier migrations made.
			probs, err := checkSchema(objs, have)
			if err != nil {
				return fmt.Errorf("open %s: %w", s.path, err)
			}
			if len(probs) > 0 {
				if opts.Inspect {
					return nil // Verify names the differences
				}
				return schemaMismatch(s.path, probs)
			}
		}
		if err := s.migrate(); err != nil {
			return fmt.Errorf("open %s: %w", s.path, err)
		}
		if objs, err = readSchema(s.db); err != nil {
			return schemaReadError(s.path, err)
		}
	}
	if opts.Inspect {
		return nil
	}
	probs, err := checkSchema(objs, SchemaVersion())
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	if len(probs) > 0 {
		return schemaMismatch(s.path, probs)
	}
	return nil
}

// openReadOnly opens a ledger with SQLite's mode=ro. A ledger in WAL mode
// needs its -shm file, which SQLite cannot create in a read-only folder:
// then, since nothing can write the file either, it is opened immutable.
func openReadOnly(path string, cache int, immutable, inspect bool) (*Store, error) {
	q := url.Values{}
	q.Add("mode", "ro")
	if immutable {
		q.Add("immutable", "1")
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cache))
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, Now: func() time.Time { return time.Now().UTC() }, Actor: "unknown", readOnly: true, immutable: immutable}
	objs, have, err := readLedgerSchema(db)
	if err != nil && !immutable && isReadOnly(err) {
		db.Close()
		return openReadOnly(path, cache, true, inspect)
	}
	if err != nil {
		db.Close()
		return nil, schemaReadError(path, err)
	}
	if _, err := classifySchema(path, objs, false); err != nil {
		db.Close()
		return nil, err
	}
	switch {
	case have > SchemaVersion():
		err = fmt.Errorf("%w: schema version %d, this itad knows up to %d: upgrade itad", ErrNewerSchema, have, SchemaVersion())
	case have < SchemaVersion():
		err = fmt.Errorf("%w: the ledger has schema version %d and needs upgrading to %d, which cannot be done read-only: "+
			"copy it somewhere writable and open the copy", ErrReadOnly, have, SchemaVersion())
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s read-only: %w", path, err)
	}
	if !inspect {
		probs, err := checkSchema(objs, SchemaVersion())
		if err == nil && len(probs) > 0 {
			err = schemaMismatch(path, probs)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// ReadOnly reports whether the ledger was opened read-only: changes fail
// with ErrReadOnly and consultations are not recorded.
func (s *Store) ReadOnly() bool { return s.readOnly }

// canWrite reports whether this process could write the ledger file and
// create files (the -wal and -shm) in its folder.
func canWrite(path string) bool {
	dir := filepath.Dir(path)
	return unix.Access(path, unix.W_OK) == nil && unix.Access(dir, unix.W_OK) == nil
}

// isReadOnly reports whether err is SQLite refusing to write a read-only
// file, folder or medium.
func isReadOnly(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_READONLY || se.Code()&0xff == sqlite3.SQLITE_CANTOPEN
	}
	return false
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the ledger file's path.
func (s *Store) Path() string { return s.path }

// DB exposes the database handle for read-only checks in tests and tools.
func (s *Store) DB() *sql.DB { return s.db }

// SchemaVersion returns the newest schema version this binary knows.
func SchemaVersion() int { return len(itad.Migrations()) }

func (s *Store) migrate() error {
	// Nearly every open finds the schema current. Check that with a plain
	// read, which in WAL mode never waits for a writer, and take the write
	// lock only to migrate: taking it on every open made every command,
	// even a report, queue behind a long import and fail with "database is
	// locked" once the import outlasted busy_timeout.
	var have int
	err := s.db.QueryRow(`SELECT coalesce(max(version),0) FROM schema_version`).Scan(&have)
	if err == nil && have == len(itad.Migrations()) {
		return nil
	}
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// BEGIN IMMEDIATE (via _txlock) serialises two processes migrating at once.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	have = 0
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'`).Scan(&n); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if n > 0 {
		if err := tx.QueryRow(`SELECT coalesce(max(version),0) FROM schema_version`).Scan(&have); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
	}
	ms := itad.Migrations()
	if have > len(ms) {
		return fmt.Errorf("%w: schema version %d, this itad knows up to %d: upgrade itad", ErrNewerSchema, have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err := tx.Exec(m.SQL); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Description, err)
		}
		if m.Version == 5 && have > 0 { // a ledger written before version 5
			if err := refoldKeys(tx, time.Now()); err != nil {
				return fmt.Errorf("migration 5: %w", err)
			}
		}
		if m.Description == summaryMigration { // fill the summary from the rows (summary.go)
			if err := rebuildSummary(tx); err != nil {
				return fmt.Errorf("migration %d: %w", m.Version, err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO schema_version(version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("record migration %d: %w", m.Version, err)
		}
	}
	return tx.Commit()
}

// txn is one write transaction: the changes and the events that record them.
type txn struct {
	tx     *sql.Tx
	now    time.Time
	actor  string
	reason string
	seq    int64
	head   []byte
	stmts  map[string]*sql.Stmt
	stale  []staleMark // certificates to mark stale before commit (stale.go)
	sum    summaryTx   // summary changes to write before commit (summary.go)
}

// exec runs a statement prepared once and cached for the transaction's life
// (imports run the same few statements millions of times).
func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// stmt returns query prepared once for the transaction's life (the
// transaction's end closes it, if write does not).
func (t *txn) stmt(query string) (*sql.Stmt, error) {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.Prepare(query); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		if t.stmts == nil {
			t.stmts = map[string]*sql.Stmt{}
		}
		t.stmts[query] = st
	}
	return st, nil
}

// Query is t.tx.Query with the statement cached (stmt), for the queries
// an import runs for each row about a recorded device. The caller must
// close the rows before running the same query again.
func (t *txn) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// QueryRow is Query for one row.
func (t *txn) QueryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		return t.tx.QueryRow(query, args...) // reports the same error on Scan
	}
	return st.QueryRow(args...)
}

// write runs fn in one immediate transaction, with reason recorded on every
// event it appends. Nothing fn did persists unless it returns nil.
func (s *Store) write(reason string, fn func(*txn) error) error {
	if s.readOnly {
		return fmt.Errorf("%w: %s cannot be changed here", ErrReadOnly, s.path)
	}
	if strings.TrimSpace(s.Actor) == "" {
		return fmt.Errorf("%w: no actor: every change is recorded with who made it (give --actor NAME or set ITAD_ACTOR)", ErrInvalid)
	}
	if err := checkText("actor", s.Actor, 256); err != nil {
		return err
	}
	conn, tx, err := s.begin()
	if err != nil {
		return err
	}
	defer conn.Close()
	// A panic in fn rolls the transaction back before the connection is
	// closed: closing a connection waits for its transaction to end, so
	// without this the process hung instead of crashing.
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	t := &txn{tx: tx, now: s.Now().UTC(), actor: s.Actor, reason: reason, stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range t.stmts {
			st.Close()
		}
	}()
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	if err := t.flushSummary(); err != nil {
		tx.Rollback()
		return err
	}
	notices, err := t.flushStale()
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.OnStale != nil && len(notices) > 0 {
		s.OnStale(notices)
	}
	return nil
}

// begin starts an immediate (write) transaction on a connection of its
// own. Another process's write transaction — a large import holds one for
// its whole run — makes it wait: up to writeNotice, then OnWait is called,
// then up to WriteWait in all. The connection's busy_timeout is set back
// to the DSN's before the transaction is handed over.
func (s *Store) begin() (*sql.Conn, *sql.Tx, error) {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	timeout := func(d time.Duration) error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.Milliseconds()))
		return err
	}
	tx, err := func() (*sql.Tx, error) {
		if err := timeout(min(writeNotice, s.writeWait)); err != nil {
			return nil, err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || s.writeWait <= writeNotice {
			return tx, err
		}
		if s.OnWait != nil {
			s.OnWait()
		}
		if err := timeout(s.writeWait - writeNotice); err != nil {
			return nil, err
		}
		return conn.BeginTx(ctx, nil)
	}()
	if err == nil {
		_, err = tx.Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS))
		if err != nil {
			tx.Rollback()
		}
	}
	if err != nil {
		timeout(busyTimeoutMS * time.Millisecond)
		conn.Close()
		if isBusy(err) {
			return nil, nil, fmt.Errorf("begin: another itad process has been writing to the ledger for over %s (a large import?): %w", s.writeWait, err)
		}
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	return conn, tx, nil
}

// isBusy reports whether err is SQLITE_BUSY: a lock wait timed out.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// newUUID returns a time-ordered UUIDv7, which keeps the uuid indexes
// append-mostly.
func newUUID() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

// isConstraint reports whether err is a SQLite UNIQUE/constraint failure.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
	}
	return false
}

// uriPath escapes a file path for a SQLite "file:" URI, in which ? starts
// the query, # a fragment, and % an escape: without this a ledger at
// "/data/a?b/itad.db" would silently be created at "/data/a".
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
