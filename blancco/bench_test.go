package blancco

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse parses the three-drive Blancco report.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "blancco", "drive-eraser-three-drives.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("f.xml", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
