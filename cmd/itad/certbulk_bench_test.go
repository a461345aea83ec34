package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCertIssueUncertified issues 200 signed Unicode device
// certificates in one 'cert issue --uncertified' call (in-process: the
// whole-process figure is bench/certs.sh); it reports certificates per
// second.
func BenchmarkCertIssueUncertified(b *testing.B) {
	const n = 200
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		db := filepath.Join(dir, "itad.db")
		var csv strings.Builder
		csv.WriteString("serial,type,make,model,method,contractor,disposed_on,operator\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&csv, "ŁÓDŹ-%06d,hdd,Seagate,Exos,shred,Łukasz Żółć Recykling,2024-05-02,Łukasz Żółć\n", i)
		}
		os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644)
		for _, args := range [][]string{{"init", "--org", "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn"}, {"import", filepath.Join(dir, "d.csv")}, {"key", "init"}} {
			if _, errOut, code := itadB(db, args...); code != 0 {
				b.Fatalf("%v: %s", args, errOut)
			}
		}
		b.StartTimer()
		if _, errOut, code := itadB(db, "cert", "issue", "--uncertified", "-o", dir); code != 0 {
			b.Fatal(errOut)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "certs/s")
}

func itadB(db string, args ...string) (string, string, int) {
	var out, errOut strings.Builder
	code := run(append([]string{"itad", "--db", db, "--actor", "bench"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}
