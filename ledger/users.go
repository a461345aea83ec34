package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Accounts and sessions
//
// itad serve signs people in with named accounts, so that every event
// written through the web carries a person, not whatever --actor says.
// An account has a name, one role and a password hashed with argon2id.
// Account changes are events, defined here once with the row change each
// makes (applyUserEvent), which both the writer and verify's replay use:
//
//	user.add       {"name", "role"}            a users row, enabled
//	user.role      {"name", "role", "old"}     role changed
//	user.disable   {"name"}                    disabled = 1, sessions ended
//	user.enable    {"name"}                    disabled = 0, lock-out lifted
//	user.password  {"name"}                    password_hash replaced
//
// The subject of every user.* event is "user:" and the name. The hash is
// never in an event, an error or any output. Sign-ins are recorded too,
// as events that change no table: user.login (the signed-in user is the
// actor), user.login.fail (actor "anonymous", with the remote address)
// and user.lock, written with the fifth failure in a row, which refuses
// the account's sign-ins for LockDuration. user.logout ends a session.

// The roles an account can have.
const (
	RoleOperator = "operator" // devices, disposals, batches, the station, certificates
	RoleAuditor  = "auditor"  // reads everything: reports, exports, the log, verify
	RoleFOI      = "foi"      // FOI answers
	RoleAdmin    = "admin"    // accounts, settings, keys, exemptions
)

// Roles lists every role.
var Roles = []string{RoleOperator, RoleAuditor, RoleFOI, RoleAdmin}

// The user.* events.
const (
	UserAddAction      = "user.add"
	UserRoleAction     = "user.role"
	UserDisableAction  = "user.disable"
	UserEnableAction   = "user.enable"
	UserPasswordAction = "user.password"
	UserLoginAction    = "user.login"
	UserLoginFail      = "user.login.fail"
	UserLockAction     = "user.lock"
	UserLogoutAction   = "user.logout"
)

func init() { RegisterNoStateAction(UserLoginAction, UserLoginFail, UserLockAction, UserLogoutAction) }

// Sign-in limits.
const (
	// MaxFailedLogins failures in a row lock an account.
	MaxFailedLogins = 5
	// LockDuration is how long a lock-out lasts.
	LockDuration = 15 * time.Minute
	// SettingSessionIdle is the setting holding the idle timeout of a
	// web session in minutes (default DefaultSessionIdle).
	SettingSessionIdle = "session_idle_minutes"
	// DefaultSessionIdle is the idle timeout without the setting.
	DefaultSessionIdle = 30 * time.Minute
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 12
)

// Errors of accounts and sign-in.
var (
	// ErrBadLogin: unknown account, wrong password or a disabled account
	// (never said which).
	ErrBadLogin = errors.New("wrong name or password")
	// ErrLocked: too many failed sign-ins; try again later.
	ErrLocked = errors.New("account locked after too many failed sign-ins")
	// ErrNoSession: no such session, or it has timed out.
	ErrNoSession = errors.New("not signed in, or the session has expired")
)

