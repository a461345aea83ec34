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

// FuzzParseJSON feeds ParseJSON arbitrary bytes seeded with the JSON
// fixtures: no panic, only ErrNotNwipeJSON as a whole-file error, every
// refusal names the file, a recordable device has a printable serial, and
// only a clean "success"/ERASED report counts as a sanitisation.
func FuzzParseJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "nwipe", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[" + report(`"S1"`, "success", "ERASED", "Fill With Zeros", "") + "," + report(`""`, "failure", "FAILED", "DoD Short", "") + "]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := ParseJSON("f.json", bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrNotNwipeJSON) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(ds) == 0 {
			t.Fatal("no devices and no error")
		}
		for _, d := range ds {
			if d.Err != nil {
				if !strings.HasPrefix(d.Err.Error(), "f.json:") || !strings.Contains(d.Err.Error(), "$") {
					t.Errorf("refusal does not name the file and JSON path: %v", d.Err)
				}
				if d.Sanitised() || d.Verified() {
					t.Errorf("refused device counts: %+v", d)
				}
				continue
			}
			if !validSerial(d.Serial) || d.Path == "" {
				t.Errorf("accepted serial %q path %q", d.Serial, d.Path)
			}
			if d.Sanitised() && (d.Status != StatusErased || d.VerifyOnly || d.Method == "" ||
				d.PassErrors != 0 || d.VerifyErrors != 0 || d.SyncErrors != 0) {
				t.Errorf("sanitised but %+v", d)
			}
		}
	})
}

// FuzzDetect checks that Detect never panics, only answers the formats it
// knows, and agrees with the parsers: what it calls JSON begins like JSON
// and holds the schema, and a fixture's bytes keep their format when junk
// is appended past DetectSize.
func FuzzDetect(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "nwipe", "nwipe_*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[\n{\"report_schema\":\"org.nwipe.report.v1\"}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Detect(b)
		switch got {
		case FormatUnknown, FormatLog:
		case FormatJSON:
			if !bytes.Contains(b, []byte(ReportSchema)) {
				t.Errorf("JSON without the schema name: %q", b)
			}
		default:
			t.Fatalf("Detect = %q", got)
		}
		if len(b) >= DetectSize {
			if again := Detect(append(b[:DetectSize:DetectSize], "junk"...)); again != got {
				t.Errorf("Detect depends on bytes past DetectSize: %q then %q", got, again)
			}
		}
	})
}
