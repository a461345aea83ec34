package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func forcedProgress(w *bytes.Buffer, label string, total int64) (*progress, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newProgressTo(w, true, label, total)
	p.now, p.start = clock.now, clock.t
	return p, clock
}

func TestProgress_Terminal(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		bytes bool
		steps []struct {
			after time.Duration
			n     int64
		}
		want string
	}{
		{"Bytes", 2_000_000, true, []struct {
			after time.Duration
			n     int64
		}{{300 * time.Millisecond, 500_000}, {50 * time.Millisecond, 600_000}, {100 * time.Millisecond, 1_000_000}, {2 * time.Second, 2_000_000}},
			"\rimport x.csv [======>                 ]  25%  500.0 kB / 2.0 MB" +
				"\rimport x.csv [============>           ]  50%  1.0 MB / 2.0 MB  " + // padded over "500.0 kB"
				"\rimport x.csv [========================] 100%  2.0 MB / 2.0 MB" +
				"\rimport x.csv [========================] 100%  2.0 MB / 2.0 MB\n"},
		{"UnknownTotal", 0, false, []struct {
			after time.Duration
			n     int64
		}{{time.Second, 12345}, {time.Second, 1234567}},
			"\rverify  12,345\rverify  1,234,567\rverify  1,234,567\n"},
		{"ETA", 100, false, []struct {
			after time.Duration
			n     int64
		}{{2 * time.Second, 25}},
			"\rcerts [======>                 ]  25%  25 / 100  ETA 6s" +
				"\rcerts [======>                 ]  25%  25 / 100  ETA 6s\n"},
		{"QuickWorkDrawsNothing", 100, false, []struct {
			after time.Duration
			n     int64
		}{{10 * time.Millisecond, 50}, {100 * time.Millisecond, 100}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			label := map[string]string{"Bytes": "import x.csv", "UnknownTotal": "verify", "ETA": "certs", "QuickWorkDrawsNothing": "q"}[tt.name]
			p, clock := forcedProgress(&buf, label, tt.total)
			if tt.bytes {
				p.Bytes()
			}
			for _, s := range tt.steps {
				clock.advance(s.after)
				p.Set(s.n)
			}
			p.Done()
			p.Done() // harmless
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestProgress_Throttled: a thousand updates a second draw at most ten
// times a second.
func TestProgress_Throttled(t *testing.T) {
	var buf bytes.Buffer
	p, clock := forcedProgress(&buf, "x", 10000)
	for i := range 10000 {
		clock.advance(time.Millisecond)
		p.Set(int64(i))
	}
	if draws := strings.Count(buf.String(), "\r"); draws > 100 || draws < 90 {
		t.Errorf("%d draws in 10 s", draws)
	}
}

// TestProgress_ShorterLineClears: a line shorter than the last one is
// padded so that no old characters remain.
func TestProgress_ShorterLineClears(t *testing.T) {
	var buf bytes.Buffer
	p, clock := forcedProgress(&buf, "n", 0)
	clock.advance(time.Second)
	p.Set(1000000)
	buf.Reset()
	clock.advance(time.Second)
	p.Set(5)
	if got, want := buf.String(), "\rn  5        "; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProgress_Silent: nothing is written when stderr is not a terminal,
// with --json, or through a nil bar.
func TestProgress_Silent(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressTo(&buf, false, "x", 10)
	p.now = func() time.Time { return time.Now().Add(time.Hour) }
	p.Set(5)
	p.Add(1)
	p.Done()
	var nilBar *progress
	nilBar.Set(1)
	nilBar.Bytes().Done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
	if isTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a file is a terminal")
	}
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		if isTerminal(null) {
			t.Error(os.DevNull + " is a terminal")
		}
	}
}

// TestCLI_ImportProgressNotPiped: a piped import prints its summary and
// nothing else, with or without --json.
func TestCLI_ImportProgressNotPiped(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init")
	out, errOut, code := itad(t, db, "import", "../../testdata/import/sample-disposals.csv")
	if code != 0 || errOut != "" || strings.Contains(out, "\r") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}
