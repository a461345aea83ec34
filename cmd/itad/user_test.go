package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long enough password\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short\n"), 0o600)
	mustItad(t, db, "init", "--org", "Test")
	var all strings.Builder
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		out     string
		errText string
	}{
		{"Add", []string{"user", "add", "alice", "--role", "operator", "--password-file", pw}, 0, "account alice created with role operator", ""},
		{"AddDuplicate", []string{"user", "add", "ALICE", "--role", "admin", "--password-file", pw}, 1, "", "itad: hint: choose another name"},
		{"AddBadRole", []string{"user", "add", "bob", "--role", "root", "--password-file", pw}, 2, "", "role \"root\""},
		{"AddShortPassword", []string{"user", "add", "bob", "--role", "admin", "--password-file", short}, 1, "", "at least 12"},
		{"SetRole", []string{"user", "set-role", "alice", "auditor"}, 0, "account alice now has role auditor", ""},
		{"Disable", []string{"user", "disable", "alice"}, 0, "account alice disabled", ""},
		{"List", []string{"user", "list"}, 0, "alice  auditor  disabled", ""},
		{"Enable", []string{"user", "enable", "alice"}, 0, "account alice enabled", ""},
		{"Reset", []string{"user", "reset-password", "alice", "--password-file", pw}, 0, "account alice has a new password", ""},
		{"ResetUnknown", []string{"user", "reset-password", "nobody", "--password-file", pw}, 1, "", "user \"nobody\" not found"},
		{"ListJSON", []string{"--json", "user", "list"}, 0, `"role": "auditor"`, ""},
		{"Log", []string{"log"}, 0, "user.add", ""},
		{"Verify", []string{"verify"}, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tc.args...)
			all.WriteString(out + errOut)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errText) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	if strings.Contains(all.String(), "argon2") || strings.Contains(all.String(), "$v=19$") {
		t.Fatal("a password hash was printed")
	}
	log, _, _ := itad(t, db, "log", "--format", "json")
	if !strings.Contains(log, "user.role") || strings.Contains(log, "argon2") {
		t.Fatalf("log: %s", log)
	}
}
