package nwipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// want is the part of a Device a test case pins.
type want struct {
	Path, Serial, Model, Size, Bus string
	SizeBytes                      int64
	Tool, MethodName               string
	Method                         ledger.Method
	VerifyOnly                     bool
	Verify                         Verify
	Rounds, Passes                 int
	Blank                          bool
	Start, End                     string // "2006-01-02 15:04:05" in the test's zone
	Duration                       time.Duration
	PassErrors, VerifyErrors       uint64
	Status                         Status
	Sanitised, Verified            bool
	Err                            string // substring of the device's error, "" for none
	Line                           int
}

func parseFile(t *testing.T, name string, loc *time.Location) []Device {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "nwipe", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := Parse(name, f, loc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return ds
}

func check(t *testing.T, loc *time.Location, got []Device, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d devices, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		d := got[i]
		ts := func(s string) time.Time {
			v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		type pair struct {
			name      string
			got, want any
		}
		for _, p := range []pair{
			{"Path", d.Path, w.Path}, {"Serial", d.Serial, w.Serial}, {"Model", d.Model, w.Model},
			{"Size", d.Size, w.Size}, {"Bus", d.Bus, w.Bus}, {"SizeBytes", d.SizeBytes, w.SizeBytes},
			{"Tool", d.Tool, w.Tool}, {"MethodName", d.MethodName, w.MethodName}, {"Method", d.Method, w.Method},
			{"VerifyOnly", d.VerifyOnly, w.VerifyOnly}, {"Verify", d.Verify, w.Verify}, {"Rounds", d.Rounds, w.Rounds},
			{"Passes", d.Passes, w.Passes}, {"Blank", d.Blank, w.Blank},
			{"Start", d.Start.Equal(ts(w.Start)), true}, {"End", d.End.Equal(ts(w.End)), true},
			{"Duration", d.Duration, w.Duration}, {"PassErrors", d.PassErrors, w.PassErrors},
			{"VerifyErrors", d.VerifyErrors, w.VerifyErrors}, {"Status", d.Status, w.Status},
			{"Sanitised", d.Sanitised(), w.Sanitised}, {"Verified", d.Verified(), w.Verified}, {"Line", d.Line, w.Line},
		} {
			if p.got != p.want {
				t.Errorf("device %d (%s) %s = %v, want %v", i, d.Path, p.name, p.got, p.want)
			}
		}
		switch {
		case w.Err == "" && d.Err != nil:
			t.Errorf("device %d (%s): unexpected error %v", i, d.Path, d.Err)
		case w.Err != "" && (d.Err == nil || !strings.Contains(d.Err.Error(), w.Err)):
			t.Errorf("device %d (%s): error %v, want one containing %q", i, d.Path, d.Err, w.Err)
		}
	}
}

func TestParse_Fixtures(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	loopRaw := "nwipe_log_20261201-224840.txt:2: /dev/loop1: no readable serial: S/N= holds \" \\xe0\\x7f\\xcd&\\x7f\", which is not a printable serial"
	for _, tc := range []struct {
		name, file string
		want       []want
	}{
		{"OK", "nwipe_log_20250314-091502.txt", []want{{
			Path: "/dev/sdb", Serial: "WD-WCC2E1234567", Model: "WDC WD5000AAKX-00ERMA0", Size: "500 GB", Bus: "ATA",
			SizeBytes: 500107862016, Tool: "nwipe 0.38", MethodName: "DoD 5220.22-M", Method: ledger.Overwrite,
			Verify: VerifyAll, Rounds: 1, Passes: 7, Blank: true,
			Start: "2025-03-14 09:15:03", End: "2025-03-15 04:15:02", Duration: 19 * time.Hour,
			Status: StatusErased, Sanitised: true, Verified: true, Line: 1,
		}}},
		{"Failed", "nwipe_log_20250402-140010.txt", []want{{
			Path: "/dev/sdc", Serial: "Z9A1B2C3", Model: "ST1000DM010-2EP102", Size: "1 TB", Bus: "ATA",
			SizeBytes: 1000204886016, Tool: "nwipe 0.38", MethodName: "PRNG Stream", Method: ledger.Overwrite,
			Verify: VerifyLast, Rounds: 1, Passes: 1, Blank: true,
			Start: "2025-04-02 14:00:11", End: "2025-04-02 18:22:01", Duration: 4*time.Hour + 21*time.Minute + 50*time.Second,
			PassErrors: 1, VerifyErrors: 12, Status: StatusFailed, Line: 1,
		}}},
		{"NoSerialAndTwoDevices", "nwipe_log_20250520-083000.txt", []want{{
			Path: "/dev/sda", Model: "JMicron Generic", Size: "256 GB", Bus: "USB", SizeBytes: 256060514304,
			Tool: "nwipe 0.38", MethodName: "Fill With Zeros", Method: ledger.Overwrite, Verify: VerifyOff, Rounds: 1, Passes: 1,
			Start: "2025-05-20 08:30:01", End: "2025-05-20 09:02:40", Duration: 32*time.Minute + 39*time.Second,
			Status: StatusErased, Line: 1,
			Err: "nwipe_log_20250520-083000.txt:1: /dev/sda: no readable serial: nwipe printed no serial (S/N= is empty)",
		}, {
			Path: "/dev/nvme0n1", Serial: "S4EVNX0N123456A", Model: "Samsung SSD 970 EVO Plus 500GB", Size: "500 GB", Bus: "NVME",
			SizeBytes: 500107862016, Tool: "nwipe 0.38", MethodName: "Fill With Zeros", Method: ledger.Overwrite,
			Verify: VerifyOff, Rounds: 1, Passes: 1,
			Start: "2025-05-20 08:30:01", End: "2025-05-20 08:47:12", Duration: 17*time.Minute + 11*time.Second,
			Status: StatusErased, Sanitised: true, Line: 2,
		}}},
		// Real nwipe 0.33 runs on loop devices (see testdata/nwipe/README.md):
		// the serials are stray bytes, so every device is refused.
		{"RealZeroInvalidSerial", "nwipe_log_20261201-224838.txt", []want{{
			Path: "/dev/loop0", Model: "Loopback device", Size: "8 MB", Bus: "VIRT", SizeBytes: 8388608,
			Tool: "nwipe 0.33", MethodName: "Fill With Zeros", Method: ledger.Overwrite, Verify: VerifyLast, Rounds: 1, Passes: 1, Blank: true,
			Start: "2026-12-01 22:48:38", End: "2026-12-01 22:48:38", Status: StatusErased, Line: 2,
			Err: `/dev/loop0: no readable serial: S/N= holds " ` + "`" + `\x19G\xfc~"`,
		}}},
		{"RealDodShortTwoDevices", "nwipe_log_20261201-224840.txt", []want{{
			Path: "/dev/loop1", Model: "Loopback device", Size: "8 MB", Bus: "VIRT", SizeBytes: 8388608,
			Tool: "nwipe 0.33", MethodName: "DoD Short", Method: ledger.Overwrite, Verify: VerifyAll, Rounds: 1, Passes: 3, Blank: true,
			Start: "2026-12-01 22:48:40", End: "2026-12-01 22:48:40", Status: StatusErased, Line: 2, Err: loopRaw,
		}, {
			Path: "/dev/loop2", Model: "Loopback device", Size: "8 MB", Bus: "VIRT", SizeBytes: 8388608,
			Tool: "nwipe 0.33", MethodName: "DoD Short", Method: ledger.Overwrite, Verify: VerifyAll, Rounds: 1, Passes: 3, Blank: true,
			Start: "2026-12-01 22:48:40", End: "2026-12-01 22:48:40", Status: StatusErased, Line: 4, Err: ":4: /dev/loop2: no readable serial",
		}}},
		{"RealVerifyZerosOnly", "nwipe_log_20261201-224842.txt", []want{{
			Path: "/dev/loop0", Model: "Loopback device", Size: "8 MB", Bus: "VIRT", SizeBytes: 8388608,
			Tool: "nwipe 0.33", MethodName: "Verify Zeros (0x00)", VerifyOnly: true, Verify: VerifyLast, Rounds: 1, Blank: true,
			Start: "2026-12-01 22:48:42", End: "2026-12-01 22:48:42", Status: StatusErased, Line: 2,
			Err: "no readable serial",
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, london, parseFile(t, tc.file, london), tc.want)
		})
	}
}
