package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastEvent returns the newest event of an action, or false.
func lastEvent(t *testing.T, s *Store, action string) (Event, bool) {
	t.Helper()
	evs, err := s.Events(EventFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return Event{}, false
	}
	return evs[len(evs)-1], true
}

// firstByteWatch is a response writer that, when the first byte of an
// answer reaches it, checks that the disclosure is already in the log.
type firstByteWatch struct {
	http.ResponseWriter
	t       *testing.T
	s       *Store
	checked bool
}

func (w *firstByteWatch) Write(p []byte) (int, error) {
	if !w.checked && len(p) > 0 {
		w.checked = true
		if _, ok := lastEvent(w.t, w.s, "export"); !ok {
			w.t.Error("the first byte of the export left before its event was recorded")
		}
	}
	return w.ResponseWriter.Write(p)
}

// TestDisclose_SecondFrontEnd calls the disclosure rule as a web front end
// would: an HTTP handler streams an export to its response through
// Store.Disclose. The event is committed before the first byte reaches the
// response, records the actor and reason, and holds the size and SHA-256
// of exactly what the client received; a refused request receives nothing.
func TestDisclose_SecondFrontEnd(t *testing.T) {
	s := foiLedger(t)
	s.Actor = "web:a.patel"
	must(t, s.SetSetting(SettingRequireReason, "true", "policy"))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := Disclosure{Action: "export", Subject: "all years", Reason: r.URL.Query().Get("reason"), Payload: map[string]any{"format": "csv"}}
		err := s.Disclose(d, Sink{W: &firstByteWatch{ResponseWriter: w, t: t, s: s}, Name: "http"}, func(out io.Writer) error {
			_, err := s.WriteExport(out, ExportQuery{}, ExportOptions{Format: "csv"})
			return err
		})
		if errors.Is(err, ErrReasonRequired) {
			http.Error(w, err.Error(), http.StatusBadRequest)
		} else if err != nil {
			t.Errorf("disclose: %v", err)
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	before, _ := s.EventCount()
	resp, err := http.Get(srv.URL + "/export")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "serial") {
		t.Fatalf("without a reason: %d %q", resp.StatusCode, body)
	}
	if n, _ := s.EventCount(); n != before {
		t.Fatalf("a refused export wrote %d events", n-before)
	}

	resp, err = http.Get(srv.URL + "/export?reason=FOI+2026%2F17")
	must(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "serial,") {
		t.Fatalf("export: %d %.80q", resp.StatusCode, body)
	}
	ev, ok := lastEvent(t, s, "export")
	if !ok || ev.Actor != "web:a.patel" || ev.Reason != "FOI 2026/17" {
		t.Fatalf("export event: %+v", ev)
	}
	var p struct {
		Output string `json:"output"`
		Bytes  int    `json:"bytes"`
		SHA256 string `json:"sha256"`
	}
	must(t, json.Unmarshal(ev.Payload, &p))
	sum := sha256.Sum256(body)
	if p.Output != "http" || p.Bytes != len(body) || p.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("event records %+v; the client got %d bytes", p, len(body))
	}
}

