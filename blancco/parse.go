package blancco

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limits on what Parse reads. encoding/xml expands no external entities
// and no entities declared in a DOCTYPE (an unknown entity is a syntax
// error), so an XML bomb cannot grow; these bound the rest. One report is
// some tens of KB; a Management Console export of many reports is read
// one blancco_data element at a time.
const (
	MaxSize        = 64 << 20 // bytes of input
	MaxDepth       = 64       // element nesting
	MaxReportNodes = 200_000  // elements in one blancco_data
)

// node is one element of a blancco_data subtree.
type node struct {
	tag   string // local name: "entries", "entry", "document_id"
	name  string // the name attribute, if any
	text  string // character data directly inside it
	line  int    // line of its start tag
	kids  []*node
	texts strings.Builder
}

// child returns the first child with the tag (and name attribute, if
// name is not "").
func (n *node) child(tag, name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.tag == tag && (name == "" || k.name == name) {
			return k
		}
	}
	return nil
}

// children returns every child with the tag and name attribute.
func (n *node) children(tag, name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.tag == tag && k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// entry returns the text of the child <entry name="name">, and whether
// there is one.
func (n *node) entry(name string) (string, bool) {
	e := n.child("entry", name)
	if e == nil {
		return "", false
	}
	return e.text, true
}

// path follows plain child tags: path("description", "document_id").
func (n *node) path(tags ...string) *node {
	for _, t := range tags {
		n = n.child(t, "")
	}
	return n
}

func (n *node) value() string {
	if n == nil {
		return ""
	}
	return n.text
}

// countingReader counts the bytes read, so Parse can tell input cut at
// MaxSize from input that ended.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Parse reads a Blancco Drive Eraser XML report (or a Management Console
// export holding many) from r. name is the file name used in errors and in
// each Erasure. It returns one Erasure per <entries name="erasure"> under
// blancco_data/blancco_erasure_report/entries[@name='erasures'], in file
// order. An erasure that cannot be recorded (no readable serial, an
// unknown standard, an unreadable time or count) has Err set; the others
// are returned as usual. Parse itself fails for a read error, input over
// MaxSize or nested deeper than MaxDepth, XML that is not well formed, or
// XML with no blancco_data element (ErrNotBlancco).
func Parse(name string, r io.Reader) ([]Erasure, error) {
	cr := &countingReader{r: io.LimitReader(r, MaxSize+1)}
	dec := xml.NewDecoder(cr)
	dec.Strict = true
	// Any declared encoding other than UTF-8 is refused: Blancco writes
	// UTF-8, and a converter would be input this package has not seen.
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not UTF-8", label)
	}
	var (
		out     []Erasure
		depth   int
		reports int
	)
	fail := func(err error) ([]Erasure, error) {
		if cr.n > MaxSize {
			return nil, fmt.Errorf("parse %s: over %d bytes: %w", name, MaxSize, ErrNotBlancco)
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("parse %s:%d: %w (%s)", name, se.Line, ErrNotBlancco, se.Msg)
		}
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > MaxDepth {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("parse %s:%d: %w (elements nested over %d deep)", name, line, ErrNotBlancco, MaxDepth)
			}
			if t.Name.Local != "blancco_data" {
				continue
			}
			line, _ := dec.InputPos()
			root, err := readTree(dec, t, line, depth)
			if err != nil {
				if strings.HasPrefix(err.Error(), "parse") {
					return nil, fmt.Errorf("parse %s%s", name, strings.TrimPrefix(err.Error(), "parse"))
				}
				return fail(err)
			}
			depth--
			reports++
			out = append(out, erasures(name, root, len(out))...)
		case xml.EndElement:
			depth--
		}
	}
	if cr.n > MaxSize {
		return nil, fmt.Errorf("parse %s: over %d bytes: %w", name, MaxSize, ErrNotBlancco)
	}
	if reports == 0 {
		return nil, fmt.Errorf("parse %s: %w (no blancco_data element)", name, ErrNotBlancco)
	}
	return out, nil
}

// readTree reads the element start opened (at line, nesting depth) into a
// node tree, up to its end tag.
func readTree(dec *xml.Decoder, start xml.StartElement, line, depth int) (*node, error) {
	root := newNode(start, line)
	stack := []*node{root}
	count := 1
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			l, _ := dec.InputPos()
			if depth+len(stack) > MaxDepth {
				return nil, fmt.Errorf("parse:%d: %w (elements nested over %d deep)", l, ErrNotBlancco, MaxDepth)
			}
			if count > MaxReportNodes {
				return nil, fmt.Errorf("parse:%d: %w (a blancco_data of over %d elements)", l, ErrNotBlancco, MaxReportNodes)
			}
			n := newNode(t, l)
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.CharData:
			top.texts.Write(t)
		case xml.EndElement:
			top.text = top.texts.String()
			top.texts.Reset()
			stack = stack[:len(stack)-1]
		}
	}
	return root, nil
}

