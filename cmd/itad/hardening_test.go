package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// Long runs: ITAD_LONG_TESTS=1 makes the crash and concurrency tests run
// many more kills, a bigger import and a longer concurrent workload.
func longTests() bool { return os.Getenv("ITAD_LONG_TESTS") == "1" }

// outsideTool skips the test when name is not installed, or fails it when
// ITAD_REQUIRE_TOOLS=1 (as CI sets it).
func outsideTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (ITAD_REQUIRE_TOOLS=1): apt-get install %s", name, pkg)
		}
		t.Skipf("%s not installed: apt-get install %s", name, pkg)
	}
}

// ledgerHealth opens the ledger as any itad command would (recovering
// its WAL after a crash), checks it and counts its devices.
func ledgerHealth(t *testing.T, db string) (ledger.Health, int64) {
	t.Helper()
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.CheckHealth()
	if err != nil {
		t.Fatalf("ledger check: %v", err)
	}
	for _, tc := range h.Tables {
		if tc.Table == "devices" {
			return h, tc.Rows
		}
	}
	t.Fatal("no devices table")
	return h, 0
}

func eventsByAction(t *testing.T, db string) map[string]int64 {
	t.Helper()
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Events(ledger.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// "rows imported" adds up the rows of the import.rows events.
	m := map[string]int64{}
	for _, e := range evs {
		m[e.Action]++
		if e.Action == ledger.ImportRowsAction {
			var p struct{ Rows int64 }
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatalf("event %d: %v", e.Seq, err)
			}
			m["rows imported"] += p.Rows
		}
	}
	return m
}

