// Package nwipe reads the log file nwipe and ShredOS write
// (nwipe_log_YYYYMMDD-HHMMSS.txt) into one result per device wiped: the
// device, its serial, the method and verification, the times and the
// outcome. ParseJSON reads nwipe's per-device JSON report
// (org.nwipe.report.v1, see json.go) into the same Device values, and
// Detect tells the two apart from content. It returns plain values and
// touches no database: the ledger side decides what to record.
//
// The format, as nwipe's src/logging.c, src/device.c, src/options.c,
// src/method.c and src/pass.c write it (0.33 as Debian ships it, and the
// master branch):
//
//	[2026/12/01 22:48:38]  notice: Found /dev/sdb, ATA, WDC WD5000AAKX, 500 GB, S/N=WD-WCC2E1234567
//	[2026/12/01 22:48:38]  notice:   banner   = nwipe 0.33
//	[2026/12/01 22:48:38]  notice:   method   = Fill With Zeros
//	[2026/12/01 22:48:38]  notice:   rounds   = 1
//	[2026/12/01 22:48:38]  notice:   verify   = 1 (last pass)
//	[2026/12/01 22:48:38]  notice: Invoking method 'Fill With Zeros' on /dev/sdb
//	[2026/12/01 22:48:38]  notice: Starting pass 1/1, round 1/1, on /dev/sdb
//	...
//	******************************** Error Summary *********************************
//	!   Device | Pass Errors | Verifications Errors | Fdatasync I\O Errors
//	--------------------------------------------------------------------------------
//	       sdb |           0 |                    0 |                    0
//	********************************* Drive Status *********************************
//	!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number
//	--------------------------------------------------------------------------------
//	       sdb | Erased |  120MB/s | 01:25:04 | WDC WD5000AAKX/WD-WCC2E1234567
//	--------------------------------------------------------------------------------
//	[2026/12/01 23:10:42] Total Throughput  120MB/s, Fill With Zeros, 1R+B+VL
//
// Timestamps are the machine's local time with no zone, so Parse takes the
// *time.Location they were written in. The options block spaces its "="
// differently between versions ("method   =", "method       ="). The
// summary tables name a device by the last nine characters of its name
// after the final "/", right-justified; nwipe opens the log for appending,
// so one file may hold several runs, each ending with its own "Total
// Throughput" line. A run cut off before its summary leaves its devices
// StatusIncomplete.
package nwipe

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/itad/itad/ledger"
)

// ErrNotNwipeLog is returned by Parse for input with no line nwipe writes.
var ErrNotNwipeLog = errors.New("not an nwipe log")

// ErrNoSerial is wrapped by a DeviceError for a device whose serial nwipe
// printed empty or as bytes that are not a printable serial.
var ErrNoSerial = errors.New("no readable serial")

// Status is a drive's outcome in the Drive Status table.
type Status string

// Drive outcomes. Only StatusErased can be a sanitisation (see
// Device.Sanitised).
const (
	StatusErased     Status = "erased"     // " Erased "
	StatusFailed     Status = "failed"     // "-FAILED-": pass, verify or fdatasync errors
	StatusAborted    Status = "aborted"    // "UABORTED": the user aborted
	StatusInsanity   Status = "insanity"   // "INSANITY": nwipe's own "this is a bug"
	StatusIncomplete Status = "incomplete" // the run has no summary row for the device
	StatusUnknown    Status = "unknown"    // a status this parser does not know
)

// Verify is nwipe's --verify setting.
type Verify string

// nwipe's verify settings ("verify = 0 (off)", "1 (last pass)", "2 (all passes)").
const (
	VerifyOff  Verify = "off"
	VerifyLast Verify = "last"
	VerifyAll  Verify = "all"
)

// Device is the result of one run of nwipe on one device.
type Device struct {
	File string // the log's name, as given to Parse
	Line int    // 1-based line of the device's "Found" line (else its first mention)
	Path string // "/dev/sdb"
	Bus  string // nwipe's type text: "ATA", "USB", "NVME", "VIRT", ...
	// Model and Size are as nwipe printed them ("WDC WD5000AAKX", "500 GB").
	Model string
	Size  string
	// SizeBytes is the device size in bytes where the log gives it (0.33's
	// "sect/blk/dev 512/4096/N", or the Erasure Summary's Bytes Total), else 0.
	SizeBytes int64
	// Serial is the trimmed serial; RawSerial is what nwipe printed after "S/N=".
	Serial    string
	RawSerial string
	Tool      string // "nwipe 0.33", from the banner option
	// MethodName is nwipe's method label ("DoD Short", "Verify Zeros (0x00)").
	MethodName string
	// Method is the ledger method the nwipe method is (ledger.Overwrite for
	// every overwrite), or "" for a verification-only method.
	Method ledger.Method
	// VerifyOnly is set for "Verify Zeros" and "Verify Ones": they read the
	// device to check an earlier wipe and never sanitise it.
	VerifyOnly bool
	Verify     Verify
	Rounds     int
	Passes     int  // passes per round, from "Starting pass 1/N"; 0 if none ran
	Blank      bool // a final blanking (zero) pass ("B" rather than "NB")
	// Start is the time of "Invoking method ... on PATH"; End the time of the
	// last timestamped line naming the device (or the run's summary time).
	Start, End time.Time
	Duration   time.Duration // the Drive Status table's HH:MM:SS
	// The Error Summary table's counts.
	PassErrors, VerifyErrors, SyncErrors uint64
	Status                               Status
	StatusText                           string // as printed: "-FAILED-"
	// Err is set when the device cannot be recorded (a *DeviceError, e.g.
	// wrapping ErrNoSerial); the other devices in the log are unaffected.
	Err error
}

