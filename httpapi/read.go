package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// Limits of GET /v1/events.
const (
	DefaultEventsLimit = 1000
	MaxEventsLimit     = 10_000
	// MaxLogReadsPerCaller bounds the reads of the log one user may have
	// running at once; more answer 429 too_many_requests. A read holds no
	// state on the NATS server (direct gets), but each holds a goroutine,
	// a batch of events in memory and a connection.
	MaxLogReadsPerCaller = 2
)

// callerLimit counts what each user has running, up to a bound.
type callerLimit struct {
	max     int
	mu      sync.Mutex
	running map[string]int
}

func newCallerLimit(max int) *callerLimit {
	return &callerLimit{max: max, running: map[string]int{}}
}

// acquire takes a slot for user and returns its release, or false when
// user holds max already.
func (l *callerLimit) acquire(user string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[user] >= l.max {
		return nil, false
	}
	l.running[user]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.running[user]--; l.running[user] == 0 {
			delete(l.running, user)
		}
	}, true
}

// queryParams returns the request's query parameters, refusing any not in
// names and any given twice: a misspelt parameter must not be silently
// ignored by a report that then answers another question.
func queryParams(r *http.Request, names ...string) (map[string]string, *errs.Error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(CodeInvalidQuery, "", "the query string is malformed: "+err.Error())
	}
	out := make(map[string]string, len(q))
	for k, vs := range q {
		if !slices.Contains(names, k) {
			return nil, errorf(CodeInvalidQuery, k, fmt.Sprintf("unknown query parameter %q; this endpoint takes %v", k, names))
		}
		if len(vs) > 1 {
			return nil, errorf(CodeInvalidQuery, k, fmt.Sprintf("query parameter %q is given %d times", k, len(vs)))
		}
		out[k] = vs[0]
	}
	return out, nil
}

// uintParam parses an optional unsigned query parameter within [min, max].
func uintParam(q map[string]string, name string, def, min, max uint64) (uint64, *errs.Error) {
	s, ok := q[name]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, errorf(CodeInvalidQuery, name, fmt.Sprintf("%s %q must be a whole number from %d to %d", name, s, min, max))
	}
	return n, nil
}

