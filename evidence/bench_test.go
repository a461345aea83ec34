package evidence

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// writeLogs writes n nwipe logs into dir, made from a fixture (DoD
// 5220.22-M, verify all, Erased), each for a drive of its own serial.
func writeLogs(tb testing.TB, dir string, n int) {
	tb.Helper()
	tmpl, err := os.ReadFile(filepath.Join(fixtures, "nwipe_log_20250314-091502.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		serial := fmt.Sprintf("WD-B%010d", i)
		// The Drive Status table holds the serial too (truncated model/serial).
		log := strings.ReplaceAll(string(tmpl), "WD-WCC2E1234567", serial)
		name := filepath.Join(dir, fmt.Sprintf("nwipe_log_20250314-%06d.txt", i))
		if err := os.WriteFile(name, []byte(log), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkImportEvidence10000 imports a folder of 10,000 generated
// nwipe logs (one wiped drive each) into a new ledger: read, detect,
// parse, keep each file, add each device and its disposal. Run with
// -benchtime=1x; the target is under 30 s.
func BenchmarkImportEvidence10000(b *testing.B) {
	dir := b.TempDir()
	writeLogs(b, dir, 10000)
	for b.Loop() {
		b.StopTimer()
		s := mustLedger(b)
		b.StartTimer()
		r, err := NewReader([]string{dir}, Options{Location: time.UTC, Zone: "UTC"})
		if err != nil {
			b.Fatal(err)
		}
		res, err := s.ImportEvidence(r.Next, ledger.EvidenceImportOptions{Contractor: "WipeCo", Type: ledger.HDD})
		if err != nil || res.Sanitised != 10000 || res.FilesAdded != 10000 {
			b.Fatalf("%+v, %v", res.Sanitised, err)
		}
		b.StopTimer()
		start := time.Now()
		if _, err := s.Verify(ledger.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "verify-s")
		s.Close()
		b.StartTimer()
	}
}
