package nwipe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds the parser arbitrary bytes seeded with every fixture and
// checks what callers rely on: no panic, a refused device names the file,
// a recordable device has a printable serial, and nothing but a clean
// Erased overwrite counts as a sanitisation.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "nwipe", "*.txt"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(logOf("Verify Ones  (0xFF)", okErrRow, "       sdb |INSANITY|  1 B/s | 00:00:01 | M/S", "1R+B+VA")))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := Parse("f.txt", bytes.NewReader(b), time.UTC)
		if err != nil {
			if !errors.Is(err, ErrNotNwipeLog) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, d := range ds {
			if d.Err != nil {
				if !strings.HasPrefix(d.Err.Error(), "f.txt:") {
					t.Errorf("refusal does not name the file: %v", d.Err)
				}
				if d.Sanitised() || d.Verified() {
					t.Errorf("refused device counts: %+v", d)
				}
				continue
			}
			if !validSerial(d.Serial) {
				t.Errorf("accepted serial %q", d.Serial)
			}
			if d.Sanitised() && (d.Status != StatusErased || d.VerifyOnly || d.Method == "" ||
				d.PassErrors != 0 || d.VerifyErrors != 0 || d.SyncErrors != 0) {
				t.Errorf("sanitised but %+v", d)
			}
			if d.VerifyOnly && d.Method != "" {
				t.Errorf("verify-only with method %q", d.Method)
			}
		}
	})
}
