package evidence

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

const fixtures = "../testdata/nwipe"

// mustLedger opens a new ledger under t.TempDir() with a contractor, its
// clock on 2026-12-02 (after every fixture).
func mustLedger(tb testing.TB) *ledger.Store {
	tb.Helper()
	s, err := ledger.Open(filepath.Join(tb.TempDir(), "itad.db"), ledger.Options{Create: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	base := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	n := 0
	s.Now = func() time.Time { n++; return base.Add(time.Duration(n) * time.Millisecond) }
	s.Actor = "tester"
	if err := s.Init("Test Org"); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddContractor(ledger.Contractor{Name: "WipeCo"}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// importFiles imports paths with the reader's options.
func importFiles(tb testing.TB, s *ledger.Store, paths []string, ro Options, io ledger.EvidenceImportOptions) ledger.EvidenceImportResult {
	tb.Helper()
	if ro.Location == nil {
		ro.Location, ro.Zone = time.UTC, "UTC"
	}
	r, err := NewReader(paths, ro)
	if err != nil {
		tb.Fatal(err)
	}
	if io.Contractor == "" {
		io.Contractor = "WipeCo"
	}
	res, err := s.ImportEvidence(r.Next, io)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// outcome is one device's expected result: outcome, path, line.
type outcome struct {
	outcome, path string
	line          int
	problem       string // part of the refusal
}

func outcomes(res ledger.EvidenceImportResult) []outcome {
	var out []outcome
	for _, f := range res.Files {
		for _, d := range f.Devices {
			out = append(out, outcome{d.Outcome, d.Path, d.Line, d.Problem})
		}
	}
	return out
}

// TestImportEvidence_Fixtures imports each fixture into a new ledger and
// checks every device's outcome, and that a sanitisation is a disposal
// with the report's method, tool and verification, and a failure none.
func TestImportEvidence_Fixtures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		serials map[string]string
		typ     ledger.DeviceType
		want    []outcome
		// the disposal of the first sanitised device
		tool, standard, verified, on string
	}{
		{name: "DoD 5220.22-M verify all", file: "nwipe_log_20250314-091502.txt", typ: ledger.HDD,
			want: []outcome{{"sanitised", "/dev/sdb", 1, ""}}, tool: "nwipe 0.38", standard: "DoD 5220.22-M", verified: "yes", on: "2025-03-15"},
		{name: "ATA needs --type", file: "nwipe_log_20250314-091502.txt",
			want: []outcome{{"refused", "/dev/sdb", 1, "nwipe_log_20250314-091502.txt:1: /dev/sdb: the report does not say what type"}}},
		{name: "FAILED with errors", file: "nwipe_log_20250402-140010.txt", typ: ledger.HDD,
			want: []outcome{{"failed", "/dev/sdc", 1, ""}}},
		{name: "no serial beside NVMe (ssd without --type)", file: "nwipe_log_20250520-083000.txt",
			want: []outcome{{"refused", "/dev/sda", 1, "nwipe_log_20250520-083000.txt:1: /dev/sda: no readable serial"}, {"sanitised", "/dev/nvme0n1", 2, ""}},
			tool: "nwipe 0.38", standard: "Fill With Zeros", verified: "no", on: "2025-05-20"},
		{name: "real loop device: invalid serial bytes", file: "nwipe_log_20261201-224838.txt", typ: ledger.HDD,
			want: []outcome{{"refused", "/dev/loop0", 2, "nwipe_log_20261201-224838.txt:2: /dev/loop0: no readable serial"}}},
		{name: "real loop device with --serial", file: "nwipe_log_20261201-224838.txt", typ: ledger.HDD,
			serials: map[string]string{"/dev/loop0": "LOOP-A"},
			want:    []outcome{{"sanitised", "/dev/loop0", 2, ""}}, tool: "nwipe 0.33", standard: "Fill With Zeros", verified: "yes", on: "2026-12-01"},
		{name: "two loop devices, DoD Short verify all", file: "nwipe_log_20261201-224840.txt", typ: ledger.HDD,
			serials: map[string]string{"/dev/loop1": "LOOP-B", "/dev/loop2": "LOOP-C"},
			want:    []outcome{{"sanitised", "/dev/loop1", 2, ""}, {"sanitised", "/dev/loop2", 4, ""}}, tool: "nwipe 0.33", standard: "DoD Short", verified: "yes", on: "2026-12-01"},
		{name: "Verify Zeros is a verification only", file: "nwipe_log_20261201-224842.txt", typ: ledger.HDD,
			serials: map[string]string{"/dev/loop0": "LOOP-A"},
			want:    []outcome{{"verified", "/dev/loop0", 2, ""}}},
		{name: "JSON report, failed", file: "nwipe_report_2025-04-02-18-22-01_Model_ST1000DM010_2EP102_Serial_Z9A1B2C3_device_sdc.json", typ: ledger.HDD,
			want: []outcome{{"failed", "/dev/sdc", 1, ""}}},
		{name: "JSON report, sanitised", file: "nwipe_report_2025-03-14-12-40-10_Model_WDC_WD5000AAKX_00ERMA0_Serial_WD_WCC2E1234567_device_sdb.json", typ: ledger.HDD,
			want: []outcome{{"sanitised", "/dev/sdb", 1, ""}}, tool: "nwipe 0.40", standard: "DoD Short", verified: "yes", on: "2025-03-14"},
		{name: "nwipe PDF report, sanitised", file: "nwipe_report_2025-03-14-12-40-10_Model_WDC_WD5000AAKX_00ERMA0_Serial_WD_WCC2E1234567_device_sdb.pdf", typ: ledger.HDD,
			want: []outcome{{"sanitised", "/dev/sdb", 1, ""}}, tool: "nwipe 0.38", standard: "DoD Short", verified: "yes", on: "2025-03-14"},
		{name: "nwipe PDF report, failed", file: "nwipe_report_2025-04-02-18-22-01_Model_ST1000DM010_2EP102_Serial_Z9A1B2C3_device_sdc.pdf", typ: ledger.HDD,
			want: []outcome{{"failed", "/dev/sdc", 1, ""}}},
		{name: "nwipe PDF report, serial Unknown", file: "nwipe_report_2025-05-20-09-02-40_Model_JMicron_Generic_Serial_Unknown_device_sda.pdf", typ: ledger.HDD,
			want: []outcome{{"refused", "/dev/sda", 1, "nwipe_report_2025-05-20-09-02-40_Model_JMicron_Generic_Serial_Unknown_device_sda.pdf:1: /dev/sda: no readable serial"}}},
		{name: "nwipe PDF report with --serial", file: "nwipe_report_2025-05-20-09-02-40_Model_JMicron_Generic_Serial_Unknown_device_sda.pdf", typ: ledger.HDD,
			serials: map[string]string{"/dev/sda": "JM-0001"},
			want:    []outcome{{"sanitised", "/dev/sda", 1, ""}}, tool: "nwipe 0.38", standard: "Fill With Zeros", verified: "no", on: "2025-05-20"},
		{name: "Blancco: two successes and a failure", file: "../blancco/drive-eraser-three-drives.xml",
			want: []outcome{{"sanitised", "erasure 0", 41, ""}, {"sanitised", "erasure 1", 65, ""}, {"failed", "erasure 2", 88, ""}}},
		{name: "Blancco: no serial, unknown standard", file: "../blancco/missing-serial.xml", typ: ledger.HDD,
			want: []outcome{{"refused", "erasure 0", 21, "missing-serial.xml:21: erasure 0 of report"}, {"refused", "erasure 1", 38, "missing-serial.xml:38: erasure 1"},
				{"refused", "erasure 2", 54, "missing-serial.xml:54: erasure 2"}}},
		{name: "Blancco: --serial for an erasure", file: "../blancco/missing-serial.xml", typ: ledger.HDD,
			serials: map[string]string{"erasure 0": "BL-0", "erasure 2": "BL-2"},
			want:    []outcome{{"", "erasure 0", 21, ""}, {"refused", "erasure 1", 38, "missing-serial.xml:38"}, {"", "erasure 2", 54, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLedger(t)
			res := importFiles(t, s, []string{filepath.Join(fixtures, tc.file)}, Options{Serials: tc.serials}, ledger.EvidenceImportOptions{Type: tc.typ})
			got := outcomes(res)
			if len(got) != len(tc.want) {
				t.Fatalf("outcomes %+v, want %+v", got, tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if (w.outcome != "" && g.outcome != w.outcome) || (w.outcome == "" && g.outcome == "refused") || g.path != w.path || g.line != w.line || !strings.HasPrefix(g.problem, w.problem) {
					t.Errorf("device %d: %+v, want %+v", i, g, w)
				}
			}
			if len(res.Files) != 1 || !res.Files[0].New || res.Files[0].SHA256 == "" {
				t.Fatalf("files %+v", res.Files)
			}
			for _, f := range res.Files {
				for _, d := range f.Devices {
					if d.Outcome == "refused" {
						continue
					}
					h, err := s.History(d.Serial)
					if err != nil {
						t.Fatal(err)
					}
					if len(h.Erasures) != 1 || h.Erasures[0].Outcome != d.Outcome || len(h.Evidence) != 1 || h.Evidence[0].SHA256 != f.SHA256 {
						t.Errorf("%s history: erasures %+v evidence %+v", d.Serial, h.Erasures, h.Evidence)
					}
					switch d.Outcome {
					case ledger.OutcomeSanitised:
						if len(h.Disposals) != 1 || h.Disposals[0].UUID != d.Disposal {
							t.Fatalf("%s: disposals %+v, want %s", d.Serial, h.Disposals, d.Disposal)
						}
						p := h.Disposals[0]
						if tc.tool == "" {
							break // checked by other cases
						}
						if p.Method != ledger.Overwrite || p.Category != ledger.Clear || !strings.HasPrefix(p.Tool, tc.tool) ||
							p.Standard != tc.standard || p.Verified != tc.verified || p.DisposedOn != tc.on || p.Contractor != "WipeCo" {
							t.Errorf("%s: disposal %+v", d.Serial, p)
						}
					default: // a failure or a verification is never a disposal
						if len(h.Disposals) != 0 {
							t.Errorf("%s: %s recorded disposals %+v", d.Serial, d.Outcome, h.Disposals)
						}
					}
				}
			}
			if _, err := s.Verify(ledger.VerifyOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestImportEvidence_FailedNeedsDestruction: a failed wipe is counted
// nowhere as disposed, is in the device's history, and lists the device
// as needing destruction until a disposal is recorded after it.
func TestImportEvidence_FailedNeedsDestruction(t *testing.T) {
	s := mustLedger(t)
	res := importFiles(t, s, []string{filepath.Join(fixtures, "nwipe_log_20250402-140010.txt")}, Options{}, ledger.EvidenceImportOptions{Type: ledger.HDD})
	if res.Failed != 1 || res.Sanitised != 0 || res.DevicesAdded != 1 {
		t.Fatalf("result %+v", res)
	}
	rows, err := s.Report(ledger.ReportQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Count != 0 {
			t.Errorf("report counts a failed wipe: %+v", r)
		}
	}
	nd, err := s.DevicesNeedingDestruction()
	if err != nil || len(nd) != 1 || nd[0].Device.Serial != "Z9A1B2C3" || !strings.Contains(nd[0].Erasure.Detail, "12 verification errors") {
		t.Fatalf("needs destruction: %+v, %v", nd, err)
	}
	var list strings.Builder
	if _, err := s.WriteDeviceList(&list, ledger.ListQuery{NeedsDestruction: true}, "csv"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "Z9A1B2C3") {
		t.Errorf("device list --needs-destruction:\n%s", list.String())
	}
	if _, err := s.RecordDisposal(ledger.Disposal{Serial: "Z9A1B2C3", Method: "shred", Contractor: "WipeCo", DisposedOn: "2025-04-03"}); err != nil {
		t.Fatal(err)
	}
	if nd, err := s.DevicesNeedingDestruction(); err != nil || len(nd) != 0 {
		t.Fatalf("after shredding: %+v, %v", nd, err)
	}
}

// TestImportEvidence_Again: importing the same reports again changes
// nothing (no event is written); a refused device imported later with
// --serial is recorded and the rest stays unchanged.
func TestImportEvidence_Again(t *testing.T) {
	s := mustLedger(t)
	files := []string{filepath.Join(fixtures, "nwipe_log_20250314-091502.txt"), filepath.Join(fixtures, "nwipe_log_20261201-224840.txt")}
	first := importFiles(t, s, files, Options{}, ledger.EvidenceImportOptions{Type: ledger.HDD})
	if first.Sanitised != 1 || first.Refused != 2 || first.FilesAdded != 2 {
		t.Fatalf("first import %+v", first)
	}
	n, _ := s.EventCount()
	again := importFiles(t, s, files, Options{}, ledger.EvidenceImportOptions{Type: ledger.HDD})
	if m, _ := s.EventCount(); m != n || again.Unchanged != 1 || again.FilesAdded != 0 || again.Sanitised != 0 {
		t.Fatalf("again: %d events (was %d), %+v", m, n, again)
	}
	withSerials := importFiles(t, s, files, Options{Serials: map[string]string{"/dev/loop1": "L1", "/dev/loop2": "L2"}}, ledger.EvidenceImportOptions{Type: ledger.HDD})
	if withSerials.Sanitised != 2 || withSerials.Unchanged != 1 || withSerials.Refused != 0 || withSerials.FilesAdded != 0 {
		t.Fatalf("with serials %+v", withSerials)
	}
	if _, err := s.Verify(ledger.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestImportEvidence_Contradiction: a report whose device has another
// model than the ledger's is refused naming both; a dry run records nothing.
func TestImportEvidence_Contradiction(t *testing.T) {
	s := mustLedger(t)
	if _, err := s.AddDevice(ledger.Device{Serial: "WD-WCC2E1234567", Type: ledger.HDD, Model: "Barracuda 7200"}); err != nil {
		t.Fatal(err)
	}
	n, _ := s.EventCount()
	dry := importFiles(t, s, []string{filepath.Join(fixtures, "nwipe_log_20250314-091502.txt")}, Options{}, ledger.EvidenceImportOptions{DryRun: true})
	if m, _ := s.EventCount(); m != n || dry.Refused != 1 {
		t.Fatalf("dry run: %d events (was %d), %+v", m, n, dry)
	}
	res := importFiles(t, s, []string{filepath.Join(fixtures, "nwipe_log_20250314-091502.txt")}, Options{}, ledger.EvidenceImportOptions{})
	got := outcomes(res)
	if len(got) != 1 || got[0].outcome != "refused" || !strings.Contains(got[0].problem, "WDC WD5000AAKX-00ERMA0") ||
		!strings.Contains(got[0].problem, "Barracuda 7200") || !strings.Contains(got[0].problem, "already in the ledger with different device data") {
		t.Fatalf("contradiction: %+v", got)
	}
	// The same model (as the ledger spells it) is no contradiction.
	s2 := mustLedger(t)
	if _, err := s2.AddDevice(ledger.Device{Serial: "WD-WCC2E1234567", Type: ledger.HDD, Make: "WDC", Model: "WD5000AAKX-00ERMA0"}); err != nil {
		t.Fatal(err)
	}
	if res := importFiles(t, s2, []string{filepath.Join(fixtures, "nwipe_log_20250314-091502.txt")}, Options{}, ledger.EvidenceImportOptions{}); res.Sanitised != 1 || res.DevicesAdded != 0 {
		t.Fatalf("same model: %+v", res)
	}
}

// TestImportEvidence_NoContractor: a sanitisation with no contractor
// fails the import as a whole, with what to do.
func TestImportEvidence_NoContractor(t *testing.T) {
	s := mustLedger(t)
	r, err := NewReader([]string{filepath.Join(fixtures, "nwipe_log_20250520-083000.txt")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportEvidence(r.Next, ledger.EvidenceImportOptions{})
	if !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), "default_contractor") {
		t.Fatalf("err %v", err)
	}
	if err := s.SetSetting(ledger.SettingDefaultContractor, "WipeCo", ""); err != nil {
		t.Fatal(err)
	}
	r, _ = NewReader([]string{filepath.Join(fixtures, "nwipe_log_20250520-083000.txt")}, Options{})
	if res, err := s.ImportEvidence(r.Next, ledger.EvidenceImportOptions{}); err != nil || res.Sanitised != 1 {
		t.Fatalf("with default_contractor: %+v, %v", res, err)
	}
}

// TestDetectFormat tells formats from content, never names.
func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"nwipe_log_20250314-091502.txt", ledger.EvidenceNwipeLog},
		{"nwipe_log_20261201-224842.txt", ledger.EvidenceNwipeLog},
		{"nwipe_report_2025-04-02-18-22-01_Model_ST1000DM010_2EP102_Serial_Z9A1B2C3_device_sdc.json", ledger.EvidenceNwipeJSON},
		{"README.md", ""},
		{"json-fixtures.c", ""},
		{"../blancco/management-console-export.xml", ledger.EvidenceBlancco},
		{"nwipe_report_2025-03-14-12-40-10_Model_WDC_WD5000AAKX_00ERMA0_Serial_WD_WCC2E1234567_device_sdb.pdf", ledger.EvidenceNwipePDF},
	} {
		data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		f, ok := DetectFormat(data)
		if f.Name != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: detected %q, want %q", tc.file, f.Name, tc.want)
		}
	}
	// A file given by name that is no report is refused; in a folder, skipped.
	r, err := NewReader([]string{filepath.Join(fixtures, "README.md")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("README.md: %v", err)
	}
	r, _ = NewReader([]string{fixtures}, Options{})
	for {
		_, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	if len(r.Skipped) != 2 {
		t.Errorf("skipped %v, want README.md and json-fixtures.c", r.Skipped)
	}
	// A PDF that is not nwipe's report (one of itad's own certificates,
	// say) is refused by name and skipped in a folder.
	dir := t.TempDir()
	other := filepath.Join(dir, "certificate.pdf")
	if err := os.WriteFile(other, []byte("%PDF-1.3\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ = NewReader([]string{other}, Options{})
	if _, _, err := r.Next(); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "not an nwipe PDF disk report") {
		t.Errorf("another PDF: %v", err)
	}
	r, _ = NewReader([]string{dir}, Options{})
	if _, ok, err := r.Next(); ok || err != nil || len(r.Skipped) != 1 {
		t.Errorf("another PDF in a folder: ok %v, %v, skipped %v", ok, err, r.Skipped)
	}
}

// TestParseSerials reads --serial PATH=SERIAL.
func TestParseSerials(t *testing.T) {
	for _, tc := range []struct {
		in  []string
		ok  bool
		out string
	}{
		{[]string{"/dev/sdb=WD-WX41A9"}, true, "WD-WX41A9"},
		{[]string{"/dev/sdb"}, false, ""},
		{[]string{"=X"}, false, ""},
		{[]string{"/dev/sdb=A", "/dev/sdb=B"}, false, ""},
	} {
		m, err := ParseSerials(tc.in)
		if (err == nil) != tc.ok || (tc.ok && m["/dev/sdb"] != tc.out) {
			t.Errorf("%v: %v, %v", tc.in, m, err)
		}
	}
}

// FuzzReadReport: any bytes read as a report either fail cleanly or give
// erasures whose refusals name the file.
func FuzzReadReport(f *testing.F) {
	for _, name := range []string{"nwipe_log_20250314-091502.txt", "nwipe_log_20250520-083000.txt",
		"nwipe_report_2025-04-02-18-22-01_Model_ST1000DM010_2EP102_Serial_Z9A1B2C3_device_sdc.json", "../blancco/drive-eraser-three-drives.xml"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, ok := DetectFormat(data)
		if !ok {
			return
		}
		ers, err := fm.Parse("r.txt", data, time.UTC)
		if err != nil {
			return
		}
		for _, e := range ers {
			if e.Err != nil && !strings.HasPrefix(e.Err.Error(), "r.txt:") {
				t.Fatalf("refusal does not name the file: %v", e.Err)
			}
			if e.Err == nil && e.Serial == "" {
				t.Fatalf("an erasure with no serial and no refusal: %+v", e)
			}
		}
	})
}
