package ledger

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func TestMerkleFrontier(t *testing.T) {
	var data [][]byte
	for i := 0; i < 300; i++ {
		h := sha256.Sum256([]byte(strconv.Itoa(i)))
		data = append(data, h[:])
	}
	mt := newMemTree(data)
	var f merkleFrontier
	for n := 0; n <= len(data); n++ {
		want, err := tlog.TreeHash(int64(n), mt)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.root(); got != want {
			t.Fatalf("root of %d leaves: %v, tlog says %v", n, got, want)
		}
		if n < len(data) {
			if recordHash(data[n]) != tlog.RecordHash(data[n]) {
				t.Fatal("recordHash differs from tlog.RecordHash")
			}
			f.push(recordHash(data[n]), 1)
		}
	}
	// Whole perfect subtrees, as Verify pushes full batches.
	var g merkleFrontier
	for lo := 0; lo+64 <= 256; lo += 64 {
		leaves := make([]tlog.Hash, 64)
		for i := range leaves {
			leaves[i] = tlog.RecordHash(data[lo+i])
		}
		g.push(subtreeRoot(leaves), 64)
	}
	g.push(tlog.RecordHash(data[256]), 1)
	want, _ := tlog.TreeHash(257, mt)
	if g.root() != want {
		t.Fatal("frontier built from subtrees differs from tlog.TreeHash")
	}
}

// TestCheckpointBody pins the checkpoint text and the parser's strictness.
func TestCheckpointBody(t *testing.T) {
	var root tlog.Hash
	for i := range root {
		root[i] = byte(i)
	}
	body := CheckpointBody("itad.ledger/00112233", 1009765, root)
	want := "itad.ledger/00112233\n1009765\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	if body != want {
		t.Fatalf("body %q, want %q", body, want)
	}
	origin, size, r, err := parseCheckpointBody(body)
	if err != nil || origin != "itad.ledger/00112233" || size != 1009765 || r != root {
		t.Fatalf("parse: %q %d %v %v", origin, size, r, err)
	}
	for _, bad := range []string{
		"", "itad\n12\n", "itad\n012\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n",
		"itad\n-1\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n",
		"itad\n12\n" + base64.StdEncoding.EncodeToString(root[:5]) + "\n",
		"\n12\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n",
		"itad\n12\n" + base64.StdEncoding.EncodeToString(root[:]),
		"itad\n12\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n\n",
	} {
		if _, _, _, err := parseCheckpointBody(bad); !errors.Is(err, ErrTampered) {
			t.Errorf("parse %q: %v, want ErrTampered", bad, err)
		}
	}
}

// TestNoteKeys checks the signature types: ECDSA as transparency-dev
// verifies it (key ID over the SPKI, ASN.1 signature of SHA-256 of the
// text), Ed25519 as golang.org/x/mod/sumdb/note does, and RSA.
func TestNoteKeys(t *testing.T) {
	text := "itad.ledger/x\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		sign func() (note.Signer, error)
		pub  any
	}{
		{"ecdsa", func() (note.Signer, error) { return NewNoteSigner("itad/test", ec) }, ec.Public()},
		{"rsa", func() (note.Signer, error) { return NewNoteSigner("itad/test", rk) }, rk.Public()},
		{"ed25519", func() (note.Signer, error) { return NewNoteSigner("itad/test", ed) }, ed.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.sign()
			if err != nil {
				t.Fatal(err)
			}
			msg, err := note.Sign(&note.Note{Text: text}, s)
			if err != nil {
				t.Fatal(err)
			}
			v, err := NewNoteVerifier("itad/test", tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
				t.Fatalf("open: %v", err)
			}
			// Any changed byte of the text or signature fails.
			for i := range msg {
				m := append([]byte(nil), msg...)
				m[i] ^= 0x01
				if n, err := note.Open(m, note.VerifierList(v)); err == nil && n.Text == text {
					// flipping a bit of the base64 padding can leave the bytes unchanged
					if !strings.Contains(string(m), "=") {
						t.Fatalf("byte %d changed and the note still opens", i)
					}
				}
			}
			vkey, err := NoteVerifierKey("itad/test", tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.SplitN(vkey, "+", 3)
			raw, _ := base64.StdEncoding.DecodeString(parts[2])
			sig := signatureBytes(t, msg)
			id := binary.BigEndian.Uint32(sig)
			if fmt.Sprintf("%08x", id) != parts[1] {
				t.Fatalf("signature key ID %08x, verifier key says %s", id, parts[1])
			}
			switch tc.name {
			case "ecdsa":
				// transparency-dev/witness: key ID = SHA-256(SPKI)[:4], ASN.1 over SHA-256.
				spki, _ := x509.MarshalPKIXPublicKey(ec.Public())
				sum := sha256.Sum256(spki)
				d := sha256.Sum256([]byte(text))
				if raw[0] != 0x02 || binary.BigEndian.Uint32(sum[:]) != id || !ecdsa.VerifyASN1(&ec.PublicKey, d[:], sig[4:]) {
					t.Fatal("ECDSA note is not in the transparency-dev form")
				}
			case "ed25519":
				// The standard verifier of golang.org/x/mod reads it.
				sv, err := note.NewVerifier(vkey)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := note.Open(msg, note.VerifierList(sv)); err != nil {
					t.Fatalf("x/mod verifier: %v", err)
				}
			case "rsa":
				if raw[0] != 0xff || !strings.HasPrefix(string(raw[1:]), "itad-rsa-pkcs1v15-sha256") {
					t.Fatal("RSA verifier key type")
				}
			}
		})
	}
}

