package ledger

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is one entry of the append-only log. Every change to the ledger
// and every consultation or disclosure of it is an event, written in the
// same transaction as the change it records.
type Event struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Reason   string          `json:"reason"`
	Payload  json.RawMessage `json:"payload"`
	PrevHash []byte          `json:"prev_hash"`
	Hash     []byte          `json:"hash"`
}

// eventDomain separates event hashes from every other SHA-256 itad makes.
const eventDomain = "itad-event-v1\n"

// TimeFormat is how event times are stored: RFC 3339 in UTC with
// nanoseconds, so the text round-trips exactly.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// EventHash computes an event's hash. The hashed bytes are, in order:
//
//	"itad-event-v1\n"            14 bytes, domain separation
//	prev_hash                    32 bytes (all zero for event 1)
//	seq                          8 bytes, big-endian unsigned
//	at, actor, action, subject,  each as a 4-byte big-endian length
//	reason, payload              followed by that many bytes
//
// where at is the time in TimeFormat and payload is the exact stored
// payload bytes (JSON written by itad, hashed as bytes, never re-encoded).
// The encoding is injective: no two different events hash the same bytes.
func EventHash(prev []byte, seq int64, at time.Time, actor, action, subject, reason string, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(eventDomain))
	var p [32]byte
	copy(p[:], prev)
	h.Write(p[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	h.Write(n[:])
	for _, f := range [][]byte{[]byte(at.UTC().Format(TimeFormat)), []byte(actor), []byte(action), []byte(subject), []byte(reason), payload} {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(f)))
		h.Write(l[:])
		h.Write(f)
	}
	return h.Sum(nil)
}

// appendEvent writes the next event in the chain inside t and returns its
// sequence number. payload is marshalled with encoding/json; the bytes
// stored are the bytes hashed.
func (t *txn) appendEvent(action, subject string, payload any) (int64, error) {
	ev, err := t.nextEvent(action, subject, payload)
	if err != nil {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO events(seq, at, actor, action, subject, reason, payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)`,
		ev.args()...); err != nil {
		return 0, fmt.Errorf("append %s event: %w", action, err)
	}
	return ev.seq, nil
}

// eventRow is an event computed and chained but not yet inserted (bulk
// imports insert many at once).
type eventRow struct {
	seq                                int64
	at, actor, action, subject, reason string
	payload, prevHash, hash            []byte
}

func (e *eventRow) args() []any {
	return []any{e.seq, e.at, e.actor, e.action, e.subject, e.reason, e.payload, e.prevHash, e.hash}
}

// nextEvent computes the next event of the chain and advances the head;
// the caller must insert it in this transaction.
func (t *txn) nextEvent(action, subject string, payload any) (eventRow, error) {
	if err := t.loadHead(); err != nil {
		return eventRow{}, err
	}
	var raw []byte
	switch p := payload.(type) {
	case []byte:
		raw = p
	case nil:
		raw = []byte("{}")
	default:
		var err error
		if raw, err = json.Marshal(payload); err != nil {
			return eventRow{}, fmt.Errorf("encode %s event: %w", action, err)
		}
	}
	seq := t.seq + 1
	hash := EventHash(t.head, seq, t.now, t.actor, action, subject, t.reason, raw)
	ev := eventRow{seq: seq, at: t.now.Format(TimeFormat), actor: t.actor, action: action, subject: subject,
		reason: t.reason, payload: raw, prevHash: t.head, hash: hash}
	t.seq, t.head = seq, hash
	return ev, nil
}

// loadHead reads the chain's head once per transaction.
func (t *txn) loadHead() error {
	if t.head != nil {
		return nil
	}
	var seq int64
	var hash []byte
	err := t.tx.QueryRow(`SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read event head: %w", err)
	}
	if hash == nil {
		hash = make([]byte, 32)
	}
	t.seq, t.head = seq, hash
	return nil
}

// EventFilter selects events for Events.
type EventFilter struct {
	Subject string // exact subject (serial, batch ref, uuid)
	// OrSeq also selects this event, whatever its subject (the
	// import.rows event that created a device names the file).
	OrSeq  int64
	Action string
	Actor  string
	Since  string // ISO date: events at or after its start
}

// Events returns the events matching f in sequence order.
func (s *Store) Events(f EventFilter) ([]Event, error) {
	q := `SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM events WHERE 1=1`
	var args []any
	switch {
	case f.Subject != "" && f.OrSeq != 0:
		q += ` AND (subject = ? OR seq = ?)`
		args = append(args, f.Subject, f.OrSeq)
	case f.Subject != "":
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Since != "" {
		d, err := ParseDate(f.Since)
		if err != nil {
			return nil, err
		}
		q += ` AND at >= ?`
		args = append(args, d.Format(TimeFormat))
	}
	rows, err := s.db.Query(q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Reason, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if e.At, err = time.Parse(TimeFormat, at); err != nil {
			return nil, fmt.Errorf("event %d: bad time %q", e.Seq, at)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventCount returns the number of events in the log.
func (s *Store) EventCount() (int64, error) {
	var n int64
	if err := s.db.QueryRow(`SELECT coalesce(max(seq), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// LogAccess records a consultation that releases nothing of the ledger
// (the CLI's cert verify records its lookup this way before it answers).
// Anything that produces an answer goes through Disclose (disclose.go),
// which records before it releases. LogAccess vets like Disclose: a
// registered action, an actor, a reason where one is required, and a
// ledger that can record it.
//
// On a ledger that cannot be written (a copy on read-only media) the
// consultation is vetted but cannot be recorded: the caller tells the
// user (Store.ReadOnly).
func (s *Store) LogAccess(action, subject, reason string, payload any) error {
	if err := s.VetDisclosure(action, reason); err != nil {
		return err
	}
	if s.readOnly {
		return nil
	}
	return s.write(reason, func(t *txn) error {
		if err := t.checkAccess(action, reason); err != nil { // auditlog.go
			return err
		}
		_, err := t.appendEvent(action, subject, payload)
		return err
	})
}
