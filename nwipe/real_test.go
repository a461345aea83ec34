package nwipe

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// skipOrFail skips the test with msg, or fails it when ITAD_REQUIRE_TOOLS=1
// (as CI sets it), as certificate's requireTool does.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("ITAD_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s (ITAD_REQUIRE_TOOLS=1)", msg)
	}
	t.Skip(msg)
}

// loopDevice makes an 8 MB loop device from a file under t.TempDir() and
// detaches it at cleanup.
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
		skipOrFail(t, "cannot make a loop device (needs root and /dev/loop-control): losetup: "+strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// TestParse_RealNwipe runs Debian's nwipe on loop devices and parses its
// log: one device with --method=zero --verify=last, then two at once with
// --method=dodshort --verify=all. Loop devices have no readable serial, so
// each is refused by path and line until SetSerial supplies one.
func TestParse_RealNwipe(t *testing.T) {
	if _, err := exec.LookPath("nwipe"); err != nil {
		skipOrFail(t, "nwipe not installed: apt-get install nwipe")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		skipOrFail(t, "losetup not installed: apt-get install mount")
	}
	for _, tc := range []struct {
		name, method, verify string
		devices              int
		label                string
		verifyWant           Verify
		passes               int
	}{
		{"Zero", "zero", "last", 1, "Fill With Zeros", VerifyLast, 1},
		{"DodShortTwoDevices", "dodshort", "all", 2, "DoD Short", VerifyAll, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var devs []string
			for range tc.devices {
				devs = append(devs, loopDevice(t))
			}
			logf := filepath.Join(t.TempDir(), "nwipe_log.txt")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"--autonuke", "--nogui", "--nowait", "--method=" + tc.method,
				"--verify=" + tc.verify, "--logfile=" + logf}, devs...)
			if out, err := exec.CommandContext(ctx, "nwipe", args...).CombinedOutput(); err != nil {
				t.Fatalf("nwipe %v: %v\n%s", args, err, out)
			}
			f, err := os.Open(logf)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ds, err := Parse("nwipe_log.txt", f, time.Local)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != len(devs) {
				t.Fatalf("parsed %d devices, want %d", len(ds), len(devs))
			}
			for i, d := range ds {
				if d.Path != devs[i] || d.Status != StatusErased || d.MethodName != tc.label || d.Method != ledger.Overwrite ||
					d.Verify != tc.verifyWant || d.Passes != tc.passes || d.SizeBytes != 8<<20 || !strings.HasPrefix(d.Tool, "nwipe ") {
					t.Errorf("device %d: %+v", i, d)
				}
				if d.Err != nil {
					var de *DeviceError
					if !errors.As(d.Err, &de) || !errors.Is(d.Err, ErrNoSerial) || de.Path != devs[i] || de.Line < 1 {
						t.Errorf("device %d: refusal %v, want ErrNoSerial naming %s and a line", i, d.Err, devs[i])
					}
				}
				if err := d.SetSerial("LOOP-" + filepath.Base(devs[i])); err != nil {
					t.Fatal(err)
				}
				if !d.Sanitised() || !d.Verified() {
					t.Errorf("device %d with a serial: sanitised %v verified %v", i, d.Sanitised(), d.Verified())
				}
			}
		})
	}
}
