package ledger

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoints
//
// A checkpoint is a signed statement of how many events the log held and
// the root of an RFC 6962 Merkle tree over them, written as a C2SP
// tlog-checkpoint (c2sp.org/tlog-checkpoint) in a C2SP signed note
// (c2sp.org/signed-note), the format of the Go checksum database and of
// Certificate Transparency's static logs:
//
//	itad.ledger/9c1d5a0e7f3b2a64c0ffee0123456789     origin: the ledger
//	1009765                                           size: events covered
//	7Q0zH0rK3y...base64 of 32 bytes...=               root hash
//
//	— itad/5f1e0c2a9b7d3e41 AAAAAk0wRQIhAK...         signature line
//
// Leaves. Leaf i (counting from 0) of the tree is event seq i+1, and its
// record data is that event's 32-byte hash (EventHash): leaf hash =
// SHA-256(0x00 || event hash), node hash = SHA-256(0x01 || left || right),
// exactly tlog.RecordHash and tlog.NodeHash. Because every event hash
// covers the previous one, the tree commits to the whole chain, and RFC
// 6962 proofs show that one event is in a checkpoint (inclusion) or that a
// later log extends an earlier checkpoint (consistency).
//
// Origin. "itad.ledger/" followed by the first 16 bytes, in lower-case
// hex, of the hash of event 1: unique to each ledger and fixed for its
// life. A checkpoint of one ledger never verifies against another.
//
// Signature. The ledger's certificate signing key signs the note text (the
// three lines above, each ending in a newline). The key name is "itad/"
// followed by the first 8 bytes, in hex, of the SHA-256 of the signing
// certificate (its fingerprint). The signature types are those of
// c2sp.org/signed-note:
//
//   - ECDSA (P-256, the default itad key), type 0x02, "ECDSA signatures as
//     implemented by github.com/transparency-dev/witness": the key ID is
//     the first 4 bytes of SHA-256 of the DER SubjectPublicKeyInfo, the
//     signature the ASN.1 DER ECDSA signature of SHA-256(note text). Such a
//     note verifies with that package (and Sigstore's) given the verifier
//     key NoteVerifierKey prints.
//   - Ed25519, type 0x01, as the specification defines it.
//   - RSA has no assigned type. itad uses 0xff ("signature types without an
//     identifier byte assigned") followed by the identifier
//     "itad-rsa-pkcs1v15-sha256": the key ID is the first 4 bytes of
//     SHA-256(key name || 0x0A || 0xff || "itad-rsa-pkcs1v15-sha256" ||
//     DER SubjectPublicKeyInfo) and the signature RSASSA-PKCS1-v1_5 with
//     SHA-256 over the note text.
//
// The key ID is the big-endian uint32 that starts each signature.

// CheckpointAction is the event that records a checkpoint. Its subject is
// the size in decimal and its payload {"size":N,"root_hash":"<base64>",
// "note":"<the signed note>"}; the checkpoints row holds the same values
// and the event's seq, time and actor.
const CheckpointAction = "checkpoint"

