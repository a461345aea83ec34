package ledger

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpen_ReadOnly: a ledger opened read-only verifies and answers
// queries, refuses changes with ErrReadOnly, vets consultations without
// recording them, and is left byte for byte as it was.
func TestOpen_ReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "itad.db")
	s, err := Open(path, Options{Create: true})
	must(t, err)
	must(t, s.Init("Org"))
	_, err = importString(s, "a.csv", header+"SN-1,,hdd,,,,,shred,,,,Acme,2021-01-05,0.6,,,,\n")
	must(t, err)
	must(t, s.SetSetting(SettingRequireReason, "true", "policy"))
	must(t, s.Close())
	before, err := os.ReadFile(path)
	must(t, err)

	ro, err := Open(path, Options{ReadOnly: true})
	must(t, err)
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Fatal("ReadOnly() = false")
	}
	res, err := ro.Verify(VerifyOptions{})
	if err != nil || res.Events != 5 {
		t.Fatalf("verify: %+v %v", res, err)
	}
	if _, err := ro.Device("sn-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.AddDevice(Device{Serial: "SN-2", Type: "hdd"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("AddDevice: %v, want ErrReadOnly", err)
	}
	// The file can be written: a consultation must be recorded, so
	// read-only by request refuses it rather than leave it unrecorded.
	if err := ro.LogAccess("report", "report", "audit", nil); !errors.Is(err, ErrDisclosureNotRecorded) {
		t.Fatalf("LogAccess on a writable ledger opened read-only: %v, want ErrDisclosureNotRecorded", err)
	}
	var out bytes.Buffer
	err = ro.Disclose(Disclosure{Action: "report", Reason: "audit"}, Sink{W: &out}, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
	if !errors.Is(err, ErrDisclosureNotRecorded) || out.Len() != 0 {
		t.Fatalf("Disclose on a writable ledger opened read-only: %v, %q released", err, out.String())
	}
	// As on read-only media (root, running the tests, ignores file
	// permissions: cmd/itad's TestCLI_ReadOnlyLedger drops to nobody).
	ro.writable = false
	if err := ro.LogAccess("report", "report", "", nil); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("LogAccess without a reason: %v, want ErrReasonRequired", err)
	}
	if err := ro.LogAccess("report", "report", "audit", nil); err != nil {
		t.Fatalf("LogAccess: %v", err)
	}
	if n, _ := ro.EventCount(); n != 5 {
		t.Fatalf("%d events after a read-only consultation, want 5", n)
	}
	ro.Close()
	after, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Fatal("opening read-only changed the file")
	}
}

// TestOpen_ReadOnlyOldSchema: a ledger that needs migrating cannot be
// opened read-only; the message says what to do.
func TestOpen_ReadOnlyOldSchema(t *testing.T) {
	data, err := os.ReadFile("../testdata/ledger/v1-device-import.db") // schema version 3
	must(t, err)
	path := filepath.Join(t.TempDir(), "itad.db")
	must(t, os.WriteFile(path, data, 0o600))
	_, err = Open(path, Options{ReadOnly: true})
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "schema version 3") || !strings.Contains(err.Error(), "copy it somewhere writable") {
		t.Fatalf("open: %v", err)
	}
}
