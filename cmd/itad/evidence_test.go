package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// skipNoLoop skips (or, with ITAD_REQUIRE_TOOLS=1, fails) a test that
// needs nwipe and loop devices.
func skipNoLoop(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (ITAD_REQUIRE_TOOLS=1)", msg)
	}
	t.Skip(msg)
}

// loopDevice makes an 8 MB loop device from a file under t.TempDir(),
// detached at cleanup.
func loopDevice(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, 8<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", f).CombinedOutput()
	if err != nil {
		skipNoLoop(t, "cannot make a loop device (needs root and /dev/loop-control): losetup: "+strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// foundLine returns the line of the log's "Found PATH," line.
func foundLine(t *testing.T, log, path string) int {
	t.Helper()
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "notice: Found "+path+",") {
			return n
		}
	}
	t.Fatalf("%s has no Found line for %s", log, path)
	return 0
}

// TestCLI_EvidenceRealNwipe runs Debian's nwipe on loop devices (one with
// --method=zero --verify=last, two at once with --method=dodshort
// --verify=all), then imports the logs: without --serial each device is
// refused by file, line and path; with --serial each is a disposal with
// nwipe's method, tool and verification, and the logs are kept.
func TestCLI_EvidenceRealNwipe(t *testing.T) {
	for _, tool := range []string{"nwipe", "losetup"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipNoLoop(t, tool+" not installed: apt-get install nwipe mount")
		}
	}
	devs := []string{loopDevice(t), loopDevice(t), loopDevice(t)}
	dir := t.TempDir()
	logs := []string{filepath.Join(dir, "nwipe_log_zero.txt"), filepath.Join(dir, "nwipe_log_dodshort.txt")}
	for i, args := range [][]string{
		{"--method=zero", "--verify=last", "--logfile=" + logs[0], devs[0]},
		{"--method=dodshort", "--verify=all", "--logfile=" + logs[1], devs[1], devs[2]},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, "nwipe", append([]string{"--autonuke", "--nogui", "--nowait"}, args...)...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("nwipe run %d %v: %v\n%s", i, args, err, out)
		}
	}
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Loop Council")
	mustItad(t, db, "contractor", "add", "In-house IT")
	base := []string{"evidence", "import", "--contractor", "In-house IT", "--type", "hdd", "--timezone", "UTC", dir}

	// Without --serial: each loop device refused by path and line.
	out, errOut, code := itad(t, db, base...)
	if code != exitFailure || !strings.Contains(errOut, "3 devices refused") {
		t.Fatalf("import without --serial: exit %d\n%s%s", code, out, errOut)
	}
	for i, d := range devs {
		log := logs[0]
		if i > 0 {
			log = logs[1]
		}
		want := fmt.Sprintf("itad: error: %s:%d: %s: no readable serial", filepath.Base(log), foundLine(t, log, d), d)
		if !strings.Contains(errOut, want) {
			t.Errorf("no refusal %q in:\n%s", want, errOut)
		}
	}

	// With --serial: three disposals.
	args := append([]string{}, base[:len(base)-1]...)
	serials := []string{"LOOP-ZERO", "LOOP-DOD-1", "LOOP-DOD-2"}
	for i, d := range devs {
		args = append(args, "--serial", d+"="+serials[i])
	}
	out = mustItad(t, db, append(args, dir)...)
	if !strings.Contains(out, "3 sanitised, 0 failed, 0 verifications, 0 unchanged, 0 refused; 3 devices added") {
		t.Fatalf("import with --serial:\n%s", out)
	}
	list := mustItad(t, db, "disposal", "list", "--format", "csv")
	for i, s := range serials {
		std, passes := "Fill With Zeros", "last"
		if i > 0 {
			std, passes = "DoD Short", "all"
		}
		show := mustItad(t, db, "device", "show", s, "--json")
		for _, w := range []string{`"method": "overwrite"`, `"category": "clear"`, `"standard": "` + std + `"`, `"tool": "nwipe 0.`,
			`"verified": "yes"`, `"verify": "` + passes + `"`, `"path": "` + devs[i] + `"`, `"timezone": "UTC"`, `"kind": "nwipe-log"`} {
			if !strings.Contains(show, w) {
				t.Errorf("device show %s lacks %s:\n%s", s, w, show)
			}
		}
		if !strings.Contains(list, s) {
			t.Errorf("disposal list lacks %s:\n%s", s, list)
		}
	}
	// Again: nothing changes.
	if out := mustItad(t, db, append(args, dir)...); !strings.Contains(out, "0 sanitised, 0 failed, 0 verifications, 3 unchanged") {
		t.Errorf("import again:\n%s", out)
	}
	if ev := mustItad(t, db, "evidence", "list"); strings.Count(ev, "nwipe-log") != 2 {
		t.Errorf("evidence list:\n%s", ev)
	}
	mustItad(t, db, "verify")
}

