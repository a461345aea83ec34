package nwipe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// maxLine bounds one log line: nwipe itself truncates lines at
// MAX_LOG_LINE_CHARS (512), so anything far longer is not its log.
const maxLine = 64 << 10

// tsLayout is nwipe_log's "[%i/%02i/%02i %02i:%02i:%02i] " prefix.
const tsLayout = "2006/01/02 15:04:05"

// levels are nwipe_log's right-aligned labels (src/logging.c).
var levels = []string{"debug: ", "info: ", "notice: ", "warning: ", "error: ", "fatal: ", "sanity: "}

// table is the summary table being read.
type table int

const (
	noTable table = iota
	errorTable
	erasureTable
	statusTable
)

// run is one nwipe invocation's part of the log.
type run struct {
	file    string
	devices []*Device
	byPath  map[string]*Device
	found   map[*Device]bool // devices with a "Found" line
	method  string           // options block "method = ..."
	verify  Verify
	rounds  int
	tool    string
	blank   bool
	sumTime time.Time // the Total Throughput line's time
	closed  bool      // Total Throughput seen
	tail    struct {  // the Total Throughput line's method and flags
		method string
		verify Verify
		rounds int
		ok     bool
	}
}

func newRun(file string) *run {
	return &run{file: file, byPath: map[string]*Device{}, found: map[*Device]bool{}}
}

