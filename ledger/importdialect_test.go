package ledger

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The files in testdata/import/dialects are source.csv (written by hand,
// with the headers people write) as spreadsheet programs save it:
// TestImportDialects_Regenerate makes them with LibreOffice.
const dialectDir = "../testdata/import/dialects"

// dialectFixtures are the saved forms of source.csv, with the options an
// import of each needs.
var dialectFixtures = []struct {
	file string
	opts ImportOptions
}{
	{"source.csv", ImportOptions{}},
	{"utf8-bom.csv", ImportOptions{}},
	{"semicolon-cp1252.csv", ImportOptions{Encoding: "windows-1252"}},
	{"tab-utf8.csv", ImportOptions{}},
	{"tab-utf16le.csv", ImportOptions{}},
	{"tab-utf16be.csv", ImportOptions{}},
	{"workbook.xlsx", ImportOptions{}},
}

func importFile(t *testing.T, s *Store, path string, opts ImportOptions) (ImportResult, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return s.Import(filepath.Base(path), f, opts)
}

// TestImport_Dialects imports each saved form of source.csv and expects
// the same devices and disposals.
func TestImport_Dialects(t *testing.T) {
	for _, fx := range dialectFixtures {
		t.Run(fx.file, func(t *testing.T) {
			checkDialect(t, filepath.Join(dialectDir, fx.file), fx.opts)
		})
	}
}

func checkDialect(t *testing.T, path string, opts ImportOptions) {
	t.Helper()
	s := mustOpen(t)
	res, err := importFile(t, s, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.DevicesAdded != 3 || res.DisposalsAdded != 3 ||
		strings.Join(res.NewContractors, "|") != "Gwasanaeth Café Ltd|Ångström Recycling" || strings.Join(res.NewBatches, "|") != "B-2021-1" {
		t.Fatalf("result %+v", res)
	}
	d, err := s.Device("SN-1001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Site != "Müller Straße" || d.AssetTag != "AT-01" || d.Make != "Seagate" || d.CapacityGB == nil || *d.CapacityGB != 4000 {
		t.Fatalf("device %+v", d)
	}
	h, err := s.History("SN-1003")
	if err != nil {
		t.Fatal(err)
	}
	disps := h.Disposals
	if len(disps) != 1 || disps[0].Notes != `note with "quotes"` || disps[0].WeightG == nil || *disps[0].WeightG != 1900 ||
		disps[0].DisposedOn != "2021-07-01" || disps[0].Contractor != "Ångström Recycling" {
		t.Fatalf("disposals %+v", disps)
	}
	// A second import changes nothing; a dry run of a new ledger writes nothing.
	if res, err := importFile(t, s, path, opts); err != nil || res.Unchanged != 3 || res.DevicesAdded != 0 {
		t.Fatalf("re-import: %+v, %v", res, err)
	}
	s2 := mustOpen(t)
	opts.DryRun = true
	if res, err := importFile(t, s2, path, opts); err != nil || res.DevicesAdded != 3 || len(res.NewContractors) != 2 {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if _, err := s2.Device("SN-1001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dry run wrote a device: %v", err)
	}
}

// TestImport_ErrorReports pins the exact report of files people get wrong.
func TestImport_ErrorReports(t *testing.T) {
	tests := []struct {
		name string
		file string
		opts ImportOptions
		want string
	}{
		{"Windows1252WithoutEncoding", "semicolon-cp1252.csv", ImportOptions{}, `import semicolon-cp1252.csv: 4 errors, nothing imported
semicolon-cp1252.csv:2: site: site is not valid UTF-8: the file is not UTF-8; if it was saved by Excel or another program as Windows-1252 (ANSI), import it with --encoding windows-1252 (or latin1)
semicolon-cp1252.csv:2: contractor: contractor is not valid UTF-8: the file is not UTF-8; if it was saved by Excel or another program as Windows-1252 (ANSI), import it with --encoding windows-1252 (or latin1)
semicolon-cp1252.csv:3: contractor: contractor is not valid UTF-8: the file is not UTF-8; if it was saved by Excel or another program as Windows-1252 (ANSI), import it with --encoding windows-1252 (or latin1)
semicolon-cp1252.csv:4: contractor: contractor is not valid UTF-8: the file is not UTF-8; if it was saved by Excel or another program as Windows-1252 (ANSI), import it with --encoding windows-1252 (or latin1)`},
		{"BadQuoteMidFile", "bad-quote.csv", ImportOptions{}, `import bad-quote.csv: 6 errors, nothing imported
bad-quote.csv:3: csv: a quoted field opens here and is not closed (a stray " ?): this line is skipped
bad-quote.csv:4: method: unknown method "melt" (one of overwrite, block-erase, crypto-erase, degauss, shred, disintegrate, pulverise, incinerate)
bad-quote.csv:4: disposed_on: date "2021-13-05" is not a valid ISO 8601 date (YYYY-MM-DD)
bad-quote.csv:5: csv: extraneous " " after a quoted field, column 46 (a quote inside a quoted field is written "")
bad-quote.csv:6: weight_kg: ` + weightProblem(t, "abc") + `
bad-quote.csv:7: csv: bare " in an unquoted field, column 6 (quote the field, and write a quote in it as "")`},
		{"RepeatedSerial", "repeated-serial.csv", ImportOptions{}, `import repeated-serial.csv: 2 errors, nothing imported
repeated-serial.csv:4: serial: serial r1 is also on line 2, with different device data: line 2 has R1 hdd WDC WD40; this line has r1 ssd WDC WD40 (one device a serial: correct one of the lines)
repeated-serial.csv:5: model: model contains a control character (\x1b): remove it`},
		{"NoSuchSheet", "workbook.xlsx", ImportOptions{Sheet: "Disposals"}, `import workbook.xlsx: 1 error, nothing imported
workbook.xlsx:1: file: no sheet "Disposals": the sheets are "source" (give one with --sheet NAME)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			_, err := importFile(t, s, filepath.Join(dialectDir, tt.file), tt.opts)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *ImportError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func weightProblem(t *testing.T, w string) string {
	_, err := ParseWeight(w, "kg")
	if err == nil {
		t.Fatalf("weight %q accepted", w)
	}
	return rowProblem(err)
}

// TestImport_Headers covers header matching: aliases, units, --map,
// optional columns, and the problems named.
func TestImport_Headers(t *testing.T) {
	row := "S1,hdd,shred,Acme Ltd,2021-01-05\n"
	tests := []struct {
		name, header string
		m            []string
		want         string // "" for OK
	}{
		{"OKRequiredOnly", "serial,type,method,contractor,disposed_on", nil, ""},
		{"OKAliases", "S/N,Device Type,Disposal Method,Disposal Contractor,Date Destroyed", nil, ""},
		{"OKCaseAndPunctuation", " SERIAL-NUMBER ,TYPE,Method,contractor,DISPOSED ON", nil, ""},
		{"OKMap", "Kit No,type,method,Carrier,disposed_on", []string{"Kit No=serial", "carrier=contractor"}, ""},
		{"ErrUnit", "serial,type,method,contractor,disposed_on,Weight (lb)", nil,
			`h.csv:1: header: column "Weight (lb)" is in lb: itad reads weight_kg in kg; convert the column`},
		{"ErrMissing", "serial,type,method,disposed_on", nil,
			`h.csv:1: header: missing column "contractor" (required; the other columns may be left out)`},
		{"ErrTwice", "serial,S/N,type,method,contractor,disposed_on", nil, `h.csv:1: header: column "serial" and column "S/N" both are serial`},
		{"ErrDelimiter", "serial|type|method|contractor|disposed_on", nil, `h.csv:1: header: unknown column "serial|type|method|contractor|disposed_on"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			m, err := ParseColumnMap(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			body := row
			if strings.Count(tt.header, ",") == 5 {
				body = strings.TrimSuffix(row, "\n") + ",\n"
			}
			_, err = s.Import("h.csv", strings.NewReader(tt.header+"\n"+body), ImportOptions{Map: m})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := ParseColumnMap([]string{"Kit No=serialnumber"}); err == nil || !strings.Contains(err.Error(), `"serialnumber" is not an import column`) {
		t.Fatalf("ParseColumnMap: %v", err)
	}
}

// TestImport_BinaryAndEncodings: a binary file is refused without its
// bytes in the message; an unknown encoding is refused.
func TestImport_BinaryAndEncodings(t *testing.T) {
	s := mustOpen(t)
	_, err := s.Import("x.bin", bytes.NewReader([]byte("\x7fELF\x02\x01\x00\x00\x1b[2J")), ImportOptions{})
	if err == nil || err.Error() != "import x.bin: 1 error, nothing imported\nx.bin:1: file: not a text file (a NUL byte at offset 6): "+
		"itad imports CSV text (UTF-8, UTF-16 with a byte-order mark, or --encoding windows-1252) and .xlsx workbooks" {
		t.Fatalf("binary: %v", err)
	}
	_, err = s.Import("x.csv", strings.NewReader("serial\n"), ImportOptions{Encoding: "ebcdic"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `--encoding "ebcdic": use utf-8, windows-1252, latin1`) {
		t.Fatalf("encoding: %v", err)
	}
}

// TestImport_ErrorCap lists at most maxPerField errors of one field, in
// line order, and counts the rest.
func TestImport_ErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("serial,type,method,contractor,disposed_on\n")
	for i := 0; i < 250; i++ {
		b.WriteString("S,hdd,melt,Acme,2021-01-05\n")
	}
	b.WriteString(",hdd,shred,Acme,2021-01-05\n")
	s := mustOpen(t)
	_, err := s.Import("c.csv", strings.NewReader(b.String()), ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatal(err)
	}
	n := len(ie.Errors)
	if n != 102 || ie.Errors[0].Line != 2 || ie.Errors[99].Line != 101 || ie.Errors[100].Line != 252 ||
		ie.Errors[101] != (RowError{0, "method", "150 errors more of this kind not listed"}) {
		t.Fatalf("%d errors: first %v, last %v", n, ie.Errors[0], ie.Errors[n-1])
	}
}

// TestImportDialects_Regenerate saves source.csv with LibreOffice in each
// dialect and checks that each imports as the committed fixture does;
// with -update it rewrites the fixtures.
func TestImportDialects_Regenerate(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatal("soffice not installed (ITAD_REQUIRE_TOOLS=1): apt-get install libreoffice-calc-nogui")
		}
		t.Skip("soffice not installed: apt-get install libreoffice-calc-nogui to regenerate the import fixtures")
	}
	out := t.TempDir()
	if updateGolden() {
		out = dialectDir
	}
	src := filepath.Join(dialectDir, "source.csv")
	utf8src, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "source.csv"), utf8src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Filter options: delimiter, quote, character set (1 Windows-1252,
	// 76 UTF-8, 65535 UTF-16 LE with BOM) as LibreOffice numbers them.
	conv := func(target, to string) {
		dir := t.TempDir()
		cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless",
			"--infilter=CSV:44,34,76,1", "--convert-to", to, "--outdir", dir, src)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("soffice %s: %v\n%s", to, err, b)
		}
		ext := filepath.Ext(target)
		b, err := os.ReadFile(filepath.Join(dir, "source"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, target), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conv("semicolon-cp1252.csv", "csv:Text - txt - csv (StarCalc):59,34,1")
	conv("tab-utf8.csv", "csv:Text - txt - csv (StarCalc):9,34,76")
	conv("tab-utf16le.csv", "csv:Text - txt - csv (StarCalc):9,34,65535")
	conv("workbook.xlsx", "xlsx")
	// LibreOffice writes neither UTF-16 BE nor a UTF-8 BOM: derived here.
	le, err := os.ReadFile(filepath.Join(out, "tab-utf16le.csv"))
	if err != nil {
		t.Fatal(err)
	}
	be := make([]byte, len(le))
	for i := 0; i+1 < len(le); i += 2 {
		be[i], be[i+1] = le[i+1], le[i]
	}
	for name, b := range map[string][]byte{"tab-utf16be.csv": be, "utf8-bom.csv": append([]byte("\ufeff"), utf8src...)} {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, fx := range dialectFixtures {
		t.Run(fx.file, func(t *testing.T) { checkDialect(t, filepath.Join(out, fx.file), fx.opts) })
	}
}

// FuzzCSVSource: the CSV reader never panics, and on any input that
// encoding/csv reads without error (with the delimiter detected from the
// first line) it gives the same records.
func FuzzCSVSource(f *testing.F) {
	f.Add("a,b\n1,2\n")
	f.Add("a;b\r\n\"x;\"\"y\";2\r\n\n3;\"multi\nline\"\n")
	f.Add("a\tb\n\"open\n1\t2\n")
	f.Add("a,b\n\"q\"x,1\nb\"c,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		src := newCSVSource(strings.NewReader(in))
		var got [][]string
		var bad bool
		for i := 0; i < 10000; i++ {
			_, rec, err := src.next()
			if err == io.EOF {
				break
			}
			var le *lineError
			if errors.As(err, &le) {
				bad = true
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, append([]string(nil), rec...))
		}
		var first string
		for _, l := range strings.Split(in, "\n") {
			if first = strings.TrimSuffix(l, "\r"); first != "" {
				break
			}
		}
		cr := csv.NewReader(strings.NewReader(in))
		cr.Comma = rune(detectDelim([]byte(first)))
		cr.FieldsPerRecord = -1
		want, err := cr.ReadAll()
		if err != nil || strings.Count(in, "\n") > maxQuotedLines {
			return
		}
		if bad || !slices.EqualFunc(got, want, slices.Equal[[]string]) {
			t.Fatalf("input %q: got %q (errors: %v), encoding/csv %q", in, got, bad, want)
		}
	})
}

// TestImport_XLSXRowNumbers: problems in a workbook name the sheet's row
// numbers (empty rows count), and --sheet picks the sheet.
func TestImport_XLSXRowNumbers(t *testing.T) {
	x := excelize.NewFile()
	if _, err := x.NewSheet("Disposals"); err != nil {
		t.Fatal(err)
	}
	rows := map[string][]any{
		"A1": {"Serial Number", "Device Type", "Disposal Method", "Contractor", "Date Destroyed", "Weight (kg)"},
		"A2": {"X1", "hdd", "shred", "Acme Ltd", "2021-01-05", 0.6},
		"A5": {"X2", "hdd", "melt", "Acme Ltd", "2021-01-05", "a lot"},
	}
	for cell, r := range rows {
		if err := x.SetSheetRow("Disposals", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "w.xlsx")
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t)
	_, err := importFile(t, s, path, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), `w.xlsx:1: file: sheet "Sheet1" is empty: the sheets are "Sheet1", "Disposals" (give one with --sheet NAME)`) {
		t.Fatalf("first sheet (empty): %v", err)
	}
	_, err = importFile(t, s, path, ImportOptions{Sheet: "Disposals"})
	want := "import w.xlsx: 2 errors, nothing imported\n" +
		`w.xlsx:5: method: unknown method "melt" (one of overwrite, block-erase, crypto-erase, degauss, shred, disintegrate, pulverise, incinerate)` + "\n" +
		"w.xlsx:5: weight_kg: " + weightProblem(t, "a lot")
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
