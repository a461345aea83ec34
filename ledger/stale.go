package ledger

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Stale certificates
//
// A certificate states what the ledger held when it was issued. When a
// later change alters what it would say now (a device or disposal
// amended, a disposal recorded that changes the device's final
// disposition, the organisation renamed, the media destination changed,
// a disposal voided or a batch amended), the change marks it stale in the
// same transaction: one certificate.stale event per current (neither
// revoked nor superseded) certificate affected,
//
//	subject  the certificate number
//	payload  {"uuid":"<certificate>","cause":<seq>,"what":"device WD-1 amended (model)"}
//
// where cause is the event that made the change (its time and actor are
// the stale event's own: one transaction) and what says in words what
// changed. The mark is an event and nothing else: no row holds it, so
// there is no column that the sqlite3 shell could reset; deleting or
// editing the event breaks the hash chain, which itad verify reports at
// its seq, and verify checks that every certificate.stale event names a
// certificate issued before it and a cause recorded before it. Reading a
// certificate (cert list, device show, batch show, cert verify) finds its
// marks through the events_subject index, in the same query cost as its
// revocation.
//
// Issuing the certificate again supersedes the stale one. Certificates
// issued by an itad older than this rule are not marked by changes made
// before it; cert verify still finds that their content changed.

// CertificateStaleAction is the action of the event that marks a
// certificate stale.
const CertificateStaleAction = "certificate.stale"

// certificateStaleEvent is the payload of certificate.stale.
type certificateStaleEvent struct {
	UUID  string `json:"uuid"`
	Cause int64  `json:"cause"`
	What  string `json:"what"`
}

// StaleCause is one change that made a certificate stale.
type StaleCause struct {
	Seq   int64  `json:"seq"`   // the certificate.stale event
	Cause int64  `json:"cause"` // the event that made the change
	What  string `json:"what"`  // e.g. "device WD-1 amended (model)"
	At    string `json:"at"`    // TimeFormat, UTC
	By    string `json:"by"`    // the actor
}

// String says what changed, when, by whom and in which event:
// "device WD-1 amended (model) on 2024-05-01 by alice (event 123)".
func (c StaleCause) String() string {
	on := c.At
	if t, err := time.Parse(TimeFormat, c.At); err == nil {
		on = t.UTC().Format("2006-01-02")
	}
	return fmt.Sprintf("%s on %s by %s (event %d)", c.What, on, c.By, c.Cause)
}

// StaleNotice tells that a change has just made a certificate stale.
type StaleNotice struct {
	Certificate Certificate
	Cause       StaleCause
}

// IssueCommand is the command that issues a certificate of the same kind
// and subject again: "itad cert issue WD-1" or "itad cert issue --batch
// RUN-1".
func (c Certificate) IssueCommand() string {
	if c.Kind == CertBatch {
		return "itad cert issue --batch " + quoteArg(c.Subject)
	}
	return "itad cert issue " + quoteArg(c.Subject)
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"\\$`!*?;&|<>()[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// staleMark is a certificate to be marked stale when the transaction's
// change is complete.
type staleMark struct {
	cert  Certificate
	cause int64
	what  string
}

// markStale queues a stale mark, with the event just appended as cause,
// for every current certificate that query (selecting certificateSelect's
// columns) returns. The marks are written by flushStale just before the
// transaction commits.
func (t *txn) markStale(what, where string, args ...any) error {
	cs, err := queryCertificates(t, certificateSelect+` WHERE c.superseded_by = '' AND c.revoked_at = '' AND (`+where+`) ORDER BY c.seq`, args...)
	if err != nil {
		return err
	}
	for _, c := range cs {
		t.stale = append(t.stale, staleMark{cert: c, cause: t.seq, what: what})
	}
	return nil
}

// staleDevice marks stale the current certificates (of both kinds)
// covering the device.
func (t *txn) staleDevice(devID int64, what string) error {
	return t.markStale(what, `c.id IN (SELECT certificate_id FROM certificate_devices WHERE device_id = ?)`, devID)
}

// staleDeviceCerts marks stale the current device certificates of the
// device (its final disposition changed or was amended).
func (t *txn) staleDeviceCerts(devID int64, what string) error {
	return t.markStale(what, `c.kind = 'device' AND c.id IN (SELECT certificate_id FROM certificate_devices WHERE device_id = ?)`, devID)
}

// staleBatch marks stale the current certificates of the batch with that
// id (nil: none).
func (t *txn) staleBatch(batchID *int64, what string) error {
	if batchID == nil {
		return nil
	}
	return t.markStale(what, `c.kind = 'batch' AND c.subject = (SELECT ref FROM batches WHERE id = ?)`, *batchID)
}

// staleRun marks stale what a change of a run itself (its gross weight,
// witness, date) alters: the run's certificates, and the device
// certificates of the devices whose final disposition is in it (their
// weight may be a share of the run's gross).
func (t *txn) staleRun(batchID int64, what string) error {
	if err := t.staleBatch(&batchID, what); err != nil {
		return err
	}
	return t.markStale(what, `c.kind = 'device' AND c.id IN (SELECT cd.certificate_id FROM certificate_devices cd
		JOIN disposals x ON x.device_id = cd.device_id WHERE x.batch_id = ? AND x.is_final = 1)`, batchID)
}

// staleAll marks stale every current certificate (a setting every
// certificate prints changed).
func (t *txn) staleAll(what string) error { return t.markStale(what, `1`) }

// finalOf returns the id and batch of the device's final disposition (0
// and nil when it has none).
func (t *txn) finalOf(devID int64) (int64, *int64, error) {
	var id int64
	var batch *int64
	err := t.QueryRow(`SELECT id, batch_id FROM disposals WHERE device_id = ? AND is_final = 1`, devID).Scan(&id, &batch)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("read final disposition: %w", err)
	}
	return id, batch, nil
}

