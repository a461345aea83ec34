package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

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
