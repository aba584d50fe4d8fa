package access

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Limits of passwords.
const (
	// MinPasswordLen is the shortest password SetPasswordLine accepts.
	MinPasswordLen = 12
	// MaxPasswordLen is bcrypt's limit: it reads no more than 72 bytes, so
	// a longer password would be cut silently.
	MaxPasswordLen = 72
	// PasswordCost is the bcrypt cost of new hashes (bcrypt's default, 2^10
	// rounds, tens of milliseconds): slow for a guesser, with sign-ins also
	// slowed after failures (the web app's throttle).
	PasswordCost = bcrypt.DefaultCost
)

// passwordEntry is a user's password: the role it signs in as and its
// bcrypt hash, as the tokens file holds it.
type passwordEntry struct {
	role Role
	hash string
}

// isPasswordHash reports whether a tokens-file field is a bcrypt hash rather
// than a token's SHA-256: bcrypt hashes start "$2a$", "$2b$" or "$2y$".
func isPasswordHash(f string) bool {
	return strings.HasPrefix(f, "$2a$") || strings.HasPrefix(f, "$2b$") || strings.HasPrefix(f, "$2y$")
}

func (t *Tokens) addPassword(user string, role Role, hash string) error {
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return fmt.Errorf("the password hash of %s is not a bcrypt hash: %v", user, err)
	}
	if _, ok := t.passwords[user]; ok {
		return fmt.Errorf("%s has a password on an earlier line: one password a user", user)
	}
	if t.passwords == nil {
		t.passwords = map[string]passwordEntry{}
	}
	t.passwords[user] = passwordEntry{role: role, hash: hash}
	return nil
}

// dummyHash is compared against when the user has no password, so that a
// sign-in takes as long whether the user exists or not.
// It is made at first use, not when the package loads.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no user has this password"), PasswordCost)
	if err != nil {
		panic(err)
	}
	return h
})

// CheckPassword returns the principal of a user whose password is password,
// and the stored hash (a session keeps it, to end when the password
// changes). It takes the same time whether the user exists or not.
func (t *Tokens) CheckPassword(user, password string) (Principal, string, bool) {
	var e passwordEntry
	ok := false
	if t != nil && len(password) <= MaxPasswordLen {
		e, ok = t.passwords[user]
	}
	hash := dummyHash()
	if ok {
		hash = []byte(e.hash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !ok || !match {
		return Principal{}, "", false
	}
	return Principal{User: user, Role: e.role}, e.hash, true
}

// PasswordStill reports whether user still has the password whose stored
// hash is hash, with the same role: a session ends when it does not (the
// user was removed or its password changed).
func (t *Tokens) PasswordStill(user, hash string, role Role) bool {
	if t == nil {
		return false
	}
	e, ok := t.passwords[user]
	return ok && e.role == role && subtle.ConstantTimeCompare([]byte(e.hash), []byte(hash)) == 1
}

// HasPassword reports whether user has a password.
func (t *Tokens) HasPassword(user string) bool {
	if t == nil {
		return false
	}
	_, ok := t.passwords[user]
	return ok
}

// RoleOf returns the role of a user's tokens when they all have the same
// one: the role a new password signs in as.
func (t *Tokens) RoleOf(user string) (Role, error) {
	var role Role
	found := false
	for _, e := range t.entries {
		if e.User != user {
			continue
		}
		if found && e.Role != role {
			return Role{}, fmt.Errorf("%s has tokens of roles %s and %s: say which with --role", user, role, e.Role)
		}
		role, found = e.Role, true
	}
	if p, ok := t.passwords[user]; ok {
		if found && p.role != role {
			return Role{}, fmt.Errorf("%s has a token of role %s and a password of role %s: say which with --role", user, role, p.role)
		}
		role, found = p.role, true
	}
	if !found {
		return Role{}, fmt.Errorf("%s has no token nor password in the file: make a token first (ledgerd token), or say the role with --role", user)
	}
	return role, nil
}

// ErrPasswordLength is a password shorter than MinPasswordLen or longer than
// MaxPasswordLen bytes.
var ErrPasswordLength = fmt.Errorf("a password must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)

// PasswordLine returns the tokens-file line that gives user, in role, the
// password: `<user> <role> <bcrypt hash>`.
func PasswordLine(user string, role Role, password string) (string, error) {
	if err := CheckUser(user); err != nil {
		return "", err
	}
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrPasswordLength
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return user + " " + role.String() + " " + string(h), nil
}

// SetPasswordLine returns the tokens file text with user's password line
// replaced by line, or line appended when the user has none. The other
// lines, comments included, are kept as they are.
func SetPasswordLine(text, user, line string) (string, error) {
	if line == "" {
		return "", errors.New("no password line")
	}
	var out []string
	replaced := false
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	for _, l := range lines {
		body, _, _ := strings.Cut(l, "#")
		f := strings.Fields(body)
		if len(f) == 3 && f[0] == user && isPasswordHash(f[2]) {
			if !replaced {
				out = append(out, line)
				replaced = true
			}
			continue
		}
		out = append(out, l)
	}
	if !replaced {
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n", nil
}