// staleFinal marks what a change of the device's final disposition from
// (oldID, oldBatch) to its current one makes stale: the device's
// certificates, and the certificates of the runs of both dispositions
// (a run's shares of its gross weight count its final dispositions).
func (t *txn) staleFinal(devID, oldID int64, oldBatch *int64, what string) error {
	newID, newBatch, err := t.finalOf(devID)
	if err != nil || newID == oldID {
		return err
	}
	if err := t.staleDeviceCerts(devID, what); err != nil {
		return err
	}
	if err := t.staleBatch(oldBatch, what); err != nil {
		return err
	}
	return t.staleBatch(newBatch, what)
}

// flushStale writes the queued stale marks, one certificate.stale event
// per certificate and cause, and returns them as notices.
func (t *txn) flushStale() ([]StaleNotice, error) {
	var out []StaleNotice
	seen := map[string]bool{}
	for _, m := range t.stale {
		k := fmt.Sprintf("%s %d", m.cert.UUID, m.cause)
		if seen[k] {
			continue
		}
		seen[k] = true
		seq, err := t.appendEvent(CertificateStaleAction, m.cert.UUID, certificateStaleEvent{UUID: m.cert.UUID, Cause: m.cause, What: m.what})
		if err != nil {
			return nil, err
		}
		cause := StaleCause{Seq: seq, Cause: m.cause, What: m.what, At: t.now.Format(TimeFormat), By: t.actor}
		m.cert.Stale = append(m.cert.Stale, cause)
		out = append(out, StaleNotice{Certificate: m.cert, Cause: cause})
	}
	t.stale = nil
	return out, nil
}

// staleMarksQuery reads a certificate's stale marks: ?1 its number, ?2
// CertificateStaleAction. The unary + keeps it on events_subject (the
// certificate's own few events, already in seq order); through
// events_action it read every stale mark of the ledger for each
// certificate. TestUncertified_QueryPlans pins the plan.
const staleMarksQuery = `SELECT seq, at, actor, payload FROM events WHERE subject = ?1 AND +action = ?2 ORDER BY seq`

// loadStale reads the certificate.stale events of each certificate into
// its Stale list, oldest first.
func loadStale(q querier, cs []Certificate) error {
	for i := range cs {
		c := &cs[i]
		c.Stale = nil
		rows, err := q.Query(staleMarksQuery, c.UUID, CertificateStaleAction)
		if err != nil {
			return fmt.Errorf("read the stale marks of certificate %s: %w", c.UUID, err)
		}
		for rows.Next() {
			var sc StaleCause
			var raw []byte
			if err := rows.Scan(&sc.Seq, &sc.At, &sc.By, &raw); err != nil {
				rows.Close()
				return err
			}
			var p certificateStaleEvent
			if json.Unmarshal(raw, &p) != nil || p.UUID != c.UUID {
				rows.Close()
				return fmt.Errorf("%w: event %d: bad %s payload", ErrTampered, sc.Seq, CertificateStaleAction)
			}
			sc.Cause, sc.What = p.Cause, p.What
			c.Stale = append(c.Stale, sc)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// changedFields lists the fields of changes: "model, site".
func changedFields(cs []Change) string {
	fs := make([]string, len(cs))
	for i, c := range cs {
		fs[i] = c.Field
	}
	return strings.Join(fs, ", ")
}
