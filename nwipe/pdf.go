package nwipe

// nwipe's per-disk PDF report, as create_single_disc_pdf.c and the
// shared create_pdf.c in src/ of github.com/martijnvanbrummelen/nwipe
// (master at fed3f18) write it with PDFGen: A4, one page of erasure
// data, then pages of SMART data and a speed graph. Page 1 draws each
// label and each value with its own text object (PDFGen's pdf_add_text:
// "BT /GS0 gs X Y TD /Fn SIZE Tf R G B rg 0 Tc (text) Tj ET", Helvetica
// in WinAnsiEncoding with no /Widths), labels and values side by side on
// one baseline:
//
//	Disk Erasure Report                       (title, 24 pt, centred)
//	Page 1 - Erasure Status
//	 Disk Model: WDC WD5000AAKX-00ERMA0       (header, centred)
//	 Disk S/N: WD-WCC2E1234567
//	Disk Information
//	Make/Model: <model>                 Serial: <serial, "Unknown" when empty>
//	Size(Apparent): 500 GB, 500107862016 bytes   Bus: ATA
//	Size(Real): ...
//	Disk Erasure Details
//	Start time: 2025/03/14 09:15:03     End time: 2025/03/14 12:40:10
//	Duration: 03:25:07                  Status: ERASED | FAILED | ABORTED | INSANITY
//	Method: DoD Short[ (R)| (S)]        PRNG algorithm: ...
//	Final Pass(Zeros/Ones/None): Zeros  Verify Pass(Last/All/None): Last|All|None
//	*Bytes Erased: ...                  Rounds(completed/requested): 1/1
//	HPA/DCO: ...                        HPA/DCO Size: ...
//	Errors(pass/sync/verify/retries): 0/0/0/0   Throughput: 120 MB/sec
//	Disc Erasure by NWIPE version 0.38        (footer)
//
// Times are local with no zone, as in the log, so ParsePDF takes the
// *time.Location they were written in. The PDF names no device path: the
// file name nwipe gives it (nwipe_report_<end>_Model_<m>_Serial_<s>_device_
// <dev>.pdf) does, so Device.Path is "/dev/<dev>" from the name, else
// "disk report". Device.Line is the page the data is on (1).
//
// The text is read with github.com/ledongthuc/pdf: its Content gives each
// glyph with its position and advance (0 where the font has no /Widths,
// as PDFGen's have none). Glyphs drawn one after another on one baseline,
// each where the previous one ended, are one text object; a label's value
// is the next text object to its right on its baseline.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"
)

// ErrNotNwipePDF is returned by ParsePDF for a PDF that is not nwipe's
// per-disk report (or for bytes that are not a PDF it can read).
var ErrNotNwipePDF = errors.New("not an nwipe PDF disk report")

// MaxPDFSize bounds what ParsePDF reads: a report with SMART pages and its
// graph is a few hundred kilobytes.
const MaxPDFSize = 4 << 20

// Bounds on what ParsePDF hands the PDF library, which trusts the file:
// it sizes its object table by the numbers in the cross-reference
// section, follows /Prev and /Parent chains without a cycle check, and
// keeps every glyph of a content stream. PDFGen (and gofpdf) write one
// unencrypted classic cross-reference table of a few dozen objects and a
// page 1 of a few kilobytes, so a file past these is not nwipe's report.
const (
	maxPDFObjects     = 100000  // highest object number + 1
	maxPDFContent     = 1 << 20 // a page's content streams, decoded
	maxPDFTreeDepth   = 16      // page tree and /Parent chain
	maxPDFXrefEntries = maxPDFObjects
)

// maxPDFPages is how many pages ParsePDF looks through for the erasure
// data (page 1 in every nwipe version that writes the report).
const maxPDFPages = 4

// DetectPDF reports whether head starts as a PDF file does ("%PDF-").
// Whether it is nwipe's report only ParsePDF can tell.
func DetectPDF(head []byte) bool { return bytes.HasPrefix(head, []byte("%PDF-")) }