func signatureBytes(t *testing.T, msg []byte) []byte {
	t.Helper()
	i := strings.LastIndex(string(msg), " ")
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(msg[i+1:])))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestCheckpoint_InclusionAndConsistency(t *testing.T) {
	s, ver := verifyFixture(t)
	cp, err := s.LatestCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	parsed, key, err := OpenCheckpoint([]byte(cp.Note), trust(ver))
	if err != nil || parsed.Size != cp.Size || parsed.Root != cp.Root || key != NoteKeyName(ver) {
		t.Fatalf("OpenCheckpoint: %+v %s %v", parsed, key, err)
	}
	evs, _ := s.Events(EventFilter{})
	for _, seq := range []int64{1, 2, cp.Size / 2, cp.Size} {
		proof, err := s.InclusionProof(seq, cp)
		if err != nil {
			t.Fatalf("InclusionProof(%d): %v", seq, err)
		}
		if err := CheckInclusion(proof, seq, evs[seq-1].Hash, cp); err != nil {
			t.Fatalf("CheckInclusion(%d): %v", seq, err)
		}
		if err := CheckInclusion(proof, seq, evs[seq%cp.Size].Hash, cp); !errors.Is(err, ErrTampered) {
			t.Fatalf("CheckInclusion with another event's hash: %v", err)
		}
	}
	if _, err := s.InclusionProof(cp.Size+1, cp); !errors.Is(err, ErrInvalid) {
		t.Fatalf("proof of an event after the checkpoint: %v", err)
	}
	size, root, proof, err := s.ConsistencyProof(cp)
	if err != nil || size != int64(len(evs)) {
		t.Fatalf("ConsistencyProof: %d %v", size, err)
	}
	if err := tlog.CheckTree(proof, size, root, cp.Size, cp.Root); err != nil {
		t.Fatal(err)
	}
	// Another key does not verify it.
	_, other := testNoteKey(t)
	if _, _, err := OpenCheckpoint([]byte(cp.Note), trust(other)); !errors.Is(err, ErrUntrustedCheckpoint) {
		t.Fatalf("a checkpoint opened with another key: %v", err)
	}
}