func newNode(t xml.StartElement, line int) *node {
	n := &node{tag: t.Name.Local, line: line}
	for _, a := range t.Attr {
		if a.Name.Local == "name" && a.Name.Space == "" {
			n.name = a.Value
		}
	}
	return n
}

// erasures reads one blancco_data element's erasures; first is the index
// of its first erasure in the file.
func erasures(file string, data *node, first int) []Erasure {
	desc := data.child("description", "")
	docID := strings.TrimSpace(desc.path("document_id").value())
	author := desc.path("document_log", "log_entry", "author")
	var out []Erasure
	for _, list := range data.child("blancco_erasure_report", "").children("entries", "erasures") {
		for _, en := range list.children("entries", "erasure") {
			e := erasure(file, en, first+len(out))
			e.DocumentID = docID
			e.Software = strings.TrimSpace(author.path("product_name").value())
			e.SoftwareVersion = strings.TrimSpace(author.path("product_version").value())
			e.SoftwareRevision = strings.TrimSpace(author.path("product_revision").value())
			if e.Err != nil {
				e.Err.(*ErasureError).DocumentID = docID
			}
			out = append(out, e)
		}
	}
	return out
}

// erasure reads one <entries name="erasure">.
func erasure(file string, en *node, index int) Erasure {
	e := Erasure{File: file, Line: en.line, Index: index, VerificationPercent: -1}
	var bad []string
	str := func(n *node, name string) string {
		v, _ := n.entry(name)
		return strings.TrimSpace(v)
	}
	count := func(n *node, name string) uint64 {
		v, ok := n.entry(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return 0
		}
		c, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s %q is not a count", name, v))
		}
		return c
	}
	e.State = str(en, "state")
	e.StandardName = str(en, "erasure_standard_name")
	e.StartText, e.EndText = str(en, "start_time"), str(en, "end_time")
	e.Zoned = true
	for _, f := range []struct {
		name, text string
		t          *time.Time
	}{{"start_time", e.StartText, &e.Start}, {"end_time", e.EndText, &e.End}} {
		if f.text == "" {
			continue
		}
		t, zoned, err := parseTime(f.text)
		if err != nil {
			bad = append(bad, f.name+": "+err.Error())
			continue
		}
		e.Zoned = e.Zoned && zoned
		*f.t = t
	}
	if !e.Start.IsZero() && !e.End.IsZero() && e.End.Before(e.Start) {
		bad = append(bad, fmt.Sprintf("end_time %s is before start_time %s", e.EndText, e.StartText))
	}
	if v := str(en, "elapsed_time"); v != "" {
		d, err := parseElapsed(v)
		if err != nil {
			bad = append(bad, err.Error())
		}
		e.Elapsed = d
	}
	e.VerificationText = str(en, "verification")
	e.VerificationPercent = parseVerification(e.VerificationText)
	e.Errors = count(en, "total_errors")
	e.FailedSectors = count(en, "failed_sectors")
	e.OverwritingRounds = int(min(count(en, "overwriting_rounds"), math.MaxInt32))
	e.FirmwareRounds = int(min(count(en, "firmware_rounds"), math.MaxInt32))
	e.TotalRounds = int(min(count(en, "total_erasure_rounds"), math.MaxInt32))
	details := en.child("entries", "erasure_details")
	for _, n := range []*node{details.child("entries", "failure"), en.child("entries", "exception"), details.child("entries", "exception")} {
		if m := str(n, "message"); m != "" && e.FailureMessage == "" {
			e.FailureMessage = m
		}
	}

	tg := en.child("entries", "target")
	raw, hasSerial := tg.entry("serial")
	e.RawSerial = raw
	e.Serial = strings.Trim(raw, " \t\r\n")
	e.Vendor, e.Model = str(tg, "vendor"), str(tg, "model")
	e.Type, e.Interface = str(tg, "type"), str(tg, "interface_type")
	if c := count(tg, "capacity"); c > 0 {
		e.CapacityBytes = int64(c)
	}

	m, known := MethodFor(e.StandardName)
	e.Method = m
	refuse := func(sentinel error, format string, args ...any) Erasure {
		e.Err = &ErasureError{File: file, Line: e.Line, Index: index, Msg: fmt.Sprintf(format, args...), Err: sentinel}
		return e
	}
	switch {
	case tg == nil:
		e.Serial = ""
		return refuse(ErrNoSerial, "no readable serial: the erasure has no target")
	case len(bad) > 0:
		return refuse(nil, "%s", strings.Join(bad, "; "))
	case e.StandardName == "":
		return refuse(ErrUnknownStandard, "no erasure_standard_name")
	case !known:
		return refuse(ErrUnknownStandard, "unknown erasure standard %q: not mapped to a ledger method", e.StandardName)
	case !validSerial(e.Serial):
		what := "target serial is empty"
		if !hasSerial {
			what = "the target has no serial entry"
		} else if e.Serial != "" {
			what = fmt.Sprintf("target serial %q is not a printable serial", raw)
		}
		e.Serial = ""
		return refuse(ErrNoSerial, "no readable serial: %s", what)
	}
	return e
}
