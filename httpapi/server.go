// Package httpapi is the ledger's HTTP JSON API: tokens and roles, the write
// endpoints that turn a request body into a domain command for the fund's
// writer (one by one, or several at once in an atomic batch), the balance,
// pledges, the cluster registry, the trial balance, the budget report, the
// IATI files, the audit log, verify, health and metrics.
//
// Every answer that is not a success is {"error": {"code", "message",
// "field"}} with a stable code of the one error set (AllCodes: the
// HTTP-level ones in Codes, the domain's in domain.Codes, the read model's in
// projections.Codes), answered with its kind's status (Status). An error of
// one item of a batch also has "index".
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/httpapi/metrics"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// Timeouts of the handlers.
const (
	// WriteTimeout bounds how long a write waits for the writer. When it
	// passes the command may still be appended: the answer says to retry
	// with the same Idempotency-Key, which tells.
	WriteTimeout = 30 * time.Second
	// ReadYourWritesTimeout bounds how long a read waits for the read model
	// to reach what the writer has acknowledged.
	ReadYourWritesTimeout = 5 * time.Second
	// VerifyTimeout bounds one GET /v1/audit/verify.
	VerifyTimeout = 10 * time.Minute
	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes are for the
	// http.Server that serves the API (see NewHTTPServer).
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// Config is what a Server is built from.
type Config struct {
	// Writer is the writer of the fund this server writes; every write
	// endpoint goes to it.
	Writer *ledger.Writer
	// Store is the read model the queries read.
	Store *projections.Store
	// Log is the event log: GET /v1/events and verify read it.
	Log *eventlog.Log
	// Tokens are the accepted tokens. Nil accepts none.
	Tokens *access.Tokens
	// Now is the clock of request timing; time.Now by default. The date
	// commands are judged against is the writer's (Writer.Today).
	Now func() time.Time
	// Logger receives one line per request; slog.Default() by default.
	Logger *slog.Logger
	// Health, when set, says why the projector is not following the log
	// (nil while it runs). GET /readyz answers 503 with it. An error that
	// wraps a *readmodel.EventError (an event of the log that does not
	// verify or apply) also makes writes answer 503, and reads answer from
	// the read model as far as it got.
	Health func() error
	// Metrics are the Prometheus series GET /metrics answers; metrics.New()
	// by default. The daemon makes them first to measure the writer's
	// appends (Metrics.InstrumentLog).
	Metrics *metrics.Metrics
	// ScratchDir is where verify builds its scratch read model, in a new
	// folder removed afterwards; os.TempDir() by default.
	ScratchDir string
	// TLog, when set, is the transparency log whose signed checkpoints
	// and proofs the server answers (issue 11); statements then name
	// their checkpoint. Nil: those endpoints answer 404 no_checkpoint.
	TLog *tlog.Store
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	metrics *metrics.Metrics
	verify  chan struct{} // a semaphore: one verify at a time
	// logReads bounds the reads of the log (GET /v1/events) of each user.
	logReads *callerLimit
	table    map[string]route // the route table, by pattern (Allows)
	// tokens are the accepted tokens: cfg.Tokens, then what SetTokens
	// gave (a reload of the tokens file).
	tokens atomic.Pointer[access.Tokens]
	// lastFault is the last write that failed for the log's sake (/readyz).
	lastFault writeFault
	// statements keeps the terms' attributions the statements were drawn
	// from: the statements of many donors at one fund_seq compute it once.
	statements *donors.Memo
	// jobs are the verify jobs (POST /v1/audit/verify).
	jobs *verifyJobs
}

// New checks the configuration and returns the server.
func New(c Config) (*Server, error) {
	if c.Writer == nil || c.Store == nil || c.Log == nil {
		return nil, errors.New("httpapi: a writer, a store and a log are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ScratchDir == "" {
		c.ScratchDir = os.TempDir()
	}
	if c.Metrics == nil {
		c.Metrics = metrics.New()
	}
	s := &Server{cfg: c, mux: http.NewServeMux(), metrics: c.Metrics, verify: make(chan struct{}, 1), logReads: newCallerLimit(MaxLogReadsPerCaller),
		statements: donors.NewMemo(donors.DefaultMemoSize), jobs: newVerifyJobs()}
	s.tokens.Store(c.Tokens)
	s.routes()
	s.registerServerGauges()
	return s, nil
}

// NewHTTPServer returns an http.Server for h with the package's timeouts.
// It has no overall write timeout: the audit log and verify stream or run
// long, and are bounded by their own limits.
func NewHTTPServer(h http.Handler, errorLog *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if errorLog != nil {
		srv.ErrorLog = slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn)
	}
	return srv
}

// handlerFunc is an endpoint: it writes a success itself, or returns the
// error to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p access.Principal) error

// endpoint is one method of one path: who may call it and what it does.
// public endpoints need no token.
type endpoint struct {
	public bool
	roles  []string // admin is always allowed
	h      handlerFunc
}

// route is one path with its methods.
type route map[string]endpoint

// batchPath is the endpoint of atomic batches.
const batchPath = "/v1/batch"

// routes is the API's table: every path with its methods and the roles that
// may call it (docs/DESIGN.md, Access). admin may call everything. The write
// endpoints and their roles are writeRoutes'; POST /v1/batch takes the
// officer's and the approver's, and checks each item against the item's
// endpoint. The auditor reads everything and runs verify; a donor:<id>
// token reads balances and its own statement only. /metrics takes any
// staff token (not a donor's); /healthz and /readyz take none.
func (s *Server) routes() {
	readers := []string{access.RoleOfficer, access.RoleApprover, access.RoleAuditor}
	table := map[string]route{
		batchPath:                   {http.MethodPost: {roles: []string{access.RoleOfficer, access.RoleApprover}, h: s.batch(writeRoutes())}},
		"/v1/funds/{fund}/balance":  {http.MethodGet: {roles: []string{access.RoleOfficer, access.RoleApprover, access.RoleAuditor, access.RoleDonor}, h: s.balance}},
		"/v1/reports/trial-balance": {http.MethodGet: {roles: readers, h: s.trialBalance}},
		"/v1/reports/budget":        {http.MethodGet: {roles: readers, h: s.budgetReport}},
		"/v1/iati/activities.xml":   {http.MethodGet: {roles: readers, h: s.iatiActivities}},
		"/v1/iati/organisation.xml": {http.MethodGet: {roles: readers, h: s.iatiOrganisation}},
		"/v1/reports/focus":         {http.MethodGet: {roles: readers, h: s.focusReport}},
		// A donor:<id> token reads its own statement only (donorStatement).
		"/v1/donors/{id}/statement": {http.MethodGet: {roles: []string{access.RoleOfficer, access.RoleApprover, access.RoleAuditor, access.RoleDonor}, h: s.donorStatement}},
		"/v1/events":                {http.MethodGet: {roles: readers, h: s.events}},
		"/v1/audit/verify": {http.MethodGet: {roles: []string{access.RoleAuditor}, h: s.auditVerify},
			http.MethodPost: {roles: []string{access.RoleAuditor}, h: s.startVerifyJob}},
		"/v1/audit/verify/jobs":      {http.MethodGet: {roles: []string{access.RoleAuditor}, h: s.verifyJobList}},
		"/v1/audit/verify/jobs/{id}": {http.MethodGet: {roles: []string{access.RoleAuditor}, h: s.verifyJob}},
		"/metrics":                   {http.MethodGet: {roles: readers, h: s.serveMetrics}},
		"/healthz":                   {http.MethodGet: {public: true, h: s.healthz}},
		"/readyz":                    {http.MethodGet: {public: true, h: s.readyz}},
	}
	for _, wr := range writeRoutes() {
		var answer func(context.Context, ledger.Result) (any, error)
		if wr.pattern == "/v1/terms/{id}/close" {
			answer = s.closeAnswerOf
		}
		table[wr.pattern] = route{http.MethodPost: {roles: wr.roles, h: s.write(wr, answer)}}
	}
	s.transparencyRoutes(table)
	// Reads that share a path with a write.
	table["/v1/pledges"][http.MethodGet] = endpoint{roles: readers, h: s.pledges}
	table["/v1/clusters"][http.MethodGet] = endpoint{roles: readers, h: s.clusters}
	s.table = table
	for path, rt := range table {
		s.mux.Handle(path, s.dispatch(rt))
	}
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(CodeNotFound, "", fmt.Sprintf("no endpoint %s", r.URL.Path)))
	}))
}

