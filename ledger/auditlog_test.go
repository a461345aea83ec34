package ledger

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLogAccess_RequireReason(t *testing.T) {
	s := mustOpen(t)
	must(t, s.LogAccess("report", "report", "", nil)) // not required yet
	must(t, s.SetSetting(SettingRequireReason, "true", "DPA s62 policy"))
	err := s.LogAccess("report", "report", " ", nil)
	if !errors.Is(err, ErrReasonRequired) || !strings.Contains(err.Error(), "requires a reason") {
		t.Fatalf("without a reason: %v", err)
	}
	must(t, s.LogAccess("report", "report", "FOI 2026/17", nil))
	if err := s.LogAccess("device.shredded", "x", "r", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unregistered action: %v", err)
	}
	evs, _ := s.Events(EventFilter{Action: "report"})
	if len(evs) != 2 || evs[1].Reason != "FOI 2026/17" {
		t.Fatalf("report events %+v", evs)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterNoStateAction(t *testing.T) {
	RegisterNoStateAction("test.consult")
	s := mustOpen(t)
	must(t, s.LogAccess("test.consult", "x", "r", nil))
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a state-changing action did not panic")
		}
	}()
	RegisterNoStateAction("device.add")
}

func TestVerify_UnknownAction(t *testing.T) {
	s := mustOpen(t)
	var seq int64
	must(t, s.write("", func(tx *txn) (err error) {
		seq, err = tx.appendEvent("device.teleport", "SN-1", nil)
		return err
	}))
	_, err := s.Verify(VerifyOptions{})
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Seq != seq || !strings.Contains(ce.Problem, "unknown action") {
		t.Fatalf("verify: %v", err)
	}
}

