package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// sampleLedger is a ledger with the sample import, in its own folder.
func sampleLedger(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	mustItad(t, db, "import", "../../testdata/import/sample-disposals.csv")
	return db
}

// shell opens the ledger as the sqlite3 shell would (no foreign keys).
func shell(t *testing.T, db string) *sql.DB {
	t.Helper()
	h, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestAudit_Verify(t *testing.T) {
	db := sampleLedger(t)
	out := mustItad(t, db, "verify")
	if !strings.Contains(out, "verified:") || !strings.Contains(out, "every table matches its events") {
		t.Fatalf("verify output:\n%s", out)
	}
	var res struct {
		Verified bool
		Result   ledger.VerifyResult
	}
	if err := json.Unmarshal([]byte(mustItad(t, db, "verify", "--json")), &res); err != nil || !res.Verified || res.Result.Rows["devices"] != 300 {
		t.Fatalf("verify --json: %+v %v", res, err)
	}
	if _, errOut, code := itad(t, db, "verify", "extra"); code != exitUsage {
		t.Fatalf("verify extra: exit %d %s", code, errOut)
	}

	// Behind itad's back: one model changed, one disposal deleted.
	h := shell(t, db)
	var id int64
	var serial string
	h.QueryRow(`SELECT id, serial FROM devices ORDER BY id LIMIT 1 OFFSET 9`).Scan(&id, &serial)
	for _, q := range []string{
		fmt.Sprintf(`UPDATE devices SET model = 'FORGED' WHERE id = %d`, id),
		`DELETE FROM disposals WHERE id = (SELECT max(id) FROM disposals)`,
	} {
		if _, err := h.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := itad(t, db, "verify")
	if code != exitVerifyFailed {
		t.Fatalf("verify of a tampered ledger: exit %d\n%s%s", code, out, errOut)
	}
	wantRow := fmt.Sprintf(`table devices row id %d (serial %s): its values do not hash to what event`, id, serial)
	if !strings.Contains(out, "does NOT verify: 2 problems") || !strings.Contains(out, wantRow) ||
		!strings.Contains(out, "table disposals (id 300): no row for row 44 of 44 of event") {
		t.Fatalf("verify output:\n%s", out)
	}
	if !strings.HasPrefix(errOut, "itad: error: "+wantRow) || !strings.Contains(errOut, "itad: hint: ") {
		t.Fatalf("stderr:\n%s", errOut)
	}
	out, _, code = itad(t, db, "verify", "--json")
	var bad struct {
		Verified bool
		Problems []string
	}
	if code != exitVerifyFailed || json.Unmarshal([]byte(out), &bad) != nil || bad.Verified || len(bad.Problems) != 2 {
		t.Fatalf("verify --json: exit %d %s", code, out)
	}
}

// rewriteHistory edits event seq's payload (old -> new), the row that
// mirrors it, removes the ledger's own checkpoints and recomputes every
// hash: a rewrite that leaves the ledger consistent with itself.
func rewriteHistory(t *testing.T, db, serial, old, new string) {
	t.Helper()
	h := shell(t, db)
	var seq int64
	if err := h.QueryRow(`SELECT seq FROM devices WHERE serial = ?`, serial).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf(`UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), '"%s"', '"%s"') AS BLOB) WHERE seq = %d`, old, new, seq),
		fmt.Sprintf(`UPDATE devices SET model = '%s' WHERE serial = '%s'`, new, serial),
		`DELETE FROM checkpoints`,
	} {
		if _, err := h.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// Drop the checkpoint events, renumbering the events after them and
	// the rows that name those.
	for {
		var c int64
		if h.QueryRow(`SELECT seq FROM events WHERE action = 'checkpoint' ORDER BY seq DESC LIMIT 1`).Scan(&c) != nil {
			break
		}
		for _, q := range []string{
			`DELETE FROM events WHERE seq = ?`,
			`UPDATE events SET seq = -(seq - 1) WHERE seq > ?`, `UPDATE events SET seq = -seq WHERE seq < 0`,
			`UPDATE settings SET seq = seq - 1 WHERE seq > ?`, `UPDATE contractors SET seq = seq - 1 WHERE seq > ?`,
			`UPDATE devices SET seq = seq - 1 WHERE seq > ?`, `UPDATE disposals SET seq = seq - 1 WHERE seq > ?`,
			`UPDATE batches SET seq = seq - 1 WHERE seq > ?`, `UPDATE certificates SET seq = seq - 1 WHERE seq > ?`,
			`UPDATE exemptions SET seq = seq - 1 WHERE seq > ?`,
		} {
			args := []any{c}
			if !strings.Contains(q, "?") {
				args = nil
			}
			if _, err := h.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	rows, err := h.Query(`SELECT seq, at, actor, action, subject, reason, payload FROM events ORDER BY seq`)
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
		at, _ := time.Parse(ledger.TimeFormat, e.at)
		hash := ledger.EventHash(prev, e.seq, at, e.actor, e.action, e.subject, e.reason, e.payload)
		if _, err := h.Exec(`UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, hash, e.seq); err != nil {
			t.Fatal(err)
		}
		prev = hash
	}
}

func TestAudit_Checkpoint(t *testing.T) {
	db := sampleLedger(t)
	dir := filepath.Dir(db)
	if _, errOut, code := itad(t, db, "checkpoint"); code != exitFailure || !strings.Contains(errOut, "itad key init") {
		t.Fatalf("checkpoint without a key: exit %d %s", code, errOut)
	}
	mustItad(t, db, "key", "init")
	mustItad(t, db, "device", "add", "OLD-1", "--type", "laptop", "--model", "Latitude 5490")
	var n int64
	shell(t, db).QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	size := fmt.Sprint(n)
	out := mustItad(t, db, "checkpoint", "--reason", "month end")
	if !strings.Contains(out, fmt.Sprintf("checkpoint of %s events signed and recorded (event #%d)", size, n+1)) || !strings.Contains(out, "verifier key: itad/") {
		t.Fatalf("checkpoint:\n%s", out)
	}
	cpFile := filepath.Join(dir, "cp-1.txt")
	mustItad(t, db, "checkpoint", "export", "-o", cpFile)
	note, _ := os.ReadFile(cpFile)
	lines := strings.Split(string(note), "\n")
	if !strings.HasPrefix(lines[0], "itad.ledger/") || lines[1] != size || lines[3] != "" || !strings.HasPrefix(lines[4], "— itad/") {
		t.Fatalf("exported note:\n%s", note)
	}
	if got := mustItad(t, db, "checkpoint", "export"); got != string(note) {
		t.Fatalf("export to stdout differs:\n%s", got)
	}
	if !strings.Contains(mustItad(t, db, "checkpoint", "list"), fmt.Sprintf("#%d", n+1)) {
		t.Fatal("checkpoint list")
	}
	// Later changes extend the checkpoint.
	mustItad(t, db, "device", "add", "NEW-1", "--type", "hdd")
	out = mustItad(t, db, "verify", "--checkpoint", cpFile)
	if !strings.Contains(out, "checkpoint ("+cpFile+") of "+size+" events: consistent, signature verified") ||
		!strings.Contains(out, "checkpoint (ledger) of "+size+" events: consistent, signature verified") {
		t.Fatalf("verify --checkpoint:\n%s", out)
	}
	// An edited checkpoint file does not verify.
	edited := filepath.Join(dir, "edited.txt")
	os.WriteFile(edited, []byte(strings.Replace(string(note), "\n"+size+"\n", fmt.Sprintf("\n%d\n", n-1), 1)), 0o644)
	if out, errOut, code := itad(t, db, "verify", "--checkpoint", edited); code != exitVerifyFailed {
		t.Fatalf("edited checkpoint: exit %d %s%s", code, out, errOut)
	}

	// History rewritten with the database file in hand: the model of a
	// device added before the checkpoint, whose event holds its values
	// (ledger's TestCheckpoint_HistoryRewritten rewrites an imported row
	// and the hash its event records).
	rewriteHistory(t, db, "OLD-1", "Latitude 5490", "REWRITTEN")
	if out, errOut, code := itad(t, db, "verify"); code != 0 {
		t.Fatalf("the rewritten ledger should look consistent on its own: exit %d %s%s", code, out, errOut)
	}
	out, errOut, code := itad(t, db, "verify", "--checkpoint", cpFile)
	if code != exitVerifyFailed || !strings.Contains(errOut, "history rewritten") {
		t.Fatalf("verify --checkpoint after the rewrite: exit %d\n%s%s", code, out, errOut)
	}
	// --trusted with another key's certificate: not signed by it.
	other := filepath.Join(t.TempDir(), "other.db")
	mustItad(t, other, "init", "--org", "Other")
	mustItad(t, other, "key", "init")
	out, errOut, code = itad(t, db, "verify", "--checkpoint", cpFile, "--trusted", filepath.Join(filepath.Dir(other), "itad-signing-cert.pem"))
	if code != exitVerifyFailed || !strings.Contains(errOut, "not signed by a trusted key") || !strings.Contains(errOut, "itad: hint: after a key change") {
		t.Fatalf("verify --trusted other: exit %d %s%s", code, out, errOut)
	}
}

func TestAudit_Amend(t *testing.T) {
	db := sampleLedger(t)
	var h struct {
		Device    ledger.Device
		Disposals []ledger.Disposal
	}
	serial := "STOS00021221"
	if err := json.Unmarshal([]byte(mustItad(t, db, "device", "show", serial, "--json")), &h); err != nil || len(h.Disposals) != 1 {
		t.Fatalf("device show --json: %v %+v", err, h)
	}
	if _, errOut, code := itad(t, db, "device", "amend", serial, "--model", "X"); code != exitUsage || !strings.Contains(errOut, "reason") {
		t.Fatalf("amend without --reason: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "device", "amend", serial, "--reason", "r"); code != exitUsage || !strings.Contains(errOut, "nothing to amend") {
		t.Fatalf("amend with nothing: exit %d %s", code, errOut)
	}
	out := mustItad(t, db, "device", "amend", serial, "--model", "MG04ACA400N", "--capacity", "4000", "--reason", "label misread")
	if out != `device STOS00021221 amended: model "MG04ACA400E" -> "MG04ACA400N"; capacity_gb "960" -> "4000"`+"\n" {
		t.Fatalf("device amend: %q", out)
	}
	uuid := h.Disposals[0].UUID
	out = mustItad(t, db, "disposal", "amend", uuid, "--weight", "0.7kg", "--method", "disintegrate", "--reason", "weighbridge ticket")
	if !strings.Contains(out, `method "shred" -> "disintegrate"; weight_grams "675" -> "700"`) {
		t.Fatalf("disposal amend: %q", out)
	}
	if _, errOut, code := itad(t, db, "disposal", "amend", uuid, "--contractor", "Nobody", "--reason", "r"); code != exitFailure || !strings.Contains(errOut, "Nobody") {
		t.Fatalf("amend to an unknown contractor: exit %d %s", code, errOut)
	}
	show := mustItad(t, db, "device", "show", serial)
	// The history is a table: columns are padded to the widest entry.
	spaced := regexp.MustCompile(`  +`).ReplaceAllString(show, "  ")
	for _, want := range []string{"Model:  MG04ACA400N", "disintegrate", uuid,
		`device.amend  model "MG04ACA400E" -> "MG04ACA400N"; capacity_gb "960" -> "4000"  reason: label misread`,
		`disposal.amend  method "shred" -> "disintegrate"; weight_grams "675" -> "700"  reason: weighbridge ticket`} {
		if !strings.Contains(spaced, want) {
			t.Fatalf("device show lacks %q:\n%s", want, show)
		}
	}
	if !strings.Contains(mustItad(t, db, "report", "--year", "2021", "--by", "method"), "disintegrate") {
		t.Fatal("the report does not use the corrected method")
	}
	mustItad(t, db, "verify")
}

func TestAudit_LogAndReasons(t *testing.T) {
	db := sampleLedger(t)
	mustItad(t, db, "report", "--reason", "annual return")
	text := mustItad(t, db, "log", "--action", "report")
	if !strings.Contains(text, "report  report  reason: annual return") {
		t.Fatalf("log text:\n%s", text)
	}
	recs, err := csv.NewReader(strings.NewReader(mustItad(t, db, "log", "--serial", "stos00021221", "--format", "csv"))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][3] != ledger.ImportRowsAction || recs[1][4] != "../../testdata/import/sample-disposals.csv" {
		t.Fatalf("log csv: %v %v", recs, err)
	}
	if out := mustItad(t, db, "device", "show", "STOS00021221"); !strings.Contains(out, "import.rows ../../testdata/import/sample-disposals.csv") {
		t.Fatalf("device show lacks the import that recorded it:\n%s", out)
	}
	var evs []ledger.Event
	err = json.Unmarshal([]byte(mustItad(t, db, "--json", "log", "--by-actor", "tester", "--since", "2000-01-01")), &evs)
	var all int64 // the log's answer is rendered before its own event is recorded
	shell(t, db).QueryRow(`SELECT count(*) - 1 FROM events WHERE actor = 'tester'`).Scan(&all)
	if err != nil || len(evs) < 50 || int64(len(evs)) != all {
		t.Fatalf("log json: %d events, want %d: %v", len(evs), all, err)
	}
	if _, errOut, code := itad(t, db, "log", "--format", "xml"); code != exitUsage {
		t.Fatalf("log --format xml: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "log", "--since", "yesterday"); code != exitFailure || !strings.Contains(errOut, "since") {
		t.Fatalf("log --since yesterday: exit %d %s", code, errOut)
	}

	// Reasons made mandatory for consultation and disclosure.
	if _, errOut, code := itad(t, db, "settings", "set", "require_reason", "maybe"); code != exitUsage {
		t.Fatalf("settings set maybe: exit %d %s", code, errOut)
	}
	mustItad(t, db, "settings", "set", "require_reason", "yes", "--reason", "DPA 2018 s62 policy")
	if !regexp.MustCompile(`(?m)^require_reason +true `).MatchString(mustItad(t, db, "settings", "list")) {
		t.Fatal("settings list")
	}
	for _, args := range [][]string{{"report"}, {"device", "show", "STOS00021221"}, {"log"}} {
		if _, errOut, code := itad(t, db, args...); code != exitFailure || !strings.Contains(errOut, "requires a reason") {
			t.Fatalf("%v without a reason: exit %d %s", args, code, errOut)
		}
	}
	mustItad(t, db, "report", "--reason", "FOI 2026/031")
	mustItad(t, db, "log", "--reason", "audit", "--action", "setting.set")
	mustItad(t, db, "verify")
}

// TestAudit_KillDuringImport kills 'itad import' of a large file with
// SIGKILL at random moments. After each kill the ledger passes 'itad
// verify' and PRAGMA integrity_check and holds all of the import or none
// of it. ITAD_LONG_TESTS=1 makes the file and the number of kills larger.
func TestAudit_KillDuringImport(t *testing.T) {
	n, kills := 20000, 5
	if os.Getenv("ITAD_LONG_TESTS") == "1" {
		n, kills = 100000, 20
	}
	bin := buildItad(t)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "big.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.Write(ledger.DemoCSV(7, n, 2019, 2025))
	w.Flush()
	f.Close()
	var want int64 = -1
	start := time.Now()
	ref := filepath.Join(dir, "ref.db")
	mustItad(t, ref, "init", "--org", "Kill")
	if out, err := exec.Command(bin, "--db", ref, "import", csvPath).CombinedOutput(); err != nil {
		t.Fatalf("reference import: %v %s", err, out)
	}
	full := time.Since(start)
	shell(t, ref).QueryRow(`SELECT count(*) FROM devices`).Scan(&want)

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	for i := 0; i < kills; i++ {
		db := filepath.Join(dir, fmt.Sprintf("kill-%d.db", i))
		mustItad(t, db, "init", "--org", "Kill")
		cmd := exec.Command(bin, "--db", db, "import", csvPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(r.Int64N(int64(full) + int64(full)/5))
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		var integrity string
		var devices, events int64
		h := shell(t, db)
		h.QueryRow(`PRAGMA integrity_check`).Scan(&integrity)
		h.QueryRow(`SELECT count(*) FROM devices`).Scan(&devices)
		h.QueryRow(`SELECT coalesce(sum(json_extract(CAST(payload AS TEXT), '$.rows')), 0) FROM events WHERE action = 'import.rows'`).Scan(&events)
		h.Close()
		if integrity != "ok" || (devices != 0 && devices != want) || events != devices {
			t.Fatalf("kill %d after %s: integrity %q, %d devices and import events for %d rows (want 0 or %d)", i, delay, integrity, devices, events, want)
		}
		if out, errOut, code := itad(t, db, "verify"); code != 0 {
			t.Fatalf("kill %d after %s: verify exit %d\n%s%s", i, delay, code, out, errOut)
		}
		t.Logf("kill %d after %s: %d devices", i, delay.Round(time.Millisecond), devices)
	}
}

// TestAudit_SqliteShell tampers with the sqlite3 shell itself, the way
// someone with the file would. It needs the shell: skipped without it,
// failed without it when ITAD_REQUIRE_TOOLS=1.
func TestAudit_SqliteShell(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
			t.Fatal("sqlite3 shell not installed (ITAD_REQUIRE_TOOLS=1)")
		}
		t.Skip("sqlite3 shell not installed: apt-get install sqlite3")
	}
	db := sampleLedger(t)
	for _, tc := range []struct{ name, sql, want string }{
		{"UpdateWeight", `UPDATE disposals SET weight_g = coalesce(weight_g, 0) + 1 WHERE id = 5;`, "table disposals row id 5"},
		{"DeleteDevice", `PRAGMA foreign_keys = OFF; DELETE FROM disposals WHERE device_id = 7; DELETE FROM devices WHERE id = 7;`, "table devices (id 7): no row for row 7 of 256 of event"},
		{"EditEvent", `UPDATE events SET reason = 'routine' WHERE seq = 3;`, "event 3: hash does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copyDB := filepath.Join(t.TempDir(), "itad.db")
			data, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(copyDB, data, 0o644)
			if out, err := exec.Command("sqlite3", copyDB, tc.sql).CombinedOutput(); err != nil {
				t.Fatalf("sqlite3: %v %s", err, out)
			}
			out, errOut, code := itad(t, copyDB, "verify")
			if code != exitVerifyFailed || !strings.Contains(errOut, tc.want) {
				t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestAudit_KeyRotation: after the signing key is changed with key
// rotate, checkpoints signed by the earlier key verify with the retired
// certificate it kept beside the ledger, or when it is trusted too
// (--trusted repeated), and not otherwise.
func TestAudit_KeyRotation(t *testing.T) {
	db := sampleLedger(t)
	dir := filepath.Dir(db)
	cert := filepath.Join(dir, "itad-signing-cert.pem")
	mustItad(t, db, "key", "init")
	mustItad(t, db, "checkpoint")
	cp1 := filepath.Join(dir, "cp-1.txt")
	mustItad(t, db, "checkpoint", "export", "-o", cp1)
	oldCerts, _ := certificateFingerprintFile(t, cert)
	// The key is changed: key rotate keeps the old certificate beside
	// the ledger as itad-signing-cert.<fingerprint>.pem.
	mustItad(t, db, "key", "rotate", "--reason", "test rotation")
	oldCert := filepath.Join(dir, "itad-signing-cert."+oldCerts[:16]+".pem")
	mustItad(t, db, "device", "add", "NEW-1", "--type", "hdd")
	mustItad(t, db, "checkpoint")
	cp2 := filepath.Join(dir, "cp-2.txt")
	mustItad(t, db, "checkpoint", "export", "-o", cp2)

	// By default verify trusts the recorded certificates beside the
	// ledger, current and retired.
	out := mustItad(t, db, "verify", "--checkpoint", cp1)
	if strings.Count(out, "signature verified") != 3 || strings.Contains(out, "not signed") {
		t.Fatalf("verify with the recorded certificates:\n%s", out)
	}
	// Trusting the new key only, the checkpoint stored before the change
	// is signed by a key that is not trusted: a problem, with a hint to
	// trust the old key too.
	out, errOut, code := itad(t, db, "verify", "--trusted", cert)
	if code != exitVerifyFailed || !strings.Contains(out, "consistent with the log, but not signed by a trusted key") ||
		!strings.Contains(errOut, "itad: hint: after a key change, pass the earlier certificate with --trusted") {
		t.Fatalf("verify with the new key only: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := itad(t, db, "verify", "--checkpoint", cp1, "--trusted", cert); code != exitVerifyFailed || !strings.Contains(errOut, "not signed by a trusted key") {
		t.Fatalf("old checkpoint, new key only: exit %d\n%s%s", code, out, errOut)
	}
	out = mustItad(t, db, "verify", "--checkpoint", cp1, "--checkpoint", cp2, "--trusted", cert, "--trusted", oldCert, "--trusted", cert)
	if strings.Count(out, "signature verified") != 4 || strings.Contains(out, "not signed") {
		t.Fatalf("verify trusting both keys:\n%s", out)
	}
}
