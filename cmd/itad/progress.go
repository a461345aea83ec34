package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/itad/itad/ledger"
	"github.com/urfave/cli/v2"
)

// progress draws a one-line progress bar on standard error while a long
// operation runs (import, backup, restore; export, batch certificates and
// verify can use it the same way):
//
//	bar := newProgress(c, "import devices.csv", size).Bytes()
//	err := work(bar.Set) // Set(n) with the amount done so far
//	bar.Done()           // before printing anything else
//
// It draws only when standard error is a terminal and --json is not set,
// so nothing extra reaches a pipe, a file or a script. It redraws at most
// ten times a second, not at all for work that ends within a quarter of a
// second, and Done ends the line it drew. The methods are safe to call
// from any goroutine and on a nil *progress.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	label string
	total int64 // <= 0: unknown
	n     int64
	bytes bool // show amounts as sizes

	now   func() time.Time
	start time.Time
	last  time.Time // of the last draw
	drawn int       // width of the line last drawn; 0: nothing drawn yet
	done  bool
}

const (
	progressEvery = 100 * time.Millisecond // at most ten redraws a second
	progressDelay = 250 * time.Millisecond // quick work shows no bar
	progressBar   = 24                     // cells in the bar
)

// newProgress returns a progress bar for c's standard error, labelled
// label, for total units of work (<= 0 when not known). It is silent
// unless standard error is a terminal and --json is not set.
func newProgress(c *cli.Context, label string, total int64) *progress {
	w := c.App.ErrWriter
	return newProgressTo(w, isTerminal(w) && !c.Bool("json"), label, total)
}

// newProgressTo is newProgress with the writer and the terminal test
// given: tests force tty to see what a terminal would get.
func newProgressTo(w io.Writer, tty bool, label string, total int64) *progress {
	now := time.Now
	return &progress{w: w, on: tty, label: label, total: total, now: now, start: now()}
}

// Bytes shows the amounts as sizes (12.3 MB) rather than counts.
func (p *progress) Bytes() *progress {
	if p != nil {
		p.bytes = true
	}
	return p
}

// SetTotal changes the total once it is known.
func (p *progress) SetTotal(total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total = total
	p.mu.Unlock()
}

// Set records that n units are done and redraws if it is time to.
func (p *progress) Set(n int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	t := p.now()
	if p.done || t.Sub(p.start) < progressDelay || t.Sub(p.last) < progressEvery {
		return
	}
	p.draw(t)
}

// Add records d more units done.
func (p *progress) Add(d int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	n := p.n + d
	p.mu.Unlock()
	p.Set(n)
}

// Done draws the final state and ends the line, if a bar was drawn at all.
// Call it before writing anything else to the terminal; calling it twice
// is harmless.
func (p *progress) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	if p.drawn == 0 {
		return
	}
	p.draw(p.now())
	fmt.Fprintln(p.w)
}

// draw writes the line over the previous one: "\r", the text, and spaces
// over whatever the previous line had beyond it.
func (p *progress) draw(t time.Time) {
	line := p.line(t)
	pad := ""
	if n := len([]rune(line)); n < p.drawn {
		pad = strings.Repeat(" ", p.drawn-n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawn = max(len([]rune(line)), 1)
	p.last = t
}

// line renders "label [=====>      ]  42%  12.3 MB / 29.0 MB  ETA 3s", or
// "label  12,345" when the total is not known.
func (p *progress) line(t time.Time) string {
	amount := func(n int64) string {
		if p.bytes {
			return formatSize(n)
		}
		return ledger.Thousands(n)
	}
	if p.total <= 0 {
		return fmt.Sprintf("%s  %s", p.label, amount(p.n))
	}
	n := min(max(p.n, 0), p.total)
	frac := float64(n) / float64(p.total)
	cells := int(frac * progressBar)
	bar := strings.Repeat("=", cells)
	if cells < progressBar {
		bar += ">" + strings.Repeat(" ", progressBar-cells-1)
	}
	s := fmt.Sprintf("%s [%s] %3d%%  %s / %s", p.label, bar, int(frac*100), amount(n), amount(p.total))
	if el := t.Sub(p.start); n > 0 && n < p.total && el > time.Second {
		left := time.Duration(float64(el) * (1 - frac) / frac)
		s += "  ETA " + left.Round(time.Second).String()
	}
	return s
}

func formatSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, " kMGT"[i])
}

// fileLabel labels a bar for work on a file: "import devices.csv".
func fileLabel(verb, path string) string { return verb + " " + filepath.Base(path) }

// fileSize is the size of a regular file, else 0 (unknown: a pipe).
func fileSize(f *os.File) int64 {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		return fi.Size()
	}
	return 0
}

// isTerminal reports whether w is a terminal: a character device that is
// not the null device, and TERM is not "dumb".
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}
