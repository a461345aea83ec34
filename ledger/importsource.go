package ledger

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// An import file is read by a rowSource: a CSV file in any of the
// dialects spreadsheets write (csvSource), or an .xlsx workbook
// (xlsxSource). Both give the header first, then each row with its line
// (CSV: the line it starts on; .xlsx: its row number in the sheet).
type rowSource interface {
	// next returns the next record, a *lineError for a record that could
	// not be read (reading goes on at the next line), or io.EOF.
	next() (line int, rec []string, err error)
	close()
}

// lineError is a record that cannot be read; the source resynchronises
// at the next line.
type lineError struct {
	line    int
	problem string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.problem) }

// ImportEncodings are the --encoding values Import accepts besides UTF-8
// (the default, with or without BOM; UTF-16 with a BOM is recognised).
var ImportEncodings = []string{"utf-8", "windows-1252", "latin1"}

// fileError is a problem with the whole file (not a row).
func fileError(name, problem string) *ImportError {
	return &ImportError{File: name, Errors: []RowError{{1, "file", problem}}}
}

// openSource recognises the kind of file from its first bytes and opens
// the right source.
func openSource(name string, r io.Reader, opts ImportOptions) (rowSource, error) {
	br := bufio.NewReaderSize(r, 64*1024)
	head, _ := br.Peek(8192)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return openXLSX(name, br, opts.Sheet)
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, fileError(name, "this is an old Excel .xls workbook (or an encrypted one): save it as .xlsx or as CSV and import that")
	case opts.Sheet != "":
		return nil, fmt.Errorf("%w: --sheet applies to .xlsx workbooks, and %s is not one", ErrInvalid, name)
	}
	var dec *encoding.Decoder
	enc := strings.ToLower(strings.TrimSpace(opts.Encoding))
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		dec = xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec = xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder()
	case enc == "" || enc == "utf-8" || enc == "utf8":
	case enc == "windows-1252" || enc == "cp1252":
		dec = charmap.Windows1252.NewDecoder()
	case enc == "latin1" || enc == "iso-8859-1":
		dec = charmap.ISO8859_1.NewDecoder()
	default:
		return nil, fmt.Errorf("%w: --encoding %q: use %s", ErrInvalid, opts.Encoding, strings.Join(ImportEncodings, ", "))
	}
	if dec == nil {
		if i := bytes.IndexByte(head, 0); i >= 0 {
			return nil, fileError(name, fmt.Sprintf("not a text file (a NUL byte at offset %d): itad imports CSV text "+
				"(UTF-8, UTF-16 with a byte-order mark, or --encoding windows-1252) and .xlsx workbooks", i))
		}
	}
	var in io.Reader = br
	if dec != nil {
		in = transform.NewReader(br, dec)
	}
	return newCSVSource(in), nil
}

// maxQuotedLines is how many lines a quoted field may span; an unclosed
// quote is reported at the line it opens, and reading resumes at the line
// after it.
const maxQuotedLines = 100

// csvSource reads CSV as RFC 4180 does, with the delimiter (comma,
// semicolon or tab) taken from the header line. A malformed quote makes
// that record an error and reading goes on at the next line.
type csvSource struct {
	br      *bufio.Reader
	delim   byte
	lineNo  int
	pending []pendingLine // lines to read again after an unclosed quote
	lbuf    []byte
	buf     []byte
	ends    []int
	rec     []string
	started bool
}

type pendingLine struct {
	n    int
	text []byte
}

func newCSVSource(r io.Reader) *csvSource {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64*1024)
	}
	return &csvSource{br: br}
}

func (s *csvSource) close() {}

