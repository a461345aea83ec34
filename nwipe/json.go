package nwipe

// nwipe's JSON report, as create_json() in src/create_json.c of nwipe PR
// #729 (github.com/martijnvanbrummelen/nwipe, refs/pull/729/head at
// 73e4020) writes it: one file per device,
// nwipe_report_<end>_Model_<model>_Serial_<serial>_device_<dev>.json,
// printed by cJSON_Print with tabs. The keys this package reads:
//
//	{
//	  "report_schema": "org.nwipe.report.v1",
//	  "report_type":   "disk_erase_report",
//	  "report_metadata": {"generated_at": 1741990502, "generated_at_text": "...",
//	                      "software": "nwipe", "version": "0.40", ...},
//	  "device": {"name": "/dev/sdb", "terse_name": "sdb", "model": "...",
//	             "serial_number": "...", "size_text": "500 GB",
//	             "size_bytes": 500107862016, "real_size_bytes": ..., "type": " ATA    "},
//	  "wipe": {"successful": true, "status": "success" | "failure",
//	           "status_text": "ERASED" | "FAILED" | "ABORTED" | "INSANITY",
//	           "method": "DoD Short", "verify": "off" | "last" | "all" | "unknown",
//	           "rounds_requested": 1, "rounds_completed": 1,
//	           "start_time": 1741990503, "start_time_text": "2025-03-14T09:15:03+0000",
//	           "end_time": ..., "end_time_text": ..., "duration_seconds": 12307,
//	           "errors": {"pass": 0, "verify": 0, "round": 0, "fsyncdata": 0}}
//	}
//
// Times are Unix seconds; the "_text" twin (strftime "%Y-%m-%dT%H:%M:%S%z",
// written only for a non-zero time) carries the zone the machine was in, so
// unlike the log a JSON report needs no --timezone. nwipe writes
// "successful"/"status" true/success only when the wipe status is 0 and the
// pass, verification and fdatasync error counts are all 0 (round errors are
// not part of its verdict, nor of ours). The report has no blanking flag or
// passes per round: Device.Blank is false and Device.Passes 0.
//
// A file may hold one report, a JSON array of reports, or reports one after
// another (several files concatenated): Device.Line is the line each report
// object starts on, and refusals name the report by its JSON path
// ("$[1].device.serial_number", or "$.device..." for a lone report).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ReportSchema is the report_schema value of the nwipe JSON report.
const ReportSchema = "org.nwipe.report.v1"

// MaxJSONSize bounds what ParseJSON reads: one report is about 2 KB, so
// 16 MB holds thousands of them and nothing an attacker can grow.
const MaxJSONSize = 16 << 20

// ErrNotNwipeJSON is returned by ParseJSON for input that is not nwipe's
// JSON report (not JSON, no object with report_schema org.nwipe.report.v1).
var ErrNotNwipeJSON = errors.New("not an nwipe JSON report")

// jsonReport is the part of org.nwipe.report.v1 ParseJSON reads. Numbers
// are json.Number so that a fraction or a negative count is refused rather
// than truncated.
type jsonReport struct {
	Schema   *string `json:"report_schema"`
	Metadata struct {
		Software string `json:"software"`
		Version  string `json:"version"`
	} `json:"report_metadata"`
	Device struct {
		Name          string      `json:"name"`
		TerseName     string      `json:"terse_name"`
		Model         string      `json:"model"`
		Serial        *string     `json:"serial_number"`
		SizeText      string      `json:"size_text"`
		SizeBytes     json.Number `json:"size_bytes"`
		RealSizeBytes json.Number `json:"real_size_bytes"`
		Type          string      `json:"type"`
	} `json:"device"`
	Wipe struct {
		Successful      *bool       `json:"successful"`
		Status          string      `json:"status"`
		StatusText      string      `json:"status_text"`
		Method          string      `json:"method"`
		Verify          string      `json:"verify"`
		RoundsRequested json.Number `json:"rounds_requested"`
		StartTime       json.Number `json:"start_time"`
		StartTimeText   string      `json:"start_time_text"`
		EndTime         json.Number `json:"end_time"`
		EndTimeText     string      `json:"end_time_text"`
		DurationSeconds json.Number `json:"duration_seconds"`
		Errors          struct {
			Pass      json.Number `json:"pass"`
			Verify    json.Number `json:"verify"`
			Fsyncdata json.Number `json:"fsyncdata"`
		} `json:"errors"`
	} `json:"wipe"`
}

