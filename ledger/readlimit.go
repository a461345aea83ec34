package ledger

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits on the files itad reads whole. Each is far above the largest
// legitimate input (a 10,000-device batch certificate is 5 MB, measured by
// BenchmarkIssueBatch10000, so 256 MiB holds a run of 500,000; a
// detached signature or checkpoint a few KiB) and far below what would
// exhaust memory. A file past its limit — or an endless one such as
// /dev/zero — fails with ErrTooLarge instead of being read to the end.
const (
	MaxPDFBytes       = 256 << 20 // a PDF certificate
	MaxSignatureBytes = 1 << 20   // a detached CMS signature (.p7s)
	MaxCheckpointSize = 1 << 20   // a signed checkpoint note
	MaxKeyFileBytes   = 1 << 20   // a PEM key or certificate chain, a PKCS #12 file
	MaxPasswordBytes  = 64 << 10  // a password file
)

// ErrTooLarge is matched by the error ReadFileLimit returns for a file
// over its limit.
var ErrTooLarge = errors.New("too large")

// ReadFileLimit reads the file at path, which may be a pipe or device, up
// to limit bytes. A longer file fails, without being read further, with
// "PATH: not a WHAT (too large: over LIMIT)", which matches ErrTooLarge;
// other failures are those of os.Open and reading.
func ReadFileLimit(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := fmt.Errorf("%s: not a %s (%w: over %s)", path, what, ErrTooLarge, formatBytes(limit))
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	return data, nil
}

// formatBytes shows a limit as "256 MiB", "64 KiB" or "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
