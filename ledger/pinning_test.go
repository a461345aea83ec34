package ledger

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countEvents returns how many events the ledger holds.
func countEvents(tb testing.TB, s *Store) int64 {
	tb.Helper()
	return q1(tb, s.DB(), `SELECT count(*) FROM events`)
}

// TestVerify_Pinning: the summary says which events a trusted checkpoint
// covers, stored or kept outside the ledger, and whether every change is
// covered by one kept outside (Complete).
func TestVerify_Pinning(t *testing.T) {
	signer, cert := testNoteKey(t)
	type want struct {
		pinned, notPinned, outside, stored, lastChange int64
		complete                                       bool
	}
	tests := []struct {
		name    string
		build   func(t *testing.T, s *Store) (VerifyOptions, want)
		outside string
	}{
		{"Empty", func(t *testing.T, s *Store) (VerifyOptions, want) {
			return VerifyOptions{Trusted: trust(cert)}, want{}
		}, ""},
		{"NoCheckpoint", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			must(t, s.SetSetting(SettingDestination, "x", ""))
			return VerifyOptions{Trusted: trust(cert)}, want{notPinned: 2, lastChange: 2}
		}, ""},
		{"StoredOnly", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			_, err := s.CreateCheckpoint(signer, "")
			must(t, err)
			must(t, s.LogAccess("report", "report", "", nil))
			// The stored checkpoint pins event 1 only against someone
			// without the key; nothing is kept outside.
			return VerifyOptions{Trusted: trust(cert)}, want{pinned: 1, notPinned: 2, stored: 1, lastChange: 1}
		}, ""},
		{"StoredNotChecked", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			_, err := s.CreateCheckpoint(signer, "")
			must(t, err)
			// No trusted key: the signature is not checked, so nothing pins.
			return VerifyOptions{}, want{notPinned: 2, lastChange: 1}
		}, ""},
		{"OutsideComplete", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			cp, err := s.CreateCheckpoint(signer, "")
			must(t, err)
			// Consultations after the checkpoint change nothing.
			must(t, s.LogAccess("report", "report", "", nil))
			return VerifyOptions{Trusted: trust(cert), External: []ExternalCheckpoint{{Source: "cp.txt", Note: []byte(cp.Note)}}},
				want{pinned: 1, notPinned: 2, outside: 1, stored: 1, lastChange: 1, complete: true}
		}, "cp.txt"},
		{"OutsideBehind", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			cp, err := s.CreateCheckpoint(signer, "")
			must(t, err)
			must(t, s.SetSetting(SettingDestination, "x", ""))
			_, err = s.CreateCheckpoint(signer, "")
			must(t, err)
			// The newest stored checkpoint covers the change, the one kept
			// outside does not.
			return VerifyOptions{Trusted: trust(cert), External: []ExternalCheckpoint{{Source: "cp.txt", Note: []byte(cp.Note)}}},
				want{pinned: 3, notPinned: 1, outside: 1, stored: 3, lastChange: 3}
		}, "cp.txt"},
		{"OutsideNotChecked", func(t *testing.T, s *Store) (VerifyOptions, want) {
			must(t, s.Init("Org"))
			cp, err := s.CreateCheckpoint(signer, "")
			must(t, err)
			// Without a trusted key an external checkpoint is still checked
			// against the log, but pins nothing.
			return VerifyOptions{External: []ExternalCheckpoint{{Source: "cp.txt", Note: []byte(cp.Note)}}},
				want{notPinned: 2, lastChange: 1}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			opts, w := tt.build(t, s)
			res, err := s.Verify(opts)
			if err != nil {
				t.Fatal(err)
			}
			p := res.Pinning
			size := func(b *PinnedBy) int64 {
				if b == nil {
					return 0
				}
				return b.Size
			}
			got := want{pinned: p.Pinned, notPinned: p.NotPinned, outside: size(p.Outside), stored: size(p.Stored), lastChange: p.LastChange, complete: p.Complete}
			if got != w {
				t.Fatalf("pinning %+v, want %+v", got, w)
			}
			if p.Pinned+p.NotPinned != res.Events {
				t.Errorf("pinned %d + not pinned %d != %d events", p.Pinned, p.NotPinned, res.Events)
			}
			if tt.outside != "" && (p.Outside.Source != tt.outside || p.Outside.Key != NoteKeyName(cert) || p.Outside.CreatedAt == "") {
				t.Errorf("outside: %+v", p.Outside)
			}
			if p.Stored != nil && (p.Stored.Source != "ledger" || p.Stored.Key != NoteKeyName(cert)) {
				t.Errorf("stored: %+v", p.Stored)
			}
		})
	}
}