// ParseJSON reads nwipe's JSON report (org.nwipe.report.v1) from r: one
// report, an array of them, or several one after another. name is the
// file name used in errors and in each Device. It returns one Device per
// report, with the same method mapping and failure rules as Parse: any
// wipe status but "success" (with status_text ERASED), or any pass,
// verification or fdatasync error, is a failure. A report that cannot be
// recorded (no readable serial, an unknown method, another schema,
// contradictory fields) gets a *DeviceError naming the file, the line and
// the report's JSON path; the others are unaffected. ParseJSON itself
// fails for a read error, input over MaxJSONSize, or input that is not
// JSON reports at all (ErrNotNwipeJSON).
func ParseJSON(name string, r io.Reader) ([]Device, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxJSONSize+1))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if len(data) > MaxJSONSize {
		return nil, fmt.Errorf("parse %s: over %d bytes: %w", name, MaxJSONSize, ErrNotNwipeJSON)
	}
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	off := len(data) - len(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	notJSON := func(err error) error {
		return fmt.Errorf("parse %s: %w (%v)", name, ErrNotNwipeJSON, err)
	}
	// raws are the report objects with their byte offsets and JSON paths.
	type raw struct {
		msg  json.RawMessage
		at   int64
		path string
	}
	var raws []raw
	first := firstByte(body)
	switch first {
	case '[':
		if _, err := dec.Token(); err != nil {
			return nil, notJSON(err)
		}
		for i := 0; dec.More(); i++ {
			var m json.RawMessage
			at := dec.InputOffset()
			if err := dec.Decode(&m); err != nil {
				return nil, notJSON(err)
			}
			raws = append(raws, raw{m, at, fmt.Sprintf("$[%d]", i)})
		}
		if _, err := dec.Token(); err != nil {
			return nil, notJSON(err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, notJSON(fmt.Errorf("data after the array"))
		}
	case '{':
		for i := 0; ; i++ {
			var m json.RawMessage
			at := dec.InputOffset()
			if err := dec.Decode(&m); err == io.EOF {
				break
			} else if err != nil {
				return nil, notJSON(err)
			}
			raws = append(raws, raw{m, at, fmt.Sprintf("$[%d]", i)})
		}
		if len(raws) == 1 {
			raws[0].path = "$"
		}
	default:
		return nil, fmt.Errorf("parse %s: %w (it does not start with { or [)", name, ErrNotNwipeJSON)
	}
	var out []Device
	known := false
	for _, rw := range raws {
		line := 1 + bytes.Count(data[:off+int(rw.at)+leadingSpace(body[rw.at:])], []byte("\n"))
		d, ok := jsonDevice(name, line, rw.path, rw.msg)
		known = known || ok
		out = append(out, d)
	}
	if !known {
		return nil, fmt.Errorf("parse %s: %w (no report has report_schema %q)", name, ErrNotNwipeJSON, ReportSchema)
	}
	return out, nil
}

// firstByte is the first byte of b after JSON whitespace, or 0.
func firstByte(b []byte) byte {
	if n := leadingSpace(b); n < len(b) {
		return b[n]
	}
	return 0
}

// leadingSpace counts the JSON whitespace and commas before a value (the
// decoder's offset sits before the comma that separates array elements).
func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t' || b[n] == '\n' || b[n] == '\r' || b[n] == ',') {
		n++
	}
	return n
}