// Checkpoint is a signed checkpoint of the event log.
type Checkpoint struct {
	Origin    string    `json:"origin"`
	Size      int64     `json:"size"`
	Root      tlog.Hash `json:"root_hash"`
	Note      string    `json:"note"`
	Seq       int64     `json:"seq,omitempty"` // event that recorded it in the ledger
	CreatedAt string    `json:"created_at,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// checkpointPayload is the payload of a checkpoint event.
type checkpointPayload struct {
	Size     int64  `json:"size"`
	RootHash string `json:"root_hash"`
	Note     string `json:"note"`
}

// ErrNoCheckpoint is returned when the ledger holds no checkpoint yet.
var ErrNoCheckpoint = errors.New("no checkpoint recorded")

// OriginFor returns the checkpoint origin line of a ledger whose first
// event has hash first.
func OriginFor(first []byte) string {
	n := min(len(first), 16)
	return "itad.ledger/" + hex.EncodeToString(first[:n])
}

// CheckpointBody formats the note text of a checkpoint.
func CheckpointBody(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// parseCheckpointBody parses note text strictly: an origin line, a size
// in canonical decimal, a base64 root of 32 bytes and optional non-empty
// extension lines, each line ending in a newline.
func parseCheckpointBody(text string) (origin string, size int64, root tlog.Hash, err error) {
	bad := func(why string) error { return fmt.Errorf("%w: malformed checkpoint: %s", ErrTampered, why) }
	if !strings.HasSuffix(text, "\n") {
		return "", 0, root, bad("text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return "", 0, root, bad("fewer than three lines")
	}
	origin = lines[0]
	if origin == "" {
		return "", 0, root, bad("empty origin")
	}
	size, perr := strconv.ParseInt(lines[1], 10, 64)
	if perr != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, bad(fmt.Sprintf("size %q is not a decimal number", lines[1]))
	}
	h, derr := base64.StdEncoding.Strict().DecodeString(lines[2])
	if derr != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return "", 0, root, bad("root hash is not 32 bytes of base64")
	}
	copy(root[:], h)
	for _, l := range lines[3:] {
		if l == "" {
			return "", 0, root, bad("empty extension line")
		}
	}
	return origin, size, root, nil
}

// splitNote separates a signed note's text from its signature lines
// without checking signatures (for notes whose key is not at hand).
func splitNote(msg string) (text string, err error) {
	i := strings.LastIndex(msg, "\n\n")
	if i < 0 || !strings.HasSuffix(msg, "\n") {
		return "", fmt.Errorf("%w: malformed note: no signature block", ErrTampered)
	}
	text = msg[:i+1]
	for _, l := range strings.Split(strings.TrimSuffix(msg[i+2:], "\n"), "\n") {
		if !strings.HasPrefix(l, "— ") {
			return "", fmt.Errorf("%w: malformed note: bad signature line %q", ErrTampered, l)
		}
	}
	return text, nil
}

// trusted lists v and earlier, each key once (note.VerifierList calls a
// key given twice ambiguous).
func trusted(v note.Verifier, earlier []note.Verifier) note.Verifiers {
	seen := map[string]bool{}
	var vs []note.Verifier
	for _, x := range append([]note.Verifier{v}, earlier...) {
		if x == nil {
			continue
		}
		if k := fmt.Sprintf("%s+%08x", x.Name(), x.KeyHash()); !seen[k] {
			seen[k] = true
			vs = append(vs, x)
		}
	}
	return note.VerifierList(vs...)
}

// ParseCheckpoint opens a signed checkpoint note, checking its signature
// with v (or one of earlier: keys used before a key change), and parses
// its text. It returns an error matching ErrTampered if
// the note is malformed or its signature by v's key does not verify, and
// a *note.UnverifiedNoteError if no signature is by v's key.
func ParseCheckpoint(msg []byte, v note.Verifier, earlier ...note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, trusted(v, earlier))
	if err != nil {
		var unv *note.UnverifiedNoteError
		if errors.As(err, &unv) {
			names := v.Name()
			for _, e := range earlier {
				names += ", " + e.Name()
			}
			return Checkpoint{}, fmt.Errorf("checkpoint is not signed by key %s: %w", names, err)
		}
		return Checkpoint{}, fmt.Errorf("%w: checkpoint signature: %v", ErrTampered, err)
	}
	origin, size, root, err := parseCheckpointBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Note: string(msg)}, nil
}

// ErrUntrustedCheckpoint is matched by the error for a checkpoint that no
// trusted key signed: signed by another key (after a key change, trust the
// earlier certificate too) or forged.
var ErrUntrustedCheckpoint = errors.New("not signed by a trusted key")

// trustList returns the signed-note verifiers of the trusted
// certificates, each key once, and their key names. A certificate whose
// key cannot sign checkpoints is an error.
func trustList(certs []*x509.Certificate) (note.Verifiers, []string, error) {
	var vs []note.Verifier
	var names []string
	for _, c := range certs {
		v, err := NewNoteVerifier(NoteKeyName(c), c.PublicKey)
		if err != nil {
			return nil, nil, fmt.Errorf("trusted certificate %s: %w", c.Subject, err)
		}
		vs = append(vs, v)
	}
	list := trusted(nil, vs)
	for _, v := range vs {
		if !slices.Contains(names, v.Name()) {
			names = append(names, v.Name())
		}
	}
	return list, names, nil
}

// openNote checks a signed note against the trusted keys and returns its
// text and the name of the key that verified it. A note that no trusted
// key signed gives an error matching ErrUntrustedCheckpoint that names
// its signers; a malformed note or bad signature one matching ErrTampered.
func openNote(msg []byte, list note.Verifiers, names []string) (text, key string, err error) {
	n, err := note.Open(msg, list)
	if err != nil {
		var unv *note.UnverifiedNoteError
		if errors.As(err, &unv) {
			var by []string
			for _, s := range unv.Note.UnverifiedSigs {
				by = append(by, s.Name)
			}
			return "", "", fmt.Errorf("%w: signed by %s, trusted: %s", ErrUntrustedCheckpoint, orNone(by), orNone(names))
		}
		return "", "", fmt.Errorf("%w: checkpoint signature: %v", ErrTampered, err)
	}
	return n.Text, n.Sigs[0].Name, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// OpenCheckpoint opens a signed checkpoint note, checking that the key of
// one of the trusted certificates signed it, and parses its text. It
// returns the checkpoint and the name of the key that signed it; an error
// matching ErrUntrustedCheckpoint when no trusted key signed it, and one
// matching ErrTampered when the note is malformed or a signature by a
// trusted key does not verify.
func OpenCheckpoint(msg []byte, trusted []*x509.Certificate) (Checkpoint, string, error) {
	list, names, err := trustList(trusted)
	if err != nil {
		return Checkpoint{}, "", err
	}
	text, key, err := openNote(msg, list, names)
	if err != nil {
		return Checkpoint{}, "", err
	}
	origin, size, root, err := parseCheckpointBody(text)
	if err != nil {
		return Checkpoint{}, "", err
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Note: string(msg)}, key, nil
}

// ParseCheckpointText parses a checkpoint note without checking its
// signatures (for when no trusted key is at hand: whether a ledger extends
// it can still be checked). It returns an error matching ErrTampered for
// a malformed note.
func ParseCheckpointText(msg []byte) (Checkpoint, error) {
	text, err := splitNote(string(msg))
	if err != nil {
		return Checkpoint{}, err
	}
	origin, size, root, err := parseCheckpointBody(text)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Note: string(msg)}, nil
}

// NoteKeyName is the signed-note key name of a signing certificate:
// "itad/" and the first 8 bytes of its SHA-256 fingerprint in hex.
func NoteKeyName(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "itad/" + hex.EncodeToString(sum[:8])
}

// Signed-note signature types (c2sp.org/signed-note).
const (
	sigEd25519 = 0x01
	sigECDSA   = 0x02
	sigOther   = 0xff
)

// rsaSigID follows sigOther for itad's RSA signatures.
const rsaSigID = "itad-rsa-pkcs1v15-sha256"

func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// noteKey is a public key in signed-note terms: its type, key ID, the
// encoded verifier key and a verification function.
type noteKey struct {
	name   string
	id     uint32
	encode []byte // type byte(s) || public key, for the verifier key string
	verify func(msg, sig []byte) bool
}

func keyID(parts ...[]byte) uint32 {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func newNoteKey(name string, pub crypto.PublicKey) (*noteKey, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("%w: key name %q (no spaces or '+')", ErrInvalid, name)
	}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		spki, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, err
		}
		return &noteKey{name: name, id: keyID(spki), encode: append([]byte{sigECDSA}, spki...),
			verify: func(msg, sig []byte) bool {
				d := sha256.Sum256(msg)
				return ecdsa.VerifyASN1(pub, d[:], sig)
			}}, nil
	case *rsa.PublicKey:
		spki, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, err
		}
		typ := append([]byte{sigOther}, rsaSigID...)
		return &noteKey{name: name, id: keyID([]byte(name), []byte("\n"), typ, spki), encode: append(typ, spki...),
			verify: func(msg, sig []byte) bool {
				d := sha256.Sum256(msg)
				return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
			}}, nil
	case ed25519.PublicKey:
		typ := []byte{sigEd25519}
		return &noteKey{name: name, id: keyID([]byte(name), []byte("\n"), typ, pub), encode: append(typ, pub...),
			verify: func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }}, nil
	}
	return nil, fmt.Errorf("%w: checkpoint key of type %T (use ECDSA, RSA or Ed25519)", ErrInvalid, pub)
}

type noteVerifier struct{ k *noteKey }

func (v noteVerifier) Name() string                { return v.k.name }
func (v noteVerifier) KeyHash() uint32             { return v.k.id }
func (v noteVerifier) Verify(msg, sig []byte) bool { return v.k.verify(msg, sig) }

type noteSigner struct {
	k   *noteKey
	key crypto.Signer
}

func (s noteSigner) Name() string    { return s.k.name }
func (s noteSigner) KeyHash() uint32 { return s.k.id }

// Sign signs msg as the key's signature type requires.
func (s noteSigner) Sign(msg []byte) ([]byte, error) {
	switch s.k.encode[0] {
	case sigEd25519:
		return s.key.Sign(rand.Reader, msg, crypto.Hash(0))
	default: // ECDSA (ASN.1 DER) and RSA PKCS #1 v1.5, both over SHA-256
		d := sha256.Sum256(msg)
		return s.key.Sign(rand.Reader, d[:], crypto.SHA256)
	}
}

// NewNoteSigner returns a signed-note signer named name over key (ECDSA,
// RSA or Ed25519). It returns an error for another key type or a name with
// spaces or '+'.
func NewNoteSigner(name string, key crypto.Signer) (note.Signer, error) {
	k, err := newNoteKey(name, key.Public())
	if err != nil {
		return nil, err
	}
	return noteSigner{k: k, key: key}, nil
}

// NewNoteVerifier returns the signed-note verifier of pub under name.
func NewNoteVerifier(name string, pub crypto.PublicKey) (note.Verifier, error) {
	k, err := newNoteKey(name, pub)
	if err != nil {
		return nil, err
	}
	return noteVerifier{k: k}, nil
}

// NoteVerifierKey returns the verifier key string of pub,
// "<name>+<key ID in hex>+<base64 of type and key>", the form
// golang.org/x/mod/sumdb/note (Ed25519) and transparency-dev (ECDSA) read.
func NoteVerifierKey(name string, pub crypto.PublicKey) (string, error) {
	k, err := newNoteKey(name, pub)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s+%08x+%s", k.name, k.id, base64.StdEncoding.EncodeToString(k.encode)), nil
}

// merkleFrontier computes RFC 6962 tree hashes incrementally: the roots of
// the perfect subtrees that the leaves so far split into, largest first
// (one per bit of the leaf count). Memory is O(log n).
type merkleFrontier struct {
	hashes []tlog.Hash
	sizes  []int64
	n      int64
}

// push appends a perfect subtree of size leaves (a power of two; the
// frontier's leaf count must be a multiple of it). push(h, 1) adds a leaf
// hash.
func (f *merkleFrontier) push(h tlog.Hash, size int64) {
	f.hashes = append(f.hashes, h)
	f.sizes = append(f.sizes, size)
	f.n += size
	for k := len(f.sizes); k >= 2 && f.sizes[k-1] == f.sizes[k-2]; k = len(f.sizes) {
		f.hashes[k-2] = tlog.NodeHash(f.hashes[k-2], f.hashes[k-1])
		f.sizes[k-2] *= 2
		f.hashes, f.sizes = f.hashes[:k-1], f.sizes[:k-1]
	}
}

// root returns the tree hash of the leaves so far (tlog.TreeHash).
func (f *merkleFrontier) root() tlog.Hash {
	if len(f.hashes) == 0 {
		return sha256.Sum256(nil) // RFC 6962: the hash of the empty tree
	}
	r := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		r = tlog.NodeHash(f.hashes[i], r)
	}
	return r
}

// subtreeRoot returns the hash of a perfect tree over leaves (a power of
// two of them), overwriting leaves.
func subtreeRoot(leaves []tlog.Hash) tlog.Hash {
	for n := len(leaves); n > 1; n /= 2 {
		for i := 0; i < n/2; i++ {
			leaves[i] = tlog.NodeHash(leaves[2*i], leaves[2*i+1])
		}
	}
	return leaves[0]
}

// readEventHashes reads the hashes of events 1..n in order (all when n is
// negative), checking that their sequence numbers run from 1 without gaps.
func readEventHashes(q interface {
	Query(string, ...any) (*sql.Rows, error)
}, n int64) ([][]byte, error) {
	query := `SELECT seq, hash FROM events ORDER BY seq`
	var args []any
	if n >= 0 {
		query = `SELECT seq, hash FROM events WHERE seq <= ? ORDER BY seq`
		args = append(args, n)
	}
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("read event hashes: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var seq int64
		var h []byte
		if err := rows.Scan(&seq, &h); err != nil {
			return nil, err
		}
		if seq != int64(len(out))+1 {
			return nil, &ChainError{Seq: int64(len(out)) + 1, Problem: "event missing from the log"}
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n >= 0 && int64(len(out)) < n {
		return nil, &ChainError{Seq: int64(len(out)) + 1, Problem: fmt.Sprintf("the log holds %d events, fewer than %d", len(out), n)}
	}
	return out, nil
}

// CreateCheckpoint signs and records a checkpoint of every event so far,
// with reason recorded on its event, and writes it to checkpoint_dir when
// that is set. It returns an error if the ledger has no events or the log
// has gaps, a *CheckpointError (matching ErrTampered) if the ledger does
// not extend the newest checkpoint in checkpoint_dir, and a
// *CheckpointDirError if the checkpoint was recorded but could not be
// written there. Run Verify first: a checkpoint vouches for the log as it
// is.
func (s *Store) CreateCheckpoint(signer note.Signer, reason string) (Checkpoint, error) {
	var cp Checkpoint
	var dir string
	err := s.write(reason, func(t *txn) error {
		var err error
		cp, dir, err = t.checkpoint(signer)
		return err
	})
	if err == nil && dir != "" {
		err = publishCheckpoint(dir, cp)
	}
	return cp, err
}

// checkpoint signs and records, inside t, a checkpoint of every event so
// far (those t appended included): a checkpoint event and its
// checkpoints row. It is how CreateCheckpoint, RevokeCertificate and a
// superseding IssueCertificate take one. When checkpoint_dir is set it
// first checks that the log extends the newest checkpoint there, and
// returns the directory: the caller writes cp there once t has committed
// (publishCheckpoint).
func (t *txn) checkpoint(signer note.Signer) (cp Checkpoint, dir string, err error) {
	if signer == nil {
		return cp, "", fmt.Errorf("%w: no signing key to sign a checkpoint with", ErrInvalid)
	}
	hashes, err := readEventHashes(t.tx, -1)
	if err != nil {
		return cp, "", err
	}
	if len(hashes) == 0 {
		return cp, "", fmt.Errorf("%w: the ledger has no events to checkpoint", ErrInvalid)
	}
	if dir, err = settingQ(t.tx, SettingCheckpointDir); err != nil {
		return cp, "", err
	}
	var prev *dirCheckpoint
	if dir != "" {
		if prev, err = newestDirCheckpoint(dir); err != nil {
			return cp, "", fmt.Errorf("%s: %w (nothing was recorded: make it readable, or change the setting)", SettingCheckpointDir, err)
		}
	}
	var f merkleFrontier
	var prevRoot tlog.Hash
	for _, h := range hashes {
		f.push(tlog.RecordHash(h), 1)
		if prev != nil && f.n == prev.size {
			prevRoot = f.root()
		}
	}
	cp.Origin, cp.Size, cp.Root = OriginFor(hashes[0]), int64(len(hashes)), f.root()
	if prev != nil {
		problem := ""
		switch {
		case prev.origin != cp.Origin:
			problem = fmt.Sprintf("it is of ledger %q, not this one (%q): give each ledger its own %s", prev.origin, cp.Origin, SettingCheckpointDir)
		case prev.size > cp.Size:
			problem = fmt.Sprintf("the log holds only %d events: history truncated", cp.Size)
		case prevRoot != prev.root:
			problem = "the events it covers have changed since it was signed: history rewritten"
		}
		if problem != "" {
			return cp, "", &CheckpointError{Source: prev.path, Size: prev.size, Problem: problem + "; no new checkpoint was signed"}
		}
	}
	msg, err := note.Sign(&note.Note{Text: CheckpointBody(cp.Origin, cp.Size, cp.Root)}, signer)
	if err != nil {
		return cp, "", fmt.Errorf("sign checkpoint: %w", err)
	}
	cp.Note = string(msg)
	root64 := base64.StdEncoding.EncodeToString(cp.Root[:])
	if cp.Seq, err = t.appendEvent(CheckpointAction, strconv.FormatInt(cp.Size, 10),
		checkpointPayload{Size: cp.Size, RootHash: root64, Note: cp.Note}); err != nil {
		return cp, "", err
	}
	cp.CreatedAt, cp.CreatedBy = t.now.Format(TimeFormat), t.actor
	_, err = t.exec(`INSERT INTO checkpoints(size, root_hash, note, created_at, created_by, seq) VALUES (?,?,?,?,?,?)`,
		cp.Size, root64, cp.Note, cp.CreatedAt, cp.CreatedBy, cp.Seq)
	return cp, dir, err
}

// Checkpoints lists the recorded checkpoints, oldest first.
func (s *Store) Checkpoints() ([]Checkpoint, error) {
	rows, err := s.db.Query(`SELECT size, root_hash, note, created_at, created_by, seq FROM checkpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var cp Checkpoint
		var root string
		if err := rows.Scan(&cp.Size, &root, &cp.Note, &cp.CreatedAt, &cp.CreatedBy, &cp.Seq); err != nil {
			return nil, err
		}
		if text, err := splitNote(cp.Note); err == nil {
			cp.Origin, _, cp.Root, _ = parseCheckpointBody(text)
		}
		out = append(out, cp)
	}
	return out, rows.Err()
}

