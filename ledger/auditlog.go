package ledger

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The audit trail
//
// The event log is the trail DPA 2018 s62 asks for: every change
// (collection, alteration, erasure) and every consultation or disclosure,
// with who, when and why. AuditLog reads it back, filtered; WriteLog
// prints it as text, CSV or JSON. Reading the trail is itself a
// consultation, recorded as a "log" event.
//
// Reasons. Consultations and disclosures (LogAccess) record the reason
// given with --reason. With the ledger setting require_reason set to
// "true" (itad settings set require_reason true --reason WHY), LogAccess
// refuses one without a reason (ErrReasonRequired), so no report, export,
// FOI answer or device shown goes unexplained.

// LogAction is the event that records a reading of the audit trail.
const LogAction = "log"

// SettingRequireReason is the setting that, when "true", makes a reason
// mandatory for every consultation and disclosure.
const SettingRequireReason = "require_reason"

// ErrReasonRequired is returned by LogAccess when the ledger requires a
// reason and none was given.
var ErrReasonRequired = errors.New("a reason is required")

// checkAccess vets a consultation or disclosure inside LogAccess's
// transaction: a registered action, and a reason when one is required.
func (t *txn) checkAccess(action, reason string) error {
	if !isNoStateAction(action) {
		return fmt.Errorf("%w: %q is not a registered consultation action (see ledger.RegisterNoStateAction)", ErrInvalid, action)
	}
	if strings.TrimSpace(reason) != "" {
		return nil
	}
	v, err := checkedSetting(t.tx, SettingRequireReason)
	if err != nil {
		return err
	}
	if v == "true" {
		return fmt.Errorf("%w: this ledger requires a reason for every consultation or disclosure (%s): give --reason WHY", ErrReasonRequired, action)
	}
	return nil
}

// SettingKeys are the settings a user may set, with what they hold.
var SettingKeys = map[string]string{
	SettingOrg:            "organisation name, shown on certificates",
	SettingDestination:    "default media destination for certificates",
	SettingRequireReason:  "true or false: require --reason for every consultation and disclosure",
	SettingOrgLocation:    "organisation's location, shown on certificates (NIST SP 800-88 Appendix G)",
	SettingOrgPhone:       "organisation's phone, shown on certificates (NIST SP 800-88 Appendix G)",
	SettingClassification: "default media classification for certificates (NIST SP 800-88 Appendix G)",
	SettingCheckpointDir:  "absolute path of a directory outside the ledger that receives a copy of every new checkpoint (empty: none)",
	SettingPublicURL:      "https:// or http:// base URL of the public verification page that certificates' QR codes link to (empty: none)",
	// evidence.go
	SettingEvidenceMaxBytes:  "largest evidence file kept, in bytes (default 20971520, 20 MiB)",
	SettingDefaultContractor: "contractor of disposals imported from erasure reports when --contractor is not given",
	SettingDefaultSite:       "site of devices added from erasure reports when --site is not given",
	SettingDefaultOperator:   "operator of disposals imported from erasure reports when --operator is not given",
}

// ValidateSetting checks and normalises a value for a known setting key.
// It returns ErrInvalid for an unknown key or a bad value.
func ValidateSetting(key, value string) (string, error) {
	switch key {
	case SettingRequireReason:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "true", "yes", "on", "1":
			return "true", nil
		case "false", "no", "off", "0":
			return "false", nil
		}
		return "", fmt.Errorf("%w: %s must be true or false", ErrInvalid, key)
	case SettingCheckpointDir:
		return validateCheckpointDir(value)
	case SettingPublicURL:
		return ValidatePublicURL(value)
	case SettingEvidenceMaxBytes:
		return validateEvidenceMaxBytes(value)
	case SettingOrg, SettingDestination, SettingDefaultContractor, SettingDefaultSite, SettingDefaultOperator, SettingOrgLocation, SettingOrgPhone, SettingClassification:
		v := strings.Join(strings.Fields(value), " ")
		if err := checkText(key, v, 256); err != nil {
			return "", err
		}
		return v, nil
	}
	return "", fmt.Errorf("%w: unknown setting %q (one of %s)", ErrInvalid, key, strings.Join(sortedKeys(SettingKeys), ", "))
}

// Settings returns every ledger setting, checked against the setting.set
// events (a *StateError, matching ErrTampered, where they disagree).
func (s *Store) Settings() (map[string]string, error) {
	return checkedSettings(s.db, "")
}

// LogFilter selects events of the audit trail. Empty fields select all.
type LogFilter struct {
	Since  string // ISO date: events at or after its start (UTC)
	Until  string // ISO date: events before the end of that day (UTC)
	Actor  string
	Action string
	// Serial selects the events about a device: those whose subject is
	// its serial (added, disposed of, amended, voided, shown), under each
	// serial it has had, the import.rows event that imported it, and those
	// of the certificates that cover it. A serial a correction took away
	// selects the corrected device (unless a device has it now).
	Serial string
}

// AuditLog calls fn with each event f selects, in sequence order,
// streaming (the trail may hold millions). It returns ErrNotFound for an
// unknown serial and ErrInvalid for a bad date.
func (s *Store) AuditLog(f LogFilter, fn func(Event) error) error {
	q, args, err := s.auditQuery(f)
	if err != nil {
		return err
	}
	return s.eachEvent(q, args, fn)
}

