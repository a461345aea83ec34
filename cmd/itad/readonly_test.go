package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ReadOnlyLedger: a ledger whose file and folder cannot be written
// (a copy on read-only media, say) is opened read-only by itself: it
// verifies and answers reports, with a note that consultations are not
// recorded; changes fail with a hint; the file is not touched. Root
// ignores file permissions, so as root the binary runs as nobody
// (setpriv, from util-linux).
func TestCLI_ReadOnlyLedger(t *testing.T) {
	var prefix []string
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root, which ignores file permissions, and setpriv (util-linux) is not there to drop to nobody")
		}
		prefix = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}
	}
	dir, err := os.MkdirTemp("", "itad-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "itad")
	data, err := os.ReadFile(buildItad(t))
	must(err)
	must(os.WriteFile(bin, data, 0o755))
	led := filepath.Join(dir, "ledger")
	must(os.Mkdir(led, 0o755))
	db := filepath.Join(led, "itad.db")
	mustItad(t, db, "init", "--org", "Read Only")
	mustItad(t, db, "import", "../../testdata/import/sample-disposals.csv")
	must(os.Chmod(db, 0o444))
	must(os.Chmod(led, 0o555))
	before, err := os.ReadFile(db)
	must(err)

	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(prefix[0], append(append(prefix[1:], bin, "--db", db), args...)...)
		if prefix == nil {
			cmd = exec.Command(bin, append([]string{"--db", db}, args...)...)
		}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	note := "is open read-only: it will not be changed, and consultations are not recorded"
	out, errOut, code := run("verify")
	if code != 0 || !strings.Contains(out, "verified: ") || !strings.Contains(errOut, note) {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run("report", "--year", "2021")
	if code != 0 || !strings.Contains(out, "2021") {
		t.Fatalf("report: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run("device", "add", "RO-1", "--type", "hdd")
	if code != exitFailure || !strings.Contains(errOut, "read-only") || !strings.Contains(errOut, "itad: hint: ") {
		t.Fatalf("device add: exit %d\n%s%s", code, out, errOut)
	}
	after, err := os.ReadFile(db)
	must(err)
	entries, _ := os.ReadDir(led)
	if !bytes.Equal(before, after) || len(entries) != 1 {
		t.Fatalf("the read-only ledger changed (%d files in its folder)", len(entries))
	}

	// --read-only on a writable ledger: the same, by request.
	must(os.Chmod(led, 0o755))
	must(os.Chmod(db, 0o644))
	out, errOut, code = itad(t, db, "--read-only", "device", "add", "RO-1", "--type", "hdd")
	if code != exitFailure || !strings.Contains(errOut, "cannot be changed here") {
		t.Fatalf("--read-only device add: exit %d\n%s%s", code, out, errOut)
	}
}
