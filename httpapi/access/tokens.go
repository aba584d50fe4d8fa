// Package access holds who may call the ledger: the tokens file (the SHA-256
// of each bearer token with its user and role), the passwords of the web
// app's sign-in (bcrypt hashes on lines of the same file), roles and the
// principal a request acts as. What each role may call is httpapi's route
// table (docs/DESIGN.md, Access), and a refusal's code and status are
// httpapi's too: this package answers plain Go errors and booleans.
package access

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// The roles of docs/DESIGN.md's Access section.
const (
	RoleOfficer  = "officer"  // donors (and their amendments), pledges, contributions, budget lines, proposals, expenditures, interest, refunds, reversals in open terms, the cluster registry
	RoleApprover = "approver" // approves allocations, opens and closes terms, reverses in closed terms, the cluster registry
	RoleAuditor  = "auditor"  // reads everything, the event log, reports and verify
	RoleDonor    = "donor"    // donor:<id>: reads the fund balance
	RoleAdmin    = "admin"    // everything
)

// Limits of the tokens file and of a presented token.
const (
	// MaxUserLen bounds a user name, which becomes the actor of events.
	MaxUserLen = 64
	// MaxTokenLen bounds a presented bearer token; a longer one is refused
	// before it is hashed.
	MaxTokenLen = 512
	// MaxTokens bounds the lines of a tokens file: every lookup compares
	// against all of them.
	MaxTokens = 10_000
	// MaxTokensFileLine bounds one line of the tokens file.
	MaxTokensFileLine = 4096
	// TokenBytes is the randomness of a token made by NewToken.
	TokenBytes = 32
)

var (
	userPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)
	donorIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`) // domain's id rule
	hashPattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Role is a role of a token: one of the Role constants, and for RoleDonor
// the donor it reads for.
type Role struct {
	Name    string
	DonorID string
}

// String returns the role as the tokens file writes it: "officer", "donor:osaka".
func (r Role) String() string {
	if r.Name == RoleDonor {
		return RoleDonor + ":" + r.DonorID
	}
	return r.Name
}

// ParseRole parses "officer", "approver", "auditor", "admin" or
// "donor:<id>". It refuses anything else, a donor without an id and an id
// on any other role.
func ParseRole(s string) (Role, error) {
	name, id, hasID := strings.Cut(s, ":")
	switch name {
	case RoleOfficer, RoleApprover, RoleAuditor, RoleAdmin:
		if hasID {
			return Role{}, fmt.Errorf("role %q: only donor takes an id (donor:<id>)", s)
		}
		return Role{Name: name}, nil
	case RoleDonor:
		if !hasID || id == "" {
			return Role{}, fmt.Errorf("role %q: a donor role names its donor (donor:<id>)", s)
		}
		if len(id) > 64 || !donorIDPattern.MatchString(id) {
			return Role{}, fmt.Errorf("role %q: donor id must be 1 to 64 letters, digits, '.', '_', ':' or '-'", s)
		}
		return Role{Name: RoleDonor, DonorID: id}, nil
	}
	return Role{}, fmt.Errorf("role %q: want officer, approver, auditor, admin or donor:<id>", s)
}

// CheckUser reports whether u can name a user: 1 to MaxUserLen letters,
// digits, '.', '_', '@' or '-', starting with a letter or digit.
func CheckUser(u string) error {
	if len(u) == 0 || len(u) > MaxUserLen || !userPattern.MatchString(u) {
		return fmt.Errorf("user %q: want 1 to %d letters, digits, '.', '_', '@' or '-'", u, MaxUserLen)
	}
	return nil
}

// Principal is who a request acts as: the user (the actor of the events it
// causes) and the role of the token presented.
type Principal struct {
	User string
	Role Role
}

type tokenEntry struct {
	Principal
	hash [sha256.Size]byte
}

// Tokens is a set of token hashes with the user and role of each. The zero
// value is an empty set that accepts no token. A Tokens is not safe for
// concurrent Add; build it before serving.
type Tokens struct {
	entries   []tokenEntry
	passwords map[string]passwordEntry // by user; see passwords.go
}

// ParseTokens reads a tokens file: one `<user> <role>[:<donor_id>]
// <sha256 hex>` a line, `#` starting a comment, blank lines ignored. A line
// whose third field is a bcrypt hash ("$2a$…") is the user's password for
// the web app's sign-in instead (see SetPasswordLine). The
// first malformed line is an error that names its number; the same hash on
// two lines is an error too, since a token must name one user.
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), MaxTokensFileLine)
	n := 0
	for sc.Scan() {
		n++
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if err := t.add(f); err != nil {
			return nil, fmt.Errorf("tokens line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens line %d: %w", n+1, err)
	}
	return t, nil
}

// LoadTokens reads the tokens file at path (see ParseTokens).
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open tokens file: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// AddLine adds one tokens-file line (see ParseTokens).
func (t *Tokens) AddLine(line string) error {
	l, _, _ := strings.Cut(line, "#")
	return t.add(strings.Fields(l))
}

func (t *Tokens) add(f []string) error {
	if len(f) != 3 {
		return fmt.Errorf("want `<user> <role>[:<donor_id>] <sha256 of the token, hex>`, got %d fields", len(f))
	}
	if err := CheckUser(f[0]); err != nil {
		return err
	}
	role, err := ParseRole(f[1])
	if err != nil {
		return err
	}
	if isPasswordHash(f[2]) {
		return t.addPassword(f[0], role, f[2])
	}
	h := strings.ToLower(f[2])
	if !hashPattern.MatchString(h) {
		return fmt.Errorf("the third field must be the SHA-256 of the token (64 hex digits) or a bcrypt password hash")
	}
	var e tokenEntry
	hex.Decode(e.hash[:], []byte(h))
	for _, o := range t.entries {
		if o.hash == e.hash {
			return fmt.Errorf("the same token hash is already given to %s %s", o.User, o.Role)
		}
	}
	if len(t.entries) >= MaxTokens {
		return fmt.Errorf("more than %d tokens", MaxTokens)
	}
	e.User, e.Role = f[0], role
	t.entries = append(t.entries, e)
	return nil
}

// Len returns the number of tokens in the set.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Lookup returns the principal of a presented token. It hashes the token and
// compares the hash with every entry in constant time, without stopping at a
// match, so that the time taken tells nothing about which entry matched.
func (t *Tokens) Lookup(token string) (Principal, bool) {
	if t == nil || token == "" || len(token) > MaxTokenLen {
		return Principal{}, false
	}
	h := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(h[:], t.entries[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	return t.entries[found].Principal, true
}

// HashToken returns the SHA-256 of a token in lower-case hex, as the tokens
// file holds it.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// NewToken returns a new random token: TokenBytes from crypto/rand in
// unpadded base64url (43 characters).
func NewToken() (string, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenLine returns the tokens-file line of a user, role and token.
func TokenLine(user string, role Role, token string) string {
	return user + " " + role.String() + " " + HashToken(token)
}

// Users returns the users that have a token in the set.
func (t *Tokens) Users() map[string]bool {
	out := map[string]bool{}
	if t != nil {
		for _, e := range t.entries {
			out[e.User] = true
		}
	}
	return out
}

// RemovedUsers returns the users of old that have no token in new, in the
// order of old: a reload ends what they hold (their web sessions).
func RemovedUsers(old, new *Tokens) []string {
	now := new.Users()
	var out []string
	seen := map[string]bool{}
	if old != nil {
		for _, e := range old.entries {
			if !now[e.User] && !seen[e.User] {
				seen[e.User] = true
				out = append(out, e.User)
			}
		}
	}
	return out
}
