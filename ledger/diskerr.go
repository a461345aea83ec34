package ledger

import (
	"errors"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsDiskError reports whether err says that the disk under a file itad
// writes is full or failing: SQLite's SQLITE_FULL or SQLITE_IOERR with any
// extended code (SQLITE_IOERR_WRITE, SQLITE_IOERR_SHMSIZE (4874) ...), or
// ENOSPC, EDQUOT or EIO from a file write. After the disk filled once,
// every command fails with one of these until space is freed.
func IsDiskError(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			return true
		}
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO)
}
