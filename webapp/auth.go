package webapp

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

// Limits of sessions and sign-in.
const (
	// SessionIdle is how long a session lasts without a request.
	SessionIdle = 8 * time.Hour
	// MaxSessions bounds the sessions held; a sign-in beyond it first drops
	// the idle ones, then is refused.
	MaxSessions = 10_000
	// SessionCookie is the cookie that holds the session id, and only it.
	SessionCookie = "mdfm_session"
	// FreeFailures is how many failed sign-ins a user name or an address
	// may have before each further try must wait.
	FreeFailures = 3
	// MaxSignInWait caps the wait, which doubles with each failure beyond
	// FreeFailures from one second.
	MaxSignInWait = 15 * time.Minute
	// MaxTrackedFailures bounds the failure counters held.
	MaxTrackedFailures = 100_000
)

// session is a signed-in user.
type session struct {
	id       string
	p        access.Principal
	pwHash   string // the stored hash it signed in with: a change ends it
	lastSeen time.Time
}

// failures counts a user name's or an address's failed sign-ins since its
// last success.
type failures struct {
	n    int
	last time.Time
}

// auth holds the sessions, the users' passwords and the sign-in throttle.
type auth struct {
	cfg Config

	mu       sync.Mutex
	sessions map[string]*session
	fails    map[string]*failures
	failed   uint64 // failed sign-ins since start
	tokens   *access.Tokens
	fileMod  time.Time
	fileSize int64
}

func newAuth(c Config) *auth {
	a := &auth{cfg: c, sessions: map[string]*session{}, fails: map[string]*failures{}, tokens: c.Tokens}
	if c.TokensFile != "" {
		if fi, err := os.Stat(c.TokensFile); err == nil {
			a.fileMod, a.fileSize = fi.ModTime(), fi.Size()
		}
	}
	return a
}

// credentials returns the users' passwords, reading the tokens file again
// when it changed since last read. A file that no longer parses is logged
// and the last good reading kept. Called with a.mu held.
func (a *auth) credentials() *access.Tokens {
	if a.cfg.TokensFile == "" {
		return a.tokens
	}
	fi, err := os.Stat(a.cfg.TokensFile)
	if err != nil {
		a.cfg.Logger.Error("tokens file", "err", err)
		return a.tokens
	}
	if fi.ModTime().Equal(a.fileMod) && fi.Size() == a.fileSize {
		return a.tokens
	}
	t, err := access.LoadTokens(a.cfg.TokensFile)
	for _, l := range a.cfg.ExtraLines {
		if err == nil {
			err = t.AddLine(l)
		}
	}
	if err != nil {
		a.cfg.Logger.Error("tokens file changed but does not parse; keeping the last reading", "err", err)
		return a.tokens
	}
	a.tokens, a.fileMod, a.fileSize = t, fi.ModTime(), fi.Size()
	a.cfg.Logger.Info("tokens file read again", "path", a.cfg.TokensFile)
	return a.tokens
}

// TokensReloaded takes the tokens the daemon read again (SIGHUP, or the
// file changed): the session of a user removed, or whose password or role
// changed, ends now rather than at its next request's own reading.
func (s *Server) TokensReloaded(t *access.Tokens) {
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens = t
	if fi, err := os.Stat(a.cfg.TokensFile); err == nil {
		a.fileMod, a.fileSize = fi.ModTime(), fi.Size()
	}
	for id, u := range a.sessions {
		if !t.PasswordStill(u.p.User, u.pwHash, u.p.Role) {
			delete(a.sessions, id)
		}
	}
}

// session returns the request's live session, or nil. A session idle for
// SessionIdle, or whose user was removed or changed password, is ended.
func (a *auth) session(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.sessions[c.Value]
	if !ok {
		return nil
	}
	now := a.cfg.Now()
	if now.Sub(u.lastSeen) > SessionIdle || !a.credentials().PasswordStill(u.p.User, u.pwHash, u.p.Role) {
		delete(a.sessions, u.id)
		return nil
	}
	u.lastSeen = now
	cp := *u
	return &cp
}

