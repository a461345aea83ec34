package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Signing identity
//
// The ledger records which X.509 certificate (by SHA-256 fingerprint) may
// sign for it, and nothing secret: key.init and key.import record the
// first identity; key.rotate replaces it, naming the old fingerprint and
// the new one, with the actor and a mandatory reason. The identity
// recorded last is current; every earlier one is retired. Only the
// current identity may make new signatures (CheckSigner); retired ones
// stay trusted for what they signed while current. The rule is derived
// from the events alone, so it cannot drift from what verify replays.

// KeyRotate is the action of a key change (RotateKey).
const KeyRotate = "key.rotate"

// Errors about the signing identity.
var (
	// ErrNoSigningKey: the ledger records no signing identity yet.
	ErrNoSigningKey = errors.New("no signing key is recorded in this ledger")
	// ErrUnrecordedKey: a key the ledger never recorded.
	ErrUnrecordedKey = errors.New("this key pair is not the ledger's recorded signing identity")
	// ErrRetiredKey: a key recorded earlier and since rotated away.
	ErrRetiredKey = errors.New("this key pair was retired by a key rotation")
	// ErrKeyRecorded: key.init or key.import when an identity is already
	// recorded (change it with RotateKey).
	ErrKeyRecorded = errors.New("a signing key is already recorded in this ledger")
)

func init() { RegisterNoStateAction(KeyRotate) }

// keyRotateEvent is the payload of key.rotate: the new certificate, as in
// a KeyRecord, and the fingerprint of the one it replaces. The fields and
// their order are part of the event format.
type keyRotateEvent struct {
	Fingerprint string `json:"fingerprint"`
	Subject     string `json:"subject"`
	NotAfter    string `json:"not_after"`
	Old         string `json:"old_fingerprint"`
}

// KeyIdentity is one signing identity as the key events record it.
type KeyIdentity struct {
	KeyRecord
	Action        string `json:"action"` // KeyInit, KeyImport or KeyRotate
	Seq           int64  `json:"seq"`    // the event that recorded it
	RecordedAt    string `json:"recorded_at"`
	RecordedBy    string `json:"recorded_by"`
	Reason        string `json:"reason,omitempty"`         // why it replaced the one before
	Replaces      string `json:"replaces,omitempty"`       // fingerprint it replaced (key.rotate)
	RetiredSeq    int64  `json:"retired_seq,omitempty"`    // the event that replaced it; 0 while current
	RetiredAt     string `json:"retired_at,omitempty"`     // when
	RetiredReason string `json:"retired_reason,omitempty"` // the reason given then
}

// Current reports whether k is the identity that signs now.
func (k KeyIdentity) Current() bool { return k.RetiredSeq == 0 }

// describe names an identity in messages: fingerprint, action, event and
// date.
func (k KeyIdentity) describe() string {
	day, _, _ := strings.Cut(k.RecordedAt, "T")
	return fmt.Sprintf("fingerprint %s, recorded by %s (event #%d) on %s", k.Fingerprint, k.Action, k.Seq, day)
}

// KeyHistory returns every signing identity the key events record, oldest
// first; the last one is current, the others are retired. It returns an
// empty list when no key was recorded, and an error if a key event's
// payload does not decode.
func (s *Store) KeyHistory() ([]KeyIdentity, error) { return keyHistory(s.db) }