// PDF labels, as create_single_disc_pdf.c writes them (trimmed).
const (
	pdfTitle     = "Disk Erasure Report"
	pdfSystem    = "System Erasure Report"
	pdfModel     = "Make/Model:"
	pdfSerial    = "Serial:"
	pdfBus       = "Bus:"
	pdfSize      = "Size(Apparent):"
	pdfSizeReal  = "Size(Real):"
	pdfStart     = "Start time:"
	pdfEnd       = "End time:"
	pdfDuration  = "Duration:"
	pdfStatus    = "Status:"
	pdfMethod    = "Method:"
	pdfPRNG      = "PRNG algorithm:"
	pdfBlank     = "Final Pass(Zeros/Ones/None):"
	pdfVerify    = "Verify Pass(Last/All/None):"
	pdfBytes     = "*Bytes Erased:"
	pdfRounds    = "Rounds(completed/requested):"
	pdfHPA       = "HPA/DCO:"
	pdfHPASize   = "HPA/DCO Size:"
	pdfErrors    = "Errors(pass/sync/verify/retries):"
	pdfThroughpt = "Throughput:"
	pdfInfo      = "Information:"
	pdfFooter    = "Disc Erasure by NWIPE version "
)

// pdfLabels are the labels of page 1: a text object that is one of them
// is never another label's value.
var pdfLabels = map[string]bool{pdfModel: true, pdfSerial: true, pdfBus: true, pdfSize: true, pdfSizeReal: true,
	pdfStart: true, pdfEnd: true, pdfDuration: true, pdfStatus: true, pdfMethod: true, pdfPRNG: true, pdfBlank: true,
	pdfVerify: true, pdfBytes: true, pdfRounds: true, pdfHPA: true, pdfHPASize: true, pdfErrors: true,
	pdfThroughpt: true, pdfInfo: true, "Name/ID:": true, "Signature:": true, "Business Name:": true,
	"Business Address:": true, "Contact Name:": true, "Contact Phone:": true, "Name:": true, "Address:": true}

// pdfRun is one text object: its start, baseline and text.
type pdfRun struct {
	x, y float64
	s    string
}

// pdfRuns joins a page's glyphs into text objects: a glyph continues the
// run before it when it is on the same baseline, in the same font and
// size, and starts within half a point of where that run ended.
func pdfRuns(ts []pdf.Text) []pdfRun {
	var out []pdfRun
	var cur *pdfRun
	var font string
	var size, next float64
	for _, t := range ts {
		if cur != nil && t.Font == font && t.FontSize == size && math.Abs(t.Y-cur.y) < 0.01 && math.Abs(t.X-next) < 0.5 {
			cur.s += t.S
			next = t.X + t.W
			continue
		}
		out = append(out, pdfRun{x: t.X, y: t.Y, s: t.S})
		cur = &out[len(out)-1]
		font, size, next = t.Font, t.FontSize, t.X+t.W
	}
	return out
}

// pdfPage is a page's text objects and where each label is.
type pdfPage struct {
	runs   []pdfRun
	labels map[string]int // label -> index in runs (the first, top to bottom)
}

func newPDFPage(runs []pdfRun) *pdfPage {
	sort.SliceStable(runs, func(i, j int) bool {
		if math.Abs(runs[i].y-runs[j].y) >= 0.01 {
			return runs[i].y > runs[j].y
		}
		return runs[i].x < runs[j].x
	})
	p := &pdfPage{runs: runs, labels: map[string]int{}}
	for i, r := range runs {
		k := strings.TrimSpace(r.s)
		if _, ok := p.labels[k]; !ok {
			p.labels[k] = i
		}
	}
	return p
}

// value returns the text right of label on its baseline ("" when nwipe
// wrote none there, which PDFGen leaves out), and whether the label is on
// the page.
func (p *pdfPage) value(label string) (string, bool) {
	i, ok := p.labels[label]
	if !ok {
		return "", false
	}
	l := p.runs[i]
	best := -1
	for j, r := range p.runs {
		if j == i || math.Abs(r.y-l.y) >= 1 || r.x <= l.x {
			continue
		}
		if best < 0 || r.x < p.runs[best].x {
			best = j
		}
	}
	if best < 0 || pdfLabels[strings.TrimSpace(p.runs[best].s)] {
		return "", true
	}
	return strings.TrimSpace(p.runs[best].s), true
}

// find returns the trimmed text of the first run starting with prefix.
func (p *pdfPage) find(prefix string) (string, bool) {
	for _, r := range p.runs {
		if s := strings.TrimSpace(r.s); strings.HasPrefix(s, prefix) {
			return s, true
		}
	}
	return "", false
}

