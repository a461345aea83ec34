package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors of backup and restore.
var (
	// ErrDamaged: a ledger or backup failed integrity_check,
	// foreign_key_check or the event chain check.
	ErrDamaged = errors.New("ledger damaged")
	// ErrBackupExists: the backup file is already there (use Force).
	ErrBackupExists = errors.New("file already exists")
	// ErrLedgerBusy: another process has the ledger open, so it cannot be
	// replaced.
	ErrLedgerBusy = errors.New("ledger is in use by another process")
	// ErrNotLedger: the file is an SQLite database but not an itad ledger.
	ErrNotLedger = errors.New("not an itad ledger")
)

// TableCount is the number of rows in one table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// Health is what CheckHealth found in a ledger. Every field describes the
// same snapshot of the file.
type Health struct {
	SchemaVersion int    `json:"schema_version"`
	Integrity     string `json:"integrity"`    // "ok": PRAGMA integrity_check
	ForeignKeys   string `json:"foreign_keys"` // "ok": PRAGMA foreign_key_check
	Chain         string `json:"chain"`        // "ok": every event's hash and link recomputed
	// Verified says the full ledger verification (the current-state tables
	// are exactly what the events produce) ran and passed; when false only
	// the checks above ran.
	Verified bool         `json:"verified"`
	Events   int64        `json:"events"`
	HeadHash string       `json:"head_hash"` // hex SHA-256 of the last event; "" when there are none
	Tables   []TableCount `json:"tables"`
}

// CheckHealth checks the ledger as a backup must be checked before it is
// trusted: that it is an itad ledger, then the full verification (Verify:
// its schema against what itad's migrations create, PRAGMA
// integrity_check, PRAGMA foreign_key_check, the event chain with every
// hash recomputed, and every current-state table against the events),
// then the rows of every table. It returns an error matching ErrNotLedger
// for a file that is not a ledger, and one matching ErrDamaged that names
// the first problem found (and, for a failed verification, matching
// ErrTampered and holding the *VerifyError).
func (s *Store) CheckHealth() (Health, error) { return s.checkHealth(s.path) }

