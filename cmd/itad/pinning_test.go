package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// truncateAfter deletes, behind itad's back, every event after seq and
// the rows they created, and undoes the revocations among them: what
// someone with the database file does to make a revocation disappear.
func truncateAfter(t *testing.T, db string, seq int64) {
	t.Helper()
	h := shell(t, db)
	for _, q := range []string{
		`DELETE FROM events WHERE seq > ?`, `DELETE FROM checkpoints WHERE seq > ?`, `DELETE FROM devices WHERE seq > ?`,
		`DELETE FROM settings WHERE seq > ?`,
		`UPDATE certificates SET revoked_at = '', revoke_reason = '' WHERE revoked_at != ''`,
	} {
		args := []any{seq}
		if !strings.Contains(q, "?") {
			args = nil
		}
		if _, err := h.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func lastSeq(t *testing.T, db string) int64 {
	t.Helper()
	var n int64
	if err := shell(t, db).QueryRow(`SELECT max(seq) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCLI_VerifyNotPinned: a truncated or fully rewritten ledger with no
// trusted checkpoint kept outside it verifies (exit 0), but verify says
// that nothing pins it, and --require-pinned fails with exit 4.
func TestCLI_VerifyNotPinned(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, db string)
		want   []string
	}{
		{"Truncated", func(t *testing.T, db string) {
			// A checkpoint stored in the ledger, then events after it, then
			// the newest events deleted with SQL.
			mustItad(t, db, "checkpoint")
			cp := lastSeq(t, db)
			mustItad(t, db, "device", "add", "NEW-1", "--type", "hdd")
			mustItad(t, db, "device", "add", "NEW-2", "--type", "hdd")
			truncateAfter(t, db, cp+1)
		}, []string{"stored in the ledger (key itad/", "this holds only against someone without the signing key",
			"NOT pinned: no trusted checkpoint kept outside the ledger, so a truncated or rewritten ledger would verify the same"}},
		{"Rewritten", func(t *testing.T, db string) {
			mustItad(t, db, "device", "add", "OLD-1", "--type", "laptop", "--model", "Latitude 5490")
			mustItad(t, db, "checkpoint")
			rewriteHistory(t, db, "OLD-1", "Latitude 5490", "REWRITTEN")
		}, []string{"not pinned: events 1–", ": no trusted checkpoint covers them",
			"NOT pinned: no trusted checkpoint kept outside the ledger"}},
		{"Empty", func(t *testing.T, db string) {
			truncateAfter(t, db, 0)
			shell(t, db).Exec(`DELETE FROM weight_shares; DELETE FROM summary; DELETE FROM summary_dates; DELETE FROM contractors; DELETE FROM disposals; DELETE FROM batches; DELETE FROM devices`)
		}, []string{"verified: 0 events", "NOT pinned: the ledger is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := sampleLedger(t)
			mustItad(t, db, "key", "init")
			tc.tamper(t, db)
			out, errOut, code := itad(t, db, "verify")
			if code != 0 {
				t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("verify output lacks %q:\n%s", w, out)
				}
			}
			out, errOut, code = itad(t, db, "verify", "--require-pinned")
			if code != exitNotPinned || !strings.Contains(errOut, "itad: error: the ledger verified but is not pinned: ") ||
				!strings.Contains(errOut, "itad: hint: sign a checkpoint with 'itad checkpoint' and keep it outside the ledger") {
				t.Fatalf("verify --require-pinned: exit %d\n%s%s", code, out, errOut)
			}
			out, _, code = itad(t, db, "--json", "verify", "--require-pinned")
			var res struct {
				Verified, Pinned bool
			}
			if code != exitNotPinned || json.Unmarshal([]byte(out), &res) != nil || !res.Verified || res.Pinned {
				t.Fatalf("verify --json --require-pinned: exit %d %s", code, out)
			}
		})
	}
}

// TestCLI_VerifyPinned: with a checkpoint kept outside the ledger covering
// every change, verify says so and --require-pinned passes; a change after
// it makes --require-pinned fail, a consultation does not.
func TestCLI_VerifyPinned(t *testing.T) {
	db := sampleLedger(t)
	dir := filepath.Dir(db)
	mustItad(t, db, "key", "init")
	mustItad(t, db, "checkpoint")
	cpFile := filepath.Join(dir, "cp.txt")
	mustItad(t, db, "checkpoint", "export", "-o", cpFile)
	size := lastSeq(t, db) - 1
	mustItad(t, db, "report")
	out := mustItad(t, db, "verify", "--checkpoint", cpFile, "--require-pinned")
	for _, w := range []string{
		fmt.Sprintf("pinned:     events 1–%d by the checkpoint of ", size),
		"kept outside the ledger (" + cpFile + ", key itad/",
		fmt.Sprintf("not pinned: events %d–%d, which changed nothing", size+1, size+2),
		"every change is pinned by a checkpoint kept outside the ledger",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}
	mustItad(t, db, "device", "add", "NEW-1", "--type", "hdd")
	out, errOut, code := itad(t, db, "verify", "--checkpoint", cpFile, "--require-pinned")
	want := fmt.Sprintf("event %d (device.add) changed the ledger after the newest checkpoint kept outside it", size+3)
	if code != exitNotPinned || !strings.Contains(out, "NOT pinned: "+want) || !strings.Contains(errOut, want) {
		t.Fatalf("a change after the checkpoint: exit %d\n%s%s", code, out, errOut)
	}
	// Without --require-pinned the same ledger verifies, saying so.
	if _, _, code := itad(t, db, "verify", "--checkpoint", cpFile); code != 0 {
		t.Fatalf("verify: exit %d", code)
	}
}

// TestCLI_VerifyStoredCheckpointUnknownKey: a checkpoint stored in the
// ledger but signed by a key that is not trusted fails verify (exit 3),
// with a hint about key changes.
func TestCLI_VerifyStoredCheckpointUnknownKey(t *testing.T) {
	db := sampleLedger(t)
	mustItad(t, db, "key", "init")
	other := filepath.Join(t.TempDir(), "other.db")
	mustItad(t, other, "init", "--org", "Mallory")
	mustItad(t, other, "key", "init")
	odir := filepath.Dir(other)
	okey, ocert := filepath.Join(odir, "itad-signing-key.pem"), filepath.Join(odir, "itad-signing-cert.pem")
	// itad refuses to sign with a key the ledger did not record, so the
	// foreign checkpoint is written behind its back, through the library.
	if _, errOut, code := itad(t, db, "--key", okey, "--cert", ocert, "checkpoint"); code != exitVerifyFailed {
		t.Fatalf("checkpoint with a foreign key: exit %d %s", code, errOut)
	}
	osigner, err := certificate.LoadSigner(okey, ocert)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := noteSigner(osigner)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Actor = "mallory"
	if _, err := s.CreateCheckpoint(ns, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	out, errOut, code := itad(t, db, "verify")
	if code != exitVerifyFailed || !strings.Contains(out, "does NOT verify: 1 problem\n") ||
		!strings.Contains(out, "checkpoint ledger of ") || !strings.Contains(out, "consistent with the log, but not signed by a trusted key: signed by itad/") ||
		!strings.Contains(errOut, "itad: hint: after a key change, pass the earlier certificate with --trusted OLD.pem") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	// Trusting that key too, it verifies.
	mustItad(t, db, "verify", "--trusted", filepath.Join(filepath.Dir(db), "itad-signing-cert.pem"), "--trusted", filepath.Join(odir, "itad-signing-cert.pem"))
}

// TestCLI_CheckpointDirCatchesRevocationRemoved: with checkpoint_dir set,
// revoking writes a checkpoint there; deleting the revocation and every
// event after the previous checkpoint behind itad's back is then caught by
// verify, cert verify and cert verify --proof, with no --checkpoint given.
func TestCLI_CheckpointDirCatchesRevocationRemoved(t *testing.T) {
	f := newCertFixture(t, 0)
	cpDir := filepath.Join(f.dir, "offsite")
	if err := os.Mkdir(cpDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := itad(t, f.db, "settings", "set", "checkpoint_dir", "offsite"); code != exitUsage || !strings.Contains(errOut, "must be an absolute path") {
		t.Fatalf("relative checkpoint_dir: exit %d %s", code, errOut)
	}
	mustItad(t, f.db, "settings", "set", "checkpoint_dir", cpDir)
	number, pdf := f.issue(t, "ZC1234AB")
	out := mustItad(t, f.db, "checkpoint")
	if !strings.Contains(out, "written to "+cpDir) {
		t.Fatalf("checkpoint:\n%s", out)
	}
	prev := lastSeq(t, f.db) // the previous checkpoint's event
	out = mustItad(t, f.db, "cert", "revoke", number, "--reason", "wrong serial")
	revoke := prev + 1
	if !strings.Contains(out, fmt.Sprintf("checkpoint of %d events signed and recorded (event #%d)", revoke, revoke+1)) {
		t.Fatalf("cert revoke:\n%s", out)
	}
	note, err := os.ReadFile(filepath.Join(cpDir, fmt.Sprintf("checkpoint-%d.txt", revoke)))
	if err != nil {
		t.Fatal(err)
	}
	if latest, _ := os.ReadFile(filepath.Join(cpDir, "latest.txt")); string(latest) != string(note) {
		t.Fatal("latest.txt is not the revocation's checkpoint")
	}
	if _, errOut, code := itad(t, f.db, "cert", "verify", pdf); code != exitVerifyFailed || !strings.Contains(errOut, "revoked") {
		t.Fatalf("cert verify of the revoked certificate: exit %d %s", code, errOut)
	}

	// Behind itad's back: the revocation, its checkpoint and what followed
	// are deleted, and the certificate row made current again.
	truncateAfter(t, f.db, prev)
	// Without the directory, that would pass.
	hidden := cpDir + ".hidden"
	if err := os.Rename(cpDir, hidden); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := itad(t, f.db, "verify"); code != 0 || !strings.Contains(errOut, "itad: note: read checkpoint_dir") {
		t.Fatalf("the truncated ledger verifies on its own: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.Rename(hidden, cpDir); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := itad(t, f.db, "verify")
	missing := fmt.Sprintf("the log now holds only %d events: history truncated, event %d is missing", revoke-1, revoke)
	if code != exitVerifyFailed || !strings.Contains(out, filepath.Join(cpDir, fmt.Sprintf("checkpoint-%d.txt", revoke))) || !strings.Contains(out, missing) {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"cert", "verify", pdf}, {"cert", "verify", "--proof", pdf}} {
		out, errOut, code := itad(t, f.db, args...)
		if code != exitVerifyFailed || !strings.Contains(errOut, "history truncated") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// Nor can a new checkpoint replace the evidence.
	if _, errOut, code := itad(t, f.db, "checkpoint"); code != exitVerifyFailed || !strings.Contains(errOut, "no new checkpoint was signed") {
		t.Fatalf("checkpoint of the truncated ledger: exit %d\n%s", code, errOut)
	}
}

// TestCLI_SupersedeWritesCheckpoint: issuing again for the same device
// supersedes the earlier certificate and takes a checkpoint, recorded and
// written to checkpoint_dir; cert verify --proof uses the newest there.
func TestCLI_SupersedeWritesCheckpoint(t *testing.T) {
	f := newCertFixture(t, 0)
	cpDir := t.TempDir()
	mustItad(t, f.db, "settings", "set", "checkpoint_dir", cpDir)
	f.issue(t, "ZC1234AB")
	out := mustItad(t, f.db, "cert", "issue", "-o", f.out, "ZC1234AB")
	seq := lastSeq(t, f.db)
	if !strings.Contains(out, "it supersedes certificate ") || !strings.Contains(out, fmt.Sprintf("checkpoint of %d events signed and recorded (event #%d)", seq-1, seq)) {
		t.Fatalf("cert issue:\n%s", out)
	}
	var n int64
	shell(t, f.db).QueryRow(`SELECT count(*) FROM checkpoints WHERE size = ? AND seq = ?`, seq-1, seq).Scan(&n)
	if n != 1 {
		t.Fatal("no checkpoints row for the supersession")
	}
	if _, err := os.Stat(filepath.Join(cpDir, fmt.Sprintf("checkpoint-%d.txt", seq-1))); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(f.out, "*.pdf"))
	var current string
	for _, m := range matches {
		if o, _, code := itad(t, f.db, "cert", "verify", m); code == 0 && strings.Contains(o, "valid certificate") {
			current = m
		}
	}
	if current == "" {
		t.Fatal("no current certificate verifies")
	}
	out = mustItad(t, f.db, "cert", "verify", "--proof", current)
	if !strings.Contains(out, fmt.Sprintf("included in the signed checkpoint of %d events", seq-1)) {
		t.Fatalf("cert verify --proof:\n%s", out)
	}
	out = mustItad(t, f.db, "verify", "--require-pinned")
	if !strings.Contains(out, "kept outside the ledger ("+filepath.Join(cpDir, fmt.Sprintf("checkpoint-%d.txt", seq-1))) {
		t.Fatalf("verify:\n%s", out)
	}
	// --checkpoint also takes the folder.
	mustItad(t, f.db, "verify", "--checkpoint", cpDir, "--require-pinned")
}

// TestCLI_CheckpointDirWriteFails: when the checkpoint cannot be written
// to checkpoint_dir, the revocation stands and the error says what to do.
func TestCLI_CheckpointDirWriteFails(t *testing.T) {
	f := newCertFixture(t, 0)
	cpDir := t.TempDir()
	mustItad(t, f.db, "settings", "set", "checkpoint_dir", cpDir)
	number, _ := f.issue(t, "ZC1234AB")
	if err := os.MkdirAll(filepath.Join(cpDir, "latest.txt", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := itad(t, f.db, "cert", "revoke", number, "--reason", "typo")
	if code != exitFailure || !strings.Contains(out, "revoked: typo") || !strings.Contains(errOut, "could not be written to checkpoint_dir") ||
		!strings.Contains(errOut, "itad: hint: the change is recorded: make "+cpDir+" writable") {
		t.Fatalf("cert revoke: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(mustItad(t, f.db, "cert", "list"), "revoked: typo") {
		t.Fatal("the revocation should stand")
	}
}
