package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCLI_DiskFull fills a real (tiny tmpfs) disk under a ledger and
// checks that every command then says what to do. Mounting needs root:
// the test skips, saying so, where it cannot mount.
func TestCLI_DiskFull(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a tmpfs")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test: cannot mount a tmpfs here: %v: %s", err, out)
	}
	defer exec.Command("umount", dir).Run()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init", "--org", "Test")
	mustItad(t, db, "contractor", "add", "Shredders Ltd")
	// Fill the disk: a file grows until the write fails with ENOSPC.
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	var errOut string
	var code int
	for i := 0; i < 200 && code == 0; i++ { // the WAL may still have room for a few pages
		_, errOut, code = itad(t, db, "device", "add", "SN"+strings.Repeat("x", 100)+strconv.Itoa(i), "--type", "hdd",
			"--make", strings.Repeat("m", 200), "--model", strings.Repeat("n", 200))
	}
	if code == 0 {
		t.Fatal("device add kept succeeding on a full disk")
	}
	want := "itad: hint: the disk holding " + db + " is full or failing: free space, then run itad verify\n"
	if !strings.Contains(errOut, want) {
		t.Errorf("full disk: exit %d, stderr\n%s\nwant the hint\n%s", code, errOut, want)
	}
	t.Logf("on a full disk: %s", errOut)
	// Once space is freed the ledger works again and verifies.
	os.Remove(filepath.Join(dir, "filler"))
	mustItad(t, db, "device", "add", "SN-after", "--type", "hdd")
	mustItad(t, db, "verify")
}