func keyHistory(q querier) ([]KeyIdentity, error) {
	rows, err := q.Query(`SELECT seq, at, actor, action, reason, payload FROM events WHERE action IN (?, ?, ?) ORDER BY seq`,
		KeyInit, KeyImport, KeyRotate)
	if err != nil {
		return nil, fmt.Errorf("read key events: %w", err)
	}
	defer rows.Close()
	out := []KeyIdentity{}
	for rows.Next() {
		var k KeyIdentity
		var p []byte
		if err := rows.Scan(&k.Seq, &k.RecordedAt, &k.RecordedBy, &k.Action, &k.Reason, &p); err != nil {
			return nil, err
		}
		var ev keyRotateEvent // a KeyRecord, and Old for key.rotate
		if err := json.Unmarshal(p, &ev); err != nil {
			return nil, fmt.Errorf("event %d: bad key payload: %w", k.Seq, err)
		}
		k.KeyRecord = KeyRecord{Fingerprint: ev.Fingerprint, Subject: ev.Subject, NotAfter: ev.NotAfter}
		if k.Action == KeyRotate {
			k.Replaces = ev.Old
		}
		if n := len(out); n > 0 {
			out[n-1].RetiredSeq, out[n-1].RetiredAt, out[n-1].RetiredReason = k.Seq, k.RecordedAt, k.Reason
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CurrentSigningKey returns the identity that signs now: the one recorded
// last. It returns ErrNoSigningKey when none was recorded.
func (s *Store) CurrentSigningKey() (KeyIdentity, error) {
	h, err := keyHistory(s.db)
	if err != nil {
		return KeyIdentity{}, err
	}
	if len(h) == 0 {
		return KeyIdentity{}, ErrNoSigningKey
	}
	return h[len(h)-1], nil
}

// CheckSigner decides whether the certificate with this fingerprint may
// make a new signature for the ledger (a certificate of destruction, a
// checkpoint, a signed disclosure): only the current identity may. It
// returns nil for it; an error wrapping ErrRetiredKey for an identity
// since rotated away, ErrUnrecordedKey for one the ledger never recorded,
// and ErrNoSigningKey when the ledger records none. Each error names the
// fingerprint refused and the current one.
func (s *Store) CheckSigner(fingerprint string) error {
	h, err := keyHistory(s.db)
	if err != nil {
		return err
	}
	return checkSigner(h, fingerprint)
}

func checkSigner(h []KeyIdentity, fp string) error {
	if len(h) == 0 {
		return fmt.Errorf("%w (the key's certificate has fingerprint %s)", ErrNoSigningKey, fp)
	}
	cur := h[len(h)-1]
	if fp == cur.Fingerprint {
		return nil
	}
	for _, k := range h {
		if k.Fingerprint == fp {
			return fmt.Errorf("%w: fingerprint %s was retired by event #%d; the current signing identity has %s",
				ErrRetiredKey, fp, k.RetiredSeq, cur.describe())
		}
	}
	return fmt.Errorf("%w: its certificate has fingerprint %s; the ledger's has %s", ErrUnrecordedKey, fp, cur.describe())
}

// RotateKey replaces the current signing identity with the certificate k,
// recording a key.rotate event with the old and the new fingerprints, the
// actor and reason (required). It returns the identity replaced and the
// new one. It returns ErrInvalid for an empty reason, a malformed
// fingerprint or the current identity again, ErrNoSigningKey when there
// is no identity to replace (use RecordKey), and an error wrapping
// ErrRetiredKey for an identity retired earlier: a retired key is never
// made current again.
func (s *Store) RotateKey(k KeyRecord, reason string) (old, cur KeyIdentity, err error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return old, cur, fmt.Errorf("%w: a reason is required to change the signing key", ErrInvalid)
	}
	if err := checkText("reason", reason, 1024); err != nil {
		return old, cur, err
	}
	if !isHexSHA256(k.Fingerprint) {
		return old, cur, fmt.Errorf("%w: fingerprint %q is not a hex SHA-256", ErrInvalid, k.Fingerprint)
	}
	err = s.write(reason, func(t *txn) error {
		h, err := keyHistory(t.tx)
		if err != nil {
			return err
		}
		if len(h) == 0 {
			return ErrNoSigningKey
		}
		old = h[len(h)-1]
		if k.Fingerprint == old.Fingerprint {
			return fmt.Errorf("%w: fingerprint %s is already the current signing identity", ErrInvalid, k.Fingerprint)
		}
		for _, r := range h {
			if r.Fingerprint == k.Fingerprint {
				return fmt.Errorf("%w: fingerprint %s (event #%d) cannot become current again", ErrRetiredKey, k.Fingerprint, r.Seq)
			}
		}
		ev := keyRotateEvent{Fingerprint: k.Fingerprint, Subject: k.Subject, NotAfter: k.NotAfter, Old: old.Fingerprint}
		seq, err := t.appendEvent(KeyRotate, k.Fingerprint, ev)
		if err != nil {
			return err
		}
		at := t.now.Format(TimeFormat)
		old.RetiredSeq, old.RetiredAt, old.RetiredReason = seq, at, reason
		cur = KeyIdentity{KeyRecord: k, Action: KeyRotate, Seq: seq, RecordedAt: at, RecordedBy: t.actor, Reason: reason, Replaces: old.Fingerprint}
		return nil
	})
	return old, cur, err
}