// pdfDeviceName is the device in nwipe's report file name.
var pdfDeviceName = regexp.MustCompile(`_device_([A-Za-z0-9_-]+)\.pdf$`)

// ParsePDF reads nwipe's per-disk PDF report (see above) into one
// Device. name is the file's name, used in errors and for the device
// path; loc is the zone of its times. It returns an error wrapping
// ErrNotNwipePDF for a file that is not a PDF it can read, nor nwipe's
// disk report (nwipe's system report of several discs is refused so:
// import its per-disk reports or the log), and a Device with Err set
// (a *DeviceError) for a report it cannot record: no readable serial,
// an unknown method, unreadable times or counts.
func ParsePDF(name string, data []byte, loc *time.Location) (ds []Device, err error) {
	if len(data) > MaxPDFSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrNotNwipePDF, name, MaxPDFSize)
	}
	if !DetectPDF(data) {
		return nil, fmt.Errorf("%w: %s does not start with %%PDF-", ErrNotNwipePDF, name)
	}
	// The library panics on some malformed input: a malformed file is
	// not a report.
	defer func() {
		if r := recover(); r != nil {
			ds, err = nil, fmt.Errorf("%w: %s cannot be read as a PDF: %v", ErrNotNwipePDF, name, r)
		}
	}()
	if err := checkXref(data); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotNwipePDF, name, err)
	}
	rd, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s cannot be read as a PDF: %v", ErrNotNwipePDF, name, err)
	}
	pages, err := firstPages(rd.Trailer().Key("Root").Key("Pages"), maxPDFPages)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotNwipePDF, name, err)
	}
	var page *pdfPage
	pageNo := 0
	for i, pg := range pages {
		n := i + 1
		if err := checkPage(pg); err != nil {
			return nil, fmt.Errorf("%w: %s: page %d: %v", ErrNotNwipePDF, name, n, err)
		}
		p := newPDFPage(pdfRuns(pg.Content().Text))
		if _, ok := p.labels[pdfSystem]; ok {
			return nil, fmt.Errorf("%w: %s is nwipe's system report of several discs: import the per-disk reports or the log", ErrNotNwipePDF, name)
		}
		_, title := p.labels[pdfTitle]
		if _, ok := p.labels[pdfModel]; ok && title {
			page, pageNo = p, n
			break
		}
	}
	if page == nil {
		return nil, fmt.Errorf("%w: %s has no page with nwipe's %q and %q", ErrNotNwipePDF, name, pdfTitle, pdfModel)
	}
	return []Device{pdfDevice(name, pageNo, page, loc)}, nil
}

