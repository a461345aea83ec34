// Package evidence reads erasure reports for itad evidence import: it
// tells each file's format from its content (Formats, one entry a
// format), parses it with the format's parser (nwipe/ for nwipe's log and
// JSON report), applies the serials the user supplies for device paths,
// and hands ledger.EvidenceFile values to ledger.Store.ImportEvidence,
// where the rules of what is recorded live. It touches no database.
package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/itad/itad/blancco"
	"github.com/itad/itad/ledger"
	"github.com/itad/itad/nwipe"
)

// Format is one kind of erasure report.
type Format struct {
	// Name is the --format value and the ledger's evidence kind.
	Name string
	// Detect reports whether the file's first bytes (up to DetectSize) are
	// this format's.
	Detect func(head []byte) bool
	// Parse reads the whole file. loc is the zone of times the report
	// writes without one (an nwipe log's); LocalTimes says the format has
	// such times, so that the zone is recorded with each erasure.
	Parse      func(name string, data []byte, loc *time.Location) ([]ledger.Erasure, error)
	LocalTimes bool
}

// DetectSize is how much of a file Detect looks at.
const DetectSize = max(nwipe.DetectSize, blancco.DetectSize)

// Formats are the reports itad reads, tried in order. Adding a format is
// adding one entry.
var Formats = []Format{
	{Name: ledger.EvidenceNwipeLog, LocalTimes: true,
		Detect: func(h []byte) bool { return nwipe.Detect(h) == nwipe.FormatLog },
		Parse: func(name string, data []byte, loc *time.Location) ([]ledger.Erasure, error) {
			ds, err := nwipe.Parse(name, bytes.NewReader(data), loc)
			return fromNwipe(ds), err
		}},
	{Name: ledger.EvidenceNwipeJSON,
		Detect: func(h []byte) bool { return nwipe.Detect(h) == nwipe.FormatJSON },
		Parse: func(name string, data []byte, _ *time.Location) ([]ledger.Erasure, error) {
			ds, err := nwipe.ParseJSON(name, bytes.NewReader(data))
			return fromNwipe(ds), err
		}},
	// nwipe's per-disk PDF report: any PDF is tried (its head cannot
	// tell), and one that is not nwipe's report is ErrUnknownFormat, so
	// a folder's other PDFs are skipped.
	{Name: ledger.EvidenceNwipePDF, LocalTimes: true,
		Detect: nwipe.DetectPDF,
		Parse: func(name string, data []byte, loc *time.Location) ([]ledger.Erasure, error) {
			ds, err := nwipe.ParsePDF(name, data, loc)
			if errors.Is(err, nwipe.ErrNotNwipePDF) {
				return nil, fmt.Errorf("%w: %w", ErrUnknownFormat, err)
			}
			return fromNwipe(ds), err
		}},
	{Name: ledger.EvidenceBlancco, LocalTimes: true,
		Detect: blancco.Detect,
		Parse: func(name string, data []byte, loc *time.Location) ([]ledger.Erasure, error) {
			es, err := blancco.Parse(name, bytes.NewReader(data))
			if err != nil {
				return nil, err
			}
			return fromBlancco(es, loc)
		}},
}

// FormatNames lists the formats' names, for --format's help.
func FormatNames() []string {
	var out []string
	for _, f := range Formats {
		out = append(out, f.Name)
	}
	return out
}

// ErrUnknownFormat is returned for a file no format detects, or a
// --format that names none.
var ErrUnknownFormat = errors.New("not an erasure report itad reads")

