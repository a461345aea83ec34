package nwipe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// logOf builds a one-run nwipe log (0.38 layout) for device /dev/sdb with
// the given method, Error Summary row and Drive Status row; "" leaves a
// table out.
func logOf(method, errRow, statusRow, total string) string {
	s := `[2025/06/01 10:00:00]  notice: Found /dev/sdb, SATA, TOSHIBA DT01ACA050, 500 GB, S/N=  X3UABC12  
[2025/06/01 10:00:00]  notice:   banner       = nwipe 0.38
[2025/06/01 10:00:00]  notice:   method       = ` + method + `
[2025/06/01 10:00:00]  notice:   rounds       = 2
[2025/06/01 10:00:00]  notice:   verify       = 1 (last pass)
[2025/06/01 10:00:01]  notice: Invoking method '` + method + `' on /dev/sdb
[2025/06/01 10:30:00]  notice: Finished final round 2 of 2 on /dev/sdb
`
	if errRow != "" {
		s += "\n******************************** Error Summary *********************************\n" +
			"!   Device | Pass Errors | Verifications Errors | Fdatasync I\\O Errors\n" +
			"--------------------------------------------------------------------------------\n" + errRow + "\n" +
			"********************************************************************************\n"
	}
	if statusRow != "" {
		s += "\n********************************* Drive Status *********************************\n" +
			"!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number\n" +
			"--------------------------------------------------------------------------------\n" + statusRow + "\n" +
			"--------------------------------------------------------------------------------\n"
	}
	if total != "" {
		s += "[2025/06/01 10:30:02] Total Throughput  100MB/s, " + method + ", " + total + "\n"
	}
	return s
}

const okErrRow = "       sdb |           0 |                    0 |                    0"

