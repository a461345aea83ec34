package ledger

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkImport imports generated CSV files of growing size into a fresh
// ledger. Compare ns/row across sizes: it should stay flat.
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		data := DemoCSV(1, n, 2015, 2025)
		rows := bytes.Count(data, []byte("\n")) - 1
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				s, err := Open(filepath.Join(b.TempDir(), fmt.Sprint(i, ".db")), Options{Create: true, CacheKiB: 512 * 1024})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Import("bench.csv", bytes.NewReader(data), ImportOptions{}); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