// Parse reads an nwipe log from r. name is the file name used in errors
// and in each Device. Timestamps are read in loc, the zone of the machine
// that wrote the log. It returns one Device per device per run, in the
// order nwipe found them; a device that cannot be recorded has Err set,
// while the others are returned as usual. Parse itself fails only for a
// nil loc, a read error, an over-long line, or input that is not an nwipe
// log (ErrNotNwipeLog).
func Parse(name string, r io.Reader, loc *time.Location) ([]Device, error) {
	if loc == nil {
		return nil, fmt.Errorf("parse %s: no time zone given", name)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	var (
		runs   []*run
		cur    = newRun(name)
		tbl    = noTable
		lineNo int
		seen   bool // a line only nwipe writes
	)
	runs = append(runs, cur)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		ts, msg, stamped := splitStamp(line, loc)
		if !stamped {
			if t, ok := tableHeading(line); ok {
				tbl, seen = t, true
				continue
			}
			if tbl != noTable && strings.Contains(line, "|") && !strings.HasPrefix(line, "!   Device") {
				readRow(cur, tbl, line, lineNo)
			}
			continue
		}
		if strings.HasPrefix(msg, "Total Throughput ") {
			readTotal(cur, ts, msg)
			tbl, seen = noTable, true
			continue
		}
		tbl = noTable
		// A run ends at its Total Throughput line; a run cut off before it
		// ends where the next run starts finding devices.
		if cur.closed || strings.HasPrefix(msg, "Found ") && cur.started() {
			cur = newRun(name)
			runs = append(runs, cur)
		}
		if strings.HasPrefix(msg, "Found ") && strings.Contains(msg, ", S/N=") {
			readFound(cur, name, msg[len("Found "):], lineNo)
			seen = true
			continue
		}
		if k, v, ok := option(msg); ok {
			readOption(cur, k, v)
			seen = true
			continue
		}
		if rest, ok := strings.CutPrefix(msg, "Invoking method '"); ok {
			if i := strings.LastIndex(rest, "' on "); i >= 0 {
				d := cur.device(name, rest[i+len("' on "):], lineNo)
				d.MethodName, d.Start, d.End = rest[:i], ts, ts
				seen = true
			}
			continue
		}
		for _, d := range cur.devices {
			if !d.Start.IsZero() && mentions(msg, d.Path) {
				d.End = ts
				if p, ok := passes(msg, d.Path); ok {
					d.Passes = p
				}
				if n, ok := sizeBytes(msg, d.Path); ok {
					d.SizeBytes = n
				}
			} else if n, ok := sizeBytes(msg, d.Path); ok {
				d.SizeBytes = n
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("parse %s: line %d is over %d bytes: %w", name, lineNo+1, maxLine, ErrNotNwipeLog)
		}
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if !seen {
		return nil, fmt.Errorf("parse %s: %w (no nwipe device, options or summary lines)", name, ErrNotNwipeLog)
	}
	var out []Device
	for _, r := range runs {
		out = append(out, r.finish()...)
	}
	return out, nil
}

// splitStamp splits "[2026/12/01 22:48:38]  notice: msg" into its time and
// "msg". stamped is false for a line without nwipe's timestamp.
func splitStamp(line string, loc *time.Location) (ts time.Time, msg string, stamped bool) {
	if len(line) < 22 || line[0] != '[' || line[20] != ']' {
		return time.Time{}, "", false
	}
	ts, err := time.ParseInLocation(tsLayout, line[1:20], loc)
	if err != nil {
		return time.Time{}, "", false
	}
	msg = strings.TrimPrefix(line[21:], " ")
	t := strings.TrimLeft(msg, " ")
	for _, l := range levels {
		if strings.HasPrefix(t, l) {
			return ts, t[len(l):], true
		}
	}
	return ts, msg, true
}

// tableHeading recognises the star-framed titles of the summary tables.
func tableHeading(line string) (table, bool) {
	if !strings.HasPrefix(line, "****") {
		return noTable, false
	}
	switch strings.Trim(line, "* ") {
	case "Error Summary":
		return errorTable, true
	case "Erasure Summary":
		return erasureTable, true
	case "Drive Status":
		return statusTable, true
	}
	return noTable, true // a closing rule of stars
}

// option reads an options-block line "  method   = Fill With Zeros".
func option(msg string) (key, val string, ok bool) {
	if !strings.HasPrefix(msg, "  ") {
		return "", "", false
	}
	k, v, ok := strings.Cut(strings.TrimSpace(msg), "=")
	if !ok {
		return "", "", false
	}
	return strings.TrimSpace(k), strings.TrimSpace(v), true
}

func readOption(r *run, k, v string) {
	switch k {
	case "banner":
		r.tool = v
	case "method":
		r.method = v
	case "rounds":
		if n, err := strconv.Atoi(v); err == nil {
			r.rounds = n
		}
	case "verify":
		n, _, _ := strings.Cut(v, " ")
		switch n {
		case "0":
			r.verify = VerifyOff
		case "1":
			r.verify = VerifyLast
		case "2":
			r.verify = VerifyAll
		}
	}
}

// readFound reads "PATH, TYPE, MODEL, SIZE, S/N=SERIAL" (device.c). The
// model may hold commas; the size never does.
func readFound(r *run, name, rest string, lineNo int) {
	i := strings.Index(rest, ", S/N=")
	head, raw := rest[:i], rest[i+len(", S/N="):]
	parts := strings.Split(head, ", ")
	d := r.device(name, parts[0], lineNo)
	d.Line, d.RawSerial = lineNo, raw
	r.found[d] = true
	d.Serial = strings.Trim(raw, " ")
	if len(parts) >= 2 {
		d.Bus = strings.TrimSpace(parts[1])
	}
	if len(parts) >= 4 {
		d.Model = strings.TrimSpace(strings.Join(parts[2:len(parts)-1], ", "))
		d.Size = strings.TrimSpace(parts[len(parts)-1])
	} else if len(parts) == 3 {
		d.Model = strings.TrimSpace(parts[2])
	}
}

// started reports whether any device in the run has begun its wipe.
func (r *run) started() bool {
	for _, d := range r.devices {
		if !d.Start.IsZero() {
			return true
		}
	}
	return false
}

// device returns the run's device at path, adding it first seen at lineNo.
func (r *run) device(name, p string, lineNo int) *Device {
	if d, ok := r.byPath[p]; ok {
		return d
	}
	d := &Device{File: name, Line: lineNo, Path: p}
	r.byPath[p] = d
	r.devices = append(r.devices, d)
	return d
}

// short is nwipe_strip_path: the last nine characters after the final "/".
func short(p string) string {
	b := path.Base(p)
	if len(b) > 9 {
		b = b[len(b)-9:]
	}
	return b
}

// rowDevice finds the device a summary row names ("!     sdb").
func (r *run) rowDevice(name, field string, lineNo int) *Device {
	s := strings.TrimSpace(strings.TrimPrefix(field, "!"))
	for _, d := range r.devices {
		if short(d.Path) == s {
			return d
		}
	}
	return r.device(name, "/dev/"+s, lineNo)
}

// readRow reads one row of a summary table.
func readRow(r *run, t table, line string, lineNo int) {
	f := strings.Split(line, "|")
	if len(f) < 4 {
		return
	}
	d := r.rowDevice(r.file, f[0], lineNo)
	num := func(s string) uint64 {
		n, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		return n
	}
	switch t {
	case errorTable:
		d.PassErrors, d.VerifyErrors, d.SyncErrors = num(f[1]), num(f[2]), num(f[3])
	case erasureTable:
		if n := num(f[2]); n > 0 && n < 1<<63 {
			d.SizeBytes = int64(n)
		}
	case statusTable:
		if len(f) < 5 {
			return
		}
		d.StatusText = f[1]
		switch strings.TrimSpace(f[1]) {
		case "Erased":
			d.Status = StatusErased
		case "-FAILED-", "--FAIL--", "FAILED":
			d.Status = StatusFailed
		case "UABORTED":
			d.Status = StatusAborted
		case "INSANITY":
			d.Status = StatusInsanity
		default:
			d.Status = StatusUnknown
		}
		var h, m, s int
		if _, err := fmt.Sscanf(strings.TrimSpace(f[3]), "%d:%d:%d", &h, &m, &s); err == nil && h >= 0 && m >= 0 && s >= 0 {
			d.Duration = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
		}
	}
}

// readTotal reads "Total Throughput 120MB/s, Fill With Zeros, 1R+B+VL".
func readTotal(r *run, ts time.Time, msg string) {
	r.closed, r.sumTime = true, ts
	first := strings.Index(msg, ", ")
	last := strings.LastIndex(msg, ", ")
	if first < 0 || last <= first {
		return
	}
	r.tail.method = msg[first+2 : last]
	flags := strings.Split(msg[last+2:], "+")
	if len(flags) != 3 {
		return
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(flags[0], "R")); err == nil {
		r.tail.rounds = n
	}
	r.blank = flags[1] == "B"
	switch flags[2] {
	case "NV":
		r.tail.verify = VerifyOff
	case "VL":
		r.tail.verify = VerifyLast
	case "VA":
		r.tail.verify = VerifyAll
	}
	r.tail.ok = true
}

// mentions reports whether msg names device p as a whole word, so that
// /dev/loop1 does not match /dev/loop10.
func mentions(msg, p string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], p)
		if j < 0 {
			return false
		}
		end := i + j + len(p)
		if end == len(msg) || !isNameByte(msg[end]) {
			return true
		}
		i = i + j + 1
	}
}

func isNameByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}

// passes reads M from "Starting pass N/M, round R/S, on PATH".
func passes(msg, p string) (int, bool) {
	var n, m, rr, s int
	var on string
	if _, err := fmt.Sscanf(msg, "Starting pass %d/%d, round %d/%d, on %s", &n, &m, &rr, &s, &on); err != nil || on != p || m <= 0 {
		return 0, false
	}
	return m, true
}

// sizeBytes reads N from 0.33's "PATH, sect/blk/dev 512/4096/N".
func sizeBytes(msg, p string) (int64, bool) {
	rest, ok := strings.CutPrefix(msg, p+", sect/blk/dev ")
	if !ok {
		return 0, false
	}
	f := strings.Split(rest, "/")
	if len(f) != 3 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
	return n, err == nil && n > 0
}

// finish applies the run's options to its devices, drops devices nwipe
// found but never wiped, and sets Err on those that cannot be recorded.
func (r *run) finish() []Device {
	method, verify, rounds := r.method, r.verify, r.rounds
	if r.tail.ok {
		if method == "" {
			method = r.tail.method
		}
		if verify == "" {
			verify = r.tail.verify
		}
		if rounds == 0 {
			rounds = r.tail.rounds
		}
	}
	var out []Device
	for _, d := range r.devices {
		if d.Start.IsZero() && d.Status == "" {
			continue // found, not selected
		}
		if d.MethodName == "" {
			d.MethodName = method
		}
		d.Tool, d.Verify, d.Rounds, d.Blank = r.tool, verify, rounds, r.blank
		if d.Status == "" {
			d.Status = StatusIncomplete
		}
		if d.End.IsZero() || (!r.sumTime.IsZero() && d.Status != StatusIncomplete && d.End.After(r.sumTime)) {
			d.End = r.sumTime
		}
		m, vo, ok := MethodFor(d.MethodName)
		d.Method, d.VerifyOnly = m, vo
		switch {
		case !ok:
			d.Err = &DeviceError{File: d.File, Line: d.Line, Path: d.Path, Msg: fmt.Sprintf("unknown nwipe method %q", d.MethodName)}
		case !validSerial(d.Serial):
			what := "nwipe printed no serial (S/N= is empty)"
			if !r.found[d] {
				what = "the log has no Found line with its serial"
			} else if d.Serial != "" {
				what = fmt.Sprintf("S/N= holds %q, which is not a printable serial", d.RawSerial)
			}
			d.Serial = ""
			d.Err = &DeviceError{File: d.File, Line: d.Line, Path: d.Path, Msg: "no readable serial: " + what, Err: ErrNoSerial}
		}
		out = append(out, *d)
	}
	return out
}
