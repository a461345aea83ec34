package ledger

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func keyRec(b string) KeyRecord {
	return KeyRecord{Fingerprint: strings.Repeat(b, 32), Subject: "CN=" + b, NotAfter: "2035-01-01T00:00:00Z"}
}

// TestLedger_KeyRotation: the identity recorded last signs; one rotated
// away is retired; one never recorded is refused; the rotation is an
// event that verify knows.
func TestLedger_KeyRotation(t *testing.T) {
	s := mustOpen(t)
	a, b, c := keyRec("0a"), keyRec("0b"), keyRec("0c")
	if _, err := s.CurrentSigningKey(); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("CurrentSigningKey of a new ledger = %v", err)
	}
	if err := s.CheckSigner(a.Fingerprint); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("CheckSigner with no key = %v", err)
	}
	if _, _, err := s.RotateKey(b, "why"); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("RotateKey with no key = %v", err)
	}
	if err := s.RecordKey(KeyInit, a); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKey(KeyImport, b); !errors.Is(err, ErrKeyRecorded) || !strings.Contains(err.Error(), a.Fingerprint) {
		t.Fatalf("second RecordKey = %v, want ErrKeyRecorded naming the current key", err)
	}
	for _, tt := range []struct {
		name   string
		k      KeyRecord
		reason string
		want   error
	}{
		{"ErrInvalid/NoReason", b, "  ", ErrInvalid},
		{"ErrInvalid/Fingerprint", KeyRecord{Fingerprint: "ab"}, "why", ErrInvalid},
		{"ErrInvalid/SameKey", a, "why", ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.RotateKey(tt.k, tt.reason); !errors.Is(err, tt.want) {
				t.Fatalf("RotateKey = %v, want %v", err, tt.want)
			}
		})
	}
	s.Actor = "alice"
	old, cur, err := s.RotateKey(b, " key compromised ")
	if err != nil {
		t.Fatal(err)
	}
	if old.Fingerprint != a.Fingerprint || old.RetiredSeq != cur.Seq || cur.Fingerprint != b.Fingerprint || cur.Replaces != a.Fingerprint ||
		cur.Reason != "key compromised" || cur.RecordedBy != "alice" {
		t.Fatalf("RotateKey = %+v, %+v", old, cur)
	}
	if _, _, err := s.RotateKey(a, "back"); !errors.Is(err, ErrRetiredKey) {
		t.Fatalf("rotating back to a retired key = %v, want ErrRetiredKey", err)
	}
	if _, _, err := s.RotateKey(c, "yearly"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		fp   string
		want error
	}{
		{"OK/Current", c.Fingerprint, nil},
		{"ErrRetiredKey/First", a.Fingerprint, ErrRetiredKey},
		{"ErrRetiredKey/Second", b.Fingerprint, ErrRetiredKey},
		{"ErrUnrecordedKey", strings.Repeat("ff", 32), ErrUnrecordedKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CheckSigner(tt.fp)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckSigner = %v, want %v", err, tt.want)
			}
			// A refusal names the key refused and the current one.
			if err != nil && (!strings.Contains(err.Error(), tt.fp) || !strings.Contains(err.Error(), c.Fingerprint)) {
				t.Errorf("message %q does not name both fingerprints", err)
			}
		})
	}
	h, err := s.KeyHistory()
	if err != nil || len(h) != 3 {
		t.Fatalf("KeyHistory = %v, %v", h, err)
	}
	if h[0].Current() || h[1].Current() || !h[2].Current() || h[1].RetiredReason != "yearly" || h[2].Action != KeyRotate {
		t.Errorf("KeyHistory = %+v", h)
	}
	if keys, _ := s.SigningKeys(); len(keys) != 3 || keys[2] != c {
		t.Errorf("SigningKeys = %v", keys)
	}
	// The event names both fingerprints; the reason and actor are on it.
	evs, _ := s.Events(EventFilter{Action: KeyRotate})
	var p map[string]string
	if len(evs) != 2 || json.Unmarshal(evs[0].Payload, &p) != nil || p["old_fingerprint"] != a.Fingerprint || p["fingerprint"] != b.Fingerprint ||
		evs[0].Reason != "key compromised" || evs[0].Actor != "alice" {
		t.Fatalf("key.rotate events %+v", evs)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("Verify after key rotations: %v", err)
	}
}