// readLine returns the next physical line without its line ending.
func (s *csvSource) readLine() ([]byte, int, bool) {
	if len(s.pending) > 0 {
		p := s.pending[0]
		s.pending = s.pending[1:]
		return p.text, p.n, true
	}
	s.lbuf = s.lbuf[:0]
	for {
		part, err := s.br.ReadSlice('\n')
		s.lbuf = append(s.lbuf, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(s.lbuf) == 0 && err != nil {
			return nil, 0, false
		}
		break
	}
	s.lineNo++
	l := bytes.TrimSuffix(s.lbuf, []byte("\n"))
	l = bytes.TrimSuffix(l, []byte("\r"))
	return l, s.lineNo, true
}

// detectDelim picks the delimiter the header line uses most, outside
// quotes: comma, semicolon or tab (comma when none).
func detectDelim(line []byte) byte {
	counts := map[byte]int{}
	inQ := false
	for _, c := range line {
		if c == '"' {
			inQ = !inQ
		} else if !inQ && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func (s *csvSource) next() (int, []string, error) {
	var line []byte
	var start int
	for {
		l, n, ok := s.readLine()
		if !ok {
			return 0, nil, io.EOF
		}
		if len(l) > 0 {
			line, start = l, n
			break
		}
	}
	if !s.started {
		s.started = true
		s.delim = detectDelim(line)
	}
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	var spanned []pendingLine // lines after start, kept to read again
	cur := start
	i := 0
	for {
		if i < len(line) && line[i] == '"' { // quoted field
			i++
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					s.buf = append(s.buf, line[i:]...)
					s.buf = append(s.buf, '\n')
					l, n, ok := s.readLine()
					if !ok || len(spanned) >= maxQuotedLines {
						if ok {
							spanned = append(spanned, pendingLine{n, bytes.Clone(l)})
						}
						return s.unclosed(start, spanned)
					}
					spanned = append(spanned, pendingLine{n, bytes.Clone(l)})
					line, cur, i = l, n, 0
					continue
				}
				s.buf = append(s.buf, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					s.buf = append(s.buf, '"')
					i++
					continue
				}
				break
			}
			s.ends = append(s.ends, len(s.buf))
			if i == len(line) {
				break
			}
			if line[i] != s.delim {
				if len(spanned) > 0 {
					return s.unclosed(start, spanned)
				}
				return cur, nil, &lineError{cur, fmt.Sprintf("extraneous %q after a quoted field, column %d (a quote inside a quoted field is written \"\")", string(line[i]), i+1)}
			}
			i++
			if i == len(line) {
				s.ends = append(s.ends, len(s.buf))
				break
			}
			continue
		}
		k := bytes.IndexByte(line[i:], s.delim)
		f := line[i:]
		if k >= 0 {
			f = line[i : i+k]
		}
		if q := bytes.IndexByte(f, '"'); q >= 0 {
			if len(spanned) > 0 {
				return s.unclosed(start, spanned)
			}
			return cur, nil, &lineError{cur, fmt.Sprintf("bare \" in an unquoted field, column %d (quote the field, and write a quote in it as \"\")", i+q+1)}
		}
		s.buf = append(s.buf, f...)
		s.ends = append(s.ends, len(s.buf))
		if k < 0 {
			break
		}
		i += k + 1
		if i == len(line) {
			s.ends = append(s.ends, len(s.buf))
			break
		}
	}
	all := string(s.buf)
	s.rec = s.rec[:0]
	from := 0
	for _, e := range s.ends {
		s.rec = append(s.rec, all[from:e])
		from = e
	}
	return start, s.rec, nil
}

// unclosed reports a quoted field opened on line start that does not
// close as a field should, within maxQuotedLines: the lines after start
// are read again as rows of their own.
func (s *csvSource) unclosed(start int, spanned []pendingLine) (int, []string, error) {
	s.pending = append(spanned, s.pending...)
	return start, nil, &lineError{start, "a quoted field opens here and is not closed (a stray \" ?): this line is skipped"}
}

// xlsxSource reads the rows of one sheet of a workbook with excelize's
// streaming iterator (the sheet's XML is not loaded whole).
type xlsxSource struct {
	f      *excelize.File
	rows   *excelize.Rows
	row    int
	sheet  string
	sheets []string
}

// emptyProblem says that the sheet read has no rows.
func (s *xlsxSource) emptyProblem() string {
	return fmt.Sprintf("sheet %q is empty: the sheets are %s (give one with --sheet NAME)", s.sheet, strings.Join(quoteAll(s.sheets), ", "))
}

func openXLSX(name string, r io.Reader, sheet string) (rowSource, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fileError(name, fmt.Sprintf("not a readable .xlsx workbook: %v", err))
	}
	sheets := f.GetSheetList()
	if sheet == "" {
		if len(sheets) == 0 {
			f.Close()
			return nil, fileError(name, "the workbook has no sheets")
		}
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		f.Close()
		return nil, fileError(name, fmt.Sprintf("no sheet %q: the sheets are %s (give one with --sheet NAME)", sheet, strings.Join(quoteAll(sheets), ", ")))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fileError(name, fmt.Sprintf("sheet %q: %v", sheet, err))
	}
	return &xlsxSource{f: f, rows: rows, sheet: sheet, sheets: sheets}, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func (s *xlsxSource) next() (int, []string, error) {
	for s.rows.Next() {
		s.row++
		cols, err := s.rows.Columns()
		if err != nil {
			return s.row, nil, &lineError{s.row, fmt.Sprintf("cannot read the row: %v", err)}
		}
		for _, c := range cols {
			if strings.TrimSpace(c) != "" {
				return s.row, cols, nil
			}
		}
	}
	if err := s.rows.Error(); err != nil {
		return s.row, nil, fmt.Errorf("read the sheet: %w", err)
	}
	return 0, nil, io.EOF
}

func (s *xlsxSource) close() {
	s.rows.Close()
	s.f.Close()
}

// RequiredColumns are the import columns a file must have; the others
// may be absent (and are then empty in every row).
var RequiredColumns = []string{"serial", "type", "method", "contractor", "disposed_on"}

// ImportAliases are the headers, as people write them, that name each
// import column. Headers are compared after normalising: lower case, any
// unit in brackets taken off ("Weight (kg)" is "weight" in kg), and
// everything but letters and digits removed ("Serial Number" is
// "serialnumber"). The column's own name is always accepted.
var ImportAliases = map[string][]string{
	"serial":      {"serial number", "serial no", "s/n", "sn", "serial num"},
	"asset_tag":   {"asset tag", "asset no", "asset number", "asset", "tag", "asset id"},
	"type":        {"device type", "asset type", "equipment type", "kind"},
	"make":        {"manufacturer", "brand", "vendor"},
	"model":       {"model number", "model no"},
	"capacity_gb": {"capacity", "size", "storage"},
	"site":        {"location", "office", "building"},
	"method":      {"disposal method", "sanitisation method", "sanitization method", "sanitisation", "sanitization"},
	"standard":    {"sanitisation standard", "sanitization standard"},
	"tool":        {"software", "erasure tool"},
	"verified":    {"verification", "verified by"},
	"contractor":  {"disposal contractor", "recycler", "company"},
	"disposed_on": {"date destroyed", "date", "disposal date", "date disposed", "destroyed on", "disposed"},
	"weight_kg":   {"weight"},
	"batch":       {"batch ref", "batch no", "batch number", "collection", "collection ref"},
	"operator":    {"technician", "engineer", "done by"},
	"witness":     {"witnessed by"},
	"notes":       {"note", "comments", "comment", "remarks"},
}

// columnUnits are the units a header may give in brackets for a column;
// any other unit is refused rather than misread.
var columnUnits = map[string]string{"capacity_gb": "gb", "weight_kg": "kg"}

// normHeader is a header as compared: lower case, letters and digits
// only, with its bracketed unit (lower case, "" if none) apart. A column
// name's own unit suffix counts as its unit ("weight_kg" is "weight" in kg).
func normHeader(h string) (key, unit string) {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	if i := strings.IndexAny(h, "(["); i >= 0 {
		if j := strings.IndexAny(h[i:], ")]"); j > 0 {
			unit = strings.TrimSpace(h[i+1 : i+j])
			h = h[:i] + h[i+j+1:]
		}
	}
	var b strings.Builder
	for _, r := range h {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	key = b.String()
	for col, u := range columnUnits {
		base := strings.ReplaceAll(strings.TrimSuffix(col, "_"+u), "_", "")
		if key == base+u && unit == "" {
			key, unit = base, u
		}
	}
	return key, unit
}

// aliasIndex maps normalised headers to columns.
var aliasIndex = func() map[string]string {
	m := map[string]string{}
	for _, c := range allImportColumns {
		k, _ := normHeader(c)
		m[k] = c
		m[strings.ReplaceAll(c, "_", "")] = c
		for _, a := range ImportAliases[c] {
			k, _ := normHeader(a)
			m[k] = c
		}
	}
	return m
}()

// ParseColumnMap reads --map values, 'Their Header=column'.
func ParseColumnMap(specs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range specs {
		from, to, ok := strings.Cut(s, "=")
		from, to = strings.TrimSpace(from), strings.ToLower(strings.TrimSpace(to))
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("%w: --map %q: give it as 'Your Header=column', e.g. 'Kit No=serial'", ErrInvalid, s)
		}
		known := false
		for _, c := range allImportColumns {
			known = known || c == to
		}
		if !known {
			return nil, fmt.Errorf("%w: --map %q: %q is not an import column (the columns are %s)", ErrInvalid, s, to, strings.Join(ImportColumns, ","))
		}
		k, _ := normHeader(from)
		m[k] = to
	}
	return m, nil
}

// mapHeader maps column names to positions and lists what is wrong with
// the header: unknown, duplicated or missing required columns, and units
// other than the column's. user is the --map table (normalised header →
// column), tried before the aliases.
func mapHeader(h []string, user map[string]string) (map[string]int, []string) {
	col := map[string]int{}
	var problems []string
	if len(h) == 1 && (strings.Contains(h[0], ";") || strings.Contains(h[0], "\t") || strings.Contains(h[0], ",")) {
		return col, []string{fmt.Sprintf("the header %q is one column: the delimiter was not recognised (itad reads comma, semicolon and tab)", Printable(h[0]))}
	}
	for i, raw := range h {
		key, unit := normHeader(raw)
		c, ok := user[key]
		if !ok {
			c, ok = aliasIndex[key]
		}
		if !ok {
			if key == "" && strings.TrimSpace(raw) == "" {
				continue // an unnamed empty column (a spreadsheet's trailing one)
			}
			problems = append(problems, fmt.Sprintf("unknown column %q: name it as in the table in 'itad import --help', or give --map '%s=COLUMN' (the columns are %s)",
				Printable(raw), Printable(strings.TrimSpace(raw)), strings.Join(ImportColumns, ",")))
			continue
		}
		if want, has := columnUnits[c]; unit != "" && (!has || unit != want) {
			if has {
				problems = append(problems, fmt.Sprintf("column %q is in %s: itad reads %s in %s; convert the column", Printable(raw), Printable(unit), c, want))
			} else {
				problems = append(problems, fmt.Sprintf("column %q: %s has no unit", Printable(raw), c))
			}
			continue
		}
		if j, dup := col[c]; dup {
			problems = append(problems, fmt.Sprintf("column %q and column %q both are %s", Printable(h[j]), Printable(raw), c))
			continue
		}
		col[c] = i
	}
	for _, c := range RequiredColumns {
		if _, ok := col[c]; !ok {
			problems = append(problems, fmt.Sprintf("missing column %q (required; the other columns may be left out)", c))
		}
	}
	return col, problems
}

// finishErrors orders errors by line, a row's in column order,
// keeps at most maxPerField of each field and adds a count of the rest
// (counts: how many each field had in all).
func finishErrors(errs []RowError, counts map[string]int) []RowError {
	rank := func(f string) int { return slices.Index(allImportColumns, f) }
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		return a.Line < b.Line || a.Line == b.Line && rank(a.Field) < rank(b.Field)
	})
	seen := map[string]int{}
	var order []string
	out := errs[:0]
	for _, e := range errs {
		seen[e.Field]++
		if seen[e.Field] == 1 {
			order = append(order, e.Field)
		}
		if seen[e.Field] <= maxPerField {
			out = append(out, e)
		}
	}
	for _, f := range order {
		if n := counts[f] - maxPerField; n > 0 {
			out = append(out, RowError{0, f, fmt.Sprintf("%s more of this kind not listed", CountOf(int64(n), "error", "errors"))})
		}
	}
	return out
}

// maxPerField is how many errors of one field are listed.
const maxPerField = 100