// checkHealth is CheckHealth naming the file name in its errors (a
// backup is checked as a temporary file before it gets its name).
func (s *Store) checkHealth(name string) (Health, error) {
	var h Health
	objs, err := readSchema(s.db)
	if err != nil {
		return h, schemaReadError(name, err)
	}
	if _, err := classifySchema(name, objs, false); err != nil {
		return h, err
	}
	if err := s.db.QueryRow(`SELECT coalesce(max(version),0) FROM schema_version`).Scan(&h.SchemaVersion); err != nil {
		return h, fmt.Errorf("%w: %s: read schema version: %v", ErrDamaged, name, err)
	}
	// One function checks the database itself, for verify and for
	// backups alike.
	res, err := s.Verify(VerifyOptions{})
	if err != nil {
		return h, fmt.Errorf("%w: %s: %w", ErrDamaged, name, err)
	}
	h.Integrity, h.ForeignKeys, h.Chain, h.Verified = "ok", "ok", "ok", true
	h.Events, h.HeadHash = res.Events, res.Head

	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return h, err
	}
	defer conn.Close()
	// A deferred transaction (not the store's immediate one): a snapshot
	// that takes no write lock.
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return h, fmt.Errorf("check: begin: %w", err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)
	names, err := stringRows(conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name`))
	if err != nil {
		return h, err
	}
	for _, table := range names {
		var c int64
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(table)).Scan(&c); err != nil {
			return h, fmt.Errorf("%w: %s: count %s: %v", ErrDamaged, name, table, err)
		}
		h.Tables = append(h.Tables, TableCount{table, c})
	}
	return h, nil
}

func stringRows(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// fileDSN names path as an SQLite URI, escaping the characters ('?', '#',
// '%') that would otherwise end or alter the file name.
func fileDSN(path string, params url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params.Encode()
}

// openCopyFile opens an SQLite file that is not (or not yet) a live ledger —
// a backup being made or restored — in rollback-journal mode, without
// migrating it.
func openCopyFile(path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(memory)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", fileDSN(path, q))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, Now: func() time.Time { return time.Now().UTC() }, Actor: "unknown"}
	// Reading the header is what fails for a file that is not SQLite.
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode=DELETE`).Scan(&mode); err != nil {
		db.Close()
		if isSQLiteCode(err, sqlite3.SQLITE_NOTADB) || isSQLiteCode(err, sqlite3.SQLITE_CORRUPT) {
			return nil, schemaReadError(path, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func isSQLiteCode(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == code
}

// BackupOptions control Backup.
type BackupOptions struct {
	// Force replaces an existing file.
	Force bool
	// Reason is recorded on the backup event.
	Reason string
	// Progress, when set, is called every 100 ms or so with the bytes of
	// the copy written so far and the (approximate) total.
	Progress func(done, total int64)
}

// BackupResult says what Backup wrote and checked.
type BackupResult struct {
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Checked is what the copy holds; it passed every check.
	Checked Health `json:"checked"`
	// Seq is the sequence number of the "backup" event recorded in the
	// source ledger (the copy does not contain it).
	Seq int64 `json:"event"`
}

// backupEvent is the payload of the "backup" event.
type backupEvent struct {
	File     string `json:"file"`
	Events   int64  `json:"events"`
	HeadHash string `json:"head_hash"`
	SHA256   string `json:"sha256"`
}

// Backup writes a consistent copy of the ledger to dest while other
// processes may keep writing (VACUUM INTO reads one snapshot), checks the
// copy with CheckHealth, and only then moves it into place: dest is never
// left half-written. It then records a "backup" event in this ledger.
// It returns ErrBackupExists when dest exists and opts.Force is false, and
// an error matching ErrDamaged when the copy fails a check.
func (s *Store) Backup(dest string, opts BackupOptions) (BackupResult, error) {
	var res BackupResult
	dest, err := filepath.Abs(dest)
	if err != nil {
		return res, err
	}
	res.File = dest
	if err := checkBackupTarget(s.path, dest, opts.Force); err != nil {
		return res, err
	}
	// VACUUM INTO writes into an empty file; create it beside dest so the
	// final rename cannot cross file systems. Backups hold personal data:
	// a folder made for them is private.
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp*")
	if err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer removeSQLiteFiles(tmpName)

	var total int64
	var pages, pageSize int64
	if s.db.QueryRow(`PRAGMA page_count`).Scan(&pages) == nil && s.db.QueryRow(`PRAGMA page_size`).Scan(&pageSize) == nil {
		total = pages * pageSize
	}
	stop := watchFileSize(tmpName, total, opts.Progress)
	_, err = s.db.Exec(`VACUUM INTO ?`, tmpName)
	stop()
	if err != nil {
		return res, fmt.Errorf("backup %s: %w", s.path, err)
	}

	cp, err := openCopyFile(tmpName)
	if err != nil {
		return res, err
	}
	res.Checked, err = cp.checkHealth(dest) // name the backup, not the temporary file

	cp.Close()
	if err != nil {
		return res, fmt.Errorf("backup copy failed its checks: %w", err)
	}
	if res.SHA256, res.Bytes, err = syncAndHash(tmpName); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	if opts.Progress != nil {
		opts.Progress(res.Bytes, res.Bytes)
	}
	if err := moveIntoPlace(tmpName, dest, opts.Force); err != nil {
		return res, err
	}
	err = s.write(opts.Reason, func(t *txn) error {
		var err error
		res.Seq, err = t.appendEvent("backup", dest, backupEvent{File: dest, Events: res.Checked.Events,
			HeadHash: res.Checked.HeadHash, SHA256: res.SHA256})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("backup %s written and checked, but recording it in the ledger failed: %w", dest, err)
	}
	return res, nil
}

// checkBackupTarget refuses to write a backup over the ledger itself, over
// a live database (one with a -wal file) or, without force, over any file.
func checkBackupTarget(ledger, dest string, force bool) error {
	fi, err := os.Stat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if li, err := os.Stat(ledger); err == nil && os.SameFile(fi, li) {
		return fmt.Errorf("backup: %s is the ledger itself", dest)
	}
	if fi.IsDir() {
		return fmt.Errorf("backup: %s is a directory: name a file", dest)
	}
	if _, err := os.Stat(dest + "-wal"); err == nil {
		return fmt.Errorf("backup: %s has a -wal file: it is a database in use, not a backup", dest)
	}
	if !force {
		return fmt.Errorf("%w: %s", ErrBackupExists, dest)
	}
	return nil
}

// watchFileSize reports the growth of path to progress until stop is
// called.
func watchFileSize(path string, total int64, progress func(done, total int64)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if fi, err := os.Stat(path); err == nil {
					progress(min(fi.Size(), total), total)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// syncAndHash flushes path to stable storage (VACUUM INTO does not) and
// returns its SHA-256 and size.
func syncAndHash(path string) (string, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// moveIntoPlace renames tmp to dest atomically. Without force it links
// instead, which fails if dest appeared in the meantime.
func moveIntoPlace(tmp, dest string, force bool) error {
	if !force {
		err := os.Link(tmp, dest)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrBackupExists, dest)
		}
		if err == nil {
			os.Remove(tmp)
			syncDir(filepath.Dir(dest))
			return nil
		}
		// No hard links here (some file systems): check, then rename.
		if _, err := os.Lstat(dest); err == nil {
			return fmt.Errorf("%w: %s", ErrBackupExists, dest)
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	syncDir(filepath.Dir(dest))
	return nil
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// directory; that is not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// removeSQLiteFiles removes a temporary database and its side files.
func removeSQLiteFiles(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// RestoreOptions control Restore.
type RestoreOptions struct {
	// Force replaces a ledger that has events the backup lacks, or that
	// the backup does not extend, or that cannot be read.
	Force bool
	// DryRun checks the backup and compares it with the ledger, and
	// changes nothing.
	DryRun bool
	// LockTimeout bounds the wait for other connections to the ledger to
	// finish (default 2 s); past it the ledger counts as in use.
	LockTimeout time.Duration
	// Progress, when set, is called as the backup is copied.
	Progress func(done, total int64)
}

// RestoreResult says what Restore checked and did.
type RestoreResult struct {
	Ledger string `json:"ledger"`
	Backup string `json:"backup"`
	// Checked is what the backup holds; it passed every check.
	Checked Health `json:"checked"`
	// Migrated is the schema version the backup was written with when
	// it was older than this itad's (the restored ledger is upgraded).
	Migrated int `json:"migrated_from,omitempty"`
	// Existed says a ledger was there; LiveEvents is how many events it had.
	Existed    bool  `json:"existed"`
	LiveEvents int64 `json:"live_events"`
	// Discarded is how many events of the ledger the backup lacks (only
	// with Force), and Diverged says the ledger was not an extension of
	// the backup (or could not be read).
	Discarded int64 `json:"discarded"`
	Diverged  bool  `json:"diverged"`
	DryRun    bool  `json:"dry_run"`
}

// RestoreConflictError is why Restore refused to replace a ledger: it has
// events newer than the backup, or it is not an extension of the backup.
type RestoreConflictError struct {
	Ledger       string
	LiveEvents   int64 // events in the ledger
	BackupEvents int64 // events in the backup
	// DivergeAt is the first sequence number at which the two differ
	// (0 when the ledger simply has newer events).
	DivergeAt int64
	// Unreadable is set when the ledger's events could not be read.
	Unreadable error
	// Newer counts the ledger's events past the backup by action, such
	// as "backup 1, disposal.record 3" (when the ledger simply has newer
	// events).
	Newer string
}

func (e *RestoreConflictError) Error() string {
	switch {
	case e.Unreadable != nil:
		return fmt.Sprintf("cannot compare %s with the backup: %v", e.Ledger, e.Unreadable)
	case e.DivergeAt > 0:
		return fmt.Sprintf("%s is not an extension of the backup: event %d differs (the ledger has %d events, the backup %d)",
			e.Ledger, e.DivergeAt, e.LiveEvents, e.BackupEvents)
	}
	n := e.LiveEvents - e.BackupEvents
	what := fmt.Sprintf("events %d to %d", e.BackupEvents+1, e.LiveEvents)
	if n == 1 {
		what = fmt.Sprintf("event %d", e.LiveEvents)
	}
	if e.Newer != "" {
		what += ": " + e.Newer
	}
	return fmt.Sprintf("%s has %s newer than the backup (%s): restoring would lose them", e.Ledger, CountOf(int64(n), "event", "events"), what)
}

// Restore replaces the ledger at ledgerPath with the backup at backupPath.
// The backup is copied beside the ledger, upgraded to this itad's schema if
// older, and checked with CheckHealth; the ledger is compared with it and,
// unless opts.Force, kept when it has events the backup lacks or is not an
// extension of the backup (*RestoreConflictError). The swap is one rename,
// made while holding an exclusive lock on the old ledger, after its WAL has
// been folded in and removed. No connection of this process may have the
// ledger open; another process that has it open makes Restore fail with
// ErrLedgerBusy. Restore returns ErrDamaged (wrapped) for a backup that
// fails its checks, ErrNotLedger for a file that is not a ledger and
// ErrNewerSchema for one written by a newer itad.
func Restore(ledgerPath, backupPath string, opts RestoreOptions) (RestoreResult, error) {
	var res RestoreResult
	var err error
	if ledgerPath, err = filepath.Abs(ledgerPath); err != nil {
		return res, err
	}
	if backupPath, err = filepath.Abs(backupPath); err != nil {
		return res, err
	}
	res.Ledger, res.Backup, res.DryRun = ledgerPath, backupPath, opts.DryRun
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	bi, err := os.Stat(backupPath)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	if !bi.Mode().IsRegular() {
		return res, fmt.Errorf("restore: %s is not a file", backupPath)
	}
	if li, err := os.Stat(ledgerPath); err == nil && os.SameFile(bi, li) {
		return res, fmt.Errorf("restore: %s is the ledger itself", backupPath)
	}
	if fi, err := os.Stat(backupPath + "-wal"); err == nil && fi.Size() > 0 {
		return res, fmt.Errorf("restore: %s has a -wal file: it is a database in use, not a backup (make one with 'itad backup')", backupPath)
	}
	if empty, err := probeFile(backupPath); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	} else if empty {
		return res, fmt.Errorf("restore: %s is %w (an empty file)", backupPath, ErrNotLedger)
	}

	// Copy first and check the copy: what is checked is what is swapped in.
	dir := filepath.Dir(ledgerPath)
	if opts.DryRun {
		if dir, err = os.MkdirTemp("", "itad-restore"); err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	tmpName, err := copyToTemp(backupPath, dir, "."+filepath.Base(ledgerPath)+".restore*", bi.Size(), opts.Progress)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer removeSQLiteFiles(tmpName)
	if res.Checked, res.Migrated, err = checkRestoreCopy(tmpName, backupPath); err != nil {
		return res, err
	}
	backupHash := func(seq int64) ([]byte, error) { return eventHashAt(tmpName, seq) }

	_, err = os.Stat(ledgerPath)
	res.Existed = err == nil
	if !res.Existed {
		if opts.DryRun {
			return res, nil
		}
		// Side files without their database are stale: a -wal left here
		// would be replayed into the restored file.
		os.Remove(ledgerPath + "-wal")
		os.Remove(ledgerPath + "-shm")
		if err := moveIntoPlace(tmpName, ledgerPath, false); errors.Is(err, ErrBackupExists) {
			return res, fmt.Errorf("%w: %s appeared while restoring", ErrLedgerBusy, ledgerPath)
		} else if err != nil {
			return res, fmt.Errorf("restore: %w", err)
		}
		return res, nil
	}

	lock, err := lockLedger(ledgerPath, opts.LockTimeout)
	if errors.Is(err, ErrLedgerBusy) {
		return res, err
	}
	var cmp *RestoreConflictError
	if err != nil {
		// Not a database SQLite can lock (damaged, or not SQLite at all):
		// no itad process can be using it, and only Force replaces it.
		cmp = &RestoreConflictError{Ledger: ledgerPath, BackupEvents: res.Checked.Events, Unreadable: err}
	} else {
		defer lock.Close()
		cmp = compareWithBackup(lock, ledgerPath, res.Checked, backupHash)
	}
	res.LiveEvents = cmp.LiveEvents
	if cmp.Unreadable != nil || cmp.DivergeAt > 0 {
		res.Diverged = true
	}
	if cmp.LiveEvents > res.Checked.Events {
		res.Discarded = cmp.LiveEvents - res.Checked.Events
	}
	conflict := res.Diverged || res.Discarded > 0
	if conflict && !opts.Force {
		return res, cmp
	}
	if opts.DryRun {
		return res, nil
	}
	if lock == nil {
		return res, replaceFile(tmpName, ledgerPath)
	}
	return res, lock.swap(tmpName, ledgerPath)
}

// copyToTemp copies src into a new temporary file in dir and flushes it.
func copyToTemp(src, dir, pattern string, size int64, progress func(done, total int64)) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	var w io.Writer = out
	if progress != nil {
		w = &progressWriter{w: out, total: size, fn: progress}
	}
	_, err = io.Copy(w, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

type progressWriter struct {
	w     io.Writer
	n     int64
	total int64
	fn    func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.fn(p.n, p.total)
	return n, err
}

// checkRestoreCopy upgrades the copy of a backup to this itad's schema if
// it is older, and checks it. name is the backup's name for messages.
func checkRestoreCopy(tmp, name string) (Health, int, error) {
	cp, err := openCopyFile(tmp)
	if err != nil {
		return Health{}, 0, fmt.Errorf("restore: %s: %w", name, err)
	}
	defer cp.Close()
	objs, err := readSchema(cp.db)
	if err != nil {
		return Health{}, 0, fmt.Errorf("restore: %w", schemaReadError(name, err))
	}
	if _, err := classifySchema(name, objs, false); err != nil {
		return Health{}, 0, fmt.Errorf("restore: %w", err)
	}
	var version int
	if err := cp.db.QueryRow(`SELECT coalesce(max(version),0) FROM schema_version`).Scan(&version); err != nil {
		return Health{}, 0, fmt.Errorf("restore: %w: %s: read schema version: %v", ErrDamaged, name, err)
	}
	if version > SchemaVersion() {
		return Health{}, 0, fmt.Errorf("restore: %w: %s has schema version %d, this itad knows up to %d: upgrade itad",
			ErrNewerSchema, name, version, SchemaVersion())
	}
	migrated := 0
	if version < SchemaVersion() {
		// Upgrade only what the earlier migrations made.
		probs, err := checkSchema(objs, version)
		if err != nil {
			return Health{}, 0, fmt.Errorf("restore: %s: %w", name, err)
		}
		if len(probs) > 0 {
			return Health{}, 0, fmt.Errorf("restore: the backup failed its checks: %w: %s (schema version %d): %w",
				ErrDamaged, name, version, &VerifyError{Problems: probs})
		}
		if err := cp.migrate(); err != nil {
			return Health{}, 0, fmt.Errorf("restore: upgrade %s: %w", name, err)
		}
		migrated = version
	}
	h, err := cp.checkHealth(name)
	if err != nil {
		return h, 0, fmt.Errorf("restore: the backup failed its checks: %w", err)
	}
	return h, migrated, nil
}

// eventHashAt reads the hash of event seq from the database at path.
func eventHashAt(path string, seq int64) ([]byte, error) {
	s, err := openCopyFile(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var h []byte
	err = s.db.QueryRow(`SELECT hash FROM events WHERE seq = ?`, seq).Scan(&h)
	return h, err
}

// ledgerLock is a connection holding an exclusive lock on a live ledger.
type ledgerLock struct {
	db *sql.DB
}

// lockLedger takes an exclusive lock on the ledger at path and keeps it:
// with locking_mode EXCLUSIVE, SQLite holds the lock after the transaction
// ends until the connection closes. In WAL mode the attempt fails while
// any other connection has the database open, even an idle one, so this is
// also how Restore knows that no other itad process is using it.
func lockLedger(path string, timeout time.Duration) (*ledgerLock, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", timeout.Milliseconds()))
	q.Add("_pragma", "locking_mode(exclusive)")
	db, err := sql.Open("sqlite", fileDSN(path, q))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if _, err := db.Exec(`BEGIN EXCLUSIVE`); err != nil {
		db.Close()
		if isSQLiteCode(err, sqlite3.SQLITE_BUSY) || isSQLiteCode(err, sqlite3.SQLITE_LOCKED) {
			return nil, fmt.Errorf("%w: %s (waited %s)", ErrLedgerBusy, path, timeout)
		}
		return nil, fmt.Errorf("restore: lock %s: %w", path, err)
	}
	return &ledgerLock{db: db}, nil
}

func (l *ledgerLock) Close() error { return l.db.Close() }

// compareWithBackup decides whether the live ledger may be replaced by the
// backup: its events must be a prefix of the backup's, which (the chain
// being checked) is true when the hash of its last event equals the
// backup's event at the same sequence number, or the other way round.
func compareWithBackup(l *ledgerLock, path string, b Health, backupHash func(int64) ([]byte, error)) *RestoreConflictError {
	e := &RestoreConflictError{Ledger: path, BackupEvents: b.Events}
	var head []byte
	err := l.db.QueryRow(`SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&e.LiveEvents, &head)
	if errors.Is(err, sql.ErrNoRows) {
		return e // an empty ledger: anything extends it
	}
	if err != nil {
		e.Unreadable = err
		return e
	}
	switch {
	case e.LiveEvents <= b.Events:
		// The backup must extend the ledger.
		h, err := backupHash(e.LiveEvents)
		if err != nil {
			e.Unreadable = err
		} else if !bytes.Equal(h, head) {
			e.DivergeAt = firstDifference(l, e.LiveEvents, backupHash)
		}
	default:
		// The ledger must extend the backup.
		bh, _ := hex.DecodeString(b.HeadHash)
		var h []byte
		err := l.db.QueryRow(`SELECT hash FROM events WHERE seq = ?`, b.Events).Scan(&h)
		if b.Events > 0 && (err != nil || !bytes.Equal(h, bh)) {
			e.DivergeAt = firstDifference(l, b.Events, backupHash)
			break
		}
		rows, err := l.db.Query(`SELECT action, count(*) FROM events WHERE seq > ? GROUP BY action ORDER BY min(seq)`, b.Events)
		if err != nil {
			break
		}
		var parts []string
		for rows.Next() {
			var action string
			var n int64
			rows.Scan(&action, &n)
			parts = append(parts, fmt.Sprintf("%s %d", action, n))
		}
		rows.Close()
		e.Newer = strings.Join(parts, ", ")
	}
	return e
}

// firstDifference finds (by binary search over hashes, which chain) the
// first sequence number at or below n where the ledger and the backup
// differ. It is only for the message.
func firstDifference(l *ledgerLock, n int64, backupHash func(int64) ([]byte, error)) int64 {
	same := func(seq int64) bool {
		var h []byte
		if l.db.QueryRow(`SELECT hash FROM events WHERE seq = ?`, seq).Scan(&h) != nil {
			return false
		}
		b, err := backupHash(seq)
		return err == nil && bytes.Equal(h, b)
	}
	lo, hi := int64(1), n // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		if same(mid) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// swap replaces the ledger with tmp while holding the lock. The old
// ledger's WAL is first folded in and removed (journal_mode DELETE):
// SQLite would replay a -wal file left beside the new database into it.
func (l *ledgerLock) swap(tmp, path string) error {
	if _, err := l.db.Exec(`ROLLBACK`); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var mode string
	if err := l.db.QueryRow(`PRAGMA journal_mode=DELETE`).Scan(&mode); err != nil {
		return fmt.Errorf("restore: leave WAL mode on %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "delete") {
		return fmt.Errorf("%w: %s stayed in %s mode", ErrLedgerBusy, path, mode)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%w: %s-wal is still there", ErrLedgerBusy, path)
	}
	return replaceFile(tmp, path)
}

// replaceFile renames tmp over path, keeping path's permissions, after
// removing path's stale -wal and -shm files.
func replaceFile(tmp, path string) error {
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	if li, err := os.Stat(path); err == nil {
		os.Chmod(tmp, li.Mode().Perm())
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}
