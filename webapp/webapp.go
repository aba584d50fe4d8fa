// Package webapp is the ledger's web app for people: finance officers,
// approvers, donors and auditors sign in with a user name and password and
// work in server-rendered pages (html/template, embedded, no script) served
// by ledgerd on the same port as the JSON API.
//
// The web app holds no rule, role check or report of its own: every read
// and every write goes through the JSON API in process (httpapi.ServeAs with
// the session's principal), so that it meets the same route table, the same
// domain commands through the writer and the same projections reports. It
// adds what a browser needs: sessions, sign-in, forms with an idempotency
// key each, cross-origin protection and pages.
package webapp

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is sent with every page: nothing from another host,
// no inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// MaxFormBytes bounds a posted form.
const MaxFormBytes = 64 << 10

// Config is what a Server is built from.
type Config struct {
	// API is the JSON API the web app sends every read and write to.
	API *httpapi.Server
	// Store is read for the lists a page offers (donors, terms, pending
	// allocations) and the attribution of money to donors.
	Store *projections.Store
	// Fund is the fund the daemon writes; Today its writer's date.
	Fund  string
	Today func() string
	// Tokens holds the users' password hashes; TokensFile, when set, is
	// read again whenever it changes, so that a removed user or a changed
	// password ends the user's sessions at once. ExtraLines are added to
	// every reading of it (the demo's users).
	Tokens     *access.Tokens
	TokensFile string
	ExtraLines []string
	// Now is the clock of sessions and sign-in throttling; time.Now by
	// default.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server is the web app. It is an http.Handler for "/", "/app/…" and
// "/static/…"; Handles tells which paths are its.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	tmpl   map[string]*template.Template
	auth   *auth
	static http.Handler
}

// New checks the configuration and returns the web app.
func New(c Config) (*Server, error) {
	if c.API == nil || c.Store == nil || c.Today == nil || c.Fund == "" {
		return nil, errors.New("webapp: an API, a store, a fund and its date are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, mux: http.NewServeMux(), tmpl: tmpl, static: http.StripPrefix("/static/", http.FileServerFS(sub))}
	s.auth = newAuth(c)
	s.routes()
	return s, nil
}

// Handles reports whether path is the web app's: "/", "/app/…" and
// "/static/…". Every other path is the JSON API's.
func Handles(path string) bool {
	return path == "/" || strings.HasPrefix(path, "/app/") || path == "/app" || strings.HasPrefix(path, "/static/")
}

// Mux returns the handler of the daemon's port: the web app's paths to web,
// the rest to api.
func Mux(web *Server, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Handles(r.URL.Path) {
			web.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// page is a handler of a signed-in user.
type page func(w http.ResponseWriter, r *http.Request, u *session) error

func (s *Server) routes() {
	cop := http.NewCrossOriginProtection()
	// Every non-safe method goes through the cross-origin check: a form
	// posted from another site is refused before it is read.
	post := func(pattern string, h page) {
		s.mux.Handle("POST "+pattern, cop.Handler(s.signedIn(h)))
	}
	get := func(pattern string, h page) { s.mux.Handle("GET "+pattern, s.signedIn(h)) }

	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.Handle("POST /app/signin", cop.Handler(http.HandlerFunc(s.signIn)))
	post("/app/signout", s.signOut)
	s.mux.Handle("GET /static/", s.static)

	get("/app/dashboard", s.dashboard)
	get("/app/approvals", s.approvals)
	post("/app/approvals/{id}/approve", s.approve)
	get("/app/pledges", s.pledgesPage)
	get("/app/donors", s.donorsPage)
	get("/app/donors/{id}", s.donorPage)
	get("/app/events", s.eventsPage)
	get("/app/events/{seq}", s.eventPage)
	get("/app/verify", s.verifyPage)
	post("/app/verify", s.verifyRun)
	get("/app/verify/jobs/{id}", s.verifyJobPage)
	get("/app/reports/{name}", s.reportPage)
	get("/app/forms", s.formsIndex)
	get("/app/forms/{name}", s.formPage)
	post("/app/forms/{name}", s.formSubmit)
	// Downloads (statement CSV and PDF, IATI, NDJSON) are the API's
	// answers as they are.
	get("/app/api/", s.download)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, nil, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
}

// ServeHTTP serves the web app with its security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// signedIn runs h for the session's user, or sends the browser to sign in.
func (s *Server) signedIn(h page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := s.auth.session(r)
		if u == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended: sign in again.")
			return
		}
		if err := h(w, r, u); err != nil {
			s.fail(w, r, u, err)
		}
	})
}

// apiError is an error answer of the JSON API.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// fail shows an error: the API's refusals with their status and message,
// anything else as a fault of the server.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, u *session, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		s.errorPage(w, r, u, ae.Status, ae.Message)
		return
	}
	s.cfg.Logger.Error("web page failed", "path", r.URL.Path, "err", err)
	s.errorPage(w, r, u, http.StatusInternalServerError, "The server failed to answer; its log says why.")
}

// forbidden is the answer to a page the user's role may not use.
func forbidden(u *session) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("Role %s may not use this page.", u.p.Role)}
}

// answer is a buffered answer of the API.
type answer struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }
func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}
func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

// call sends one request to the API as the session's user and returns its
// answer; an error answer is an *apiError.
func (s *Server) call(ctx context.Context, u *session, method, path string, q url.Values, body []byte, key string) (*answer, error) {
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	a := &answer{header: http.Header{}}
	s.cfg.API.ServeAs(a, req, u.p)
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if a.status >= 400 {
		var e struct {
			Error apiError `json:"error"`
		}
		if err := json.Unmarshal(a.body.Bytes(), &e); err != nil || e.Error.Code == "" {
			return nil, fmt.Errorf("%s %s answered %d: %.200s", method, path, a.status, a.body.String())
		}
		e.Error.Status = a.status
		return nil, &e.Error
	}
	return a, nil
}

// getJSON reads a JSON answer of the API into v.
func (s *Server) getJSON(ctx context.Context, u *session, path string, q url.Values, v any) error {
	a, err := s.call(ctx, u, http.MethodGet, path, q, nil, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(a.body.Bytes(), v); err != nil {
		return fmt.Errorf("decode answer of %s: %w", path, err)
	}
	return nil
}

// may reports whether the user's role may call method on path (the API's
// route table): what a page links to and shows.
func (s *Server) may(u *session, method, path string) bool {
	return s.cfg.API.Allows(u.p, method, path)
}

// download answers GET /app/api/<path> with the API's answer to GET /<path>
// as the user: a statement's CSV or PDF, the IATI files, the NDJSON log.
func (s *Server) download(w http.ResponseWriter, r *http.Request, u *session) error {
	path := strings.TrimPrefix(r.URL.Path, "/app/api")
	if !strings.HasPrefix(path, "/v1/") {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no download at " + r.URL.Path}
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, path+"?"+r.URL.RawQuery, nil)
	if err != nil {
		return err
	}
	// The API's answer goes to the browser as it is, JSON errors
	// included; it sets its own content type. The statement's HTML has its
	// style inline, and no script is allowed.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	s.cfg.API.ServeAs(w, req, u.p)
	return nil
}