// TestVerify_TruncatedWithoutCheckpoint: deleting the newest events (and
// the checkpoints that covered them) leaves a ledger that verifies; only
// the pinning summary says that nothing pins it.
func TestVerify_TruncatedWithoutCheckpoint(t *testing.T) {
	s, cert := verifyFixture(t)
	db := rawDB(t, s)
	// Drop everything from the revocation on: its event, its checkpoint,
	// the consultation, the monthly checkpoint and the device after it.
	revoke := q1(t, db, `SELECT seq FROM events WHERE action = 'certificate.revoke'`)
	for _, q := range []string{
		`DELETE FROM events WHERE seq >= ?`, `DELETE FROM checkpoints WHERE seq >= ?`, `DELETE FROM devices WHERE seq >= ?`,
		`UPDATE certificates SET revoked_at = '', revoke_reason = '' WHERE revoked_at != ''`,
	} {
		if _, err := db.Exec(q, revoke); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := s.Verify(VerifyOptions{Trusted: trust(cert)})
	if err != nil {
		t.Fatalf("a truncated ledger verifies on its own: %v", err)
	}
	p := res.Pinning
	if p.Complete || p.Outside != nil || p.Stored == nil || p.Stored.Size >= revoke || p.NotPinned == 0 {
		t.Fatalf("pinning after truncation: %+v", p)
	}
}

// TestVerify_UntrustedStoredCheckpoint: a checkpoint stored in the ledger
// but signed by a key that is not trusted is a problem, not a silent pass.
func TestVerify_UntrustedStoredCheckpoint(t *testing.T) {
	s, cert := verifyFixture(t)
	_, other := testNoteKey(t)
	_, err := s.Verify(VerifyOptions{Trusted: trust(other)})
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrUntrustedCheckpoint) || !errors.Is(err, ErrTampered) {
		t.Fatalf("verify trusting another key: %v", err)
	}
	if len(ve.Problems) != 3 {
		t.Fatalf("%d problems, want one per stored checkpoint: %v", len(ve.Problems), ve.Problems)
	}
	for _, p := range ve.Problems {
		var ce *CheckpointError
		if !errors.As(p, &ce) || !ce.Untrusted || ce.Source != "ledger" ||
			!strings.Contains(ce.Problem, "signed by "+NoteKeyName(cert)+", trusted: "+NoteKeyName(other)) {
			t.Errorf("problem %v", p)
		}
	}
	// Trusting both keys (a key change), it verifies.
	if _, err := s.Verify(VerifyOptions{Trusted: []*x509.Certificate{other, cert}}); err != nil {
		t.Fatalf("trusting both keys: %v", err)
	}
}