// dispatch picks the method's endpoint of a path (405 for others),
// authenticates and authorises the request, then runs the endpoint.
func (s *Server) dispatch(rt route) http.Handler {
	allow := make([]string, 0, len(rt))
	for m := range rt {
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	sort.Strings(allow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		ep, ok := rt[method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, errorf(CodeMethodNotAllowed, "", fmt.Sprintf("%s does not take %s; it takes %s", r.URL.Path, r.Method, strings.Join(allow, ", "))))
			return
		}
		// A request of the web app (ServeAs) comes with its principal.
		p, signedIn := servedAs(r)
		if !ep.public {
			if !signedIn {
				var err *errs.Error
				if p, err = s.authenticate(r); err != nil {
					if err.Kind == errs.Unauthorized {
						s.metrics.SignInFailed()
						w.Header().Set("WWW-Authenticate", `Bearer realm="mdfm-ledger"`)
					}
					s.fail(w, r, err)
					return
				}
			}
			info(r).user = p.User
			if !allowed(p.Role, ep.roles) {
				s.fail(w, r, errorf(CodeForbidden, "", fmt.Sprintf("role %s may not %s %s", p.Role, r.Method, r.URL.Path)))
				return
			}
		}
		if err := ep.h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})
}

// authenticate finds the principal of the request's bearer token. The token
// itself is never logged nor echoed.
func (s *Server) authenticate(r *http.Request) (access.Principal, *errs.Error) {
	// Two headers would be judged by the first alone, while a proxy or a
	// log may judge by the other: refuse rather than pick (issue 8).
	if vs := r.Header.Values("Authorization"); len(vs) > 1 {
		return access.Principal{}, errorf(CodeInvalidHeader, "Authorization", fmt.Sprintf("send one Authorization header, not %d", len(vs)))
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return access.Principal{}, errorf(CodeUnauthorized, "", "send Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return access.Principal{}, errorf(CodeUnauthorized, "", "the Authorization header must be Bearer <token>")
	}
	p, ok := s.tokens.Load().Lookup(strings.TrimSpace(token))
	if !ok {
		return access.Principal{}, errorf(CodeUnauthorized, "", "the token is not valid")
	}
	return p, nil
}

// SetTokens replaces the accepted tokens: requests from now on are judged
// against t (a reloaded tokens file); requests in flight keep the principal
// they were given.
func (s *Server) SetTokens(t *access.Tokens) { s.tokens.Store(t) }

func allowed(r access.Role, roles []string) bool {
	if r.Name == access.RoleAdmin {
		return true
	}
	for _, x := range roles {
		if r.Name == x {
			return true
		}
	}
	return false
}

// ServeHTTP serves the API and logs one line per request: method, path,
// status, duration and user, never a token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	ri := &requestInfo{}
	rec := &statusRecorder{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, ri))
	defer func() {
		d := s.cfg.Now().Sub(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		// The mux set the matched pattern on r: a bounded label, unlike
		// the path.
		route := r.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		s.metrics.ObserveRequest(route, status, d)
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status, "duration_ms", float64(d.Microseconds()) / 1000, "user", ri.user}
		if ri.code != "" {
			attrs = append(attrs, "code", ri.code)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.cfg.Logger.Log(r.Context(), level, "request", attrs...)
	}()
	s.mux.ServeHTTP(rec, r)
}

type requestInfoKey struct{}

// requestInfo carries what the request log needs from inside a handler.
type requestInfo struct {
	user string
	code string
	// batch is set by POST /v1/batch: its errors name the item at fault by
	// index.
	batch bool
}

func info(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// fail answers an error. An error that is not a refusal is a fault of the
// server: it is logged and answered 500 internal without its details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e == nil {
		s.cfg.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(CodeInternal, "", "the server failed to answer; its log says why")
	}
	ri := info(r)
	ri.code = e.Code
	s.metrics.CountError(e.Code)
	a := answerOf(e)
	if ri.batch {
		a.Index = batchIndex(e.Field)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(Status(e.Kind))
	w.Write(marshalError(a))
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// A failed write means the client went away: nothing more can be
	// answered, and the status is already sent.
	w.Write(append(b, '\n'))
	return nil
}