// wait returns how long a sign-in of user from addr must still wait, 0 when
// it may try now. Called with a.mu held.
func (a *auth) wait(keys []string, now time.Time) time.Duration {
	var longest time.Duration
	for _, k := range keys {
		f, ok := a.fails[k]
		if !ok || f.n < FreeFailures {
			continue
		}
		d := MaxSignInWait
		if shift := f.n - FreeFailures; shift < 20 {
			d = min(time.Second<<shift, MaxSignInWait)
		}
		if left := f.last.Add(d).Sub(now); left > longest {
			longest = left
		}
	}
	return longest
}

func (a *auth) fail(keys []string, now time.Time) uint64 {
	if len(a.fails) >= MaxTrackedFailures {
		// Forget the failures that no longer make anyone wait.
		for k, f := range a.fails {
			if now.Sub(f.last) > MaxSignInWait {
				delete(a.fails, k)
			}
		}
	}
	for _, k := range keys {
		f, ok := a.fails[k]
		if !ok {
			if len(a.fails) >= MaxTrackedFailures {
				continue
			}
			f = &failures{}
			a.fails[k] = f
		}
		f.n++
		f.last = now
	}
	a.failed++
	return a.failed
}

// errSignIn is the one message of a refused sign-in: it never says whether
// the user exists.
const errSignIn = "The user name or the password is not right."

// signIn checks a user name and password and starts a session.
func (a *auth) signIn(w http.ResponseWriter, r *http.Request, user, password string) (msg string, ok bool) {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	keys := []string{"user:" + user, "addr:" + addr}
	now := a.cfg.Now()
	a.mu.Lock()
	if d := a.wait(keys, now); d > 0 {
		a.mu.Unlock()
		return fmt.Sprintf("Too many failed sign-ins from here or for this user name: try again in %s.", d.Round(time.Second)), false
	}
	tokens := a.credentials()
	a.mu.Unlock()

	// The hash comparison is slow on purpose: run it without the lock.
	p, hash, match := tokens.CheckPassword(user, password)

	a.mu.Lock()
	defer a.mu.Unlock()
	if !match {
		n := a.fail(keys, now)
		a.cfg.Logger.Warn("sign-in failed", "user", user, "addr", addr, "failed_sign_ins", n)
		return errSignIn, false
	}
	for _, k := range keys {
		delete(a.fails, k)
	}
	if len(a.sessions) >= MaxSessions {
		for id, s := range a.sessions {
			if now.Sub(s.lastSeen) > SessionIdle {
				delete(a.sessions, id)
			}
		}
		if len(a.sessions) >= MaxSessions {
			return "The server holds too many sessions: try again later.", false
		}
	}
	id, err := newSessionID()
	if err != nil {
		a.cfg.Logger.Error("session id", "err", err)
		return "The server failed to start a session; its log says why.", false
	}
	a.sessions[id] = &session{id: id, p: p, pwHash: hash, lastSeen: now}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	a.cfg.Logger.Info("signed in", "user", user, "role", p.Role.String(), "addr", addr)
	return "", true
}

// signOut ends the session.
func (a *auth) signOut(w http.ResponseWriter, r *http.Request, id string) {
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// FailedSignIns returns the number of failed sign-ins since the server
// started.
func (s *Server) FailedSignIns() uint64 {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.failed
}

func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// home is GET /: the sign-in page, or the dashboard of a signed-in user.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if u := s.auth.session(r); u != nil {
		http.Redirect(w, r, "/app/dashboard", http.StatusSeeOther)
		return
	}
	s.render(w, r, nil, http.StatusOK, "signin", signInView{Next: safeNext(r.URL.Query().Get("next"))})
}

type signInView struct {
	User, Next, Error string
}

// signIn is POST /app/signin.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	user := strings.TrimSpace(r.PostForm.Get("user"))
	next := safeNext(r.PostForm.Get("next"))
	if msg, ok := s.auth.signIn(w, r, user, r.PostForm.Get("password")); !ok {
		s.render(w, r, nil, http.StatusUnauthorized, "signin", signInView{User: user, Next: next, Error: msg})
		return
	}
	if next == "" {
		next = "/app/dashboard"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in on this site's web app.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/app/") || strings.HasPrefix(next, "//") {
		return ""
	}
	return next
}

// signOut is POST /app/signout.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, u *session) error {
	s.auth.signOut(w, r, u.id)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// Name is the signed-in user's name (the actor of what it records).
func (s *session) Name() string { return s.p.User }

// Role is the user's role as the tokens file writes it.
func (s *session) Role() string { return s.p.Role.String() }
