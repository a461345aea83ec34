package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// clockStore is a store whose clock the test moves.
func clockStore(t *testing.T) (*Store, *time.Time) {
	s := mustOpen(t)
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	return s, &now
}

func TestUsers_AddAndChange(t *testing.T) {
	s, _ := clockStore(t)
	pw := []byte("correct horse battery")
	if _, err := s.AddUser("alice", RoleOperator, pw); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user, role string
		pw               string
		want             error
	}{
		{"ErrConflict", "Alice", RoleAuditor, "another long password", ErrConflict},
		{"ErrInvalidRole", "bob", "root", "another long password", ErrInvalid},
		{"ErrShortPassword", "bob", RoleAuditor, "short", ErrInvalid},
		{"ErrInvalidName", "bob smith", RoleAuditor, "another long password", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AddUser(tc.user, tc.role, []byte(tc.pw)); !errors.Is(err, tc.want) {
				t.Fatalf("AddUser: %v, want %v", err, tc.want)
			}
		})
	}
	if u, err := s.SetUserRole("alice", RoleAuditor); err != nil || u.Role != RoleAuditor {
		t.Fatalf("SetUserRole: %+v %v", u, err)
	}
	if _, err := s.DisableUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login("alice", string(pw), "test"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("disabled account signed in: %v", err)
	}
	if _, err := s.EnableUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetPassword("alice", []byte("a brand new password")); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Login("alice", "a brand new password", "test")
	if err != nil {
		t.Fatal(err)
	}
	if sess.User.Role != RoleAuditor || len(sess.ID) < 43 || sess.CSRF == "" {
		t.Fatalf("session %+v", sess)
	}
	// The hash is in no event.
	var hash string
	s.DB().QueryRow(`SELECT password_hash FROM users WHERE name = 'alice'`).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", hash)
	}
	evs, err := s.Events(EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(string(e.Payload), "argon2") || strings.Contains(string(e.Payload), hash[30:]) {
			t.Fatalf("event %d holds the hash: %s", e.Seq, e.Payload)
		}
	}
	res, err := s.Verify(VerifyOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if res.Rows["users"] != 1 {
		t.Fatalf("verify counted %d users", res.Rows["users"])
	}
}

func TestUsers_VerifyCatchesRoleTampering(t *testing.T) {
	s, _ := clockStore(t)
	if _, err := s.AddUser("mallory", RoleOperator, []byte("correct horse battery")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE users SET role = 'admin'`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Verify(VerifyOptions{})
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "users") {
		t.Fatalf("verify: %v", err)
	}
	// Signing in with the forged role is refused too.
	if _, err := s.Login("mallory", "correct horse battery", "test"); !errors.Is(err, ErrTampered) {
		t.Fatalf("login with a forged role: %v", err)
	}
}

func TestLogin_LockOut(t *testing.T) {
	s, now := clockStore(t)
	pw := "correct horse battery"
	if _, err := s.AddUser("op", RoleOperator, []byte(pw)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= MaxFailedLogins; i++ {
		_, err := s.Login("op", "wrong password!", "192.0.2.1")
		want := ErrBadLogin
		if i == MaxFailedLogins {
			want = ErrLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("attempt %d: %v, want %v", i, err, want)
		}
	}
	if _, err := s.Login("op", pw, "192.0.2.1"); !errors.Is(err, ErrLocked) {
		t.Fatalf("right password while locked: %v", err)
	}
	*now = now.Add(LockDuration + time.Second)
	if _, err := s.Login("op", pw, "192.0.2.1"); err != nil {
		t.Fatalf("after the lock-out: %v", err)
	}
	fails, _ := s.Events(EventFilter{Action: UserLoginFail})
	locks, _ := s.Events(EventFilter{Action: UserLockAction})
	if len(fails) != MaxFailedLogins+1 || len(locks) != 1 || fails[0].Actor != "anonymous" {
		t.Fatalf("%d failures and %d locks recorded", len(fails), len(locks))
	}
	// An unknown name is refused the same way and recorded.
	if _, err := s.Login("nobody", pw, "192.0.2.1"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestSession_IdleAndLogout(t *testing.T) {
	s, now := clockStore(t)
	if _, err := s.AddUser("op", RoleOperator, []byte("correct horse battery")); err != nil {
		t.Fatal(err)
	}
	a, err := s.Login("op", "correct horse battery", "test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Login("op", "correct horse battery", "test")
	if err != nil || a.ID == b.ID {
		t.Fatalf("second sign-in did not get a new ID: %v", err)
	}
	*now = now.Add(29 * time.Minute)
	if _, err := s.SessionByID(a.ID, DefaultSessionIdle); err != nil {
		t.Fatalf("29 minutes idle: %v", err)
	}
	*now = now.Add(31 * time.Minute)
	if _, err := s.SessionByID(b.ID, DefaultSessionIdle); !errors.Is(err, ErrNoSession) {
		t.Fatalf("60 minutes idle: %v", err)
	}
	if err := s.Logout(a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByID(a.ID, DefaultSessionIdle); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	if _, err := s.SessionByID("forged", DefaultSessionIdle); !errors.Is(err, ErrNoSession) {
		t.Fatalf("forged id: %v", err)
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