// LatestCheckpoint returns the most recent checkpoint, or ErrNoCheckpoint.
func (s *Store) LatestCheckpoint() (Checkpoint, error) {
	cps, err := s.Checkpoints()
	if err != nil {
		return Checkpoint{}, err
	}
	if len(cps) == 0 {
		return Checkpoint{}, ErrNoCheckpoint
	}
	return cps[len(cps)-1], nil
}

// memTree holds every stored hash of a tree (each level of complete
// subtrees) to answer tlog's proof requests.
type memTree struct{ levels [][]tlog.Hash }

func newMemTree(recordData [][]byte) *memTree {
	t := &memTree{levels: [][]tlog.Hash{make([]tlog.Hash, len(recordData))}}
	for i, d := range recordData {
		t.levels[0][i] = tlog.RecordHash(d)
	}
	for l := 0; len(t.levels[l]) > 1; l++ {
		prev := t.levels[l]
		next := make([]tlog.Hash, len(prev)/2)
		for i := range next {
			next[i] = tlog.NodeHash(prev[2*i], prev[2*i+1])
		}
		t.levels = append(t.levels, next)
	}
	return t
}

// ReadHashes implements tlog.HashReader.
func (t *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, n := tlog.SplitStoredHashIndex(x)
		if level >= len(t.levels) || n >= int64(len(t.levels[level])) {
			return nil, fmt.Errorf("tree hash %d/%d not available", level, n)
		}
		out[i] = t.levels[level][n]
	}
	return out, nil
}