// isDate reports whether s is a calendar date written YYYY-MM-DD.
func isDate(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// readYourWrites waits until the read model has applied every event the
// writer acknowledged, so that a client reads its own writes. Another fund
// (written by another daemon) is answered as the read model has it.
func (s *Server) readYourWrites(ctx context.Context, fund string) error {
	if fund != s.cfg.Writer.Fund() {
		return nil
	}
	seq := s.cfg.Writer.LastSeq()
	// A stopped projector will not catch up: answer at once unless the
	// read model already has what is asked.
	var down error
	if s.cfg.Health != nil {
		down = s.cfg.Health()
	}
	// An event of the log the projector cannot get past stops the read
	// model for good, and writes with it: answer what it holds, as far as
	// it got (each answer says its fund_seq).
	if s.logFault() != nil {
		return nil
	}
	// While the NATS connection is down the projector cannot fetch what
	// the writer acknowledged last (the server may have gone before it
	// delivered those messages), and waiting would only turn every read
	// into a 503 until the server is back: answer what the read model
	// holds, as far as it got (each answer says its fund_seq).
	if s.cfg.Log != nil && s.cfg.Log.Connected() != nil {
		return nil
	}
	timeout := ReadYourWritesTimeout
	if down != nil {
		timeout = 0
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := s.cfg.Store.WaitFor(ctx, seq)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg := fmt.Sprintf("the read model has not reached stream seq %d within %s", seq, ReadYourWritesTimeout)
		if down != nil {
			msg = fmt.Sprintf("the read model is behind stream seq %d and does not follow the log: %v", seq, down)
		}
		return errorf(CodeUnavailable, "", msg)
	}
	return err
}

// balance answers GET /v1/funds/{fund}/balance?term=&as_of=&at_seq=.
func (s *Server) balance(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	fund := r.PathValue("fund")
	if !eventlog.ValidFund(fund) {
		return projections.Codes.New(projections.CodeUnknownFund, "fund", fmt.Sprintf("%q is not a fund id", trunc(fund)))
	}
	q, herr := queryParams(r, "term", "as_of", "at_seq")
	if herr != nil {
		return herr
	}
	asOf := q["as_of"]
	if asOf == "" {
		asOf = s.cfg.Writer.Today()
	} else if !isDate(asOf) {
		return domain.Codes.New(domain.CodeInvalidDate, "as_of", fmt.Sprintf("as_of %q is not a date (YYYY-MM-DD)", trunc(asOf)))
	}
	// at_seq is a fund_seq, so 1 is the first; absent means everything known.
	atSeq, herr := uintParam(q, "at_seq", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	if err := s.readYourWrites(r.Context(), fund); err != nil {
		return err
	}
	b, err := s.cfg.Store.Balance(r.Context(), projections.BalanceQuery{Fund: fund, Term: q["term"], AsOf: asOf, AtSeq: atSeq})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// errEnough stops a read of the log once the limit is reached.
var errEnough = errors.New("enough events")

// events answers GET /v1/events with the stored bytes of each event, one a
// line (NDJSON), in fund_seq order: enough to re-verify the chain without
// the server. fund defaults to the fund this server writes; after is a
// fund_seq. Without a filter it reads the log itself; with one (type, from,
// to, actor, donor, line) or before, it finds the page in the read model's
// indexes (eventFilter) and reads those events' bytes from the log.
func (s *Server) events(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	release, ok := s.logReads.acquire(p.User)
	if !ok {
		return errorf(CodeTooManyRequests, "", fmt.Sprintf("%s has %d reads of the event log running; wait for one to end", p.User, MaxLogReadsPerCaller))
	}
	defer release()
	q, herr := queryParams(r, "fund", "after", "limit", "before", "type", "from", "to", "actor", "donor", "line")
	if herr != nil {
		return herr
	}
	fund := q["fund"]
	if fund == "" {
		fund = s.cfg.Writer.Fund()
	}
	if !eventlog.ValidFund(fund) {
		return projections.Codes.New(projections.CodeUnknownFund, "fund", fmt.Sprintf("%q is not a fund id", trunc(fund)))
	}
	after, herr := uintParam(q, "after", 0, 0, 1<<62)
	if herr != nil {
		return herr
	}
	limit, herr := uintParam(q, "limit", DefaultEventsLimit, 1, MaxEventsLimit)
	if herr != nil {
		return herr
	}
	f, filtered, err := eventFilter(q)
	if err != nil {
		return err
	}
	nd := &ndjsonWriter{w: w}
	if filtered {
		f.Fund, f.After, f.Limit = fund, after, int(limit)
		err = s.filteredEvents(r.Context(), f, nd)
	} else {
		err = s.logEvents(r.Context(), fund, after, limit, nd)
	}
	if err != nil && nd.started {
		// The status is sent: break the connection so that the client
		// sees a truncated answer, never a short list that looks whole.
		s.cfg.Logger.Error("audit log read failed mid-answer", "fund", fund, "after", after, "err", err)
		panic(http.ErrAbortHandler)
	}
	if err != nil {
		return err
	}
	nd.start()
	return nil
}

// eventFilter reads the filters of GET /v1/events; filtered is false when
// none is given. Each bad value is refused with the parameter it names.
func eventFilter(q map[string]string) (f projections.EventFilter, filtered bool, _ error) {
	before, herr := uintParam(q, "before", 0, 1, 1<<62)
	if herr != nil {
		return f, false, herr
	}
	if before != 0 && q["after"] != "" {
		return f, false, errorf(CodeInvalidQuery, "before", "give after or before, not both")
	}
	f = projections.EventFilter{Before: before, Type: q["type"], From: q["from"], To: q["to"], Actor: q["actor"], Donor: q["donor"], Line: q["line"]}
	if _, ok := events.LookupType(f.Type); f.Type != "" && !ok {
		return f, false, errorf(CodeInvalidQuery, "type", fmt.Sprintf("type %q is not an event type", trunc(f.Type)))
	}
	for _, d := range []struct{ name, v string }{{"from", f.From}, {"to", f.To}} {
		if d.v != "" && !isDate(d.v) {
			return f, false, domain.Codes.New(domain.CodeInvalidDate, d.name, fmt.Sprintf("%s %q is not a date (YYYY-MM-DD)", d.name, trunc(d.v)))
		}
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		return f, false, domain.Codes.New(domain.CodeInvalidDate, "to", fmt.Sprintf("to %s is before from %s", f.To, f.From))
	}
	for _, id := range []struct{ name, v string }{{"actor", f.Actor}, {"donor", f.Donor}, {"line", f.Line}} {
		if len(id.v) > MaxFilterIDLen {
			return f, false, errorf(CodeInvalidQuery, id.name, fmt.Sprintf("%s is longer than %d characters", id.name, MaxFilterIDLen))
		}
	}
	filtered = before != 0 || f.Type != "" || f.From != "" || f.To != "" || f.Actor != "" || f.Donor != "" || f.Line != ""
	return f, filtered, nil
}

// MaxFilterIDLen bounds the actor, donor and line of a filter of
// GET /v1/events: longer names no one.
const MaxFilterIDLen = 200

// ndjsonWriter writes events one a line, sending the status before the
// first.
type ndjsonWriter struct {
	w       http.ResponseWriter
	started bool
	line    []byte
}

func (n *ndjsonWriter) start() {
	if !n.started {
		n.w.Header().Set("Content-Type", "application/x-ndjson")
		n.w.Header().Set("Cache-Control", "no-store")
		n.w.WriteHeader(http.StatusOK)
		n.started = true
	}
}

func (n *ndjsonWriter) write(e events.Event) error {
	b, err := e.Encode()
	if err != nil {
		return err
	}
	n.start()
	n.line = append(append(n.line[:0], b...), '\n')
	_, err = n.w.Write(n.line)
	return err
}

// logEvents writes up to limit of the fund's events after fund_seq after,
// read from the log.
func (s *Server) logEvents(ctx context.Context, fund string, after, limit uint64, nd *ndjsonWriter) error {
	var n uint64
	// An event's stream sequence is never below its fund_seq (the fund's
	// events are a subsequence of the stream), so reading from stream seq
	// after+1 misses nothing; events of the fund at or before after are
	// skipped.
	err := s.cfg.Log.ReadFund(ctx, fund, after, func(e events.Event) error {
		if e.FundSeq <= after {
			return nil
		}
		if err := nd.write(e); err != nil {
			return err
		}
		if n++; n >= limit {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// filteredEvents writes the page f selects in the read model, each event's
// bytes read from the log. A run of consecutive fund_seqs is one read of
// the log: the fund's events between two of its stream sequences are
// exactly those fund_seqs.
func (s *Server) filteredEvents(ctx context.Context, f projections.EventFilter, nd *ndjsonWriter) error {
	if err := s.readYourWrites(ctx, f.Fund); err != nil {
		return err
	}
	refs, err := s.cfg.Store.ListEvents(ctx, f)
	if err != nil {
		return err
	}
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && refs[j].FundSeq == refs[j-1].FundSeq+1 {
			j++
		}
		want := refs[i].FundSeq
		err := s.cfg.Log.ReadRaw(ctx, eventlog.FundFilter(f.Fund), refs[i].StreamSeq-1, refs[j-1].StreamSeq, func(m eventlog.RawMsg) error {
			e, err := events.Decode(m.Data)
			if err != nil {
				return fmt.Errorf("stream seq %d: %w", m.Seq, err)
			}
			if e.FundSeq != want {
				return fmt.Errorf("stream seq %d holds fund_seq %d of fund %s, the read model says %d", m.Seq, e.FundSeq, f.Fund, want)
			}
			want++
			return nd.write(e)
		})
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

// auditVerify answers GET /v1/audit/verify with audit.Verify's report.
// The answer is 200 whether the log and read model verify or not: the
// verdict is "ok" in the body, and a failure names the first event or table
// at fault. Only a verify that could not run answers an error (busy when
// another is running, 500 when the log cannot be read).
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	select {
	case s.verify <- struct{}{}:
		defer func() { <-s.verify }()
	default:
		return errorf(CodeBusy, "", "a verify is already running; retry when it ends")
	}
	ctx, cancel := context.WithTimeout(r.Context(), VerifyTimeout)
	defer cancel()
	// Compare against a read model that has caught up with the writer when
	// it can; a stopped projector is what verify is for, so go on anyway.
	_ = s.readYourWrites(ctx, s.cfg.Writer.Fund())
	// Verify makes and removes its own folder inside ScratchDir.
	rep, err := audit.Verify(ctx, s.cfg.Log, s.cfg.Store.Store, s.cfg.ScratchDir)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if rep.OK {
		for fund, h := range rep.Funds {
			s.metrics.Verified(fund, h.FundSeq)
		}
	}
	return writeJSON(w, http.StatusOK, rep)
}

// ReadyTimeout bounds the check of the stream by GET /readyz.
const ReadyTimeout = 5 * time.Second

// healthz answers liveness: {"status": "ok"} while the process serves
// HTTP, whatever the state of NATS or the projector (GET /readyz says that).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers readiness: {"status": "ready"}, or 503 with {"status":
// "not_ready", "error": {code unavailable, message}} saying why: the NATS
// connection is down, the stream does not answer, or the projector is
// stopped (a bad event in the log, or restarting after an error).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	err := s.cfg.Log.Ready(ctx)
	if err == nil && s.cfg.Health != nil {
		err = s.cfg.Health()
	}
	if err == nil {
		err = s.recentWriteFault()
	}
	if err != nil {
		e := errorf(CodeUnavailable, "", err.Error())
		info(r).code = e.Code
		return writeJSON(w, http.StatusServiceUnavailable, struct {
			Status string  `json:"status"`
			Error  *answer `json:"error"`
		}{"not_ready", answerOf(e)})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// logFault is the error of an event in the log that the projector stopped
// on for good (it does not verify or does not apply), or nil.
func (s *Server) logFault() error {
	if s.cfg.Health == nil {
		return nil
	}
	err := s.cfg.Health()
	var ee *readmodel.EventError
	if errors.As(err, &ee) {
		return err
	}
	return nil
}

// trunc keeps echoed input short in messages.
func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// fundParam returns the query's fund, the fund this server writes when it
// has none.
func (s *Server) fundParam(q map[string]string) (string, *errs.Error) {
	fund := q["fund"]
	if fund == "" {
		return s.cfg.Writer.Fund(), nil
	}
	if !eventlog.ValidFund(fund) {
		return "", projections.Codes.New(projections.CodeUnknownFund, "fund", fmt.Sprintf("%q is not a fund id", trunc(fund)))
	}
	return fund, nil
}

// asOfParam returns the query's as_of, today (the writer's date) when it has
// none.
func (s *Server) asOfParam(q map[string]string) (string, *errs.Error) {
	asOf := q["as_of"]
	if asOf == "" {
		return s.cfg.Writer.Today(), nil
	}
	if !isDate(asOf) {
		return "", domain.Codes.New(domain.CodeInvalidDate, "as_of", fmt.Sprintf("as_of %q is not a date (YYYY-MM-DD)", trunc(asOf)))
	}
	return asOf, nil
}

// pledgesAnswer is the answer of GET /v1/pledges.
type pledgesAnswer struct {
	Fund    string                  `json:"fund"`
	Term    string                  `json:"term,omitempty"`
	AsOf    string                  `json:"as_of"`
	Pledges []projections.PledgeRow `json:"pledges"`
}

// pledges answers GET /v1/pledges?fund=&term=&as_of= with the pledges of a
// term (every term's when term is empty) as they stood at the end of as_of
// (default today): paid, outstanding and overdue.
func (s *Server) pledges(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, herr := queryParams(r, "fund", "term", "as_of")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	asOf, herr := s.asOfParam(q)
	if herr != nil {
		return herr
	}
	if err := s.readYourWrites(r.Context(), fund); err != nil {
		return err
	}
	rows, err := s.cfg.Store.Pledges(r.Context(), fund, q["term"], asOf)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []projections.PledgeRow{}
	}
	return writeJSON(w, http.StatusOK, pledgesAnswer{Fund: fund, Term: q["term"], AsOf: asOf, Pledges: rows})
}

// clustersAnswer is the answer of GET /v1/clusters.
type clustersAnswer struct {
	Fund     string                   `json:"fund"`
	Term     string                   `json:"term,omitempty"`
	Clusters []projections.ClusterRow `json:"clusters"`
}

// clusters answers GET /v1/clusters?fund=&term= with the registry: every
// cluster with its technical partner, coordinators and members in term
// (every term's when term is empty).
func (s *Server) clusters(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, herr := queryParams(r, "fund", "term")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	if err := s.readYourWrites(r.Context(), fund); err != nil {
		return err
	}
	rows, err := s.cfg.Store.Clusters(r.Context(), fund, q["term"])
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []projections.ClusterRow{}
	}
	return writeJSON(w, http.StatusOK, clustersAnswer{Fund: fund, Term: q["term"], Clusters: rows})
}

// trialBalance answers GET /v1/reports/trial-balance?fund=&as_of=&at_seq=
// with every account's debits, credits and balance at the end of as_of
// (default today), from what the ledger knew at fund_seq at_seq (default
// everything), stamped with the fund_seq, chain head and date axis; the
// totals are equal or the answer is an error. An as_of before the fund's
// first event answers 422 no_data_as_of.
func (s *Server) trialBalance(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, herr := queryParams(r, "fund", "as_of", "at_seq")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	asOf, herr := s.asOfParam(q)
	if herr != nil {
		return herr
	}
	atSeq, herr := uintParam(q, "at_seq", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	if err := s.readYourWrites(r.Context(), fund); err != nil {
		return err
	}
	tb, err := s.cfg.Store.TrialBalanceReport(r.Context(), fund, asOf, atSeq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tb)
}