// Lookup returns the format named name.
func Lookup(name string) (Format, error) {
	for _, f := range Formats {
		if f.Name == name {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%w: --format %q (one of %s)", ErrUnknownFormat, name, strings.Join(FormatNames(), ", "))
}

// DetectFormat returns the first format that detects data.
func DetectFormat(data []byte) (Format, bool) {
	head := data
	if len(head) > DetectSize {
		head = head[:DetectSize]
	}
	for _, f := range Formats {
		if f.Detect(head) {
			return f, true
		}
	}
	return Format{}, false
}

// fromNwipe turns nwipe's results into the ledger's.
func fromNwipe(ds []nwipe.Device) []ledger.Erasure {
	out := make([]ledger.Erasure, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		out = append(out, ledger.Erasure{Line: d.Line, Path: d.Path, Serial: d.Serial, Bus: d.Bus, Model: d.Model,
			SizeBytes: d.SizeBytes, Tool: d.Tool, MethodName: d.MethodName, Method: d.Method, VerifyOnly: d.VerifyOnly,
			Verify: string(d.Verify), Verified: verifiedText(d), Rounds: d.Rounds, Passes: d.Passes, Start: d.Start, End: d.End,
			Failed: d.Failed(), Status: nwipeStatus(d), Detail: nwipeDetail(d), Err: d.Err})
	}
	return out
}

// fromBlancco turns Blancco erasures into the ledger's. Times written
// without a zone are read in loc. A report has no device path: an erasure
// is named "erasure N" (its place in the file, from 0), which --serial
// takes as PATH.
func fromBlancco(es []blancco.Erasure, loc *time.Location) ([]ledger.Erasure, error) {
	out := make([]ledger.Erasure, 0, len(es))
	for i := range es {
		e := &es[i]
		if err := e.Localize(loc); err != nil {
			return nil, err
		}
		t, _ := ledger.ParseDeviceType(e.Type) // "" unless the report says hdd or ssd
		if t != ledger.HDD && t != ledger.SSD {
			t = ""
		}
		verified := ""
		switch {
		case e.Failed():
			verified = "no"
		case e.VerificationPercent >= 100:
			verified = "yes"
		case e.VerificationPercent > 0:
			verified = "sample"
		case e.VerificationPercent == 0:
			verified = "no"
		}
		var detail []string
		if e.Failed() {
			if e.State != blancco.Successful {
				detail = append(detail, "state "+e.State)
			}
			if e.Errors > 0 {
				detail = append(detail, fmt.Sprintf("%d errors", e.Errors))
			}
			if e.FailedSectors > 0 {
				detail = append(detail, fmt.Sprintf("%d failed sectors", e.FailedSectors))
			}
			if m := strings.TrimSpace(e.FailureMessage); m != "" {
				detail = append(detail, m)
			}
		}
		out = append(out, ledger.Erasure{Line: e.Line, Path: fmt.Sprintf("erasure %d", e.Index), Serial: e.Serial,
			Bus: e.Interface, Type: t, Make: e.Vendor, Model: e.Model, SizeBytes: e.CapacityBytes, Tool: e.Tool(),
			MethodName: e.StandardName, Method: e.Method, Verify: e.VerificationText, Verified: verified,
			Rounds: e.TotalRounds, Start: e.Start, End: e.End, Failed: e.Failed(), Status: e.State,
			Detail: strings.Join(detail, "; "), Err: e.Err})
	}
	return out, nil
}

// verifiedText is nwipe.Device.Verified, as the disposal's yes or no,
// for a device whose serial may still be supplied (--serial): a read-back
// that succeeded.
func verifiedText(d *nwipe.Device) string {
	if !d.Failed() && (d.VerifyOnly || d.Verify == nwipe.VerifyLast || d.Verify == nwipe.VerifyAll) {
		return "yes"
	}
	return "no"
}

// nwipeStatus is the status as nwipe printed it, else the parser's word.
func nwipeStatus(d *nwipe.Device) string {
	if s := strings.TrimSpace(d.StatusText); s != "" {
		return s
	}
	return string(d.Status)
}

// nwipeDetail says in words why a result failed ("" when it did not).
func nwipeDetail(d *nwipe.Device) string {
	if !d.Failed() {
		return ""
	}
	var parts []string
	switch d.Status {
	case nwipe.StatusFailed:
		parts = append(parts, "nwipe reported the wipe failed")
	case nwipe.StatusAborted:
		parts = append(parts, "the wipe was aborted by the user")
	case nwipe.StatusInsanity:
		parts = append(parts, "nwipe reported an internal error (INSANITY)")
	case nwipe.StatusIncomplete:
		parts = append(parts, "the log ends before the wipe's summary")
	case nwipe.StatusUnknown:
		parts = append(parts, "status "+strings.TrimSpace(d.StatusText)+" is not a success")
	}
	for _, n := range []struct {
		n    uint64
		what string
	}{{d.PassErrors, "pass"}, {d.VerifyErrors, "verification"}, {d.SyncErrors, "fdatasync"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s errors", n.n, n.what))
		}
	}
	return strings.Join(parts, "; ")
}

// Options say how to read the files.
type Options struct {
	// Format forces a format by name ("" detects each file's).
	Format string
	// Location is the zone of times a report writes without one, and Zone
	// its name as recorded ("Europe/London").
	Location *time.Location
	Zone     string
	// Serials supplies a serial for a device path (--serial PATH=SERIAL),
	// in every file read.
	Serials map[string]string
	// MaxBytes limits one file (evidence_max_bytes).
	MaxBytes int64
}

// Reader reads the files and folders given, one file at a time, for
// ledger.Store.ImportEvidence.
type Reader struct {
	opts  Options
	files []string
	next  int
	// Used records the --serial paths that matched a device.
	Used map[string]bool
	// Skipped lists the files found in folders that no format detects:
	// they are left out, not refused.
	Skipped []string
	inDir   map[string]bool
}

// NewReader lists the files under paths (a folder is read whole, in name
// order, skipping names starting with "."). It fails for a path that does
// not exist or a bad --format.
func NewReader(paths []string, opts Options) (*Reader, error) {
	if opts.Format != "" {
		if _, err := Lookup(opts.Format); err != nil {
			return nil, err
		}
	}
	if opts.Location == nil {
		opts.Location, opts.Zone = time.UTC, "UTC"
	}
	r := &Reader{opts: opts, Used: map[string]bool{}, inDir: map[string]bool{}}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			r.files = append(r.files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			r.inDir[f] = true
		}
		r.files = append(r.files, found...)
	}
	return r, nil
}

// Len is the number of files to read.
func (r *Reader) Len() int { return len(r.files) }

// Next reads, detects and parses the next file. A file given by name
// that no format detects fails with ErrUnknownFormat naming it; one found
// in a folder is skipped (Skipped). ok is false after the last file.
func (r *Reader) Next() (ledger.EvidenceFile, bool, error) {
	for r.next < len(r.files) {
		path := r.files[r.next]
		r.next++
		f, err := r.Read(path)
		if errors.Is(err, ErrUnknownFormat) && r.inDir[path] && r.opts.Format == "" {
			r.Skipped = append(r.Skipped, path)
			continue
		}
		return f, err == nil, err
	}
	return ledger.EvidenceFile{}, false, nil
}

// Read reads one file.
func (r *Reader) Read(path string) (ledger.EvidenceFile, error) {
	limit := r.opts.MaxBytes
	if limit <= 0 {
		limit = ledger.DefaultEvidenceMaxBytes
	}
	data, err := ledger.ReadFileLimit(path, limit, "report itad keeps (evidence_max_bytes)")
	if err != nil {
		return ledger.EvidenceFile{}, err
	}
	var fm Format
	if r.opts.Format != "" {
		fm, _ = Lookup(r.opts.Format)
	} else {
		var ok bool
		if fm, ok = DetectFormat(data); !ok {
			return ledger.EvidenceFile{}, fmt.Errorf("%s: %w (%s): give --format to force one", path, ErrUnknownFormat, strings.Join(FormatNames(), ", "))
		}
	}
	name := filepath.Base(path)
	ers, err := fm.Parse(name, data, r.opts.Location)
	if err != nil {
		return ledger.EvidenceFile{}, fmt.Errorf("%s: %w", path, err)
	}
	for i := range ers {
		e := &ers[i]
		s, ok := r.opts.Serials[e.Path]
		if !ok {
			continue
		}
		r.Used[e.Path] = true
		if err := supplySerial(e, s); err != nil {
			e.Err = fmt.Errorf("%s:%d: %s: --serial: %w", name, e.Line, e.Path, err)
		}
	}
	f := ledger.EvidenceFile{Name: name, Kind: fm.Name, Data: data, Erasures: ers}
	if fm.LocalTimes {
		f.Zone, f.Location = r.opts.Zone, r.opts.Location
	}
	return f, nil
}

// supplySerial gives e the serial the user supplied, as the parsers'
// SetSerial do: a serial of printable ASCII, replacing a missing or
// unreadable one only (a device refused for another reason stays so).
func supplySerial(e *ledger.Erasure, serial string) error {
	s := strings.Trim(serial, " ")
	if s == "" {
		return fmt.Errorf("serial %q is empty", serial)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("serial %q is not printable ASCII", serial)
		}
	}
	if e.Err != nil && !errors.Is(e.Err, nwipe.ErrNoSerial) && !errors.Is(e.Err, blancco.ErrNoSerial) {
		return e.Err
	}
	e.Serial, e.Err = s, nil
	return nil
}