// treeAt reads the first size event hashes and checks that their tree has
// root; it returns an error matching ErrTampered when it does not.
func (s *Store) treeAt(size int64, root tlog.Hash) (*memTree, [][]byte, error) {
	hashes, err := readEventHashes(s.db, size)
	if err != nil {
		return nil, nil, err
	}
	t := newMemTree(hashes)
	got, err := tlog.TreeHash(size, t)
	if err != nil {
		return nil, nil, err
	}
	if got != root {
		return nil, nil, &CheckpointError{Size: size, Problem: "the events it covers have changed since it was signed (history rewritten)"}
	}
	return t, hashes, nil
}

// InclusionProof proves that event seq is in the log checkpoint cp covers:
// an RFC 6962 audit path from that event's leaf to cp.Root, which
// CheckInclusion (or tlog.CheckRecord with leaf index seq-1 and
// tlog.RecordHash of the event hash) checks. It returns an error matching
// ErrTampered if the current log does not extend cp, and ErrInvalid if seq
// is not among the events cp covers.
func (s *Store) InclusionProof(seq int64, cp Checkpoint) (tlog.RecordProof, error) {
	if seq < 1 || seq > cp.Size {
		return nil, fmt.Errorf("%w: event %d is not covered by the checkpoint of %d events", ErrInvalid, seq, cp.Size)
	}
	t, _, err := s.treeAt(cp.Size, cp.Root)
	if err != nil {
		return nil, err
	}
	return tlog.ProveRecord(cp.Size, seq-1, t)
}

