package webapp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// Limits of the event log pages.
const (
	// EventsPerPage is the rows of one page of the log.
	EventsPerPage = 50
	// MaxReversalsScanned bounds the reversals an event's page reads to
	// find its own (one answer of GET /v1/events).
	MaxReversalsScanned = 10_000
)

// logEvent is an event of the log with the donor and line it concerns.
type logEvent struct {
	events.Event
	DonorID, LineID string
}

// readLog calls fn for each event GET /v1/events answers to q.
func (s *Server) readLog(ctx context.Context, u *session, q url.Values, fn func(events.Event)) error {
	a, err := s.call(ctx, u, http.MethodGet, "/v1/events", q, nil, "")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(a.body.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		e, err := events.Decode(sc.Bytes())
		if err != nil {
			return fmt.Errorf("decode event of the log: %w", err)
		}
		fn(e)
	}
	return sc.Err()
}

// reversalsOf returns the reversals of e: among the reversals after it that
// concern its donor or line (all reversals after it when it names neither),
// those naming its id.
func (s *Server) reversalsOf(ctx context.Context, u *session, e events.Event) ([]events.Event, error) {
	q := url.Values{"type": {events.TypeEventReversed}, "after": {strconv.FormatUint(e.FundSeq, 10)}, "limit": {strconv.Itoa(MaxReversalsScanned)}}
	if sub := events.SubjectOf(e); sub.DonorID != "" {
		q.Set("donor", sub.DonorID)
	} else if sub.LineID != "" {
		q.Set("line", sub.LineID)
	}
	var out []events.Event
	err := s.readLog(ctx, u, q, func(x events.Event) {
		var rv events.EventReversed
		if json.Unmarshal(x.Data, &rv) == nil && rv.EventID == e.ID {
			out = append(out, x)
		}
	})
	return out, err
}

type eventsView struct {
	Types                              []string
	Type, From, To, Actor, Donor, Line string
	Rows                               []logEvent
	Prev, Next                         string
	Error                              string // the API's refusal of the filter
}

// eventsPage is GET /app/events?type=&from=&to=&actor=&donor=&line=&after=&before=:
// the event log, filtered, in the fund's order, EventsPerPage a page. The
// filter and the keyset paging (after or before a fund_seq) are the API's
// (GET /v1/events), which reads them from the read model's indexes: a page
// costs what it shows, not the length of the history.
func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request, u *session) error {
	q := r.URL.Query()
	v := eventsView{Types: eventTypes, Type: q.Get("type"), From: q.Get("from"), To: q.Get("to"), Actor: q.Get("actor"), Donor: q.Get("donor"), Line: q.Get("line")}
	api := url.Values{"limit": {strconv.Itoa(EventsPerPage + 1)}}
	for _, k := range []string{"type", "from", "to", "actor", "donor", "line", "after", "before"} {
		if x := q.Get(k); x != "" {
			api.Set(k, x)
		}
	}
	err := s.readLog(r.Context(), u, api, func(e events.Event) { v.Rows = append(v.Rows, v.row(e)) })
	var ae *apiError
	if errors.As(err, &ae) && ae.Status < http.StatusInternalServerError && ae.Field != "" {
		// A filter the API refuses is shown above the form, which keeps it.
		v.Error = ae.Message
		s.render(w, r, u, ae.Status, "events", v)
		return nil
	}
	if err != nil {
		return err
	}
	// One more than a page was asked for, to know whether there is more
	// on the side the page moves to.
	backward := q.Get("before") != ""
	more := len(v.Rows) > EventsPerPage
	if more && backward {
		v.Rows = v.Rows[1:]
	} else if more {
		v.Rows = v.Rows[:EventsPerPage]
	}
	page := func(k string, seq uint64) string {
		p := r.URL.Query()
		p.Del("after")
		p.Del("before")
		p.Del("page")
		p.Set(k, strconv.FormatUint(seq, 10))
		return "/app/events?" + p.Encode()
	}
	if n := len(v.Rows); n > 0 {
		if (backward && more) || (!backward && q.Get("after") != "" && q.Get("after") != "0") {
			v.Prev = page("before", v.Rows[0].FundSeq)
		}
		if backward || more {
			v.Next = page("after", v.Rows[n-1].FundSeq)
		}
	}
	s.render(w, r, u, http.StatusOK, "events", v)
	return nil
}

// row is e with the donor and line it concerns (events.SubjectOf). A
// reversal names neither: when the page is filtered by donor or line, the
// API matched it by the event it reverses, so it concerns the filter's.
func (v eventsView) row(e events.Event) logEvent {
	sub := events.SubjectOf(e)
	le := logEvent{Event: e, DonorID: sub.DonorID, LineID: sub.LineID}
	if sub.Reverses != 0 {
		le.DonorID, le.LineID = v.Donor, v.Line
	}
	return le
}

type eventView struct {
	E          events.Event
	Canonical  string
	Prev       uint64
	ReversedBy []events.Event
	Reverses   uint64
	CanReverse bool
	Key        string
}

func (v eventView) PageTitle() string { return fmt.Sprintf("Event %d: %s", v.E.FundSeq, v.E.Type) }

