package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_BoundedReads feeds every file itad reads whole an endless
// (/dev/zero) or oversized input: each fails, naming the file and the
// limit, without reading it to the end.
func TestCLI_BoundedReads(t *testing.T) {
	db, _ := signingLedger(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pdf")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 256<<20+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.csv")
	os.WriteFile(small, []byte("x\n"), 0o644)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	dbDir := filepath.Dir(db)
	cert := filepath.Join(dbDir, "itad-signing-cert.pem")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cert verify /dev/zero", []string{"cert", "verify", "/dev/zero"}, "/dev/zero: not a PDF certificate (too large: over 256 MiB)"},
		{"cert verify oversized", []string{"cert", "verify", big}, big + ": not a PDF certificate (too large: over 256 MiB)"},
		{"verify-file signature", []string{"verify-file", small, "--sig", "/dev/zero"}, "/dev/zero: not a detached signature (too large: over 1 MiB)"},
		{"verify checkpoint", []string{"verify", "--trusted", cert, "--checkpoint", "/dev/zero"}, "/dev/zero: not a checkpoint (too large: over 1 MiB)"},
		{"verify trusted cert", []string{"verify", "--trusted", "/dev/zero"}, "/dev/zero: not a PEM certificate file (too large: over 1 MiB)"},
		{"key rotate p12", []string{"key", "rotate", "--reason", "x", "--p12", "/dev/zero", "--password-file", pw}, "/dev/zero: not a PKCS #12 file (too large: over 1 MiB)"},
		{"key rotate password", []string{"key", "rotate", "--reason", "x", "--p12", small, "--password-file", "/dev/zero"}, "/dev/zero: not a password file (too large: over 64 KiB)"},
		{"key rotate key", []string{"key", "rotate", "--reason", "x", "--cert", cert, "--key", "/dev/zero"}, "/dev/zero: not a PEM private key (too large: over 1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := itad(t, db, tc.args...)
			if code != exitFailure || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, errOut, tc.want)
			}
		})
	}
}
