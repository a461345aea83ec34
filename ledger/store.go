package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/itad/itad"
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
}

// Options control Open.
type Options struct {
	// Create makes a new ledger file if none exists. Without it, opening a
	// missing file is ErrNotInitialised.
	Create bool
	// CacheKiB sets SQLite's page cache (default 64 MiB); imports want a
	// large one.
	CacheKiB int
}

// Open opens (and migrates) the ledger at path. It returns
// ErrNotInitialised when the file does not exist and opts.Create is false,
// and ErrNewerSchema when the file was written by a newer itad.
func Open(path string, opts Options) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !opts.Create {
		return nil, fmt.Errorf("%w: no ledger at %s", ErrNotInitialised, path)
	}
	cache := opts.CacheKiB
	if cache == 0 {
		cache = 64 * 1024
	}
	// Pragmas go in the DSN so that every pooled connection gets them.
	// _txlock=immediate takes the write lock at BEGIN, so a writer waits
	// (busy_timeout) instead of failing on lock upgrade.
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	// Keep statement journals (which multi-row INSERTs need) in memory: on
	// disk they cost a page write for every page an import touches.
	q.Add("_pragma", "temp_store(memory)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cache))
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, Now: func() time.Time { return time.Now().UTC() }, Actor: "unknown"}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
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
	var have int
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
}

// exec runs a statement prepared once and cached for the transaction's life
// (imports run the same few statements millions of times).
func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.Prepare(query); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		t.stmts[query] = st
	}
	return st.Exec(args...)
}

// write runs fn in one immediate transaction, with reason recorded on every
// event it appends. Nothing fn did persists unless it returns nil.
func (s *Store) write(reason string, fn func(*txn) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
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
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
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