// pdfDevice reads page p's labels into a Device.
func pdfDevice(name string, pageNo int, p *pdfPage, loc *time.Location) Device {
	d := Device{File: name, Line: pageNo, Path: "disk report", Status: StatusUnknown}
	if m := pdfDeviceName.FindStringSubmatch(name); m != nil {
		d.Path = "/dev/" + m[1]
	}
	var bad []string
	get := func(label string) string {
		v, ok := p.value(label)
		if !ok {
			bad = append(bad, fmt.Sprintf("no %q", label))
		}
		return v
	}
	d.Model = get(pdfModel)
	d.RawSerial = get(pdfSerial)
	d.Bus = get(pdfBus)
	// "500 GB, 500107862016 bytes"
	size := get(pdfSize)
	if text, n, ok := strings.Cut(size, ","); ok {
		d.Size = strings.TrimSpace(text)
		if v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(n), " bytes"), 10, 64); err == nil && v >= 0 {
			d.SizeBytes = v
		}
	} else {
		d.Size = size
	}
	if f, ok := p.find(pdfFooter); ok {
		d.Tool = "nwipe " + strings.TrimSpace(strings.TrimPrefix(f, pdfFooter))
	}
	stamp := func(label string) time.Time {
		v := get(label)
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006/01/02 15:04:05", v, loc)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s %q is not YYYY/MM/DD HH:MM:SS", label, v))
		}
		return t
	}
	d.Start, d.End = stamp(pdfStart), stamp(pdfEnd)
	if v := get(pdfDuration); v != "" {
		var h, m, s int
		if n, err := fmt.Sscanf(v, "%d:%d:%d", &h, &m, &s); err == nil && n == 3 && h >= 0 && m >= 0 && s >= 0 && h < 1<<20 {
			d.Duration = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
		} else {
			bad = append(bad, fmt.Sprintf("%s %q is not HH:MM:SS", pdfDuration, v))
		}
	}
	d.StatusText = get(pdfStatus)
	// The method label, without the I/O direction nwipe appends.
	d.MethodName = strings.TrimSuffix(strings.TrimSuffix(get(pdfMethod), " (R)"), " (S)")
	switch get(pdfVerify) {
	case "None":
		d.Verify = VerifyOff
	case "Last":
		d.Verify = VerifyLast
	case "All":
		d.Verify = VerifyAll
	}
	d.Blank = get(pdfBlank) == "Zeros" // nwipe's blanking pass writes zeros
	if v := get(pdfRounds); v != "" {
		var done, req int
		if n, err := fmt.Sscanf(v, "%d/%d", &done, &req); err == nil && n == 2 && done >= 0 && req >= 0 {
			d.Rounds = req
		} else {
			bad = append(bad, fmt.Sprintf("%s %q is not N/N", pdfRounds, v))
		}
	}
	var retries uint64
	if v := get(pdfErrors); v != "" {
		if n, err := fmt.Sscanf(v, "%d/%d/%d/%d", &d.PassErrors, &d.SyncErrors, &d.VerifyErrors, &retries); err != nil || n != 4 {
			bad = append(bad, fmt.Sprintf("%s %q is not N/N/N/N", pdfErrors, v))
		}
	}
	switch d.StatusText {
	case "ERASED":
		d.Status = StatusErased
	case "FAILED":
		d.Status = StatusFailed
	case "ABORTED":
		d.Status = StatusAborted
	case "INSANITY":
		d.Status = StatusInsanity
	}
	m, vo, known := MethodFor(d.MethodName)
	d.Method, d.VerifyOnly = m, vo
	// create_single_disc_pdf.c prints "Unknown" for an empty serial.
	d.Serial = strings.Trim(d.RawSerial, " ")
	refuse := func(sentinel error, format string, args ...any) Device {
		d.Err = &DeviceError{File: name, Line: pageNo, Path: d.Path, Msg: fmt.Sprintf(format, args...), Err: sentinel}
		return d
	}
	switch {
	case len(bad) > 0:
		return refuse(nil, "page %d: %s", pageNo, strings.Join(bad, "; "))
	case !known:
		return refuse(nil, "unknown nwipe method %q", d.MethodName)
	case d.Serial == "Unknown" || !validSerial(d.Serial):
		what := "Serial: is empty"
		if d.Serial == "Unknown" {
			what = `Serial: is "Unknown" (nwipe read none)`
		} else if d.Serial != "" {
			what = fmt.Sprintf("Serial: holds %q, which is not a printable serial", d.RawSerial)
		}
		d.Serial = ""
		return refuse(ErrNoSerial, "no readable serial: %s", what)
	}
	return d
}

// xrefTail is a file's last "startxref N %%EOF".
var xrefTail = regexp.MustCompile(`startxref\s+(\d{1,10})\s+%%EOF\s*$`)