// eventPage is GET /app/events/{seq}: one event with its canonical JSON, its
// hash, a link to its predecessor and what reversed it.
func (s *Server) eventPage(w http.ResponseWriter, r *http.Request, u *session) error {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "An event is named by its fund_seq, a whole number from 1."}
	}
	var v eventView
	found := false
	err = s.readLog(r.Context(), u, url.Values{"after": {strconv.FormatUint(seq-1, 10)}, "limit": {"1"}}, func(e events.Event) {
		v.E, found = e, e.FundSeq == seq
	})
	if err != nil {
		return err
	}
	if !found {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("Fund %s has no event %d.", s.cfg.Fund, seq)}
	}
	if v.ReversedBy, err = s.reversalsOf(r.Context(), u, v.E); err != nil {
		return err
	}
	b, err := v.E.Encode()
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, b, "", "  ")
	v.Canonical = string(b)
	v.Prev = seq - 1
	if v.E.Type == events.TypeEventReversed {
		var rv events.EventReversed
		if json.Unmarshal(v.E.Data, &rv) == nil {
			v.Reverses = rv.ReversedFundSeq
		}
	}
	v.CanReverse = len(v.ReversedBy) == 0 && v.E.Type != events.TypeEventReversed && s.may(u, http.MethodPost, "/v1/reversals")
	v.Key = newKey()
	s.render(w, r, u, http.StatusOK, "event", v)
	return nil
}

type verifyView struct {
	// Job is the verify job the page shows, nil on the button's page.
	Job *httpapi.VerifyJob
}

// RefreshSeconds reloads a running job's page every two seconds.
func (v verifyView) RefreshSeconds() int {
	if v.Job != nil && v.Job.State == httpapi.JobRunning {
		return 2
	}
	return 0
}

// verifyPage is GET /app/verify: the button.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request, u *session) error {
	if !s.may(u, http.MethodPost, "/v1/audit/verify") {
		return forbidden(u)
	}
	s.render(w, r, u, http.StatusOK, "verify", verifyView{})
	return nil
}

// verifyRun is POST /app/verify: starts the audit as a job of the API (or
// finds the one running) and goes to the job's page: on a long log the
// audit takes minutes, and the page says how far it is meanwhile.
func (s *Server) verifyRun(w http.ResponseWriter, r *http.Request, u *session) error {
	a, err := s.call(r.Context(), u, http.MethodPost, "/v1/audit/verify", nil, []byte("{}"), "")
	if err != nil {
		return err
	}
	var job httpapi.VerifyJob
	if err := json.Unmarshal(a.body.Bytes(), &job); err != nil || job.ID == "" {
		return fmt.Errorf("decode answer of POST /v1/audit/verify: %v: %.200s", err, a.body.String())
	}
	http.Redirect(w, r, "/app/verify/jobs/"+url.PathEscape(job.ID), http.StatusSeeOther)
	return nil
}

// verifyJobPage is GET /app/verify/jobs/{id}: a verify job's progress,
// reloaded every two seconds while it runs, then what it found.
func (s *Server) verifyJobPage(w http.ResponseWriter, r *http.Request, u *session) error {
	v := verifyView{Job: &httpapi.VerifyJob{}}
	if err := s.getJSON(r.Context(), u, "/v1/audit/verify/jobs/"+url.PathEscape(r.PathValue("id")), nil, v.Job); err != nil {
		return err
	}
	s.render(w, r, u, http.StatusOK, "verify", v)
	return nil
}

type reportView struct {
	Name, Title string
	Params      reportParams
	Trial       *projections.TrialBalanceReport
	Budget      *projections.BudgetReport
	Focus       *projections.FocusReport
	Lines       barChart
	Clusters    barChart
	Downloads   []kv
}

func (v reportView) PageTitle() string { return v.Title }

// reportPage is GET /app/reports/{name}: the trial balance, the budget
// report and the focus report, each at as_of and at_seq, with the IATI and
// NDJSON downloads.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, u *session) error {
	ctx := r.Context()
	v := reportView{Name: r.PathValue("name"), Params: s.readReportParams(ctx, r)}
	q := v.Params.values(true)
	switch v.Name {
	case "trial-balance":
		v.Title = "Trial balance"
		q.Del("term")
		v.Trial = &projections.TrialBalanceReport{}
		if err := s.getJSON(ctx, u, "/v1/reports/trial-balance", q, v.Trial); err != nil {
			return err
		}
	case "budget":
		v.Title = "Budget against actual"
		v.Budget = &projections.BudgetReport{}
		if err := s.getJSON(ctx, u, "/v1/reports/budget", q, v.Budget); err != nil {
			return err
		}
		v.Lines, v.Clusters = budgetCharts(*v.Budget)
		v.Params.Term = v.Budget.Term
	case "focus":
		v.Title = "Spending in Africa and low-income countries"
		v.Focus = &projections.FocusReport{}
		if err := s.getJSON(ctx, u, "/v1/reports/focus", q, v.Focus); err != nil {
			return err
		}
		v.Params.Term = v.Focus.Term
	default:
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "No report " + v.Name + "."}
	}
	for _, d := range []struct{ label, path string }{
		{"IATI activities (XML)", "/v1/iati/activities.xml"},
		{"IATI organisation (XML)", "/v1/iati/organisation.xml"},
		{"Event log (NDJSON)", "/v1/events"},
	} {
		if s.may(u, http.MethodGet, d.path) {
			v.Downloads = append(v.Downloads, kv{d.label, "/app/api" + d.path})
		}
	}
	s.render(w, r, u, http.StatusOK, "report", v)
	return nil
}