// CheckInclusion checks an inclusion proof of the event numbered seq with
// hash eventHash in checkpoint cp. It returns an error matching
// ErrTampered when the proof does not hold.
func CheckInclusion(proof tlog.RecordProof, seq int64, eventHash []byte, cp Checkpoint) error {
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, seq-1, tlog.RecordHash(eventHash)); err != nil {
		return &ChainError{Seq: seq, Problem: "not included in the checkpoint of " + strconv.FormatInt(cp.Size, 10) + " events: " + err.Error()}
	}
	return nil
}

// ProveEventIncluded builds the inclusion proof of event seq in
// checkpoint cp from the current log and checks it against the event's
// hash. It returns the proof (the audit path), an error matching
// ErrTampered when the log no longer gives cp's root or the proof does not
// hold, and ErrInvalid when cp does not cover seq.
func (s *Store) ProveEventIncluded(seq int64, cp Checkpoint) (tlog.RecordProof, error) {
	proof, err := s.InclusionProof(seq, cp)
	if err != nil {
		return nil, err
	}
	var h []byte
	if err := s.db.QueryRow(`SELECT hash FROM events WHERE seq = ?`, seq).Scan(&h); err != nil {
		return nil, fmt.Errorf("event %d: %w", seq, err)
	}
	return proof, CheckInclusion(proof, seq, h, cp)
}

