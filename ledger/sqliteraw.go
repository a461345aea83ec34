package ledger

import (
	"errors"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is a read-only SQLite connection driven through modernc's C API
// (modernc.org/sqlite/lib) instead of database/sql. Verify reads every row
// of the ledger; through database/sql each column of each row costs a
// mutex round trip, a type switch, an allocation and a conversion, and a
// full scan of a million-event ledger takes three times as long. Here a
// column is read in place: bytes returns a slice of SQLite's own memory,
// valid until the next step, and the caller copies what it keeps.
//
// It is the same SQLite library as the Store's, opened read-only and
// without the connection mutex (SQLITE_OPEN_NOMUTEX): a rawConn belongs to
// one goroutine at a time. Only Verify uses it.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// openRaw opens path read-only. busy_timeout covers a writer holding the
// WAL index briefly while a snapshot is taken.
func openRaw(path string, immutable bool) (*rawConn, error) {
	tls := libc.NewTLS()
	c := &rawConn{tls: tls}
	flags := int32(sqlite3.SQLITE_OPEN_READONLY | sqlite3.SQLITE_OPEN_NOMUTEX)
	file := path
	if immutable { // a ledger in a read-only folder (openReadOnly)
		file, flags = "file:"+uriPath(path)+"?immutable=1", flags|sqlite3.SQLITE_OPEN_URI
	}
	name, err := libc.CString(file)
	if err != nil {
		tls.Close()
		return nil, err
	}
	defer libc.Xfree(tls, name)
	pp := tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer tls.Free(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(tls, name, pp, flags, 0)
	c.db = *(*uintptr)(cptr(pp))
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sqlite3.Xsqlite3_busy_timeout(tls, c.db, 30000)
	// Verify reads each table once, in order, on each of its
	// connections: a small page cache does (SQLite's default, 2 MB a
	// connection, cost ten times that in resident memory across them).
	if err := c.exec(fmt.Sprintf("PRAGMA cache_size = -%d", rawCacheKiB)); err != nil {
		c.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return c, nil
}

// rawCacheKiB is the page cache of a rawConn.
const rawCacheKiB = 256

func (c *rawConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	if c.tls != nil {
		c.tls.Close()
		c.tls = nil
	}
}

// err turns a result code into an error carrying SQLite's message.
func (c *rawConn) err(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return &rawError{code: rc, msg: msg}
}

// rawError is an SQLite result code with SQLite's message.
type rawError struct {
	code int32
	msg  string
}

func (e *rawError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// exec runs statements that return no rows we need.
func (c *rawConn) exec(query string) error {
	st, err := c.prepare(query)
	if err != nil {
		return err
	}
	defer st.finalize()
	for {
		ok, err := st.step()
		if err != nil || !ok {
			return err
		}
	}
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
}

func (c *rawConn) prepare(query string) (*rawStmt, error) {
	q, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, q)
	pp := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, q, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("prepare %.40q: %w", query, c.err(rc))
	}
	p := *(*uintptr)(cptr(pp))
	if p == 0 {
		return nil, errors.New("prepare: empty statement")
	}
	return &rawStmt{c: c, p: p}, nil
}

// step advances to the next row, reporting false at the end.
func (s *rawStmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

func (s *rawStmt) reset() {
	sqlite3.Xsqlite3_reset(s.c.tls, s.p)
	sqlite3.Xsqlite3_clear_bindings(s.c.tls, s.p)
}

func (s *rawStmt) finalize() {
	if s.p != 0 {
		sqlite3.Xsqlite3_finalize(s.c.tls, s.p)
		s.p = 0
	}
}

func (s *rawStmt) bindInt64(i int, v int64) error {
	if rc := sqlite3.Xsqlite3_bind_int64(s.c.tls, s.p, int32(i), v); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

// bindText binds v (copied by SQLite) to parameter i (1-based).
func (s *rawStmt) bindText(i int, v string) error {
	p, err := libc.CString(v)
	if err != nil {
		return err
	}
	defer libc.Xfree(s.c.tls, p)
	// SQLITE_TRANSIENT (-1) makes SQLite take its own copy.
	if rc := sqlite3.Xsqlite3_bind_text(s.c.tls, s.p, int32(i), p, int32(len(v)), ^uintptr(0)); rc != sqlite3.SQLITE_OK {
		return s.c.err(rc)
	}
	return nil
}

// Column types, as sqlite3_column_type reports them.
const (
	colInteger = sqlite3.SQLITE_INTEGER
	colFloat   = sqlite3.SQLITE_FLOAT
	colText    = sqlite3.SQLITE_TEXT
	colBlob    = sqlite3.SQLITE_BLOB
	colNull    = sqlite3.SQLITE_NULL
)

// ctype returns the storage class of column i (0-based) of the current row.
func (s *rawStmt) ctype(i int) int32 { return sqlite3.Xsqlite3_column_type(s.c.tls, s.p, int32(i)) }

func (s *rawStmt) int64(i int) int64 { return sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(i)) }

func (s *rawStmt) float64(i int) float64 {
	return sqlite3.Xsqlite3_column_double(s.c.tls, s.p, int32(i))
}

// bytes returns column i as bytes in SQLite's memory: valid only until the
// next step, reset or finalize. Text is returned as its UTF-8 bytes.
func (s *rawStmt) bytes(i int) []byte {
	p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
	n := sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i))
	if p == 0 || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cptr(p)), n)
}

// col reads column i in one call: its storage class, and its bytes (text
// or blob, in SQLite's memory as for bytes) or integer value. Cheaper
// than ctype and bytes together: one column lookup instead of three.
func (s *rawStmt) col(i int) (typ int32, b []byte, n int64) {
	v := sqlite3.Xsqlite3_column_value(s.c.tls, s.p, int32(i))
	typ = sqlite3.Xsqlite3_value_type(s.c.tls, v)
	switch typ {
	case colInteger:
		n = sqlite3.Xsqlite3_value_int64(s.c.tls, v)
	case colText, colBlob:
		p := sqlite3.Xsqlite3_value_blob(s.c.tls, v)
		if l := sqlite3.Xsqlite3_value_bytes(s.c.tls, v); p != 0 && l > 0 {
			b = unsafe.Slice((*byte)(cptr(p)), l)
		}
	}
	return typ, b, n
}

// text returns column i as a Go string (a copy).
func (s *rawStmt) text(i int) string { return string(s.bytes(i)) }

// cptr turns an address in SQLite's memory, which modernc's allocator
// takes outside the Go heap, into a pointer. Go never moves or frees that
// memory; reading the uintptr's bits as a pointer (rather than converting
// it) is the form go vet accepts for such addresses.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