// TestCLI_Evidence: import a fixture, attach a document, show, export
// (recorded, byte for byte), device show, device list --needs-destruction,
// and the certificate's Evidence block.
func TestCLI_Evidence(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Evidence Council")
	mustItad(t, db, "contractor", "add", "WipeCo")
	mustItad(t, db, "settings", "set", "default_contractor", "WipeCo")
	fix := filepath.Join("..", "..", "testdata", "nwipe")
	out := mustItad(t, db, "evidence", "import", "--type", "hdd", "--timezone", "Europe/London",
		filepath.Join(fix, "nwipe_log_20250314-091502.txt"), filepath.Join(fix, "nwipe_log_20250402-140010.txt"))
	for _, w := range []string{"line 1 /dev/sdb WD-WCC2E1234567: sanitised: disposal ", "line 1 /dev/sdc Z9A1B2C3: FAILED",
		"2 files (2 new): 1 sanitised, 1 failed"} {
		if !strings.Contains(out, w) {
			t.Errorf("import lacks %q:\n%s", w, out)
		}
	}
	if _, errOut, code := itad(t, db, "evidence", "import", "--timezone", "Mars/Olympus", fix); code != exitUsage || !strings.Contains(errOut, "--timezone") {
		t.Errorf("bad zone: exit %d %s", code, errOut)
	}
	if _, errOut, code := itad(t, db, "evidence", "import", "--format", "pdf", fix); code != exitUsage || !strings.Contains(errOut, "nwipe-log") {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
	if nd := mustItad(t, db, "device", "list", "--needs-destruction", "--format", "csv"); !strings.Contains(nd, "Z9A1B2C3") || strings.Contains(nd, "WD-WCC2E1234567") {
		t.Errorf("needs destruction:\n%s", nd)
	}
	ticket := filepath.Join(t.TempDir(), "ticket.txt")
	if err := os.WriteFile(ticket, []byte("weighbridge ticket 7781: 12.4 kg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustItad(t, db, "evidence", "attach", "WD-WCC2E1234567", ticket, "--kind", "weighbridge-ticket"); !strings.Contains(out, "attached ticket.txt (weighbridge-ticket") {
		t.Errorf("attach: %s", out)
	}
	if _, errOut, code := itad(t, db, "evidence", "attach", "WD-WCC2E1234567", ticket, "--kind", "selfie"); code != exitUsage {
		t.Errorf("attach --kind selfie: exit %d %s", code, errOut)
	}
	mustItad(t, db, "settings", "set", "evidence_max_bytes", "10")
	if _, errOut, code := itad(t, db, "evidence", "attach", "WD-WCC2E1234567", ticket, "--kind", "photo"); code != exitFailure || !strings.Contains(errOut, "evidence_max_bytes") {
		t.Errorf("attach over the limit: exit %d %s", code, errOut)
	}
	show := mustItad(t, db, "device", "show", "WD-WCC2E1234567")
	for _, w := range []string{"Erasures (1):", "nwipe 0.38", "DoD 5220.22-M", "Evidence (2):", "nwipe_log_20250314-091502.txt", "ticket.txt"} {
		if !strings.Contains(show, w) {
			t.Errorf("device show lacks %q:\n%s", w, show)
		}
	}
	if es := mustItad(t, db, "evidence", "show", "nwipe_log_20250314-091502.txt"); !strings.Contains(es, "Erasures (1):") || !strings.Contains(es, "Europe/London") && !strings.Contains(es, "sanitised") {
		t.Errorf("evidence show:\n%s", es)
	}
	exported := filepath.Join(t.TempDir(), "out.txt")
	mustItad(t, db, "evidence", "export", "nwipe_log_20250314-091502.txt", "-o", exported, "--reason", "audit")
	a, _ := os.ReadFile(exported)
	b, _ := os.ReadFile(filepath.Join(fix, "nwipe_log_20250314-091502.txt"))
	if string(a) != string(b) {
		t.Error("exported evidence differs from the file imported")
	}
	if log := mustItad(t, db, "log", "--action", "evidence.export"); !strings.Contains(log, "reason: audit") && !strings.Contains(log, "audit") {
		t.Errorf("export not recorded:\n%s", log)
	}
	mustItad(t, db, "verify")

	// The certificate cites the evidence.
	mustItad(t, db, "key", "init")
	certDir := t.TempDir()
	mustItad(t, db, "cert", "issue", "WD-WCC2E1234567", "-o", certDir)
	requireTool(t, "pdftotext")
	pdfs, _ := filepath.Glob(filepath.Join(certDir, "*.pdf"))
	if len(pdfs) != 1 {
		t.Fatalf("certificates %v", pdfs)
	}
	text, err := exec.Command("pdftotext", "-layout", pdfs[0], "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Evidence", "nwipe_log_20250314-091502.txt", "nwipe log (erasure report)", "ticket.txt", "Weighbridge ticket",
		"DoD 5220.22-M, verified (all passes)"} {
		if !strings.Contains(string(text), w) {
			t.Errorf("certificate lacks %q:\n%s", w, text)
		}
	}
	mustItad(t, db, "cert", "verify", pdfs[0])
}