func TestCLI_BackupRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	b1 := filepath.Join(dir, "b1.db")
	mustItad(t, db, "init", "--org", "Backup Constabulary")
	mustItad(t, db, "contractor", "add", "Acme")
	for _, s := range []string{"K1", "K2", "K3"} {
		mustItad(t, db, "device", "add", s, "--type", "hdd")
	}
	mustItad(t, db, "dispose", "K1", "--method", "shred", "--on", "2024-01-02", "--contractor", "Acme")
	before := mustItad(t, db, "report", "--json")

	out := mustItad(t, db, "backup", b1, "--reason", "weekly")
	for _, w := range []string{"backup written to " + b1, "checked: integrity ok, foreign keys ok, event chain ok, verify ok",
		"events: 7, head hash ", "rows: appendix_g 0, batches 0, ", "devices 3, disposals 1, erasures 0, events 7, evidence 0, evidence_devices 0", "recorded as event 8 in " + db} {
		if !strings.Contains(out, w) {
			t.Errorf("backup output lacks %q:\n%s", w, out)
		}
	}
	var res ledger.BackupResult
	if err := json.Unmarshal([]byte(mustItad(t, db, "--json", "backup", filepath.Join(dir, "b2.db"))), &res); err != nil {
		t.Fatal(err)
	}
	if res.Checked.Events != 8 || res.Checked.Integrity != "ok" || len(res.SHA256) != 64 || res.Seq != 9 {
		t.Errorf("backup --json: %+v", res)
	}

	mustItad(t, db, "dispose", "K2", "--method", "shred", "--on", "2024-01-03", "--contractor", "Acme")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"ErrBackupExists", []string{"backup", b1}, 1, nil,
			[]string{"itad: error: file already exists: " + b1, "itad: hint: choose a new file name, or add --force"}},
		{"ErrNewer", []string{"restore", b1}, 1, nil,
			[]string{"has 3 events newer than the backup (events 8 to 10: backup 2, disposal.record 1): restoring would lose them",
				"itad: hint: keep those events: back the ledger up first"}},
		{"DryRun", []string{"restore", b1, "--dry-run", "--force"}, 0,
			[]string{"dry run: would restore " + db + ", discarding its 3 newer events (--force)", "nothing was changed"}, nil},
		{"ErrNoFile", []string{"restore", filepath.Join(dir, "missing.db")}, 1, nil, []string{"no such file or directory"}},
		{"ErrArgs", []string{"backup"}, 2, nil, []string{"backup takes exactly one FILE"}},
		{"Force", []string{"restore", b1, "--force"}, 0,
			[]string{"backup " + b1, "checked: integrity ok", "restored " + db + ", discarding its 3 newer events (--force)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	// The restored ledger holds what the backup held: the report agrees
	// with the one made before the backup.
	if after := mustItad(t, db, "report", "--json"); after != before {
		t.Errorf("report after restore:\n%s\nbefore backup:\n%s", after, before)
	}

	t.Run("ErrTamperedBackup", func(t *testing.T) {
		s, err := ledger.Open(b1, ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`UPDATE disposals SET method = 'overwrite' WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`UPDATE events SET payload = replace(payload, 'shred', 'overwrite') WHERE action = 'disposal.record'`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, errOut, code := itad(t, db, "restore", b1, "--force")
		if code != exitVerifyFailed || !strings.Contains(errOut, "ledger damaged: "+b1+": event 6: ") ||
			!strings.Contains(errOut, "itad: hint: this backup cannot be trusted: restore an older one; the ledger was not changed") {
			t.Fatalf("restore of a tampered backup: exit %d\n%s", code, errOut)
		}
	})

	t.Run("SQLiteShell", func(t *testing.T) {
		// A backup is a plain SQLite file that standard tools can read.
		outsideTool(t, "sqlite3", "sqlite3")
		b3 := filepath.Join(dir, "b3.db")
		mustItad(t, db, "backup", b3)
		out, err := exec.Command("sqlite3", b3, "PRAGMA integrity_check; SELECT count(*) FROM devices;").CombinedOutput()
		if err != nil || string(out) != "ok\n3\n" {
			t.Fatalf("sqlite3 on the backup: %v\n%s", err, out)
		}
	})
}

// TestHelperHoldLedger is not a test: TestCLI_RestoreRefusesBusyLedger
// runs it in a child process to hold a ledger open, idle, as another
// itad process would, until its standard input closes.
func TestHelperHoldLedger(t *testing.T) {
	db := os.Getenv("ITAD_TEST_HOLD_LEDGER")
	if db == "" {
		t.Skip("helper process for TestCLI_RestoreRefusesBusyLedger")
	}
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Contractors(); err != nil {
		t.Fatal(err)
	}
	fmt.Println("holding")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

func TestCLI_RestoreRefusesBusyLedger(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	b := filepath.Join(dir, "b.db")
	mustItad(t, db, "init", "--org", "Busy")
	mustItad(t, db, "backup", b)

	holder := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLedger$")
	holder.Env = append(os.Environ(), "ITAD_TEST_HOLD_LEDGER="+db)
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "holding\n" {
		stdin.Close()
		t.Fatalf("helper: %q", line)
	}
	_, errOut, code := itad(t, db, "restore", b, "--force")
	stdin.Close()
	if code != 1 || !strings.Contains(errOut, "itad: error: ledger is in use by another process: "+db) ||
		!strings.Contains(errOut, "itad: hint: stop every other itad process using this ledger") {
		t.Fatalf("restore while another process holds the ledger: exit %d\n%s", code, errOut)
	}
	holder.Wait()
	mustItad(t, db, "restore", b, "--force")
}

// TestCrash_KillDuringImport kills 'itad import' of a large file with
// SIGKILL at points spread over a full import's duration, each time into a
// fresh ledger. After every kill the ledger passes integrity_check, the
// event-chain check and verify, and holds all of the import or none of it;
// the import then runs to completion on a ledger killed mid-import.
// ITAD_LONG_TESTS=1 kills 40 times during a 100,000-device import.
func TestCrash_KillDuringImport(t *testing.T) {
	n, kills := 20000, 8
	if longTests() {
		n, kills = 100000, 40
	}
	bin := buildItad(t)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "big.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := ledger.WriteDemoCSV(w, 11, n, 2015, 2025); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	runImport := func(db string) *exec.Cmd {
		cmd := exec.Command(bin, "--db", db, "import", csvPath)
		cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
		return cmd
	}
	// An initialised, empty ledger that each kill starts from.
	empty := filepath.Join(dir, "empty.db")
	mustItad(t, empty, "init", "--org", "Crash")
	template, err := os.ReadFile(empty)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(name string) string {
		db := filepath.Join(dir, name)
		if err := os.WriteFile(db, template, 0o600); err != nil {
			t.Fatal(err)
		}
		return db
	}

	// One full import first, to know how long one takes.
	ref := fresh("ref.db")
	start := time.Now()
	if cmd := runImport(ref); cmd.Run() != nil {
		t.Fatalf("reference import: %s", cmd.Stderr)
	}
	full := time.Since(start)
	_, want := ledgerHealth(t, ref)
	t.Logf("a full import of %d devices takes %s", want, full.Round(time.Millisecond))

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	var states []string
	var interrupted string // a ledger left with none of the import
	for i := range kills {
		// Spread over [10 ms, a full run and a bit] (the last slots catch
		// the commit), jittered within each slot.
		span := float64(full)*1.05 - float64(10*time.Millisecond)
		delay := 10*time.Millisecond + time.Duration(span*(float64(i)+r.Float64())/float64(kills))
		db := fresh(fmt.Sprintf("kill-%02d.db", i))
		cmd := runImport(db)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		h, devices := ledgerHealth(t, db)
		switch {
		case devices == 0:
			states = append(states, fmt.Sprintf("%s:none", delay.Round(time.Millisecond)))
			interrupted = db
		case devices == want:
			states = append(states, fmt.Sprintf("%s:all", delay.Round(time.Millisecond)))
		default:
			t.Fatalf("kill %d after %s (%v): %d devices, want 0 or %d", i, delay, err, devices, want)
		}
		if h.Integrity != "ok" || h.Chain != "ok" || !h.Verified {
			t.Fatalf("kill %d: %+v", i, h)
		}
		if interrupted != db {
			removeLedger(db)
		}
	}
	t.Logf("killed at (delay:ledger held) %s", strings.Join(states, " "))
	if interrupted == "" {
		t.Fatal("no kill interrupted the import: the test did not test anything")
	}
	if cmd := runImport(interrupted); cmd.Run() != nil {
		t.Fatalf("import after a kill: %s", cmd.Stderr)
	}
	if _, devices := ledgerHealth(t, interrupted); devices != want {
		t.Fatalf("%d devices after the import completed, want %d", devices, want)
	}
}

// removeLedger deletes a test ledger and its side files.
func removeLedger(db string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
}

// TestConcurrency_Processes runs several itad processes at once against
// one ledger for a while — two disposing their own devices, one importing
// a series of files, one reporting and one taking backups — and checks
// that no "database is locked" or busy error reaches a user, every
// command succeeds, and every effect and event is there: counts add up
// exactly and the event chain is whole. ITAD_LONG_TESTS=1 runs it for a
// minute instead of ten seconds.
func TestConcurrency_Processes(t *testing.T) {
	duration := 10 * time.Second
	if longTests() {
		duration = time.Minute
	}
	bin := buildItad(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	const perDisposer = 2000
	s, err := ledger.Open(db, ledger.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Actor = "setup"
	if err := s.Init("Concurrency"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContractor(ledger.Contractor{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 * perDisposer {
		if _, err := s.AddDevice(ledger.Device{Serial: fmt.Sprintf("P%d-%04d", i/perDisposer, i%perDisposer), Type: ledger.HDD}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	base := eventsByAction(t, db)

	// Import files: 300 devices each, serials of their own.
	const perFile = 300
	var files []string
	for k := range 200 {
		var b strings.Builder
		b.WriteString(strings.Join(ledger.ImportColumns, ",") + "\n")
		for i := range perFile {
			fmt.Fprintf(&b, "IMP%03d-%04d,,ssd,Samsung,870 EVO,500,DC-North,shred,,,yes,Acme,2023-%02d-%02d,0.051,,A. Patel,,\n", k, i, 1+i%12, 1+i%28)
		}
		p := filepath.Join(dir, fmt.Sprintf("import-%03d.csv", k))
		os.WriteFile(p, []byte(b.String()), 0o644)
		files = append(files, p)
	}

	type worker struct {
		name string
		next func(i int) []string // the i'th command, nil when there is no more work
		ok   atomic.Int64
	}
	workers := []*worker{
		{name: "dispose-0"}, {name: "dispose-1"}, {name: "import"}, {name: "report"}, {name: "backup"},
	}
	for p := range 2 {
		workers[p].next = func(i int) []string {
			if i >= perDisposer {
				return nil
			}
			return []string{"dispose", fmt.Sprintf("P%d-%04d", p, i), "--method", "shred", "--on", "2024-03-04", "--contractor", "Acme"}
		}
	}
	workers[2].next = func(i int) []string {
		if i >= len(files) {
			return nil
		}
		return []string{"import", files[i]}
	}
	workers[3].next = func(int) []string { return []string{"report", "--json", "--by", "method"} }
	workers[4].next = func(i int) []string { return []string{"backup", filepath.Join(dir, fmt.Sprintf("backup-%04d.db", i))} }

	var mu sync.Mutex
	var failures []string
	var lastReported atomic.Int64
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for _, wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				args := wk.next(i)
				if args == nil {
					return
				}
				cmd := exec.Command(bin, append([]string{"--db", db, "--actor", wk.name}, args...)...)
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				err := cmd.Run()
				// A notice that a change is waiting for another writer is
				// fine; anything else on stderr is a failure.
				notes := strings.TrimSpace(errOut.String())
				for _, l := range strings.Split(notes, "\n") {
					if strings.HasPrefix(l, "itad: waiting") {
						notes = strings.Replace(notes, l, "", 1)
					}
				}
				if err != nil || strings.TrimSpace(notes) != "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: itad %s: %v\n%s", wk.name, strings.Join(args, " "), err, errOut.String()))
					mu.Unlock()
					continue
				}
				wk.ok.Add(1)
				if wk.name == "report" {
					// Each report is one snapshot: its total never goes down.
					var rows []struct {
						Count int64 `json:"count"`
					}
					json.Unmarshal(out.Bytes(), &rows)
					var total int64
					for _, r := range rows {
						total += r.Count
					}
					if prev := lastReported.Swap(total); total < prev {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("report total went down from %d to %d", prev, total))
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		if strings.Contains(f, "locked") || strings.Contains(strings.ToLower(f), "busy") {
			t.Errorf("a user saw a lock error: %s", f)
		} else {
			t.Error(f)
		}
	}
	disposed := workers[0].ok.Load() + workers[1].ok.Load()
	imports, reports, backups := workers[2].ok.Load(), workers[3].ok.Load(), workers[4].ok.Load()
	t.Logf("in %s: %d disposals, %d imports, %d reports, %d backups", duration, disposed, imports, reports, backups)
	if disposed == 0 || imports == 0 || reports == 0 || backups == 0 {
		t.Errorf("a worker did nothing")
	}

	h, devices := ledgerHealth(t, db)
	if want := int64(2*perDisposer) + imports*perFile; devices != want {
		t.Errorf("%d devices, want %d", devices, want)
	}
	for _, tc := range h.Tables {
		if tc.Table == "disposals" && tc.Rows != disposed+imports*perFile {
			t.Errorf("%d disposals, want %d disposed + %d imported", tc.Rows, disposed, imports*perFile)
		}
	}
	got := eventsByAction(t, db)
	for action, want := range map[string]int64{
		"disposal.record": disposed, "rows imported": imports * perFile, "import.file": imports,
		ledger.ImportRowsAction: imports * 2, // 256 rows, then 44
		"report":                reports, "backup": backups,
	} {
		if got[action]-base[action] != want {
			t.Errorf("%d %s events, want %d", got[action]-base[action], action, want)
		}
	}
	var total int64
	for _, n := range got {
		total += n
	}
	total -= got["rows imported"]
	if total != h.Events {
		t.Errorf("events by action add up to %d, the chain has %d", total, h.Events)
	}
	// The last backup is whole too.
	last := filepath.Join(dir, fmt.Sprintf("backup-%04d.db", backups-1))
	if _, err := os.Stat(last); err != nil {
		t.Fatal(err)
	}
	mustItad(t, filepath.Join(dir, "drill.db"), "restore", last)
}