// eachEvent calls fn with each event an events query returns.
func (s *Store) eachEvent(q string, args []any, fn func(Event) error) error {
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
			return err
		}
		if e.At, err = time.Parse(TimeFormat, at); err != nil {
			return fmt.Errorf("%w: event %d: bad time %q", ErrTampered, e.Seq, at)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// auditQuery is the query AuditLog runs for f. The events are indexed by
// subject and action (migration 4), not by actor or time.
func (s *Store) auditQuery(f LogFilter) (string, []any, error) {
	q := `SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM events WHERE 1=1`
	var args []any
	if f.Since != "" {
		d, err := ParseDate(f.Since)
		if err != nil {
			return "", nil, fmt.Errorf("since: %w", err)
		}
		q += ` AND at >= ?`
		args = append(args, d.Format(TimeFormat))
	}
	if f.Until != "" {
		d, err := ParseDate(f.Until)
		if err != nil {
			return "", nil, fmt.Errorf("until: %w", err)
		}
		q += ` AND at < ?`
		args = append(args, d.AddDate(0, 0, 1).Format(TimeFormat))
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Serial != "" {
		// A serial a correction took away finds the corrected device,
		// and a device's events under every serial it has had.
		d, id, err := deviceByAnySerial(s.db, f.Serial)
		if err != nil {
			return "", nil, err
		}
		where, wargs, err := deviceEventsWhere(s.db, id, d)
		if err != nil {
			return "", nil, err
		}
		q += ` AND (` + where + ` OR subject IN (SELECT c.uuid FROM certificates c
			JOIN certificate_devices cd ON cd.certificate_id = c.id WHERE cd.device_id = ?))`
		args = append(append(args, wargs...), id)
	}
	return q + ` ORDER BY seq`, args, nil
}

// LogWriter writes audit-trail events as they come, in one of the
// formats text (one line per event), csv (a header, then seq, at, actor,
// action, subject, reason, payload, prev_hash and hash in hex) or json
// (an array of events, one a line, each payload as stored).
type LogWriter struct {
	w      io.Writer
	format string
	cw     *csvWriter // formula cells neutralised; JSON keeps exact bytes
	n      int
}

// NewLogWriter starts writing events to w in format. It returns
// ErrInvalid for an unknown format.
func NewLogWriter(w io.Writer, format string) (*LogWriter, error) {
	lw := &LogWriter{w: w, format: format}
	switch format {
	case "text", "":
		lw.format = "text"
	case "csv":
		lw.cw = &csvWriter{w: w}
		lw.cw.record([]string{"seq", "at", "actor", "action", "subject", "reason", "payload", "prev_hash", "hash"})
		if lw.cw.err != nil {
			return nil, lw.cw.err
		}
	case "json":
		if _, err := io.WriteString(w, "["); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: format %q (one of text, csv, json)", ErrInvalid, format)
	}
	return lw, nil
}

// Write writes one event.
func (lw *LogWriter) Write(e Event) error {
	lw.n++
	switch lw.format {
	case "csv":
		lw.cw.record([]string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(TimeFormat), e.Actor, e.Action, e.Subject,
			e.Reason, string(e.Payload), hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)})
		return lw.cw.err
	case "json":
		// One event a line, compact: the payload keeps its exact bytes,
		// so that anyone can recompute the event's hash from the export.
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		sep := ","
		if lw.n == 1 {
			sep = ""
		}
		_, err = fmt.Fprintf(lw.w, "%s\n%s", sep, b)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#%d  %s  %s  %s  %s", e.Seq, e.At.UTC().Format("2006-01-02 15:04:05Z"), e.Actor, e.Action, e.Subject)
	if e.Reason != "" {
		fmt.Fprintf(&b, "  reason: %s", strings.ReplaceAll(e.Reason, "\n", " "))
	}
	if cs, ok := EventChanges(e); ok {
		b.WriteString("  " + FormatChanges(cs))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(PrintableWriter{lw.w}, b.String())
	return err
}

// Close finishes the output.
func (lw *LogWriter) Close() error {
	switch lw.format {
	case "csv":
		return lw.cw.err
	case "json":
		end := "\n]\n"
		if lw.n == 0 {
			end = "]\n"
		}
		_, err := io.WriteString(lw.w, end)
		return err
	}
	if lw.n == 0 {
		_, err := io.WriteString(lw.w, "No events match.\n")
		return err
	}
	return nil
}

// ValidatePublicURL checks and normalises a public_url: an absolute http
// or https URL with a host, no user information, query or fragment, at
// most 200 bytes, returned without a trailing "/"; or "" (none). It returns
// ErrInvalid otherwise.
func ValidatePublicURL(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: public_url %q is not a URL: %v", ErrInvalid, v, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%w: public_url %q must start with https:// or http://", ErrInvalid, v)
	case u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("%w: public_url %q has no host", ErrInvalid, v)
	case u.User != nil:
		return "", fmt.Errorf("%w: public_url %q must not hold a user name or password", ErrInvalid, v)
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(v, "?"):
		return "", fmt.Errorf("%w: public_url %q must not have a query (?...): certificates add their own", ErrInvalid, v)
	case u.Fragment != "" || strings.Contains(v, "#"):
		return "", fmt.Errorf("%w: public_url %q must not have a fragment (#...)", ErrInvalid, v)
	case len(v) > 200:
		return "", fmt.Errorf("%w: public_url is longer than 200 bytes", ErrInvalid)
	case strings.ContainsAny(v, " \t\n\\"):
		return "", fmt.Errorf("%w: public_url %q contains a space or backslash", ErrInvalid, v)
	}
	return strings.TrimRight(v, "/"), nil
}