func TestParse_Cases(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		status    Status
		sanitised bool
		verified  bool
		method    ledger.Method
		err       string
	}{
		{"OK", logOf("Gutmann Wipe", okErrRow, "       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusErased, true, true, ledger.Overwrite, ""},
		{"VerifyOnesOnly", logOf("Verify Ones  (0xFF)", okErrRow, "       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusErased, false, true, "", ""},
		{"ErrorsOverrideErasedStatus", logOf("Fill With Ones", "!      sdb |           0 |                    0 |                    3", "       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusErased, false, false, ledger.Overwrite, ""},
		{"Aborted", logOf("DoD Short", okErrRow, "!      sdb |UABORTED|  100MB/s | 00:10:00 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusAborted, false, false, ledger.Overwrite, ""},
		{"Insanity", logOf("DoD Short", okErrRow, "       sdb |INSANITY|  100MB/s | 00:10:00 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusInsanity, false, false, ledger.Overwrite, ""},
		{"UnknownStatus", logOf("DoD Short", okErrRow, "       sdb |  ????  |  100MB/s | 00:10:00 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusUnknown, false, false, ledger.Overwrite, ""},
		{"CutOffBeforeSummary", logOf("PRNG Stream", "", "", ""),
			StatusIncomplete, false, false, ledger.Overwrite, ""},
		{"UnknownMethod", logOf("Secure Erase (ATA)", okErrRow, "       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"),
			StatusErased, false, false, "", `t.txt:1: /dev/sdb: unknown nwipe method "Secure Erase (ATA)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse("t.txt", strings.NewReader(tc.log), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 {
				t.Fatalf("got %d devices, want 1", len(ds))
			}
			d := ds[0]
			if d.Serial != "X3UABC12" || d.RawSerial != "  X3UABC12  " {
				t.Errorf("serial %q raw %q", d.Serial, d.RawSerial)
			}
			if d.Status != tc.status || d.Sanitised() != tc.sanitised || d.Verified() != tc.verified || d.Method != tc.method {
				t.Errorf("status %s sanitised %v verified %v method %q, want %s %v %v %q",
					d.Status, d.Sanitised(), d.Verified(), d.Method, tc.status, tc.sanitised, tc.verified, tc.method)
			}
			if (tc.err == "") != (d.Err == nil) || d.Err != nil && d.Err.Error() != tc.err {
				t.Errorf("err %v, want %q", d.Err, tc.err)
			}
			if d.Rounds != 2 || d.Verify != VerifyLast || d.Tool != "nwipe 0.38" || d.Bus != "SATA" {
				t.Errorf("rounds %d verify %s tool %q bus %q", d.Rounds, d.Verify, d.Tool, d.Bus)
			}
		})
	}
}

// An appended log holds two runs; the same device may fail in the first
// and succeed in the second, and each run keeps its own options.
func TestParse_TwoRunsInOneFile(t *testing.T) {
	first := logOf("DoD Short", "!      sdb |           5 |                    0 |                    0",
		"!      sdb |-FAILED-|  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL")
	second := strings.ReplaceAll(logOf("Fill With Zeros", okErrRow,
		"       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+NB+VL"), "2025/06/01", "2025/06/02")
	ds, err := Parse("t.txt", strings.NewReader(first+second), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("got %d devices, want 2", len(ds))
	}
	if ds[0].Status != StatusFailed || ds[0].PassErrors != 5 || ds[0].Sanitised() || ds[0].MethodName != "DoD Short" || !ds[0].Blank {
		t.Errorf("first run: %+v", ds[0])
	}
	if !ds[1].Sanitised() || ds[1].MethodName != "Fill With Zeros" || ds[1].Blank || ds[1].Line != 21 ||
		ds[1].Start.Format(time.DateTime) != "2025-06-02 10:00:01" {
		t.Errorf("second run: line %d start %v %+v", ds[1].Line, ds[1].Start, ds[1])
	}
}

// Timestamps carry no zone: the same log read in two zones gives instants
// that differ by the zones' offset.
func TestParse_TimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	log := logOf("Fill With Zeros", okErrRow, "       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL")
	u, _ := Parse("t.txt", strings.NewReader(log), time.UTC)
	n, _ := Parse("t.txt", strings.NewReader(log), ny)
	if d := n[0].Start.Sub(u[0].Start); d != 4*time.Hour {
		t.Errorf("New York start - UTC start = %v, want 4h (EDT)", d)
	}
	if n[0].End.Format(time.DateTime) != "2025-06-01 10:30:00" {
		t.Errorf("end %v", n[0].End)
	}
	if _, err := Parse("t.txt", strings.NewReader(log), nil); err == nil {
		t.Error("nil location: no error")
	}
}

// A device name that is a prefix of another (/dev/loop1, /dev/loop10)
// does not take the other's lines.
func TestParse_DevicePrefix(t *testing.T) {
	log := `[2025/06/01 10:00:00]  notice: Found /dev/loop1, VIRT, Loopback device,   8 MB, S/N=A1
[2025/06/01 10:00:00]  notice: Found /dev/loop10, VIRT, Loopback device,   8 MB, S/N=A10
[2025/06/01 10:00:00]  notice:   method   = Fill With Zeros
[2025/06/01 10:00:01]  notice: Invoking method 'Fill With Zeros' on /dev/loop1
[2025/06/01 10:00:01]  notice: Invoking method 'Fill With Zeros' on /dev/loop10
[2025/06/01 10:00:05]  notice: Finished final round 1 of 1 on /dev/loop1
[2025/06/01 10:00:09]  notice: Finished final round 1 of 1 on /dev/loop10
********************************* Drive Status *********************************
!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number
--------------------------------------------------------------------------------
     loop1 | Erased |   0 B/s | 00:00:04 | Loopback device/A1
    loop10 |-FAILED-|   0 B/s | 00:00:08 | Loopback device/A10
--------------------------------------------------------------------------------
[2025/06/01 10:00:10] Total Throughput   0 B/s, Fill With Zeros, 1R+B+NV
`
	ds, err := Parse("t.txt", strings.NewReader(log), time.UTC)
	if err != nil || len(ds) != 2 {
		t.Fatalf("%v %d", err, len(ds))
	}
	if ds[0].End.Second() != 5 || ds[1].End.Second() != 9 || ds[0].Status != StatusErased || ds[1].Status != StatusFailed {
		t.Errorf("loop1 end %v %s, loop10 end %v %s", ds[0].End, ds[0].Status, ds[1].End, ds[1].Status)
	}
}

func TestParse_NotNwipeLog(t *testing.T) {
	for name, in := range map[string]string{
		"empty":    "",
		"csv":      "serial,model\nA1,X\n",
		"longLine": strings.Repeat("x", maxLine+10),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("t.txt", strings.NewReader(in), time.UTC); !errors.Is(err, ErrNotNwipeLog) {
				t.Errorf("err %v, want ErrNotNwipeLog", err)
			}
		})
	}
}

func TestDevice_SetSerial(t *testing.T) {
	ds := parseFile(t, "nwipe_log_20261201-224838.txt", time.UTC)
	d := ds[0]
	if !errors.Is(d.Err, ErrNoSerial) {
		t.Fatalf("err %v, want ErrNoSerial", d.Err)
	}
	if err := d.SetSerial("bad\x7f"); err == nil || d.Err == nil {
		t.Errorf("non-printable serial accepted: %v", err)
	}
	if err := d.SetSerial(" WD-WX41A9 "); err != nil || d.Serial != "WD-WX41A9" || !d.Sanitised() || !d.Verified() {
		t.Errorf("SetSerial: %v, serial %q sanitised %v", err, d.Serial, d.Sanitised())
	}
	u := Device{Path: "/dev/sdb", Err: &DeviceError{Msg: "unknown nwipe method"}}
	if err := u.SetSerial("A1"); err == nil {
		t.Error("SetSerial cleared an unknown-method refusal")
	}
}

func TestMethodFor(t *testing.T) {
	for label, w := range map[string]struct {
		m      ledger.Method
		vo, ok bool
	}{
		"Fill With Zeros": {ledger.Overwrite, false, true}, "Fill With Ones": {ledger.Overwrite, false, true},
		"DoD Short": {ledger.Overwrite, false, true}, "DoD 5220.22-M": {ledger.Overwrite, false, true},
		"Gutmann Wipe": {ledger.Overwrite, false, true}, "PRNG Stream": {ledger.Overwrite, false, true},
		"RCMP TSSIT OPS-II": {ledger.Overwrite, false, true}, "HMG IS5 Enhanced": {ledger.Overwrite, false, true},
		"Bruce Schneier 7-Pass": {ledger.Overwrite, false, true}, "BMB21-2019": {ledger.Overwrite, false, true},
		"Verify Zeros (0x00)": {"", true, true}, "Verify Ones  (0xFF)": {"", true, true},
		"Verify Zeros": {"", true, true}, "Verify Ones": {"", true, true}, "Verify Ones (0xFF)": {"", true, true},
		"Unknown Method (FIXME)": {"", false, false}, "": {"", false, false},
	} {
		m, vo, ok := MethodFor(label)
		if m != w.m || vo != w.vo || ok != w.ok {
			t.Errorf("MethodFor(%q) = %q %v %v, want %q %v %v", label, m, vo, ok, w.m, w.vo, w.ok)
		}
	}
}

// A run killed before its summary, then a fresh run appended to the same
// log: the first stays incomplete, the second is read on its own.
func TestParse_CutOffThenRerun(t *testing.T) {
	first := logOf("PRNG Stream", "", "", "")
	second := strings.ReplaceAll(logOf("Fill With Zeros", okErrRow,
		"       sdb | Erased |  100MB/s | 00:29:59 | TOSHIBA DT01ACA050/X3UABC12", "2R+B+VL"), "2025/06/01", "2025/06/02")
	ds, err := Parse("t.txt", strings.NewReader(first+second), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Status != StatusIncomplete || ds[0].Sanitised() || ds[0].MethodName != "PRNG Stream" ||
		!ds[1].Sanitised() || ds[1].Line != 8 || ds[1].Start.Day() != 2 || ds[0].End.Day() != 1 {
		t.Fatalf("%+v", ds)
	}
}
