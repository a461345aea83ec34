// Package blancco reads Blancco Drive Eraser's XML erasure report into one
// Erasure per drive erased: the drive, the erasure standard and the ledger
// method it is, the state, the times, the verification, the software and
// the report's document id. It returns plain values and touches no
// database: the ledger side decides what to record.
//
// The format, as Blancco Drive Eraser and Blancco Management Console export
// it and as the published parsers of it read it (see
// testdata/blancco/README.md): a <root> of one or more <report>s, each
//
//	<report>
//	  <blancco_data>
//	    <description>
//	      <document_id>8b107935-e583-4aa8-b8d7-b37fa6dd1396</document_id>
//	      <document_log>
//	        <log_entry>                      the erasing product's entry first
//	          <author>
//	            <product_name>Blancco Drive Eraser</product_name>
//	            <product_version>7.16.0</product_version>
//	            <product_revision>...</product_revision>
//	          </author>
//	          <date>2025-06-23T10:15:00+0200</date>
//	          <integrity>base64 signature</integrity>
//	        </log_entry>
//	        <log_entry>...</log_entry>       e.g. the Management Console's
//	      </document_log>
//	    </description>
//	    <blancco_erasure_report>
//	      <entries name="erasures">
//	        <entries name="erasure">
//	          <entry name="state" type="string">Successful</entry>
//	          <entry name="erasure_standard_name" type="string">NIST 800-88 Purge</entry>
//	          <entry name="start_time" type="string">2025-06-23 09:00:12</entry>
//	          <entry name="end_time" type="string">...</entry>
//	          <entry name="elapsed_time" type="string">01:14:48</entry>
//	          <entry name="total_errors" type="uint">0</entry>
//	          <entries name="target">
//	            <entry name="serial" type="string">...</entry>
//	            <entry name="vendor">, "model", "capacity" (uint, bytes),
//	            "type" (HDD, SSD, ...), "interface_type" (SATA, NVMe, ...)
//	          </entries>
//	        </entries>
//	        ... one <entries name="erasure"> per drive
//	      </entries>
//	    </blancco_erasure_report>
//	    <blancco_hardware_report>...</blancco_hardware_report>
//	  </blancco_data>
//	  <user_data>...</user_data>
//	</report>
//
// Entry names and the state are identifiers, not translated text: the
// published parsers compare the state with "Successful" whatever the
// report's language, and so does this package. Any other state (a
// translated one included) is a failure, never a sanitisation.
package blancco

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/itad/itad/ledger"
)

// ErrNotBlancco is returned by Parse for input that is not a Blancco XML
// report: not XML, or XML with no blancco_data element.
var ErrNotBlancco = errors.New("not a Blancco XML report")

// ErrNoSerial is wrapped by an ErasureError for a drive whose serial is
// empty or not printable ASCII.
var ErrNoSerial = errors.New("no readable serial")

// ErrUnknownStandard is wrapped by an ErasureError for an erasure standard
// this package does not map to a ledger method.
var ErrUnknownStandard = errors.New("unknown erasure standard")

// Successful is the only state that is a successful erasure.
const Successful = "Successful"

// Erasure is one drive's erasure in a Blancco report.
type Erasure struct {
	File  string // the report's name, as given to Parse
	Line  int    // 1-based line of the erasure's <entries name="erasure">
	Index int    // 0-based position among the file's erasures
	// DocumentID is the report's description/document_id (a UUID).
	DocumentID string
	// Software, SoftwareVersion and SoftwareRevision are the first
	// log_entry's author: "Blancco Drive Eraser", "7.16.0".
	Software, SoftwareVersion, SoftwareRevision string
	// Serial is the trimmed target serial; RawSerial is as written.
	Serial, RawSerial string
	Vendor, Model     string
	CapacityBytes     int64  // target capacity, 0 when not given
	Type              string // target type as written: "HDD", "SSD", ...
	Interface         string // target interface_type: "SATA", "NVMe", "SAS", "USB", ...
	// StandardName is erasure_standard_name as written; Method is the
	// ledger method it is ("" when unknown: Err is then set).
	StandardName string
	Method       ledger.Method
	State        string // as written; only "Successful" is success
	// StartText and EndText are the times as written. Start and End are
	// them parsed with the zone as written; when a time carries no zone
	// it is read as UTC wall-clock time and Zoned is false: call Localize
	// with the zone of the machine that erased.
	StartText, EndText string
	Start, End         time.Time
	Zoned              bool
	Elapsed            time.Duration // elapsed_time "HH:MM:SS"
	// VerificationText is the erasure's verification entry as written
	// ("100%", "Full", "1%", "None"); VerificationPercent is it read as a
	// share of the drive (-1 when absent or not understood).
	VerificationText    string
	VerificationPercent int
	// Rounds as the report gives them.
	OverwritingRounds, FirmwareRounds, TotalRounds int
	// Errors is total_errors; FailedSectors failed_sectors.
	Errors, FailedSectors uint64
	// FailureMessage is erasure_details/failure's or exception's message.
	FailureMessage string
	// Err is set when the erasure cannot be recorded (an *ErasureError,
	// e.g. wrapping ErrNoSerial or ErrUnknownStandard); the other
	// erasures in the file are unaffected.
	Err error
}

