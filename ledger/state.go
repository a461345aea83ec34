package ledger

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Security-relevant state, checked against its events
//
// Some current-state rows decide a verdict or a disclosure on their own:
// a certificate's revocation and supersession (cert verify), the FOI
// exemptions (what an FOI answer withholds), and the settings that govern
// logging (require_reason) or what a certificate says (org, media
// destination). Someone with the sqlite3 shell could change such a row and
// the next answer would follow it, long before anyone runs itad verify.
//
// So every read of that state here derives it from its events as well,
// through the events_subject and events_action indexes (a handful of
// events, microseconds), and compares: when the row and the events
// disagree the read fails with a *StateError, which matches ErrTampered
// (exit status 3 in the CLI), and nothing is answered. The events
// themselves are covered by the hash chain; events removed from the end
// of the log (which rewinds this state along with them) are caught only
// by a checkpoint kept outside the ledger, and a tampered index only by
// itad verify's integrity check: README's tamper-evidence section says so.

// StateError says a security-relevant row disagrees with the events that
// should have produced it.
type StateError struct {
	What   string // "setting require_reason", "exemption site", "certificate …"
	Row    string // what the row says
	Events string // what the events say
}

func (e *StateError) Error() string {
	return fmt.Sprintf("%s: the ledger's table says %s but its events say %s: changed behind itad's back", e.What, e.Row, e.Events)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *StateError) Is(target error) bool { return target == ErrTampered }

func quoteOrNone(v string, ok bool) string {
	if !ok {
		return "nothing"
	}
	return fmt.Sprintf("%q", v)
}

// settingEvents returns every setting as its setting.set events leave it
// (the latest event for a key wins). With key set, only that key.
func settingEvents(q querier, key string) (map[string]string, error) {
	query, args := `SELECT seq, payload FROM events WHERE action = 'setting.set' ORDER BY seq`, []any{}
	if key != "" {
		query, args = `SELECT seq, payload FROM events WHERE subject = ? AND action = 'setting.set' ORDER BY seq`, []any{key}
	}
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("read setting events: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var seq int64
		var raw []byte
		if err := rows.Scan(&seq, &raw); err != nil {
			return nil, err
		}
		var p struct{ Key, Value string }
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("%w: event %d: bad setting.set payload", ErrTampered, seq)
		}
		if key == "" || p.Key == key {
			out[p.Key] = p.Value
		}
	}
	return out, rows.Err()
}

