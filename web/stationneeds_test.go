package web

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/evidence"
	"github.com/itad/itad/ledger"
)

// TestStation_NeedsDestruction: a device whose nwipe erasure failed is
// listed on the station's first screen (serial, model, what failed,
// when), showing it is a consultation; scanning it into a run records
// its disposal as normal, says in the result row that its erasure had
// failed, and takes it off the list.
func TestStation_NeedsDestruction(t *testing.T) {
	f := newFixture(t)
	r, err := evidence.NewReader([]string{filepath.Join("..", "testdata", "nwipe", "nwipe_log_20250402-140010.txt")},
		evidence.Options{Location: time.UTC, Zone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.store.ImportEvidence(r.Next, ledger.EvidenceImportOptions{Contractor: "Shredco", Type: ledger.HDD})
	if err != nil || res.Failed != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	op := f.login("op")
	list := func() (string, int64) {
		before := f.events()
		rec := f.get(op, "/station")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /station: %d", rec.Code)
		}
		return rec.Body.String(), f.events() - before
	}
	body, n := list()
	i := strings.Index(body, `id="needs-destruction"`)
	if i < 0 {
		t.Fatalf("no list of devices needing destruction: %s", body)
	}
	sec := body[i:]
	for _, want := range []string{"<td>Z9A1B2C3</td>", "12 verification errors", "2025-04-02"} {
		if !strings.Contains(sec, want) {
			t.Errorf("the list lacks %q: %s", want, sec)
		}
	}
	if ev := f.lastEvent(); n != 1 || ev.Action != ledger.DeviceListAction || ev.Subject != "needs-destruction" || ev.Actor != "op" {
		t.Errorf("showing the list: %d events, last %s %q by %s", n, ev.Action, ev.Subject, ev.Actor)
	}

	rec := f.post(op, "/station/scan", url.Values{"run": {f.openRun}, "method": {"shred"}, "code": {"Z9A1B2C3"}})
	body = rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `data-result="ok"`) {
		t.Fatalf("scan: %d %s", rec.Code, body)
	}
	row := body[strings.Index(body, "<td>Z9A1B2C3</td>"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "erasure failed") || !strings.Contains(row, "needed destruction") {
		t.Errorf("the result row does not say the erasure failed: %s", row)
	}
	if h, err := f.store.History("Z9A1B2C3"); err != nil || len(h.Disposals) != 1 || h.Disposals[0].Batch != f.openRun {
		t.Fatalf("disposal not recorded: %+v, %v", h.Disposals, err)
	}
	// Off the list now; an empty list is no consultation.
	body, n = list()
	if strings.Contains(body, `id="needs-destruction"`) || n != 0 {
		t.Errorf("after the scan: list shown %v, %d events", strings.Contains(body, `id="needs-destruction"`), n)
	}
	// A device without a failed erasure says nothing of the kind.
	rec = f.post(op, "/station/scan", url.Values{"run": {f.openRun}, "method": {"shred"}, "code": {"HDD-3"}})
	if strings.Contains(rec.Body.String(), "erasure failed") {
		t.Error("an ordinary scan mentions a failed erasure")
	}
}
