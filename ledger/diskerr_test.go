package ledger

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"modernc.org/sqlite"
)

// TestIsDiskError classifies errors SQLite and the file system really
// return, not hand-made ones.
func TestIsDiskError(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// max_page_count makes SQLite report SQLITE_FULL as a full disk does.
	for _, q := range []string{`CREATE TABLE t(x BLOB)`, `PRAGMA max_page_count = 3`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.Exec(`INSERT INTO t VALUES (randomblob(4000))`)
	}
	if full == nil {
		t.Fatal("max_page_count did not fill the database")
	}
	_, constraint := db.Exec(`CREATE TABLE t(x)`) // already exists: not a disk error
	_, pathErr := os.OpenFile(filepath.Join(dir, "missing", "x"), os.O_WRONLY|os.O_CREATE, 0o600)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLITE_FULL", fmt.Errorf("record device: %w", full), true},
		{"ENOSPC", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{"EIO", fmt.Errorf("backup: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.EIO}), true},
		{"other sqlite error", constraint, false},
		{"not found", pathErr, false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsDiskError(tc.err); got != tc.want {
				t.Errorf("IsDiskError(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	if se, ok := full.(*sqlite.Error); !ok || se.Code()&0xff != 13 {
		t.Errorf("expected SQLITE_FULL (13), got %T %v", full, full)
	}
}