// Tool is the erasing software and version: "Blancco Drive Eraser 7.16.0".
func (e *Erasure) Tool() string {
	return strings.TrimSpace(e.Software + " " + e.SoftwareVersion)
}

// Failed reports whether the erasure did not succeed: a state other than
// Successful, or any error or failed sector.
func (e *Erasure) Failed() bool {
	return e.State != Successful || e.Errors != 0 || e.FailedSectors != 0
}

// Sanitised reports whether the erasure is a sanitisation: a known
// standard that succeeded with no errors, and nothing refused.
func (e *Erasure) Sanitised() bool {
	return e.Err == nil && e.Method != "" && !e.Failed()
}

// Verification is the erasure's verification in the ledger's terms: "yes"
// for a full (100%) read-back, "sample" for a partial one, "no" for none,
// "" when the report does not say. A failed or refused erasure is "no".
func (e *Erasure) Verification() string {
	switch {
	case e.Err != nil || e.Failed():
		return "no"
	case e.VerificationPercent < 0:
		return ""
	case e.VerificationPercent == 0:
		return "no"
	case e.VerificationPercent >= 100:
		return "yes"
	}
	return "sample"
}

// SetSerial supplies the serial for an erasure whose report has none
// readable. It returns an error for a serial that is not printable ASCII,
// or when e was refused for another reason, leaving e unchanged.
func (e *Erasure) SetSerial(serial string) error {
	s := strings.Trim(serial, " ")
	if !validSerial(s) {
		return fmt.Errorf("erasure %d: serial %q is not printable ASCII", e.Index, serial)
	}
	if e.Err != nil && !errors.Is(e.Err, ErrNoSerial) {
		return e.Err
	}
	e.Serial, e.Err = s, nil
	return nil
}

