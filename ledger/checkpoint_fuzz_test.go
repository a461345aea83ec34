package ledger

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// FuzzParseCheckpointBody: the strict checkpoint text parser never panics,
// and what it accepts is canonical: the text starts with exactly what
// CheckpointBody writes for the values it parsed.
func FuzzParseCheckpointBody(f *testing.F) {
	var root tlog.Hash
	root[0], root[31] = 1, 0xff
	good := CheckpointBody("itad.ledger/00112233445566778899aabbccddeeff", 523, root)
	for _, s := range []string{good, good + "ext\n", "", "\n\n\n", "o\n01\nAAAA\n", "o\n-1\n" + root.String() + "\n",
		strings.TrimSuffix(good, "\n"), "o\n5\n" + root.String() + "\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		origin, size, r, err := parseCheckpointBody(text)
		if err != nil {
			return
		}
		if size < 0 || !strings.HasPrefix(text, CheckpointBody(origin, size, r)) {
			t.Fatalf("accepted non-canonical text %q as %q %d %s", text, origin, size, r)
		}
	})
}

// FuzzParseCheckpoint: opening arbitrary bytes as a signed checkpoint note
// never panics, and only a note signed by the verifier's key is accepted.
func FuzzParseCheckpoint(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	signer, err := NewNoteSigner("itad/fuzz", key)
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewNoteVerifier("itad/fuzz", key.Public())
	if err != nil {
		f.Fatal(err)
	}
	var root tlog.Hash
	signed, err := note.Sign(&note.Note{Text: CheckpointBody("itad.ledger/00", 7, root)}, signer)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("itad.ledger/00\n7\n" + root.String() + "\n\n— itad/fuzz AAAA\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := ParseCheckpoint(msg, v)
		if err != nil {
			return
		}
		// Accepted: the signature must verify under the key.
		if _, err := note.Open(msg, note.VerifierList(v)); err != nil || cp.Size < 0 {
			t.Fatalf("accepted %q: %v", msg, err)
		}
	})
}