// User is an account, without its password hash.
type User struct {
	ID       int64  `json:"-"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Disabled bool   `json:"disabled"`
}

// userEvent is the payload of every user.* state event.
type userEvent struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
	Old  string `json:"old,omitempty"`
}

// userState is what verify compares of a users row.
type userState struct {
	Name, Role string
	Disabled   bool
}

// applyUserEvent is the one definition of what each user.* event does to
// its users row: cur is the row before (nil: none), the result the row
// after. The writer applies it; verify replays it.
func applyUserEvent(cur *userState, action string, p userEvent) (userState, error) {
	if action == UserAddAction {
		if cur != nil {
			return userState{}, fmt.Errorf("user %s: %w: already exists", p.Name, ErrConflict)
		}
		if err := CheckRole(p.Role); err != nil {
			return userState{}, err
		}
		return userState{Name: p.Name, Role: p.Role}, nil
	}
	if cur == nil {
		return userState{}, notFound("user", p.Name)
	}
	next := *cur
	switch action {
	case UserRoleAction:
		if err := CheckRole(p.Role); err != nil {
			return userState{}, err
		}
		next.Role = p.Role
	case UserDisableAction:
		next.Disabled = true
	case UserEnableAction:
		next.Disabled = false
	case UserPasswordAction:
	default:
		return userState{}, fmt.Errorf("%w: %q is not an account event", ErrInvalid, action)
	}
	return next, nil
}

// userStateActions are the user.* events that change the users table.
var userStateActions = []string{UserAddAction, UserRoleAction, UserDisableAction, UserEnableAction, UserPasswordAction}

// CheckRole returns ErrInvalid for a role that is not one of Roles.
func CheckRole(r string) error {
	for _, x := range Roles {
		if r == x {
			return nil
		}
	}
	return fmt.Errorf("%w: role %q: want one of %s", ErrInvalid, r, strings.Join(Roles, ", "))
}

// CheckUserName returns ErrInvalid for a name that cannot be an account:
// empty, over 64 bytes, or with spaces or control characters.
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n:") {
		return fmt.Errorf("%w: account name %q: give 1 to 64 characters, no spaces or colons", ErrInvalid, name)
	}
	return checkText("account name", name, 64)
}

// CheckPassword returns ErrInvalid for a password that is too short or
// too long (at most 1024 bytes).
func CheckPassword(pw []byte) error {
	if n := len([]rune(string(pw))); n < MinPasswordLen {
		return fmt.Errorf("%w: the password has %d characters: give at least %d", ErrInvalid, n, MinPasswordLen)
	}
	if len(pw) > 1024 {
		return fmt.Errorf("%w: the password is over 1024 bytes", ErrInvalid)
	}
	return nil
}

func userSubject(name string) string { return "user:" + name }

// Argon2id parameters: OWASP's password storage minimum (19 MiB, two
// passes, one lane), about 25 ms a sign-in on one core.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of pw as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 raw std>$<hash, base64 raw std>
//
// with a random 16-byte salt.
func HashPassword(pw []byte) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return encodeArgon(salt, argon2.IDKey(pw, salt, argonTime, argonMemory, argonThreads, argonKeyLen), argonTime, argonMemory, argonThreads), nil
}

func encodeArgon(salt, key []byte, t, m uint32, p uint8) string {
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p, b.EncodeToString(salt), b.EncodeToString(key))
}

// CheckPasswordHash reports whether pw matches a HashPassword string,
// in constant time; a malformed hash never matches.
func CheckPasswordHash(hash string, pw []byte) bool {
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[4])
	key, err2 := base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey(pw, salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked for unknown accounts, so that a sign-in takes as
// long whether or not the name exists.
var dummyHash = encodeArgon(make([]byte, 16), make([]byte, argonKeyLen), argonTime, argonMemory, argonThreads)

// As returns a copy of s that records actor on every event it writes,
// sharing s's database: the web server's per-request store.
func (s *Store) As(actor string) *Store {
	c := *s
	c.Actor = actor
	return &c
}

const userSelect = `SELECT id, name, role, disabled FROM users`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	err := sc.Scan(&u.ID, &u.Name, &u.Role, &u.Disabled)
	return u, err
}

func userByName(q querier, name string) (User, error) {
	u, err := scanUser(q.QueryRow(userSelect+` WHERE name_key = ?`, NameKey(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", name)
	}
	return u, err
}

// Users returns every account, by name.
func (s *Store) Users() ([]User, error) {
	rows, err := s.db.Query(userSelect + ` ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// User returns the account name, or ErrNotFound.
func (s *Store) User(name string) (User, error) { return userByName(s.db, name) }

// AddUser creates an account with a role and a password, recording a
// user.add event (name and role, never the hash) by s.Actor. It returns
// ErrInvalid for a bad name, role or password and ErrConflict for a name
// already used.
func (s *Store) AddUser(name, role string, password []byte) (User, error) {
	if err := CheckUserName(name); err != nil {
		return User{}, err
	}
	if err := CheckRole(role); err != nil {
		return User{}, err
	}
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write("", func(t *txn) error {
		if _, err := userByName(t.tx, name); err == nil {
			return fmt.Errorf("user %s: %w: the name is taken", name, ErrConflict)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		p := userEvent{Name: name, Role: role}
		st, err := applyUserEvent(nil, UserAddAction, p)
		if err != nil {
			return err
		}
		seq, err := t.appendEvent(UserAddAction, userSubject(name), p)
		if err != nil {
			return err
		}
		res, err := t.exec(`INSERT INTO users(name, name_key, role, disabled, password_hash, seq) VALUES (?,?,?,0,?,?)`, name, NameKey(name), st.Role, hash, seq)
		if isConstraint(err) {
			return fmt.Errorf("user %s: %w: the name is taken", name, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		id, _ := res.LastInsertId()
		u = User{ID: id, Name: name, Role: st.Role}
		return nil
	})
	return u, err
}

// changeUser applies one user.* event to an existing account.
func (s *Store) changeUser(action, name, role string, hash string) (User, error) {
	var u User
	err := s.write("", func(t *txn) error {
		cur, err := userByName(t.tx, name)
		if err != nil {
			return err
		}
		p := userEvent{Name: cur.Name, Role: role}
		if action == UserRoleAction {
			p.Old = cur.Role
		}
		st, err := applyUserEvent(&userState{Name: cur.Name, Role: cur.Role, Disabled: cur.Disabled}, action, p)
		if err != nil {
			return err
		}
		seq, err := t.appendEvent(action, userSubject(cur.Name), p)
		if err != nil {
			return err
		}
		if hash == "" {
			_, err = t.exec(`UPDATE users SET role = ?, disabled = ?, seq = ? WHERE id = ?`, st.Role, st.Disabled, seq, cur.ID)
		} else {
			_, err = t.exec(`UPDATE users SET password_hash = ?, seq = ? WHERE id = ?`, hash, seq, cur.ID)
		}
		if err != nil {
			return fmt.Errorf("change user %s: %w", name, err)
		}
		// A disabled account, a new role or a new password ends every
		// session of the account: it signs in again.
		if _, err := t.exec(`DELETE FROM sessions WHERE user_id = ?`, cur.ID); err != nil {
			return err
		}
		u = User{ID: cur.ID, Name: cur.Name, Role: st.Role, Disabled: st.Disabled}
		return nil
	})
	return u, err
}

// SetUserRole changes an account's role (user.role). ErrNotFound, ErrInvalid.
func (s *Store) SetUserRole(name, role string) (User, error) {
	if err := CheckRole(role); err != nil {
		return User{}, err
	}
	return s.changeUser(UserRoleAction, name, role, "")
}

// DisableUser disables an account and ends its sessions (user.disable).
func (s *Store) DisableUser(name string) (User, error) {
	return s.changeUser(UserDisableAction, name, "", "")
}

// EnableUser enables an account again, lifting a lock-out (user.enable).
func (s *Store) EnableUser(name string) (User, error) {
	return s.changeUser(UserEnableAction, name, "", "")
}

// ResetPassword sets a new password (user.password, without the hash),
// ends the account's sessions and lifts a lock-out.
func (s *Store) ResetPassword(name string, password []byte) (User, error) {
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(UserPasswordAction, name, "", hash)
}

// Session is a signed-in web session.
type Session struct {
	ID   string // the secret, for the cookie: only returned by Login
	User User
	CSRF string // the token every state-changing request must carry
}

// lockedUntil reads the account's sign-in events, newest first, and
// returns when its lock-out ends (zero: not locked) and how many failures
// in a row it has had since its last sign-in, lock-out, enable or new
// password.
func (t *txn) lockedUntil(name string) (time.Time, int, error) {
	rows, err := t.tx.Query(`SELECT action, at FROM events WHERE subject = ? AND action IN (?,?,?,?,?) ORDER BY seq DESC LIMIT ?`,
		userSubject(name), UserLoginAction, UserLoginFail, UserLockAction, UserEnableAction, UserPasswordAction, MaxFailedLogins+1)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read sign-ins of %s: %w", name, err)
	}
	defer rows.Close()
	fails := 0
	for rows.Next() {
		var action, at string
		if err := rows.Scan(&action, &at); err != nil {
			return time.Time{}, 0, err
		}
		if action == UserLoginFail {
			fails++
			continue
		}
		if action == UserLockAction {
			when, err := time.Parse(TimeFormat, at)
			if err != nil {
				return time.Time{}, 0, fmt.Errorf("user.lock event of %s: %w", name, err)
			}
			if until := when.Add(LockDuration); t.now.Before(until) {
				return until, fails, nil
			}
			return time.Time{}, 0, nil
		}
		break
	}
	return time.Time{}, fails, rows.Err()
}

// Login checks a name and password and, when they match an enabled
// account that is not locked out, records user.login by that account and
// opens a session with a fresh random ID (the session is rotated: a new
// ID at every sign-in). A failure records user.login.fail by "anonymous"
// with remote, and the fifth in a row user.lock; it returns ErrBadLogin
// (never saying whether the name exists) or ErrLocked.
func (s *Store) Login(name, password, remote string) (Session, error) {
	if len(name) > 64 || len(password) > 1024 {
		return Session{}, ErrBadLogin
	}
	var hash string
	var u User
	err := s.db.QueryRow(`SELECT id, name, role, disabled, password_hash FROM users WHERE name_key = ?`, NameKey(name)).Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &hash)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	if !known {
		hash = dummyHash
		u.Name = name
	}
	ok := CheckPasswordHash(hash, []byte(password)) && known && !u.Disabled
	var sess Session
	var result error
	anon := s.As("anonymous")
	if !ok && !known {
		// Unknown names are recorded under a name that is safe to store.
		if CheckUserName(name) != nil {
			u.Name = "(invalid name)"
		}
	}
	err = anon.write("", func(t *txn) error {
		until, fails, err := t.lockedUntil(u.Name)
		if err != nil {
			return err
		}
		if !until.IsZero() {
			result = fmt.Errorf("%w until %s UTC", ErrLocked, until.Format("15:04"))
			_, err := t.appendEvent(UserLoginFail, userSubject(u.Name), map[string]any{"remote": remote, "locked": true})
			return err
		}
		if !ok {
			result = ErrBadLogin
			if _, err := t.appendEvent(UserLoginFail, userSubject(u.Name), map[string]any{"remote": remote}); err != nil {
				return err
			}
			if fails+1 >= MaxFailedLogins {
				result = ErrLocked
				_, err := t.appendEvent(UserLockAction, userSubject(u.Name), map[string]any{"failures": fails + 1, "until": t.now.Add(LockDuration).Format(TimeFormat)})
				return err
			}
			return nil
		}
		if err := checkUserEvents(t.tx, u); err != nil {
			return err
		}
		t.actor = u.Name
		if _, err := t.appendEvent(UserLoginAction, userSubject(u.Name), map[string]any{"remote": remote}); err != nil {
			return err
		}
		sess, err = t.newSession(u)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return sess, result
}

// checkUserEvents compares an account's row with its events (who made
// the role it signs in with), failing with a *StateError (ErrTampered).
func checkUserEvents(q querier, u User) error {
	rows, err := q.Query(`SELECT action, payload FROM events WHERE subject = ? AND action IN (?,?,?,?,?) ORDER BY seq`,
		userSubject(u.Name), UserAddAction, UserRoleAction, UserDisableAction, UserEnableAction, UserPasswordAction)
	if err != nil {
		return fmt.Errorf("read events of user %s: %w", u.Name, err)
	}
	defer rows.Close()
	var cur *userState
	for rows.Next() {
		var action string
		var payload []byte
		if err := rows.Scan(&action, &payload); err != nil {
			return err
		}
		var p userEvent
		if err := json.Unmarshal(payload, &p); err != nil {
			return err
		}
		next, err := applyUserEvent(cur, action, p)
		if err != nil {
			return &StateError{What: "user " + u.Name, Row: "an account", Events: "events that do not replay (" + err.Error() + ")"}
		}
		cur = &next
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur == nil {
		return &StateError{What: "user " + u.Name, Row: "an account with role " + u.Role, Events: "no such account"}
	}
	if cur.Role != u.Role || cur.Disabled != u.Disabled {
		return &StateError{What: "user " + u.Name, Row: fmt.Sprintf("role %s, disabled %v", u.Role, u.Disabled),
			Events: fmt.Sprintf("role %s, disabled %v", cur.Role, cur.Disabled)}
	}
	return nil
}

// NewToken returns a random 256-bit token, base64url without padding.
func NewToken() (string, error) {
	b := make([]byte, 32) // 256 bits
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionKey(id string) []byte {
	h := sha256.Sum256([]byte("itad-session-v1\n" + id))
	return h[:]
}

// newSession stores a new session for u (the SHA-256 of its ID only).
func (t *txn) newSession(u User) (Session, error) {
	id, err := NewToken()
	if err != nil {
		return Session{}, err
	}
	csrf, err := NewToken()
	if err != nil {
		return Session{}, err
	}
	now := t.now.Format(TimeFormat)
	if _, err := t.exec(`INSERT INTO sessions(id_hash, user_id, csrf, created_at, last_seen) VALUES (?,?,?,?,?)`, sessionKey(id), u.ID, csrf, now, now); err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	return Session{ID: id, User: u, CSRF: csrf}, nil
}

// SessionIdle returns the idle timeout: the session_idle_minutes
// setting, or DefaultSessionIdle.
func (s *Store) SessionIdle() (time.Duration, error) {
	v, err := s.Setting(SettingSessionIdle)
	if err != nil || v == "" {
		return DefaultSessionIdle, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 24*60 {
		return 0, fmt.Errorf("%w: setting %s is %q: give minutes from 1 to 1440", ErrInvalid, SettingSessionIdle, v)
	}
	return time.Duration(n) * time.Minute, nil
}

// SessionByID returns the session whose ID is id, with its account as it
// is now, and marks it used. It returns ErrNoSession for an unknown ID,
// a disabled account or a session idle for longer than idle (which it
// deletes). It writes no event.
func (s *Store) SessionByID(id string, idle time.Duration) (Session, error) {
	if id == "" || len(id) > 100 {
		return Session{}, ErrNoSession
	}
	key := sessionKey(id)
	var sess Session
	var last string
	err := s.db.QueryRow(`SELECT u.id, u.name, u.role, u.disabled, s.csrf, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, key).
		Scan(&sess.User.ID, &sess.User.Name, &sess.User.Role, &sess.User.Disabled, &sess.CSRF, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	now := s.Now().UTC()
	seen, err := time.Parse(TimeFormat, last)
	if err != nil || now.Sub(seen) > idle || sess.User.Disabled {
		s.db.Exec(`DELETE FROM sessions WHERE id_hash = ?`, key)
		return Session{}, ErrNoSession
	}
	// Refresh at most every 15 seconds: most requests then only read.
	if now.Sub(seen) > 15*time.Second {
		if _, err := s.db.Exec(`UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, now.Format(TimeFormat), key); err != nil {
			return Session{}, fmt.Errorf("refresh session: %w", err)
		}
	}
	sess.ID = id
	return sess, nil
}

// Logout ends the session id, recording user.logout by its account.
func (s *Store) Logout(id string) error {
	key := sessionKey(id)
	var name string
	err := s.db.QueryRow(`SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, key).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return s.As(name).write("", func(t *txn) error {
		if _, err := t.exec(`DELETE FROM sessions WHERE id_hash = ?`, key); err != nil {
			return err
		}
		_, err := t.appendEvent(UserLogoutAction, userSubject(name), nil)
		return err
	})
}

// readUsers reads the users table for verify (nothing when a ledger from
// before migration 8 is inspected unmigrated). The compared value is the
// role, and ",disabled" for a disabled account.
func (v *verifier) readUsers() error {
	v.users, v.userStates = map[string]settingRow{}, map[string]*userState{}
	var n int64
	if ok, err := v.pointRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'`, nil, func(st *rawStmt) { n = st.int64(0) }); err != nil || !ok || n == 0 {
		v.userRows = map[string]settingRow{}
		return err
	}
	var err error
	v.userRows, err = v.readKeyed("users", `SELECT name, role || CASE disabled WHEN 0 THEN '' ELSE ',disabled' END, seq, typeof(role), typeof(seq) FROM users`)
	return err
}

// userChanged replays a user.* state event with applyUserEvent.
func (v *verifier) userChanged(e *evRec) {
	var p userEvent
	if !v.decode(e, &p) {
		return
	}
	if e.subject != userSubject(p.Name) {
		v.chainProblem(e.seq, "subject %q is not the account %q it changes", e.subject, p.Name)
		return
	}
	k := NameKey(p.Name)
	next, err := applyUserEvent(v.userStates[k], e.action, p)
	if err != nil {
		v.chainProblem(e.seq, "%s does not replay: %v", e.action, err)
		return
	}
	v.userStates[k] = &next
	val := next.Role
	if next.Disabled {
		val += ",disabled"
	}
	v.users[next.Name] = settingRow{value: val, seq: e.seq}
}