// checkXref checks that data ends with one classic cross-reference
// table whose object numbers stay under maxPDFObjects, with a trailer
// that has no /Prev, /XRefStm or /Encrypt, as PDFGen writes it.
func checkXref(data []byte) error {
	tail := data[max(0, len(data)-1024):]
	m := xrefTail.FindSubmatch(tail)
	if m == nil {
		return errors.New("no startxref at its end")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(data) {
		return errors.New("startxref points past its end")
	}
	sec := data[off:]
	end := bytes.Index(sec, []byte("trailer"))
	if end < 0 {
		return errors.New("no trailer after its cross-reference table")
	}
	f := strings.Fields(string(sec[:end]))
	if len(f) == 0 || f[0] != "xref" {
		return errors.New("no classic cross-reference table at startxref")
	}
	entries := 0
	for i := 1; i < len(f); {
		if i+1 >= len(f) {
			return errors.New("malformed cross-reference table")
		}
		start, err1 := strconv.Atoi(f[i])
		count, err2 := strconv.Atoi(f[i+1])
		if err1 != nil || err2 != nil || start < 0 || count < 0 || start > maxPDFObjects || count > maxPDFObjects-start {
			return fmt.Errorf("cross-reference subsection %q %q out of range", f[i], f[i+1])
		}
		entries += count
		if entries > maxPDFXrefEntries || i+2+3*count > len(f) {
			return errors.New("malformed cross-reference table")
		}
		i += 2 + 3*count
	}
	trailer := sec[end:]
	if j := bytes.Index(trailer, []byte("startxref")); j >= 0 {
		trailer = trailer[:j]
	}
	for _, k := range []string{"/Prev", "/XRefStm", "/Encrypt"} {
		if bytes.Contains(trailer, []byte(k)) {
			return fmt.Errorf("its trailer has %s (nwipe writes one unencrypted table)", k)
		}
	}
	sm := regexp.MustCompile(`/Size\s+(\d{1,10})`).FindSubmatch(trailer)
	if sm == nil {
		return errors.New("its trailer has no /Size")
	}
	if n, _ := strconv.Atoi(string(sm[1])); n > maxPDFObjects {
		return fmt.Errorf("its trailer's /Size %d is out of range", n)
	}
	return nil
}

// firstPages returns up to n leaf pages of the page tree at root, in
// order, refusing a tree deeper than maxPDFTreeDepth (a cycle).
func firstPages(root pdf.Value, n int) ([]pdf.Page, error) {
	var out []pdf.Page
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		if depth > maxPDFTreeDepth {
			return errors.New("its page tree is too deep")
		}
		kids := v.Key("Kids")
		for i := 0; i < kids.Len() && i < 4*maxPDFPages && len(out) < n; i++ {
			k := kids.Index(i)
			switch k.Key("Type").Name() {
			case "Pages":
				if err := walk(k, depth+1); err != nil {
					return err
				}
			case "Page":
				out = append(out, pdf.Page{V: k})
			}
		}
		return nil
	}
	if root.Key("Type").Name() != "Pages" {
		return nil, errors.New("no page tree")
	}
	return out, walk(root, 0)
}

// checkPage refuses a page whose /Parent chain is longer than
// maxPDFTreeDepth (a cycle), or whose content streams decode to more than
// maxPDFContent bytes.
func checkPage(pg pdf.Page) error {
	v := pg.V
	for d := 0; !v.IsNull(); d++ {
		if d > maxPDFTreeDepth {
			return errors.New("its /Parent chain is too long")
		}
		v = v.Key("Parent")
	}
	c := pg.V.Key("Contents")
	streams := []pdf.Value{c}
	if c.Kind() == pdf.Array {
		streams = streams[:0]
		for i := 0; i < c.Len() && i < 64; i++ {
			streams = append(streams, c.Index(i))
		}
		if c.Len() > 64 {
			return errors.New("too many content streams")
		}
	}
	var content bytes.Buffer
	for _, s := range streams {
		if s.Kind() != pdf.Stream {
			continue
		}
		r := s.Reader()
		_, err := io.Copy(&content, io.LimitReader(r, int64(maxPDFContent-content.Len()+1)))
		r.Close()
		if err != nil {
			return fmt.Errorf("content stream: %v", err)
		}
		if content.Len() > maxPDFContent {
			return fmt.Errorf("its content is over %d bytes", maxPDFContent)
		}
		content.WriteByte('\n')
	}
	if !stringsClosed(content.Bytes()) {
		return errors.New("its content has a string that is never closed")
	}
	// The library reads a font's /ToUnicode CMap with the same lexer;
	// nwipe's standard fonts have none.
	fonts := pg.Resources().Key("Font")
	for i, k := range fonts.Keys() {
		if i > 64 {
			return errors.New("too many fonts")
		}
		if !fonts.Key(k).Key("ToUnicode").IsNull() {
			return fmt.Errorf("font %s has a /ToUnicode map (nwipe uses the standard fonts)", k)
		}
	}
	return nil
}

// stringsClosed reports whether every literal string "(...)" (with
// nesting and backslash escapes) and hex string "<...>" in content
// streams b is closed, skipping comments. The library's content lexer
// reads past the end of a stream as endless white space, so an
// unclosed string there never ends.
func stringsClosed(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '%':
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		case '(':
			depth := 1
			for i++; i < len(b) && depth > 0; i++ {
				switch b[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return false
			}
			i--
		case '<':
			if i+1 < len(b) && b[i+1] == '<' {
				i++
				continue
			}
			j := bytes.IndexByte(b[i:], '>')
			if j < 0 {
				return false
			}
			i += j
		}
	}
	return true
}