// ConsistencyProof proves that the current log extends checkpoint cp: an
// RFC 6962 consistency proof from cp.Size events to all of them, with the
// current size and root, checked with tlog.CheckTree. It returns an error
// matching ErrTampered if the events cp covers have changed.
func (s *Store) ConsistencyProof(cp Checkpoint) (size int64, root tlog.Hash, proof tlog.TreeProof, err error) {
	hashes, err := readEventHashes(s.db, -1)
	if err != nil {
		return 0, root, nil, err
	}
	size = int64(len(hashes))
	if size < cp.Size {
		return 0, root, nil, &CheckpointError{Size: cp.Size, Problem: fmt.Sprintf("the log now holds only %d events (history truncated)", size)}
	}
	t := newMemTree(hashes)
	if old, err := tlog.TreeHash(cp.Size, t); err != nil || old != cp.Root {
		return 0, root, nil, &CheckpointError{Size: cp.Size, Problem: "the events it covers have changed since it was signed (history rewritten)"}
	}
	if root, err = tlog.TreeHash(size, t); err != nil {
		return 0, root, nil, err
	}
	proof, err = tlog.ProveTree(size, cp.Size, t)
	if err != nil {
		return 0, root, nil, err
	}
	if err := tlog.CheckTree(proof, size, root, cp.Size, cp.Root); err != nil {
		return 0, root, nil, &CheckpointError{Size: cp.Size, Problem: "consistency proof fails: " + err.Error()}
	}
	return size, root, proof, nil
}