// Localize reads times written without a zone as wall-clock times in loc
// (the zone of the machine that erased). Times written with a zone are
// unchanged. It returns an error for a nil loc.
func (e *Erasure) Localize(loc *time.Location) error {
	if loc == nil {
		return errors.New("localize: no time zone given")
	}
	for _, p := range []*time.Time{&e.Start, &e.End} {
		if !p.IsZero() && !hasZone(textFor(e, p)) {
			t := *p
			*p = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
	}
	return nil
}

func textFor(e *Erasure, p *time.Time) string {
	if p == &e.Start {
		return e.StartText
	}
	return e.EndText
}

// ErasureError is why one erasure in a report cannot be recorded. Its
// message names the file, the line, the erasure and the report.
type ErasureError struct {
	File       string
	Line       int
	Index      int
	DocumentID string
	Msg        string
	Err        error // a sentinel such as ErrNoSerial, or nil
}

func (e *ErasureError) Error() string {
	doc := ""
	if e.DocumentID != "" {
		doc = " of report " + e.DocumentID
	}
	return fmt.Sprintf("%s:%d: erasure %d%s: %s", e.File, e.Line, e.Index, doc, e.Msg)
}

func (e *ErasureError) Unwrap() error { return e.Err }

// standards maps Blancco erasure standard names (normalised by normStd) to
// ledger methods. Overwriting standards are ledger.Overwrite (NIST clear);
// firmware commands are purge: ledger.CryptoErase where the standard is
// cryptographic, ledger.BlockErase for the other firmware erasures (ATA
// Secure Erase, NVMe Format/Sanitize, Blancco's SSD erasure, which runs
// them). BSI-GS and BSI-GSE end with a firmware command but count as
// overwrites here: the weaker category where a standard mixes both. A
// name missing here is refused, never guessed. Where the names come from:
// testdata/blancco/README.md.
var standards = map[string]ledger.Method{
	// Overwriting (clear).
	"aperiodic random overwrite":                 ledger.Overwrite,
	"air force system security instruction 5020": ledger.Overwrite,
	"bruce schneier's algorithm":                 ledger.Overwrite,
	"bsi-2011-vs":                                ledger.Overwrite,
	"bsi-gs":                                     ledger.Overwrite,
	"bsi-gse":                                    ledger.Overwrite,
	"cesg cpa - higher level":                    ledger.Overwrite,
	"communications security establishment canada itsg-06": ledger.Overwrite,
	"dod 5220.22-m":     ledger.Overwrite,
	"dod 5220.22-m ece": ledger.Overwrite,
	"u.s. department of defense, dod 5220.22-m":     ledger.Overwrite,
	"u.s. department of defense, dod 5220.22-m ece": ledger.Overwrite,
	"gost r 50739-95":                               ledger.Overwrite,
	"hmg infosec standard 5, higher standard":       ledger.Overwrite,
	"hmg infosec standard 5, lower standard":        ledger.Overwrite,
	"national computer security center ncsc-tg-025": ledger.Overwrite,
	"navy staff office publication navso p-5239-26": ledger.Overwrite,
	"nist 800-88 clear":                             ledger.Overwrite,
	"opnavinst 5239.1a":                             ledger.Overwrite,
	"peter gutmann's algorithm":                     ledger.Overwrite,
	"royal canadian mounted police tssit ops-ii":    ledger.Overwrite,
	"u.s. army ar380-19":                            ledger.Overwrite,
	"vsitr":                                         ledger.Overwrite,
	"zeros, lower standard":                         ledger.Overwrite,
	"overwrite":                                     ledger.Overwrite,
	// Firmware erasure (purge).
	"nist 800-88 purge":                      ledger.BlockErase,
	"blancco ssd erasure":                    ledger.BlockErase,
	"ata secure erase":                       ledger.BlockErase,
	"ata enhanced secure erase":              ledger.BlockErase,
	"ata sanitize block erase":               ledger.BlockErase,
	"nvme sanitize":                          ledger.BlockErase,
	"nvme sanitize block erase":              ledger.BlockErase,
	"nvme format":                            ledger.BlockErase,
	"nvme secure erase":                      ledger.BlockErase,
	"firmware based erasure":                 ledger.BlockErase,
	"firmware erasure":                       ledger.BlockErase,
	"cryptographic erase":                    ledger.CryptoErase,
	"cryptographic erasure":                  ledger.CryptoErase,
	"crypto erase":                           ledger.CryptoErase,
	"ata sanitize crypto scramble":           ledger.CryptoErase,
	"nvme sanitize crypto erase":             ledger.CryptoErase,
	"nvme format cryptographic erase":        ledger.CryptoErase,
	"nist 800-88 purge, cryptographic erase": ledger.CryptoErase,
}

// normStd lowercases a standard name, folds runs of white space, drops
// parentheses and writes en and em dashes as "-" and a typographic
// apostrophe as "'" (Blancco's own list spells "CESG CPA – Higher Level"
// and "Bruce Schneier’s Algorithm"), so "National Computer Security Center (NCSC-TG-025)" and
// "national computer security center ncsc-tg-025" are one name.
func normStd(s string) string {
	s = strings.NewReplacer("(", " ", ")", " ", "\u2013", "-", "\u2014", "-", "\u2019", "'").Replace(strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}

// MethodFor maps a Blancco erasure standard name to a ledger method. ok is
// false for a name this package does not know.
func MethodFor(standard string) (m ledger.Method, ok bool) {
	m, ok = standards[normStd(standard)]
	return m, ok
}

// validSerial reports whether s is a drive serial: printable ASCII, not
// empty (ATA, SCSI and NVMe serials are ASCII).
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

// timeLayouts are the forms Blancco writes times in: ISO 8601 with a
// numeric zone (the timestamp and log dates), and "YYYY-MM-DD HH:MM:SS"
// with or without one (start_time, end_time).
var timeLayouts = []string{
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05-0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05Z07:00",
}

// noZoneLayouts are the same forms without a zone.
var noZoneLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// parseTime reads a Blancco time. zoned reports whether it carried a zone.
func parseTime(s string) (t time.Time, zoned bool, err error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true, nil
		}
	}
	for _, l := range noZoneLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("time %q is not YYYY-MM-DD HH:MM:SS[+hhmm]", s)
}

// hasZone reports whether a time text carries a zone.
func hasZone(s string) bool {
	_, zoned, err := parseTime(s)
	return err == nil && zoned
}

// parseElapsed reads "HH:MM:SS" (hours may exceed 24).
func parseElapsed(s string) (time.Duration, error) {
	f := strings.Split(strings.TrimSpace(s), ":")
	if len(f) != 3 {
		return 0, fmt.Errorf("elapsed_time %q is not HH:MM:SS", s)
	}
	var n [3]int64
	for i, p := range f {
		v, err := strconv.ParseInt(p, 10, 32)
		if err != nil || v < 0 || (i > 0 && v > 59) {
			return 0, fmt.Errorf("elapsed_time %q is not HH:MM:SS", s)
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, nil
}

// parseVerification reads the verification entry: "100%", "1 %", "Full",
// "Full verification", "None", "Off", "Disabled", "0". It returns -1 for
// text it does not understand.
func parseVerification(s string) int {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "":
		return -1
	case "full", "full verification", "100 %":
		return 100
	case "none", "off", "disabled", "no verification", "not verified":
		return 0
	}
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 100 {
		return -1
	}
	return n
}
