package nwipe

import (
	"bytes"
	"strings"
	"time"
)

// Format is a kind of nwipe output, as Detect tells it from content.
type Format string

// The formats Detect knows. FormatUnknown is the zero value.
const (
	FormatUnknown Format = ""
	FormatLog     Format = "nwipe-log"  // nwipe_log_YYYYMMDD-HHMMSS.txt, read by Parse
	FormatJSON    Format = "nwipe-json" // org.nwipe.report.v1, read by ParseJSON
)

// DetectSize is how much of a file Detect needs: a caller reads up to this
// many bytes and passes them.
const DetectSize = 4096

// Detect tells from the first bytes of a file (up to DetectSize; fewer for
// a short file) whether it is an nwipe log, nwipe's JSON report, or
// neither. It looks at content only, never at a name:
//
//   - JSON: after an optional UTF-8 byte order mark and white space, "{"
//     or "[" "{" and then, within head, a "report_schema" key whose value is
//     "org.nwipe.report.v1" (cJSON writes it as the first key);
//   - log: a line of head that starts with nwipe_log's timestamp
//     "[YYYY/MM/DD HH:MM:SS]" followed by one of its level labels
//     ("notice:", "info:", ...) or "Total Throughput", or one of the
//     summary tables' star-framed titles.
//
// Detect never fails; FormatUnknown means "not nwipe's", or too little to tell.
func Detect(head []byte) Format {
	if len(head) > DetectSize {
		head = head[:DetectSize]
	}
	b := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if isJSONStart(b) {
		if jsonSchemaIn(b) {
			return FormatJSON
		}
		return FormatUnknown
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if t, ok := tableHeading(line); ok && t != noTable {
			return FormatLog
		}
		ts, msg, stamped := splitStamp(line, time.UTC)
		if !stamped || ts.IsZero() {
			continue
		}
		if strings.HasPrefix(msg, "Total Throughput ") {
			return FormatLog
		}
		t := strings.TrimLeft(line[21:], " ")
		for _, l := range levels {
			if strings.HasPrefix(t, l) {
				return FormatLog
			}
		}
	}
	return FormatUnknown
}

// isJSONStart reports whether b starts (after white space) with "{", or
// with "[" and then "{" or nothing: a log line starts "[2025/...".
func isJSONStart(b []byte) bool {
	n := spaces(b)
	if n == len(b) {
		return false
	}
	switch b[n] {
	case '{':
		return true
	case '[':
		c := firstByte(b[n+1:])
		return c == '{' || c == 0
	}
	return false
}

// jsonSchemaIn reports whether b holds "report_schema", a colon and the
// quoted schema name, with only JSON white space between them.
func jsonSchemaIn(b []byte) bool {
	key := []byte(`"report_schema"`)
	for {
		i := bytes.Index(b, key)
		if i < 0 {
			return false
		}
		rest := b[i+len(key):]
		rest = rest[spaces(rest):]
		if len(rest) > 0 && rest[0] == ':' {
			rest = rest[1:]
			rest = rest[spaces(rest):]
			if bytes.HasPrefix(rest, []byte(`"`+ReportSchema+`"`)) {
				return true
			}
		}
		b = b[i+1:]
	}
}

// spaces counts JSON white space at the start of b.
func spaces(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t' || b[n] == '\n' || b[n] == '\r') {
		n++
	}
	return n
}