// TestCertificates_TakeCheckpoint: a revocation and a supersession each
// record a checkpoint covering them in the same transaction, and write it
// to checkpoint_dir; a first issue takes none.
func TestCertificates_TakeCheckpoint(t *testing.T) {
	s := certLedger(t)
	dir := t.TempDir()
	must(t, s.SetSetting(SettingCheckpointDir, dir, ""))
	checkTaken := func(t *testing.T, what string, c Certificate, coveredSeq int64) {
		t.Helper()
		if c.Checkpoint == nil {
			t.Fatalf("%s took no checkpoint", what)
		}
		cp := c.Checkpoint
		if cp.Size != coveredSeq || cp.Seq != coveredSeq+1 || countEvents(t, s) != cp.Seq {
			t.Fatalf("%s: checkpoint of %d events at event %d (ledger has %d), want it to cover event %d", what, cp.Size, cp.Seq, countEvents(t, s), coveredSeq)
		}
		if n := q1(t, s.DB(), `SELECT count(*) FROM checkpoints WHERE size = ? AND seq = ? AND note = ?`, cp.Size, cp.Seq, cp.Note); n != 1 {
			t.Fatalf("%s: checkpoints row missing", what)
		}
		for _, name := range []string{checkpointFileName(cp.Size), "latest.txt"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != cp.Note {
				t.Fatalf("%s: %s holds %q, %v", what, name, b, err)
			}
		}
	}
	first, err := s.IssueCertificate(CertBatch, "RUN-1", nil, fakeHashes)
	must(t, err)
	if first.Checkpoint != nil || q1(t, s.DB(), `SELECT count(*) FROM checkpoints`) != 0 {
		t.Fatal("a first issue took a checkpoint")
	}
	// Superseding needs a signer; refused, it changes nothing.
	before := dumpTables(t, s.DB())
	if _, err := s.IssueCertificate(CertBatch, "RUN-1", nil, fakeHashes); !errors.Is(err, ErrInvalid) {
		t.Fatalf("supersede without a signer: %v", err)
	}
	if dumpTables(t, s.DB()) != before {
		t.Fatal("a refused supersession changed the ledger")
	}
	second, err := s.IssueCertificate(CertBatch, "RUN-1", testSigner, fakeHashes)
	must(t, err)
	checkTaken(t, "supersession", second, second.Seq)
	if _, err := s.RevokeCertificate(second.UUID, "wrong run", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoke without a signer: %v", err)
	}
	r, err := s.RevokeCertificate(second.UUID, "wrong run", testSigner)
	must(t, err)
	revokeSeq := q1(t, s.DB(), `SELECT seq FROM events WHERE action = 'certificate.revoke'`)
	checkTaken(t, "revocation", r, revokeSeq)
	if ev, _ := s.Events(EventFilter{Action: CheckpointAction}); len(ev) != 2 || ev[1].Reason != "wrong run" {
		t.Fatalf("checkpoint events %+v", ev)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointDir: the setting must name an existing absolute
// directory; checkpoints are written there; a ledger that does not extend
// the newest one there signs no new one; a failed write leaves the
// checkpoint recorded and says so.
func TestCheckpointDir(t *testing.T) {
	t.Run("ValidateSetting", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "f")
		must(t, os.WriteFile(file, nil, 0o644))
		for _, bad := range []string{"relative/dir", filepath.Join(dir, "missing"), file} {
			if _, err := ValidateSetting(SettingCheckpointDir, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: %v, want ErrInvalid", bad, err)
			}
		}
		if v, err := ValidateSetting(SettingCheckpointDir, " "+dir+"/./ "); err != nil || v != dir {
			t.Errorf("good dir: %q %v", v, err)
		}
		if v, err := ValidateSetting(SettingCheckpointDir, ""); err != nil || v != "" {
			t.Errorf("empty: %q %v", v, err)
		}
		if os.Geteuid() != 0 { // root writes anywhere
			ro := filepath.Join(dir, "ro")
			must(t, os.Mkdir(ro, 0o500))
			if _, err := ValidateSetting(SettingCheckpointDir, ro); !errors.Is(err, ErrInvalid) {
				t.Errorf("read-only dir: %v", err)
			}
		}
	})
	t.Run("NewestInDir", func(t *testing.T) {
		dir := t.TempDir()
		if _, _, err := NewestInDir(dir); !errors.Is(err, ErrNoCheckpoint) {
			t.Fatalf("empty dir: %v", err)
		}
		for _, n := range []string{"checkpoint-9.txt", "checkpoint-10.txt", "checkpoint-011.txt", "checkpoint-x.txt", "checkpoint-99.txt.tmp", "latest.txt"} {
			must(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644))
		}
		path, data, err := NewestInDir(dir)
		if err != nil || filepath.Base(path) != "checkpoint-10.txt" || string(data) != "checkpoint-10.txt" {
			t.Fatalf("newest: %s %q %v", path, data, err)
		}
		if _, _, err := NewestInDir(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrNoCheckpoint) {
			t.Fatalf("missing dir: %v", err)
		}
	})
	t.Run("ErrNotExtended", func(t *testing.T) {
		s := mustOpen(t)
		dir := t.TempDir()
		must(t, s.Init("Org"))
		must(t, s.SetSetting(SettingCheckpointDir, dir, ""))
		must(t, s.SetSetting(SettingDestination, "x", ""))
		cp, err := s.CreateCheckpoint(testSigner, "")
		must(t, err)
		// Truncate behind itad's back, then add events up to the old size
		// and beyond: signing would overwrite the evidence.
		db := rawDB(t, s)
		for _, q := range []string{`DELETE FROM events WHERE seq >= 3`, `DELETE FROM checkpoints`, `DELETE FROM settings WHERE key = 'media_destination'`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		must(t, s.SetSetting(SettingDestination, "y", ""))
		must(t, s.SetSetting(SettingDestination, "z", ""))
		_, err = s.CreateCheckpoint(testSigner, "")
		var ce *CheckpointError
		if !errors.As(err, &ce) || !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "history rewritten") {
			t.Fatalf("checkpoint of a forked ledger: %v", err)
		}
		if n := q1(t, db, `SELECT count(*) FROM checkpoints`); n != 0 {
			t.Fatal("the refused checkpoint was recorded")
		}
		if _, data, _ := NewestInDir(dir); string(data) != cp.Note {
			t.Fatal("the evidence was overwritten")
		}
		// Another ledger cannot share the directory.
		other := mustOpen(t)
		must(t, other.SetSetting(SettingCheckpointDir, dir, ""))
		must(t, other.SetSetting(SettingDestination, "a", ""))
		must(t, other.SetSetting(SettingDestination, "b", ""))
		must(t, other.SetSetting(SettingDestination, "c", ""))
		if _, err := other.CreateCheckpoint(testSigner, ""); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "give each ledger its own") {
			t.Fatalf("another ledger's checkpoint_dir: %v", err)
		}
	})
	t.Run("ErrWrite", func(t *testing.T) {
		s := mustOpen(t)
		dir := t.TempDir()
		must(t, s.Init("Org"))
		must(t, s.SetSetting(SettingCheckpointDir, dir, ""))
		// latest.txt cannot be replaced: a non-empty directory is in its way.
		must(t, os.MkdirAll(filepath.Join(dir, "latest.txt", "x"), 0o755))
		cp, err := s.CreateCheckpoint(testSigner, "")
		var de *CheckpointDirError
		if !errors.As(err, &de) || de.Dir != dir || de.Size != cp.Size || !strings.Contains(err.Error(), "is recorded in the ledger") {
			t.Fatalf("write failure: %v", err)
		}
		if n := q1(t, s.DB(), `SELECT count(*) FROM checkpoints`); n != 1 {
			t.Fatal("the checkpoint should stay recorded")
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) != 0 {
			t.Fatalf("temporary files left: %v", m)
		}
		// The directory unreadable: nothing is recorded.
		must(t, os.RemoveAll(dir))
		if _, err := s.CreateCheckpoint(testSigner, ""); err == nil || !strings.Contains(err.Error(), "nothing was recorded") {
			t.Fatalf("unreadable dir: %v", err)
		}
		if n := q1(t, s.DB(), `SELECT count(*) FROM checkpoints`); n != 1 {
			t.Fatal("a checkpoint was recorded without its directory")
		}
	})
}
