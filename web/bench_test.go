package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// BenchmarkStationScan: one scan through the handler (resolve, record,
// render the station) into a run of up to b.N items.
func BenchmarkStationScan(b *testing.B) {
	f := newFixture(b)
	for i := 0; i < b.N; i++ {
		if _, err := f.store.AddDevice(ledger.Device{Serial: fmt.Sprintf("B-%06d", i), Type: ledger.HDD}); err != nil {
			b.Fatal(err)
		}
	}
	sess, err := f.store.Login("op", testPassword, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s := &session{cookie: sess.ID, csrf: sess.CSRF}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := f.post(s, "/station/scan", url.Values{"run": {f.openRun}, "method": {"shred"}, "code": {fmt.Sprintf("B-%06d", i)}})
		if rec.Code != http.StatusOK {
			b.Fatalf("%d", rec.Code)
		}
	}
}

// BenchmarkDashboard renders the dashboard (all years, every breakdown)
// through the handler, as an auditor, on a copy of the ledger named by
// ITAD_BENCH_DASHBOARD_DB (e.g. a copy of bench/out/verify-events-1000000.db,
// 1,000,000 devices: never the original, the benchmark adds an account
// and consultation events). It reports the median server time of the
// iterations as ms/median.
func BenchmarkDashboard(b *testing.B) {
	path := os.Getenv("ITAD_BENCH_DASHBOARD_DB")
	if path == "" {
		b.Skip("set ITAD_BENCH_DASHBOARD_DB=COPY-OF-A-LEDGER to benchmark the dashboard")
	}
	s, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Actor = "bench"
	if _, err := s.AddUser("bench-aud", ledger.RoleAuditor, []byte(testPassword)); err != nil && !errors.Is(err, ledger.ErrConflict) {
		b.Fatal(err)
	}
	srv, err := New(Config{Store: s, Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	sess, err := s.Login("bench-aud", testPassword, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/dashboard?reason=benchmark", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.Handler().ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
}