// ParseSerials reads --serial PATH=SERIAL values.
func ParseSerials(vals []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		p, s, ok := strings.Cut(v, "=")
		p, s = strings.TrimSpace(p), strings.TrimSpace(s)
		if !ok || p == "" || s == "" {
			return nil, fmt.Errorf("--serial %q: give PATH=SERIAL, e.g. --serial /dev/sdb=WD-WX41A9", v)
		}
		if old, dup := out[p]; dup && old != s {
			return nil, fmt.Errorf("--serial gives %s two serials (%s and %s)", p, old, s)
		}
		out[p] = s
	}
	return out, nil
}

// MachineZone returns the machine's time zone and its name: $TZ, else
// the zone /etc/localtime links to, else /etc/timezone, else "UTC" for a
// machine on UTC; "Local" when none of these names it.
func MachineZone() (*time.Location, string) {
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc, tz
		}
	}
	if dest, err := os.Readlink("/etc/localtime"); err == nil {
		if i := strings.Index(dest, "zoneinfo/"); i >= 0 {
			name := dest[i+len("zoneinfo/"):]
			if loc, err := time.LoadLocation(name); err == nil {
				return loc, name
			}
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		name := strings.TrimSpace(string(b))
		if loc, err := time.LoadLocation(name); err == nil && name != "" {
			return loc, name
		}
	}
	if _, off := time.Now().In(time.Local).Zone(); off == 0 {
		return time.UTC, "UTC"
	}
	return time.Local, "Local"
}

// LoadZone resolves --timezone NAME.
func LoadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--timezone %q: not a time zone (use an IANA name such as Europe/London, or UTC)", name)
	}
	return loc, nil
}