// TestDisclose_NothingReleasedOnFailure: whatever fails before the event
// is committed, nothing of the answer is released and nothing is recorded.
func TestDisclose_NothingReleasedOnFailure(t *testing.T) {
	answer := func(w io.Writer) error { _, err := io.WriteString(w, "secret figures\n"); return err }
	cases := []struct {
		name   string
		setup  func(*Store)
		d      Disclosure
		render func(io.Writer) error
		want   error
	}{
		{"ReasonRequired", func(s *Store) { must(t, s.SetSetting(SettingRequireReason, "true", "policy")) },
			Disclosure{Action: "report"}, answer, ErrReasonRequired},
		{"BlankReason", func(s *Store) { must(t, s.SetSetting(SettingRequireReason, "true", "policy")) },
			Disclosure{Action: "report", Reason: "  "}, answer, ErrReasonRequired},
		{"UnregisteredAction", func(*Store) {}, Disclosure{Action: "device.leak", Reason: "x"}, answer, ErrInvalid},
		{"NoActor", func(s *Store) { s.Actor = " " }, Disclosure{Action: "report", Reason: "x"}, answer, ErrInvalid},
		{"RenderFails", func(*Store) {}, Disclosure{Action: "report", Reason: "x"},
			func(w io.Writer) error { io.WriteString(w, "half an answer"); return io.ErrUnexpectedEOF }, io.ErrUnexpectedEOF},
		{"TamperedSetting", func(s *Store) {
			must(t, s.SetSetting(SettingRequireReason, "true", "policy"))
			if _, err := rawDB(t, s).Exec(`UPDATE settings SET value = 'false' WHERE key = 'require_reason'`); err != nil {
				t.Fatal(err)
			}
		}, Disclosure{Action: "report"}, answer, ErrTampered},
	}
	for _, tc := range cases {
		for _, toFile := range []bool{false, true} {
			name := tc.name + "/Stream"
			if toFile {
				name = tc.name + "/File"
			}
			t.Run(name, func(t *testing.T) {
				s := certLedger(t)
				tc.setup(s)
				before, _ := s.EventCount()
				var out bytes.Buffer
				dir := t.TempDir()
				sink := Sink{W: &out}
				if toFile {
					sink = Sink{Path: filepath.Join(dir, "answer.csv")}
				}
				err := s.Disclose(tc.d, sink, tc.render)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Disclose: %v, want %v", err, tc.want)
				}
				if out.Len() != 0 {
					t.Fatalf("released %q", out.String())
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("left %d files in the output folder", len(ents))
				}
				if n, _ := s.EventCount(); n != before {
					t.Fatalf("recorded %d events", n-before)
				}
			})
		}
	}
}

// TestDisclose_LargeAnswer: an answer larger than the memory spool goes
// through a temporary file and arrives whole; the file output appears only
// under its name, with nothing left beside it.
func TestDisclose_LargeAnswer(t *testing.T) {
	s := certLedger(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), (spoolMemory/16)+4096)
	render := func(w io.Writer) error {
		for i := 0; i < len(big); i += 1 << 16 {
			if _, err := w.Write(big[i:min(i+1<<16, len(big))]); err != nil {
				return err
			}
		}
		return nil
	}
	var out bytes.Buffer
	must(t, s.Disclose(Disclosure{Action: "report", Reason: "x"}, Sink{W: &out}, render))
	if !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("streamed %d bytes, want %d", out.Len(), len(big))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "big.csv")
	must(t, s.Disclose(Disclosure{Action: "export", Reason: "x"}, Sink{Path: path}, render))
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("file: %d bytes, %v", len(got), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the output folder, want 1", len(ents))
	}
	ev, _ := lastEvent(t, s, "export")
	if !strings.Contains(string(ev.Payload), `"output":"big.csv"`) {
		t.Fatalf("payload %s", ev.Payload)
	}
}

// TestDisclose_NoClobber: with Sink.NoClobber an existing file is refused
// before any work, and a file that appears while the answer is rendered
// is kept, not renamed over.
func TestDisclose_NoClobber(t *testing.T) {
	s := foiLedger(t)
	s.Actor = "tester"
	path := filepath.Join(t.TempDir(), "out.csv")
	d := Disclosure{Action: "export", Subject: "all years"}
	write := func(out io.Writer) error { _, err := io.WriteString(out, "answer\n"); return err }
	t.Run("Existing", func(t *testing.T) {
		must(t, os.WriteFile(path, []byte("mine\n"), 0o644))
		rendered := false
		err := s.Disclose(d, Sink{Path: path, NoClobber: true}, func(io.Writer) error { rendered = true; return nil })
		if !errors.Is(err, ErrFileExists) || rendered {
			t.Fatalf("err %v, rendered %v: want ErrFileExists before rendering", err, rendered)
		}
	})
	t.Run("CreatedMeanwhile", func(t *testing.T) {
		os.Remove(path)
		err := s.Disclose(d, Sink{Path: path, NoClobber: true}, func(out io.Writer) error {
			must(t, os.WriteFile(path, []byte("mine\n"), 0o644))
			return write(out)
		})
		if !errors.Is(err, ErrFileExists) {
			t.Fatalf("err %v, want ErrFileExists", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "mine\n" {
			t.Fatalf("file replaced: %q", b)
		}
	})
	t.Run("New", func(t *testing.T) {
		os.Remove(path)
		must(t, s.Disclose(d, Sink{Path: path, NoClobber: true}, write))
		if b, _ := os.ReadFile(path); string(b) != "answer\n" {
			t.Fatalf("got %q", b)
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
		if len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
}