// settingRows reads the settings table (one key when key is set).
func settingRows(q querier, key string) (map[string]string, error) {
	query, args := `SELECT key, value FROM settings`, []any{}
	if key != "" {
		query, args = `SELECT key, value FROM settings WHERE key = ?`, []any{key}
	}
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// checkedSettings returns the settings (one key when key is set), failing
// with a *StateError where the table and the events disagree.
func checkedSettings(q querier, key string) (map[string]string, error) {
	row, err := settingRows(q, key)
	if err != nil {
		return nil, err
	}
	ev, err := settingEvents(q, key)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range row {
		keys[k] = true
	}
	for k := range ev {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		rv, rok := row[k]
		evv, eok := ev[k]
		if rok != eok || rv != evv {
			return nil, &StateError{What: "setting " + k, Row: quoteOrNone(rv, rok), Events: quoteOrNone(evv, eok)}
		}
	}
	return row, nil
}

// checkedSetting returns one setting, "" when it is not set.
func checkedSetting(q querier, key string) (string, error) {
	m, err := checkedSettings(q, key)
	if err != nil {
		return "", err
	}
	return m[key], nil
}

// exemptionEvents returns the exemptions as the exempt.set and
// exempt.clear events leave them: field → sections joined by ", ".
func exemptionEvents(q querier) (map[string]string, error) {
	rows, err := q.Query(`SELECT seq, action, payload FROM events WHERE action IN ('exempt.set', 'exempt.clear') ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read exemption events: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var seq int64
		var action string
		var raw []byte
		if err := rows.Scan(&seq, &action, &raw); err != nil {
			return nil, err
		}
		var p exemptionEvent
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("%w: event %d: bad %s payload", ErrTampered, seq, action)
		}
		if action == "exempt.set" {
			out[p.Field] = strings.Join(p.Sections, ", ")
		} else {
			delete(out, p.Field)
		}
	}
	return out, rows.Err()
}

// checkedExemptions returns the exempt fields in the order of
// ExemptFields, failing with a *StateError where the exemptions table and
// its events disagree (a withheld field deleted with the sqlite3 shell
// must not be published by the next FOI answer).
func checkedExemptions(q querier) ([]Exemption, error) {
	es, err := exemptions(q)
	if err != nil {
		return nil, err
	}
	row := map[string]string{}
	for _, e := range es {
		row[e.Field] = strings.Join(e.Sections, ", ")
	}
	ev, err := exemptionEvents(q)
	if err != nil {
		return nil, err
	}
	fields := map[string]bool{}
	for f := range row {
		fields[f] = true
	}
	for f := range ev {
		fields[f] = true
	}
	for _, f := range sortedKeys(fields) {
		rv, rok := row[f]
		evv, eok := ev[f]
		if rok != eok || rv != evv {
			show := func(v string, ok bool) string {
				if !ok {
					return "not withheld"
				}
				return "withheld under " + v
			}
			return nil, &StateError{What: "exemption " + f, Row: show(rv, rok), Events: show(evv, eok)}
		}
	}
	return es, nil
}

// checkCertificate compares a certificate's row with its events: its own
// certificate.issue event (by the row's seq, the primary key), its
// certificate.revoke event (by subject), and the issue events of the later
// certificates for the same subject, one of which may list it as
// superseded. It returns a *StateError when the row's revocation or
// supersession is not what the events say.
func checkCertificate(q querier, c Certificate) error {
	what := "certificate " + c.UUID
	var action string
	var raw []byte
	err := q.QueryRow(`SELECT action, payload FROM events WHERE seq = ?`, c.Seq).Scan(&action, &raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read the issue of %s: %w", what, err)
	}
	var issue certificateIssueEvent
	if err != nil || action != "certificate.issue" || json.Unmarshal(raw, &issue) != nil || issue.UUID != c.UUID {
		return &StateError{What: what, Row: fmt.Sprintf("it was issued by event %d", c.Seq), Events: "no such issue"}
	}
	if issue.Kind != c.Kind || issue.Subject != c.Subject || issue.ContentHash != c.ContentHash ||
		issue.PDFSHA256 != c.PDFSHA256 || issue.SignerFingerprint != c.SignerFingerprint ||
		issue.IssuedAt != c.IssuedAt || issue.IssuedBy != c.IssuedBy {
		return &StateError{What: what, Row: "one issue", Events: fmt.Sprintf("another (event %d)", c.Seq)}
	}

	// Revocation: the certificate.revoke event whose subject is its number.
	var revokedAt, revokeReason string
	rows, err := q.Query(`SELECT seq, payload, reason FROM events WHERE subject = ? AND action = 'certificate.revoke' ORDER BY seq`, c.UUID)
	if err != nil {
		return fmt.Errorf("read the revocation of %s: %w", what, err)
	}
	for rows.Next() {
		var seq int64
		var reason string
		if err := rows.Scan(&seq, &raw, &reason); err != nil {
			rows.Close()
			return err
		}
		var p certificateRevokeEvent
		if json.Unmarshal(raw, &p) != nil || p.UUID != c.UUID {
			rows.Close()
			return fmt.Errorf("%w: event %d: bad certificate.revoke payload", ErrTampered, seq)
		}
		if revokedAt == "" {
			revokedAt, revokeReason = p.RevokedAt, p.Reason
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if revokedAt != c.RevokedAt || revokeReason != c.RevokeReason {
		show := func(at, why string) string {
			if at == "" {
				return "not revoked"
			}
			return fmt.Sprintf("revoked at %s (%q)", at, why)
		}
		return &StateError{What: what, Row: show(c.RevokedAt, c.RevokeReason), Events: show(revokedAt, revokeReason)}
	}

	// Supersession: a later certificate of the same kind and subject (or,
	// for a device certificate, of the same device under a corrected
	// serial) whose issue event lists this one. The candidates are found
	// by the certificates_subject and certificate_devices indexes, and the
	// row's own superseded_by is one of them; each candidate's issue event
	// is read by its seq.
	rows, err = q.Query(supersessionQuery, c.Kind, c.Subject, c.Seq, c.SupersededBy, c.UUID)
	if err != nil {
		return fmt.Errorf("read the certificates after %s: %w", what, err)
	}
	type later struct {
		uuid string
		seq  int64
	}
	var cands []later
	for rows.Next() {
		var l later
		if err := rows.Scan(&l.uuid, &l.seq); err != nil {
			rows.Close()
			return err
		}
		cands = append(cands, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	supersededBy := ""
	for _, l := range cands {
		if err := q.QueryRow(`SELECT action, payload FROM events WHERE seq = ?`, l.seq).Scan(&action, &raw); err != nil {
			continue // a row without its event: itad verify names it
		}
		var p certificateIssueEvent
		if action != "certificate.issue" || json.Unmarshal(raw, &p) != nil || p.UUID != l.uuid {
			continue
		}
		for _, old := range p.Supersedes {
			if old == c.UUID && supersededBy == "" {
				supersededBy = p.UUID
			}
		}
	}
	if supersededBy != c.SupersededBy {
		show := func(by string) string {
			if by == "" {
				return "not superseded"
			}
			return "superseded by " + by
		}
		return &StateError{What: what, Row: show(c.SupersededBy), Events: show(supersededBy)}
	}
	return nil
}

// supersessionQuery finds the candidates that may supersede certificate
// ?5 (kind ?1, subject ?2, issued at seq ?3, its row naming ?4): later
// ones of its subject, later device certificates of its devices, and the
// one its row names. Three indexed lookups joined by UNION: written as one
// WHERE with OR, SQLite searched certificates_subject by kind alone and
// read every later device certificate for each one (a cert list of N
// device certificates took time in N squared).
const supersessionQuery = `SELECT uuid, seq FROM certificates WHERE kind = ?1 AND subject = ?2 AND seq > ?3
	UNION SELECT c.uuid, c.seq FROM certificate_devices cd CROSS JOIN certificates c ON c.id = cd.certificate_id
		WHERE ?1 = 'device' AND cd.device_id IN
			(SELECT cd2.device_id FROM certificate_devices cd2 JOIN certificates o ON o.id = cd2.certificate_id WHERE o.uuid = ?5)
		AND +c.kind = ?1 AND c.seq > ?3
	UNION SELECT uuid, seq FROM certificates WHERE uuid = ?4
	ORDER BY 2`

// checkCertificates checks every certificate of a list (cert list,
// device show) against its events, and reads its stale marks (stale.go).
func checkCertificates(q querier, cs []Certificate) error {
	for _, c := range cs {
		if err := checkCertificate(q, c); err != nil {
			return err
		}
	}
	return loadStale(q, cs)
}
