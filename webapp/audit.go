package webapp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// Limits of the event log pages.
const (
	// EventsPerPage is the rows of one page of the log.
	EventsPerPage = 50
	// MaxEventsScanned bounds the events one page of the log reads to
	// filter: the log is read through GET /v1/events in chunks.
	MaxEventsScanned = 1_000_000
	eventsChunk      = 10_000
)

// logEvent is an event of the log with the fields the filters look at.
type logEvent struct {
	events.Event
	DonorID, LineID string
}

// readLog reads the fund's events after fund_seq after through the API
// (the auditor's GET /v1/events), calling fn for each until it returns
// false.
func (s *Server) readLog(ctx context.Context, u *session, after uint64, fn func(logEvent) bool) error {
	for scanned := 0; scanned < MaxEventsScanned; {
		q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(eventsChunk)}}
		a, err := s.call(ctx, u, http.MethodGet, "/v1/events", q, nil, "")
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(a.body.Bytes()))
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		n := 0
		for sc.Scan() {
			e, err := events.Decode(sc.Bytes())
			if err != nil {
				return fmt.Errorf("decode event after fund_seq %d: %w", after, err)
			}
			n++
			after = e.FundSeq
			le := logEvent{Event: e}
			var ids struct {
				DonorID string `json:"donor_id"`
				LineID  string `json:"line_id"`
			}
			_ = json.Unmarshal(e.Data, &ids) // a payload without them has none
			le.DonorID, le.LineID = ids.DonorID, ids.LineID
			if !fn(le) {
				return nil
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
		scanned += n
		if n < eventsChunk {
			return nil
		}
	}
	return nil
}

type eventsView struct {
	Types                              []string
	Type, From, To, Actor, Donor, Line string
	Rows                               []logEvent
	Page                               int
	Prev, Next                         string
	Matched                            int
}

// eventsPage is GET /app/events?type=&from=&to=&actor=&donor=&line=&page=:
// the event log, filtered, newest last, EventsPerPage a page.
func (s *Server) eventsPage(w http.ResponseWriter, r *http.Request, u *session) error {
	q := r.URL.Query()
	v := eventsView{Types: eventTypes, Type: q.Get("type"), From: q.Get("from"), To: q.Get("to"), Actor: q.Get("actor"), Donor: q.Get("donor"), Line: q.Get("line")}
	v.Page, _ = strconv.Atoi(q.Get("page"))
	if v.Page < 1 {
		v.Page = 1
	}
	skip := (v.Page - 1) * EventsPerPage
	more := false
	err := s.readLog(r.Context(), u, 0, func(e logEvent) bool {
		if !v.match(e) {
			return true
		}
		v.Matched++
		if v.Matched <= skip {
			return true
		}
		if len(v.Rows) == EventsPerPage {
			more = true
			return false
		}
		v.Rows = append(v.Rows, e)
		return true
	})
	if err != nil {
		return err
	}
	page := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return "/app/events?" + q.Encode()
	}
	if v.Page > 1 {
		v.Prev = page(v.Page - 1)
	}
	if more {
		v.Next = page(v.Page + 1)
	}
	s.render(w, r, u, http.StatusOK, "events", v)
	return nil
}

func (v eventsView) match(e logEvent) bool {
	return (v.Type == "" || e.Type == v.Type) &&
		(v.From == "" || e.EffectiveOn >= v.From) &&
		(v.To == "" || e.EffectiveOn <= v.To) &&
		(v.Actor == "" || e.Actor == v.Actor) &&
		(v.Donor == "" || e.DonorID == v.Donor) &&
		(v.Line == "" || e.LineID == v.Line)
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
	err = s.readLog(r.Context(), u, seq-1, func(e logEvent) bool {
		if e.FundSeq == seq {
			v.E, found = e.Event, true
			return true
		}
		if e.Type == events.TypeEventReversed {
			var rv events.EventReversed
			if json.Unmarshal(e.Data, &rv) == nil && rv.EventID == v.E.ID {
				v.ReversedBy = append(v.ReversedBy, e.Event)
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if !found {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("Fund %s has no event %d.", s.cfg.Fund, seq)}
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
	Ran    bool
	Report audit.VerifyReport
}

// verifyPage is GET /app/verify: the button.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request, u *session) error {
	if !s.may(u, http.MethodGet, "/v1/audit/verify") {
		return forbidden(u)
	}
	s.render(w, r, u, http.StatusOK, "verify", verifyView{})
	return nil
}

// verifyRun is POST /app/verify: runs the audit verify of the API and shows
// its report.
func (s *Server) verifyRun(w http.ResponseWriter, r *http.Request, u *session) error {
	v := verifyView{Ran: true}
	if err := s.getJSON(r.Context(), u, "/v1/audit/verify", nil, &v.Report); err != nil {
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
