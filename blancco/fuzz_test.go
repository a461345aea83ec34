package blancco

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds the parser arbitrary bytes seeded with every fixture and
// checks what callers rely on: no panic, whole-file errors name the file,
// a refused erasure names the file, a recordable erasure has a printable
// serial and a known standard, and only a clean Successful erasure counts
// as a sanitisation.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "blancco", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(reportOf(erasureOf("Successful", "NVMe Sanitize", `<entry name="verification">1%</entry>`), erasureOf("Failed", "Magic", ""))))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := Parse("f.xml", bytes.NewReader(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse f.xml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i, e := range es {
			if e.Index != i || e.Line < 1 {
				t.Errorf("erasure %d: Index %d Line %d", i, e.Index, e.Line)
			}
			if e.Err != nil {
				var ee *ErasureError
				if !errors.As(e.Err, &ee) || !strings.HasPrefix(e.Err.Error(), "f.xml:") {
					t.Errorf("refusal does not name the file: %v", e.Err)
				}
				if e.Sanitised() || e.Verification() != "no" {
					t.Errorf("refused erasure counts: %+v", e)
				}
				continue
			}
			if !validSerial(e.Serial) || e.Method == "" {
				t.Errorf("accepted serial %q method %q", e.Serial, e.Method)
			}
			if e.Sanitised() && (e.State != Successful || e.Errors != 0 || e.FailedSectors != 0) {
				t.Errorf("sanitised but %+v", e)
			}
		}
	})
}

// FuzzDetect checks that Detect never panics and that whatever it accepts
// begins with "<" and names blancco_data within DetectSize bytes.
func FuzzDetect(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "blancco", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Detect(b) {
			head := b[:min(len(b), DetectSize)]
			if !bytes.Contains(head, []byte("<blancco_data")) {
				t.Errorf("Detect accepted %q", head)
			}
		}
	})
}