// rehash recomputes every event's prev_hash and hash from seq from on, as
// someone rewriting history with the database file in hand would.
func rehash(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT seq, at, actor, action, subject, reason, payload FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		seq                                int64
		at, actor, action, subject, reason string
		payload                            []byte
	}
	var evs []ev
	for rows.Next() {
		var e ev
		rows.Scan(&e.seq, &e.at, &e.actor, &e.action, &e.subject, &e.reason, &e.payload)
		evs = append(evs, e)
	}
	rows.Close()
	prev := make([]byte, 32)
	for _, e := range evs {
		at, _ := time.Parse(TimeFormat, e.at)
		h := EventHash(prev, e.seq, at, e.actor, e.action, e.subject, e.reason, e.payload)
		if _, err := db.Exec(`UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, h, e.seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

// TestCheckpoint_HistoryRewritten: a checkpoint kept outside the ledger
// fails once history before it is rewritten, even when the rewrite leaves
// a chain and tables that agree with each other.
func TestCheckpoint_HistoryRewritten(t *testing.T) {
	s := mustOpen(t)
	signer, ver := testNoteKey(t)
	must(t, s.Init("Org"))
	if _, err := importString(s, "a.csv", header+
		"SN-1,,hdd,Seagate,ST1,,DC,shred,,,yes,Albion,2021-01-05,,,,,\n"+
		"SN-2,,hdd,Seagate,ST1,,DC,shred,,,yes,Albion,2021-01-05,,,,,\n"); err != nil {
		t.Fatal(err)
	}
	cp, err := s.CreateCheckpoint(signer, "")
	must(t, err)
	external := []ExternalCheckpoint{{Source: "cp.txt", Note: []byte(cp.Note)}}
	if _, err := s.Verify(VerifyOptions{Trusted: trust(ver), External: external}); err != nil {
		t.Fatalf("before the rewrite: %v", err)
	}

	// The rewrite: SN-1 becomes a different model in its row and in the
	// row hash its import event records, the ledger's own checkpoint is
	// removed, and every event hash is recomputed.
	db := rawDB(t, s)
	for _, q := range []string{
		`UPDATE devices SET model = 'ST9' WHERE serial = 'SN-1'`,
		`DELETE FROM events WHERE action = 'checkpoint'`,
		`DELETE FROM checkpoints`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var d devFields
	var id, seq int64
	var capacity sql.NullInt64
	must(t, db.QueryRow(`SELECT id, seq, uuid, serial, asset_tag, type, make, model, capacity_gb, site FROM devices WHERE serial = 'SN-1'`).Scan(
		&id, &seq, &d.UUID, &d.Serial, &d.AssetTag, &d.Type, &d.Make, &d.Model, &capacity, &d.Site))
	d.Cap, d.CapNull = capacity.Int64, !capacity.Valid
	var raw []byte
	must(t, db.QueryRow(`SELECT payload FROM events WHERE seq = ?`, seq).Scan(&raw))
	var p importRowsPayload
	must(t, json.Unmarshal(raw, &p))
	h, _ := deviceRowHash(nil, &d)
	copy(p.DeviceSHA256[32*(id-p.FirstDevice):], h[:])
	raw, _ = json.Marshal(p)
	if _, err := db.Exec(`UPDATE events SET payload = ? WHERE seq = ?`, raw, seq); err != nil {
		t.Fatal(err)
	}
	rehash(t, db)

	// On its own the ledger now looks consistent...
	if _, err := s.Verify(VerifyOptions{Trusted: trust(ver)}); err != nil {
		t.Fatalf("the rewritten ledger should be self-consistent: %v", err)
	}
	// ...but not with the checkpoint kept elsewhere.
	_, err = s.Verify(VerifyOptions{Trusted: trust(ver), External: external})
	var ce *CheckpointError
	if !errors.As(err, &ce) || !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "history rewritten") {
		t.Fatalf("verify with the old checkpoint: %v", err)
	}
	if _, _, _, err := s.ConsistencyProof(cp); !errors.Is(err, ErrTampered) {
		t.Fatalf("ConsistencyProof after the rewrite: %v", err)
	}
}

// TestCheckpoint_Truncated: dropping the newest events is caught.
func TestCheckpoint_Truncated(t *testing.T) {
	s := mustOpen(t)
	signer, ver := testNoteKey(t)
	must(t, s.Init("Org"))
	must(t, s.SetSetting(SettingDestination, "x", ""))
	cp, err := s.CreateCheckpoint(signer, "")
	must(t, err)
	db := rawDB(t, s)
	for _, q := range []string{`DELETE FROM events WHERE seq >= 2`, `DELETE FROM checkpoints`, `DELETE FROM settings WHERE key = 'media_destination'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, trusted := range [][]*x509.Certificate{trust(ver), nil} { // with no trusted key, the signature is not checked
		_, err = s.Verify(VerifyOptions{Trusted: trusted, External: []ExternalCheckpoint{{Source: "cp", Note: []byte(cp.Note)}}})
		if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "truncated, event 2 is missing") {
			t.Fatalf("verify: %v", err)
		}
	}
}

// TestCheckpoint_WrongKey: an external checkpoint signed by another key,
// or edited, does not verify.
func TestCheckpoint_WrongKey(t *testing.T) {
	s, ver := verifyFixture(t)
	cp, _ := s.LatestCheckpoint()
	_, other := testNoteKey(t)
	_, err := s.Verify(VerifyOptions{Trusted: trust(other), External: []ExternalCheckpoint{{Source: "cp", Note: []byte(cp.Note)}}})
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrUntrustedCheckpoint) {
		t.Fatalf("other key: %v", err)
	}
	found := false
	for _, p := range ve.Problems {
		var ce *CheckpointError
		if errors.As(p, &ce) && ce.Source == "cp" {
			found = ce.Untrusted && strings.Contains(ce.Problem, "signed by "+NoteKeyName(ver)+", trusted: "+NoteKeyName(other))
		}
	}
	if !found {
		t.Fatalf("no untrusted problem for the external checkpoint: %v", ve.Problems)
	}
	edited := strings.Replace(cp.Note, "\n"+strconv.FormatInt(cp.Size, 10)+"\n", "\n"+strconv.FormatInt(cp.Size-1, 10)+"\n", 1)
	_, err = s.Verify(VerifyOptions{Trusted: trust(ver), External: []ExternalCheckpoint{{Source: "cp", Note: []byte(edited)}}})
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("edited note: %v", err)
	}
}