// Failed reports whether the erasure did not succeed: any status but
// Erased, or any pass, verification or fdatasync error.
func (d *Device) Failed() bool {
	return d.Status != StatusErased || d.PassErrors != 0 || d.VerifyErrors != 0 || d.SyncErrors != 0
}

// Sanitised reports whether the result is a sanitisation: an overwrite
// method that succeeded with no errors. A verification-only method or a
// failure never is.
func (d *Device) Sanitised() bool {
	return d.Err == nil && !d.VerifyOnly && d.Method != "" && !d.Failed()
}

// Verified reports whether the result includes a successful read-back:
// verify last or all on a sanitisation, or a verification-only method that
// succeeded.
func (d *Device) Verified() bool {
	if d.Err != nil || d.Failed() {
		return false
	}
	return d.VerifyOnly || d.Verify == VerifyLast || d.Verify == VerifyAll
}

// SetSerial supplies the serial for a device whose log has none readable
// (itad's --serial PATH=SERIAL). It returns an error for a serial that is
// not printable ASCII, or when d was refused for another reason (an
// unknown method), leaving d unchanged.
func (d *Device) SetSerial(serial string) error {
	s := strings.Trim(serial, " ")
	if !validSerial(s) {
		return fmt.Errorf("%s: serial %q is not printable ASCII", d.Path, serial)
	}
	if d.Err != nil && !errors.Is(d.Err, ErrNoSerial) {
		return d.Err
	}
	d.Serial, d.Err = s, nil
	return nil
}

// DeviceError is why one device in a log cannot be recorded. Its message
// names the file, the line and the device path.
type DeviceError struct {
	File string
	Line int
	Path string
	Msg  string
	Err  error // a sentinel such as ErrNoSerial, or nil
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Msg)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// methods maps nwipe's method labels (src/method.c) to ledger methods. A
// method missing here leaves the device with a DeviceError. The
// verification-only methods map to "".
var methods = map[string]struct {
	method     ledger.Method
	verifyOnly bool
}{
	"Fill With Zeros":       {ledger.Overwrite, false},
	"Fill With Ones":        {ledger.Overwrite, false},
	"DoD Short":             {ledger.Overwrite, false},
	"DoD 5220.22-M":         {ledger.Overwrite, false},
	"Gutmann Wipe":          {ledger.Overwrite, false},
	"PRNG Stream":           {ledger.Overwrite, false},
	"RCMP TSSIT OPS-II":     {ledger.Overwrite, false},
	"HMG IS5 Enhanced":      {ledger.Overwrite, false},
	"Bruce Schneier 7-Pass": {ledger.Overwrite, false},
	"BMB21-2019":            {ledger.Overwrite, false},
	"Verify Zeros (0x00)":   {"", true},
	"Verify Ones  (0xFF)":   {"", true},
	// Spellings without the pattern, as the issue and older docs give them.
	"Verify Zeros": {"", true},
	"Verify Ones":  {"", true},
}

// MethodFor maps an nwipe method label to a ledger method. verifyOnly is
// set for "Verify Zeros"/"Verify Ones", which return m == "". ok is false
// for a label this package does not know. Runs of spaces are treated as one.
func MethodFor(label string) (m ledger.Method, verifyOnly, ok bool) {
	e, ok := methods[label]
	if !ok {
		e, ok = methods[strings.Join(strings.Fields(label), " ")]
		if !ok && strings.HasPrefix(label, "Verify Ones") {
			e, ok = methods["Verify Ones"]
		}
	}
	return e.method, e.verifyOnly, ok
}

// validSerial reports whether s is a serial a drive reports: printable
// ASCII (ATA, SCSI and NVMe serials are ASCII), not empty. nwipe on loop
// devices prints stray bytes here ("S/N= \xe0,:~\x7f").
func validSerial(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