func TestValidateSetting(t *testing.T) {
	for _, tc := range []struct{ key, in, out string }{
		{SettingRequireReason, "Yes", "true"}, {SettingRequireReason, "off", "false"},
		{SettingOrg, "  Northshire   Police ", "Northshire Police"},
	} {
		if got, err := ValidateSetting(tc.key, tc.in); err != nil || got != tc.out {
			t.Errorf("%s %q: %q %v", tc.key, tc.in, got, err)
		}
	}
	for _, tc := range [][2]string{{SettingRequireReason, "maybe"}, {"colour", "blue"}, {SettingOrg, "a\x01b"}} {
		if _, err := ValidateSetting(tc[0], tc[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q %q: %v", tc[0], tc[1], err)
		}
	}
}

func TestAuditLog(t *testing.T) {
	s, _ := verifyFixture(t)
	collect := func(f LogFilter) []Event {
		t.Helper()
		var out []Event
		if err := s.AuditLog(f, func(e Event) error { out = append(out, e); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := collect(LogFilter{})
	var n int64
	s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	if int64(len(all)) != n {
		t.Fatalf("%d events, want %d", len(all), n)
	}
	// A device's history includes its amendments and certificates.
	actions := map[string]int{}
	for _, e := range collect(LogFilter{Serial: "sn-a2"}) {
		actions[e.Action]++
	}
	if actions[ImportRowsAction] != 1 || actions["certificate.issue"] != 3 || actions["certificate.revoke"] != 1 {
		t.Fatalf("SN-A2 actions %v", actions)
	}
	if got := collect(LogFilter{Action: "device.amend"}); len(got) != 1 || got[0].Subject != "SN-A1" {
		t.Fatalf("device.amend events %+v", got)
	}
	if got := collect(LogFilter{Actor: "nobody"}); len(got) != 0 {
		t.Fatalf("actor filter: %d", len(got))
	}
	if got := collect(LogFilter{Since: "2026-01-02", Until: "2026-01-02"}); len(got) != len(all) {
		t.Fatalf("date filter: %d of %d", len(got), len(all))
	}
	if got := collect(LogFilter{Since: "2026-01-03"}); len(got) != 0 {
		t.Fatalf("since filter: %d", len(got))
	}
	if err := s.AuditLog(LogFilter{Serial: "nope"}, func(Event) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown serial: %v", err)
	}
	if err := s.AuditLog(LogFilter{Since: "2021-13-01"}, func(Event) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad date: %v", err)
	}

	// The three formats.
	write := func(format string) string {
		var b bytes.Buffer
		lw, err := NewLogWriter(&b, format)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range all {
			must(t, lw.Write(e))
		}
		must(t, lw.Close())
		return b.String()
	}
	text := write("text")
	if !strings.Contains(text, `device.amend  SN-A1  reason: model number mistyped  model "ST4000" -> "ST4000NM0035"`) {
		t.Fatalf("text:\n%s", text)
	}
	recs, err := csv.NewReader(strings.NewReader(write("csv"))).ReadAll()
	if err != nil || len(recs) != len(all)+1 || recs[0][0] != "seq" || len(recs[1]) != 9 {
		t.Fatalf("csv: %d records %v", len(recs), err)
	}
	var back []Event
	if err := json.Unmarshal([]byte(write("json")), &back); err != nil || len(back) != len(all) {
		t.Fatalf("json: %d %v", len(back), err)
	}
	for i := range all {
		// Each event's hash can be recomputed from the export.
		e := back[i]
		if !reflect.DeepEqual(e.Hash, all[i].Hash) || string(e.Payload) != string(all[i].Payload) ||
			!bytes.Equal(EventHash(e.PrevHash, e.Seq, e.At, e.Actor, e.Action, e.Subject, e.Reason, e.Payload), e.Hash) {
			t.Fatalf("json round trip of event %d", e.Seq)
		}
	}
	var empty bytes.Buffer
	lw, _ := NewLogWriter(&empty, "json")
	lw.Close()
	if empty.String() != "[]\n" {
		t.Fatalf("empty json %q", empty.String())
	}
	if _, err := NewLogWriter(&empty, "xml"); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

// TestLogWriter_CSVNeutralisesFormulas: a reason or subject that a
// spreadsheet would run as a formula is shown as text in the CSV trail.
func TestLogWriter_CSVNeutralisesFormulas(t *testing.T) {
	var b strings.Builder
	lw, err := NewLogWriter(&b, "csv")
	if err != nil {
		t.Fatal(err)
	}
	e := Event{Seq: 1, At: time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "@admin", Action: "report",
		Subject: "=HYPERLINK(\"x\")", Reason: "+1", Payload: []byte(`{}`), PrevHash: make([]byte, 32), Hash: make([]byte, 32)}
	if err := lw.Write(e); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	got := recs[1]
	if got[2] != "'@admin" || got[4] != `'=HYPERLINK("x")` || got[5] != "'+1" || got[6] != "{}" {
		t.Fatalf("record %q", got)
	}
}

// TestAuditLog_Indexed: the log of a device, of an action and a device's
// history find their events through indexes, not by reading the whole log
// (a ledger may hold millions of events).
func TestAuditLog_Indexed(t *testing.T) {
	s := mustOpen(t)
	_, err := importString(s, "a.csv", header+"SN-1,,hdd,,,,,shred,,,,Acme,2021-01-05,,,,,\n")
	must(t, err)
	for _, f := range []LogFilter{{Serial: "SN-1"}, {Action: "report"}, {Action: "report", Serial: "SN-1"}, {Action: "report", Since: "2024-01-01"}} {
		q, args, err := s.auditQuery(f)
		must(t, err)
		plan := queryPlan(t, s, q, args...)
		if strings.Contains(plan, "SCAN events") {
			t.Errorf("%+v reads the whole log:\n%s", f, plan)
		}
	}
	if plan := queryPlan(t, s, `SELECT seq FROM events WHERE subject = ? OR seq = ?`, "SN-1", 3); strings.Contains(plan, "SCAN events") {
		t.Errorf("History reads the whole log:\n%s", plan)
	}
}

func queryPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	must(t, err)
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		must(t, rows.Scan(&id, &parent, &unused, &detail))
		b.WriteString(detail + "\n")
	}
	return b.String()
}