// jsonDevice turns one report into a Device. ok reports whether the value
// is an org.nwipe.report.v1 object at all.
func jsonDevice(name string, line int, path string, msg json.RawMessage) (d Device, ok bool) {
	d = Device{File: name, Line: line, Status: StatusUnknown}
	refuse := func(sentinel error, format string, args ...any) (Device, bool) {
		d.Err = &DeviceError{File: name, Line: line, Path: d.Path, Msg: path + ": " + fmt.Sprintf(format, args...), Err: sentinel}
		return d, ok
	}
	var rep jsonReport
	if err := json.Unmarshal(msg, &rep); err != nil {
		return refuse(nil, "not an nwipe report: %v", err)
	}
	if rep.Schema == nil || *rep.Schema != ReportSchema {
		s := "none"
		if rep.Schema != nil {
			s = strconv.Quote(*rep.Schema)
		}
		return refuse(nil, "report_schema is %s, not %q", s, ReportSchema)
	}
	ok = true
	dv, w := rep.Device, rep.Wipe
	d.Path = strings.TrimSpace(dv.Name)
	if d.Path == "" && strings.TrimSpace(dv.TerseName) != "" {
		d.Path = "/dev/" + strings.TrimSpace(dv.TerseName)
	}
	d.Bus = strings.TrimSpace(dv.Type)
	d.Model = strings.TrimSpace(dv.Model)
	d.Size = strings.TrimSpace(dv.SizeText)
	d.Tool = strings.TrimSpace(strings.TrimSpace(rep.Metadata.Software) + " " + strings.TrimSpace(rep.Metadata.Version))
	d.MethodName = w.Method
	d.StatusText = w.StatusText
	switch w.Verify {
	case "off":
		d.Verify = VerifyOff
	case "last":
		d.Verify = VerifyLast
	case "all":
		d.Verify = VerifyAll
	}

	// Numbers: every count must be a whole number >= 0.
	var bad []string
	count := func(field string, n json.Number) uint64 {
		v, ok := wholeNumber(n)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s.%s is %q, not a count", path, field, n.String()))
		}
		return v
	}
	size := count("device.size_bytes", dv.SizeBytes)
	if size == 0 {
		size = count("device.real_size_bytes", dv.RealSizeBytes)
	}
	if size <= math.MaxInt64 {
		d.SizeBytes = int64(size)
	}
	d.Rounds = int(min(count("wipe.rounds_requested", w.RoundsRequested), math.MaxInt32))
	d.PassErrors = count("wipe.errors.pass", w.Errors.Pass)
	d.VerifyErrors = count("wipe.errors.verify", w.Errors.Verify)
	d.SyncErrors = count("wipe.errors.fsyncdata", w.Errors.Fsyncdata)
	if secs := count("wipe.duration_seconds", w.DurationSeconds); secs < math.MaxInt64/uint64(time.Second) {
		d.Duration = time.Duration(secs) * time.Second
	}
	var err error
	if d.Start, err = jsonTime(w.StartTime, w.StartTimeText); err != nil {
		bad = append(bad, fmt.Sprintf("%s.wipe.start_time: %v", path, err))
	}
	if d.End, err = jsonTime(w.EndTime, w.EndTimeText); err != nil {
		bad = append(bad, fmt.Sprintf("%s.wipe.end_time: %v", path, err))
	}

	// The verdict: success needs status "success", status_text ERASED and,
	// where written, successful true; anything else is some failure.
	switch {
	case w.Status == "success" && w.StatusText == "ERASED" && (w.Successful == nil || *w.Successful):
		d.Status = StatusErased
	case w.Status == "success":
		d.Status = StatusUnknown // contradicts itself: never a sanitisation
	case w.StatusText == "FAILED":
		d.Status = StatusFailed
	case w.StatusText == "ABORTED":
		d.Status = StatusAborted
	case w.StatusText == "INSANITY":
		d.Status = StatusInsanity
	case w.StatusText == "ERASED" && (d.PassErrors != 0 || d.VerifyErrors != 0 || d.SyncErrors != 0):
		d.Status = StatusFailed
	default:
		d.Status = StatusUnknown
	}

	m, vo, known := MethodFor(d.MethodName)
	d.Method, d.VerifyOnly = m, vo
	if dv.Serial != nil {
		d.RawSerial = *dv.Serial
	}
	d.Serial = strings.Trim(d.RawSerial, " ")
	switch {
	case d.Path == "":
		return refuse(nil, "device.name is empty: the report names no device")
	case len(bad) > 0:
		return refuse(nil, "%s", strings.Join(bad, "; "))
	case !known:
		return refuse(nil, "unknown nwipe method %q", d.MethodName)
	case !validSerial(d.Serial):
		what := "device.serial_number is empty"
		if dv.Serial == nil {
			what = "the report has no device.serial_number"
		} else if d.Serial != "" {
			what = fmt.Sprintf("device.serial_number holds %q, which is not a printable serial", d.RawSerial)
		}
		d.Serial = ""
		return refuse(ErrNoSerial, "no readable serial: %s", what)
	}
	return d, ok
}

// wholeNumber reads a JSON number that is a whole number from 0 to 2^63-1.
// cJSON writes every number as a double ("%1.15g", then "%1.17g" when that
// does not round-trip), so 1e3 and 1000.0 are accepted; an absent number
// is 0.
func wholeNumber(n json.Number) (uint64, bool) {
	if n == "" {
		return 0, true
	}
	if v, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
		return v, v <= math.MaxInt64
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f >= math.MaxInt64 {
		return 0, false
	}
	return uint64(f), true
}

// jsonTextLayout is create_json.c's strftime "%Y-%m-%dT%H:%M:%S%z".
const jsonTextLayout = "2006-01-02T15:04:05-0700"

// jsonTime reads a report time: Unix seconds, shown in the zone of its
// "_text" twin when that is present. A twin naming another instant is an
// error: the report contradicts itself. 0 is "never" (the zero Time).
func jsonTime(secs json.Number, text string) (time.Time, error) {
	n, ok := wholeNumber(secs)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not Unix seconds", secs.String())
	}
	if n == 0 && text == "" {
		return time.Time{}, nil
	}
	if n > 1<<40 {
		return time.Time{}, fmt.Errorf("%d is out of range", n)
	}
	t := time.Unix(int64(n), 0).UTC()
	if text == "" {
		return t, nil
	}
	tt, err := time.Parse(jsonTextLayout, text)
	if err != nil {
		return time.Time{}, fmt.Errorf("text %q is not %s", text, "YYYY-MM-DDTHH:MM:SS+hhmm")
	}
	if n != 0 && !tt.Equal(t) {
		return time.Time{}, fmt.Errorf("%d and %q are different times", n, text)
	}
	return tt, nil
}
