package nwipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkParse parses a real two-device nwipe 0.33 log (issue 14 wants
// 10,000 logs imported in under 30 s; this is the parsing share of it).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "nwipe", "nwipe_log_20261201-224840.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("f.txt", bytes.NewReader(data), time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJSON parses one nwipe JSON report (one file per device).
func BenchmarkParseJSON(b *testing.B) {
	data := readFixture(b, jsonOK)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseJSON("f.json", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
