package ledger

import (
	"testing"
	"time"
)

// TestWrite_PanicRollsBack: a panic inside a write transaction (a bug in a
// writer, as the merged import's type assertion was) reaches the caller
// as a panic, promptly, and leaves the ledger as it was; it used to hang
// the process in the deferred close of the connection.
func TestWrite_PanicRollsBack(t *testing.T) {
	s := rulesFixture(t)
	before := countEvents(t, s)
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		s.write("", func(tx *txn) error {
			if _, err := tx.appendEvent("setting.set", "org", map[string]string{"key": "org", "value": "x"}); err != nil {
				return err
			}
			panic("writer bug")
		})
	}()
	select {
	case p := <-done:
		if p != "writer bug" {
			t.Fatalf("recovered %v, want the writer's panic", p)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("write did not return after its function panicked: it hangs")
	}
	if after := countEvents(t, s); after != before {
		t.Fatalf("events %d -> %d: the panicked transaction was kept", before, after)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
