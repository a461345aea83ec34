package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itad/itad"
)

// backupFixture is a ledger with a contractor and n devices, none disposed.
func backupFixture(t *testing.T, n int) *Store {
	t.Helper()
	s := mustOpen(t)
	if err := s.Init("Backup Test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContractor(Contractor{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.AddDevice(Device{Serial: fmt.Sprintf("B%04d", i), Type: HDD}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func bkDispose(t testing.TB, s *Store, serial string) {
	t.Helper()
	if _, err := s.RecordDisposal(Disposal{Serial: serial, Method: Shred, DisposedOn: "2024-05-01", Contractor: "Acme"}); err != nil {
		t.Fatal(err)
	}
}

// openCopy opens a backup file for inspection.
func openCopy(t *testing.T, path string) *Store {
	t.Helper()
	s, err := openCopyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func bkCount(t *testing.T, s *Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBackup_WhileDisposing takes backups while another connection pool
// (as another process would) keeps recording disposals: every backup is a
// consistent snapshot that passes its checks, and every disposal in it
// has its event.
func TestBackup_WhileDisposing(t *testing.T) {
	s := backupFixture(t, 400)
	other, err := Open(s.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Actor = "writer"

	var disposed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 400; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := other.RecordDisposal(Disposal{Serial: fmt.Sprintf("B%04d", i), Method: Shred, DisposedOn: "2024-05-01", Contractor: "Acme"}); err != nil {
				t.Error(err)
				return
			}
			disposed.Add(1)
		}
	}()
	dir := t.TempDir()
	var results []BackupResult
	for i := 0; i < 4; i++ {
		for disposed.Load() < int64(20*(i+1)) && disposed.Load() < 400 {
			time.Sleep(time.Millisecond)
		}
		res, err := s.Backup(filepath.Join(dir, fmt.Sprintf("b%d.db", i)), BackupOptions{Reason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	close(stop)
	wg.Wait()

	for i, res := range results {
		if res.Checked.Integrity != "ok" || res.Checked.ForeignKeys != "ok" || res.Checked.Chain != "ok" {
			t.Errorf("backup %d: checks %+v", i, res.Checked)
		}
		cp := openCopy(t, res.File)
		h, err := cp.CheckHealth()
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if h.Events != res.Checked.Events || h.HeadHash != res.Checked.HeadHash {
			t.Errorf("backup %d: reopened %d events %s, reported %d %s", i, h.Events, h.HeadHash, res.Checked.Events, res.Checked.HeadHash)
		}
		// A consistent snapshot: the disposal rows and their events agree.
		rows := bkCount(t, cp, `SELECT count(*) FROM disposals`)
		evs := bkCount(t, cp, `SELECT count(*) FROM events WHERE action = 'disposal.record'`)
		if rows != evs || rows < int64(20*(i+1)) {
			t.Errorf("backup %d: %d disposals, %d disposal events", i, rows, evs)
		}
		if sha, _, _ := syncAndHash(res.File); sha != res.SHA256 {
			t.Errorf("backup %d: file sha256 %s, reported %s", i, sha, res.SHA256)
		}
	}
	// The source records each backup, and it still verifies.
	evs, err := s.Events(EventFilter{Action: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(results) {
		t.Fatalf("%d backup events, want %d", len(evs), len(results))
	}
	for i, ev := range evs {
		var p backupEvent
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		r := results[i]
		if ev.Seq != r.Seq || p.File != r.File || p.SHA256 != r.SHA256 || p.Events != r.Checked.Events || p.HeadHash != r.Checked.HeadHash || ev.Reason != "test" {
			t.Errorf("backup event %d: %+v %+v, result %+v", i, ev, p, r)
		}
	}
	if _, err := s.CheckHealth(); err != nil {
		t.Fatal(err)
	}
}

func TestBackup_Target(t *testing.T) {
	s := backupFixture(t, 1)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("old"), 0o600)
	live := filepath.Join(dir, "live.db")
	os.WriteFile(live, nil, 0o600)
	os.WriteFile(live+"-wal", []byte("x"), 0o600)
	tests := []struct {
		name  string
		dest  string
		force bool
		err   string
		is    error
	}{
		{"OK", filepath.Join(dir, "new.db"), false, "", nil},
		{"ErrExists", existing, false, "file already exists: " + existing, ErrBackupExists},
		{"Force", existing, true, "", nil},
		{"ErrLedgerItself", s.Path(), true, "is the ledger itself", nil},
		{"ErrDirectory", dir, true, "is a directory", nil},
		{"ErrLiveDatabase", live, true, "has a -wal file", nil},
		{"NewFolder", filepath.Join(dir, "new", "folder", "b.db"), false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Backup(tt.dest, BackupOptions{Force: tt.force})
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := openCopy(t, res.File).CheckHealth(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Backup(%s) = %v, want %q", tt.dest, err, tt.err)
			}
		})
	}
	// No temporary files are left behind, whatever happened.
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestBackup_Progress: the callback sees the copy grow and end complete.
func TestBackup_Progress(t *testing.T) {
	s := backupFixture(t, 50)
	var calls []int64
	var mu sync.Mutex
	res, err := s.Backup(filepath.Join(t.TempDir(), "b.db"), BackupOptions{Progress: func(done, total int64) {
		mu.Lock()
		calls = append(calls, done, total)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(calls); n < 2 || calls[n-2] != res.Bytes || calls[n-1] != res.Bytes {
		t.Fatalf("progress calls %v, want to end at %d/%d", calls, res.Bytes, res.Bytes)
	}
}

// bkSnapshot describes a ledger file exactly: every row of every table.
func bkSnapshot(t *testing.T, path string) string {
	t.Helper()
	s := openCopy(t, path)
	defer s.Close()
	return dumpTables(t, s.db)
}

// TestRestore covers each decision restore makes, on real files.
func TestRestore(t *testing.T) {
	type fixture struct {
		ledger string // live ledger path
		old    string // backup taken before more disposals
		cur    string // backup of the ledger as it is now
	}
	// setup: a ledger, backup "old", two more disposals, backup "cur".
	setup := func(t *testing.T) fixture {
		s := backupFixture(t, 5)
		dir := t.TempDir()
		f := fixture{ledger: s.Path(), old: filepath.Join(dir, "old.db"), cur: filepath.Join(dir, "cur.db")}
		bkDispose(t, s, "B0000")
		if _, err := s.Backup(f.old, BackupOptions{}); err != nil {
			t.Fatal(err)
		}
		bkDispose(t, s, "B0001")
		bkDispose(t, s, "B0002")
		if _, err := s.Backup(f.cur, BackupOptions{}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		return f
	}

	t.Run("ErrNewerEvents", func(t *testing.T) {
		f := setup(t)
		before := bkSnapshot(t, f.ledger)
		_, err := Restore(f.ledger, f.old, RestoreOptions{})
		var ce *RestoreConflictError
		if !errors.As(err, &ce) || ce.DivergeAt != 0 || ce.LiveEvents-ce.BackupEvents != 4 {
			t.Fatalf("Restore = %v, want 4 newer events", err)
		}
		want := fmt.Sprintf("%s has 4 events newer than the backup (events %d to %d: backup 2, disposal.record 2): restoring would lose them",
			f.ledger, ce.BackupEvents+1, ce.LiveEvents)
		if err.Error() != want {
			t.Errorf("error %q\nwant  %q", err, want)
		}
		if after := bkSnapshot(t, f.ledger); after != before {
			t.Error("a refused restore changed the ledger")
		}
	})

	t.Run("Force", func(t *testing.T) {
		f := setup(t)
		res, err := Restore(f.ledger, f.old, RestoreOptions{Force: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Discarded != 4 || res.Diverged || !res.Existed {
			t.Errorf("result %+v", res)
		}
		// Exactly the backup's contents, and it opens and verifies.
		if got, want := bkSnapshot(t, f.ledger), bkSnapshot(t, f.old); got != want {
			t.Errorf("restored ledger differs from the backup\n--- got\n%s\n--- want\n%s", got, want)
		}
		for _, side := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(f.ledger + side); err == nil {
				t.Errorf("%s left after restore", side)
			}
		}
		s, err := Open(f.ledger, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		h, err := s.CheckHealth()
		if err != nil {
			t.Fatal(err)
		}
		if h.Events != res.Checked.Events || h.HeadHash != res.Checked.HeadHash {
			t.Errorf("restored ledger has %d events %s, backup %d %s", h.Events, h.HeadHash, res.Checked.Events, res.Checked.HeadHash)
		}
		if n := bkCount(t, s, `SELECT count(*) FROM disposals`); n != 1 {
			t.Errorf("%d disposals after restoring the old backup, want 1", n)
		}
		// It is a working ledger: new events chain on.
		bkDispose(t, s, "B0003")
		if _, err := s.CheckHealth(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("BackupExtendsLedger", func(t *testing.T) {
		f := setup(t)
		if _, err := Restore(f.ledger, f.old, RestoreOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		res, err := Restore(f.ledger, f.cur, RestoreOptions{})
		if err != nil {
			t.Fatalf("restoring a backup that extends the ledger: %v", err)
		}
		if res.Discarded != 0 || res.Diverged {
			t.Errorf("result %+v", res)
		}
		if got, want := bkSnapshot(t, f.ledger), bkSnapshot(t, f.cur); got != want {
			t.Error("restored ledger differs from the backup")
		}
	})

	t.Run("ErrSameFile", func(t *testing.T) {
		f := setup(t)
		if _, err := Restore(f.cur, f.cur, RestoreOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "is the ledger itself") {
			t.Fatalf("restoring a file over itself = %v", err)
		}
	})

	t.Run("ErrDiverged", func(t *testing.T) {
		f := setup(t)
		other := mustOpen(t) // a different ledger: event 1 differs
		if err := other.Init("Another Organisation"); err != nil {
			t.Fatal(err)
		}
		path := other.Path()
		other.Close()
		before := bkSnapshot(t, path)
		_, err := Restore(path, f.old, RestoreOptions{})
		var ce *RestoreConflictError
		if !errors.As(err, &ce) || ce.DivergeAt != 1 {
			t.Fatalf("Restore = %v, want a divergence at event 1", err)
		}
		if after := bkSnapshot(t, path); after != before {
			t.Error("a refused restore changed the ledger")
		}
		if res, err := Restore(path, f.old, RestoreOptions{Force: true}); err != nil || !res.Diverged {
			t.Fatalf("forced restore: %+v %v", res, err)
		}
	})

	t.Run("ErrBusy", func(t *testing.T) {
		f := setup(t)
		s, err := Open(f.ledger, Options{}) // idle, but open
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Contractors(); err != nil {
			t.Fatal(err)
		}
		_, err = Restore(f.ledger, f.cur, RestoreOptions{Force: true, LockTimeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrLedgerBusy) {
			t.Fatalf("Restore with the ledger open = %v, want ErrLedgerBusy", err)
		}
		s.Close()
		// The ledger has one event more than cur: the record of that backup.
		_, err = Restore(f.ledger, f.cur, RestoreOptions{})
		if err == nil || !strings.HasSuffix(err.Error(), "has 1 event newer than the backup (event 12: backup 1): restoring would lose them") {
			t.Fatalf("Restore once closed = %v, want a refusal naming the backup event", err)
		}
		if _, err := Restore(f.ledger, f.cur, RestoreOptions{Force: true}); err != nil {
			t.Fatalf("Restore once closed: %v", err)
		}
	})

	t.Run("ErrDamagedBackup", func(t *testing.T) {
		f := setup(t)
		// Edit an event behind itad's back.
		cp := openCopy(t, f.old)
		if _, err := cp.db.Exec(`UPDATE events SET actor = 'mallory' WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		cp.Close()
		before := bkSnapshot(t, f.ledger)
		_, err := Restore(f.ledger, f.old, RestoreOptions{Force: true})
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "event 3: hash does not match the event's contents") {
			t.Fatalf("Restore of a tampered backup = %v", err)
		}
		if after := bkSnapshot(t, f.ledger); after != before {
			t.Error("a refused restore changed the ledger")
		}
	})

	t.Run("ErrCorruptBackup", func(t *testing.T) {
		f := setup(t)
		data, _ := os.ReadFile(f.old)
		for i := 4096; i < len(data) && i < 4096*3; i++ { // pages 2 and 3
			data[i] ^= 0x5a
		}
		os.WriteFile(f.old, data, 0o600)
		_, err := Restore(f.ledger, f.old, RestoreOptions{Force: true})
		if err == nil || !(errors.Is(err, ErrDamaged) || strings.Contains(err.Error(), "malformed")) {
			t.Fatalf("Restore of a corrupt backup = %v", err)
		}
	})

	t.Run("ErrNotLedger", func(t *testing.T) {
		f := setup(t)
		junk := filepath.Join(t.TempDir(), "junk.db")
		os.WriteFile(junk, []byte("this is not a database, it is a shopping list\n"), 0o600)
		if _, err := Restore(f.ledger, junk, RestoreOptions{Force: true}); !errors.Is(err, ErrNotLedger) {
			t.Fatalf("Restore(junk) = %v, want ErrNotLedger", err)
		}
	})

	t.Run("NoLedgerYet", func(t *testing.T) {
		f := setup(t)
		fresh := filepath.Join(t.TempDir(), "new.db")
		res, err := Restore(fresh, f.cur, RestoreOptions{})
		if err != nil || res.Existed {
			t.Fatalf("Restore into a new file: %+v %v", res, err)
		}
		if got, want := bkSnapshot(t, fresh), bkSnapshot(t, f.cur); got != want {
			t.Error("restored ledger differs from the backup")
		}
	})

	t.Run("DamagedLedger", func(t *testing.T) {
		f := setup(t)
		os.WriteFile(f.ledger, []byte("garbage garbage garbage"), 0o600)
		_, err := Restore(f.ledger, f.cur, RestoreOptions{})
		var ce *RestoreConflictError
		if !errors.As(err, &ce) || ce.Unreadable == nil {
			t.Fatalf("Restore over a damaged ledger = %v, want a refusal", err)
		}
		if _, err := Restore(f.ledger, f.cur, RestoreOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if got, want := bkSnapshot(t, f.ledger), bkSnapshot(t, f.cur); got != want {
			t.Error("restored ledger differs from the backup")
		}
	})

	t.Run("OlderSchema", func(t *testing.T) {
		// A backup written by an itad that knew only migration 1.
		old := filepath.Join(t.TempDir(), "v1.db")
		s, err := openCopyFile(old)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(itad.Migrations()[0].SQL); err != nil {
			t.Fatal(err)
		}
		s.db.Exec(`INSERT INTO schema_version(version, applied_at) VALUES (1, '2025-01-01T00:00:00Z')`)
		s.Close()
		fresh := filepath.Join(t.TempDir(), "itad.db")
		res, err := Restore(fresh, old, RestoreOptions{})
		if err != nil || res.Migrated != 1 || res.Checked.SchemaVersion != SchemaVersion() {
			t.Fatalf("Restore of a version 1 backup: %+v %v", res, err)
		}
		r, err := Open(fresh, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	})

	t.Run("ErrNewerSchema", func(t *testing.T) {
		f := setup(t)
		cp := openCopy(t, f.old)
		cp.db.Exec(`INSERT INTO schema_version(version, applied_at) VALUES (999, '2099-01-01T00:00:00Z')`)
		cp.Close()
		if _, err := Restore(f.ledger, f.old, RestoreOptions{Force: true}); !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Restore of a backup from a newer itad = %v", err)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		f := setup(t)
		before := bkSnapshot(t, f.ledger)
		res, err := Restore(f.ledger, f.old, RestoreOptions{DryRun: true, Force: true})
		if err != nil || res.Discarded != 4 || !res.DryRun {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if after := bkSnapshot(t, f.ledger); after != before {
			t.Error("a dry run changed the ledger")
		}
	})
}

// TestStore_WaitsForOtherWriters: a long write transaction elsewhere (an
// import) must not make other commands fail with "database is locked".
// Opening the ledger takes no lock at all; a change waits for the writer,
// calling OnWait once it has waited writeNotice, and gives up only after
// WriteWait with an error that says why.
func TestStore_WaitsForOtherWriters(t *testing.T) {
	s := backupFixture(t, 2)
	hold := func(d time.Duration) (done chan error) {
		started, done := make(chan struct{}), make(chan error, 1)
		go func() {
			done <- s.write("", func(*txn) error {
				close(started)
				time.Sleep(d)
				return nil
			})
		}()
		<-started
		return done
	}
	open := func(wait time.Duration) (*Store, *atomic.Int32) {
		o, err := Open(s.Path(), Options{WriteWait: wait})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		var waits atomic.Int32
		o.OnWait = func() { waits.Add(1) }
		return o, &waits
	}

	t.Run("OpenTakesNoLock", func(t *testing.T) {
		done := hold(time.Second)
		start := time.Now()
		o, _ := open(0)
		if _, err := o.Contractors(); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Errorf("open and read took %s behind a writer", el)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("WaitsAndNotifies", func(t *testing.T) {
		o, waits := open(5 * time.Second)
		done := hold(1300 * time.Millisecond)
		bkDispose(t, o, "B0000")
		if n := waits.Load(); n != 1 {
			t.Errorf("OnWait called %d times, want 1", n)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		bkDispose(t, o, "B0001") // no wait: no call
		if n := waits.Load(); n != 1 {
			t.Errorf("OnWait called %d times, want 1", n)
		}
	})
	t.Run("ErrGivesUp", func(t *testing.T) {
		o, _ := open(1100 * time.Millisecond)
		done := hold(1600 * time.Millisecond)
		_, err := o.AddContractor(Contractor{Name: "Late"})
		if err == nil || !strings.Contains(err.Error(), "another itad process has been writing to the ledger for over 1.1s (a large import?)") {
			t.Fatalf("AddContractor behind a 1.6 s writer with WriteWait 1.1 s = %v", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
