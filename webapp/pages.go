package webapp

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// reportParams are the query of a report page: the term, the date the
// figures are at and the fund_seq of "what was known then".
type reportParams struct {
	Term, AsOf, AtSeq string
	Terms             []string
}

// readReportParams takes term, as_of and at_seq from the page's query and
// the fund's terms for the picker. Their checks are the API's.
func (s *Server) readReportParams(ctx context.Context, r *http.Request) reportParams {
	q := r.URL.Query()
	p := reportParams{Term: q.Get("term"), AsOf: q.Get("as_of"), AtSeq: q.Get("at_seq")}
	p.Terms, _ = s.cfg.Store.TermIDs(ctx, s.cfg.Fund) // a fund with no events has none
	return p
}

// values returns the parameters as an API query, empty ones left out.
func (p reportParams) values(withSeq bool) url.Values {
	q := url.Values{}
	if p.Term != "" {
		q.Set("term", p.Term)
	}
	if p.AsOf != "" {
		q.Set("as_of", p.AsOf)
	}
	if withSeq && p.AtSeq != "" {
		q.Set("at_seq", p.AtSeq)
	}
	return q
}

// donorName is a donor with its money in a term.
type donorMoney struct {
	ID, Name string
	donors.AttributionFigures
}

type dashboardView struct {
	Params    reportParams
	Balance   projections.Balance
	Progress  progress
	Earmarked []kv
	Staff     bool
	Donors    []donorMoney
	Lines     barChart
	Clusters  barChart
	Focus     *projections.FocusReport
	Budget    *projections.BudgetReport
	DonorID   string
}

type kv struct{ Key, Value string }

// dashboard is GET /app/dashboard: every staff role sees the whole of it; a
// donor the fund-level part (the balance), which its role may read.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, u *session) error {
	ctx := r.Context()
	v := dashboardView{Params: s.readReportParams(ctx, r), Staff: s.canReadBooks(u), DonorID: u.p.Role.DonorID}
	if err := s.getJSON(ctx, u, "/v1/funds/"+s.cfg.Fund+"/balance", v.Params.values(true), &v.Balance); err != nil {
		return err
	}
	if v.Params.Term == "" {
		v.Params.Term = v.Balance.Term
	}
	v.Progress = newProgress(v.Balance)
	pots := v.Balance.UnallocatedEarmarked.Map()
	for _, k := range slices.Sorted(maps.Keys(pots)) {
		v.Earmarked = append(v.Earmarked, kv{k, pots[k]})
	}
	if !v.Staff {
		s.render(w, r, u, http.StatusOK, "dashboard", v)
		return nil
	}
	q := v.Params.values(true)
	q.Set("term", v.Balance.Term)
	var br projections.BudgetReport
	if err := s.getJSON(ctx, u, "/v1/reports/budget", q, &br); err != nil {
		return err
	}
	v.Budget = &br
	v.Lines, v.Clusters = budgetCharts(br)
	var fr projections.FocusReport
	if err := s.getJSON(ctx, u, "/v1/reports/focus", q, &fr); err != nil {
		return err
	}
	v.Focus = &fr
	// Who gave what: the attribution report of the term, at the same date
	// and fund_seq as the balance.
	at, err := donors.Attribute(ctx, s.cfg.Store, donors.AttributionQuery{Fund: s.cfg.Fund, Term: v.Balance.Term, AsOf: v.Balance.AsOf, AtSeq: v.Balance.FundSeq})
	if err != nil {
		return err
	}
	names := s.donorNames(ctx)
	for _, d := range at.Donors {
		v.Donors = append(v.Donors, donorMoney{ID: d.DonorID, Name: names[d.DonorID], AttributionFigures: d.AttributionFigures})
	}
	s.render(w, r, u, http.StatusOK, "dashboard", v)
	return nil
}

// budgetCharts draws the budget report per line (the lines with money
// allocated or spent, and UIL's own lines) and per cluster.
func budgetCharts(br projections.BudgetReport) (lines, clusters barChart) {
	var ll, lt []string
	var lf []projections.BudgetFigures
	for _, l := range br.Lines {
		if l.ClusterID != "" && toFloat(l.Allocated) == 0 && toFloat(l.Spent) == 0 {
			continue
		}
		ll, lt, lf = append(ll, l.LineID), append(lt, l.Title), append(lf, l.BudgetFigures)
	}
	var cl, ct []string
	var cf []projections.BudgetFigures
	for _, c := range br.Clusters {
		cl, ct, cf = append(cl, c.ClusterID), append(ct, c.Name), append(cf, c.BudgetFigures)
	}
	cl, ct, cf = append(cl, "UIL lines"), append(ct, "Lines of no cluster (UIL's own activities)"), append(cf, br.Unclustered)
	return budgetChart("Budget against actual per line", ll, lt, lf), budgetChart("Budget against actual per cluster", cl, ct, cf)
}

func (s *Server) donorNames(ctx context.Context) map[string]string {
	ds, _ := s.cfg.Store.Donors(ctx, s.cfg.Fund) // no fund yet: no names
	m := map[string]string{}
	for _, d := range ds {
		m[d.DonorID] = d.Name
	}
	return m
}

type approvalsView struct {
	Rows []approvalRow
}

type approvalRow struct {
	projections.AllocationRow
	Own, CanApprove bool
	Key             string
	Unallocated     string // in the allocation's term, now
}

// approvals is GET /app/approvals: the proposed allocations with who
// proposed them, when, the line, the amount and what is unallocated now.
// An approver's own proposals are shown without the button: the domain
// refuses them anyway (self_approval).
func (s *Server) approvals(w http.ResponseWriter, r *http.Request, u *session) error {
	if !s.canReadBooks(u) {
		return forbidden(u)
	}
	ctx := r.Context()
	rows, err := s.cfg.Store.Allocations(ctx, s.cfg.Fund, "proposed")
	if err != nil {
		return err
	}
	// What is unallocated now in each allocation's term: the balance
	// of the API, once a term.
	unallocated := map[string]string{}
	v := approvalsView{}
	for _, a := range rows {
		if _, ok := unallocated[a.TermID]; !ok {
			var b projections.Balance
			if err := s.getJSON(ctx, u, "/v1/funds/"+s.cfg.Fund+"/balance", url.Values{"term": {a.TermID}}, &b); err != nil {
				return err
			}
			unallocated[a.TermID] = b.Unallocated
		}
		own := a.ProposedBy == u.p.User
		v.Rows = append(v.Rows, approvalRow{AllocationRow: a, Own: own, Key: newKey(), Unallocated: unallocated[a.TermID],
			CanApprove: !own && s.may(u, http.MethodPost, "/v1/allocations/"+url.PathEscape(a.AllocationID)+"/approve")})
	}
	s.render(w, r, u, http.StatusOK, "approvals", v)
	return nil
}

// approve is POST /app/approvals/{id}/approve: one click, through the
// approve endpoint with the form's idempotency key.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, u *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "malformed_form", Message: "The form could not be read."}
	}
	path := "/v1/allocations/" + url.PathEscape(r.PathValue("id")) + "/approve"
	body := []byte("{}")
	if on := strings.TrimSpace(r.PostForm.Get("approved_on")); on != "" {
		var err error
		if body, err = json.Marshal(map[string]string{"approved_on": on}); err != nil {
			return err
		}
	}
	a, err := s.call(r.Context(), u, http.MethodPost, path, nil, body, keyOf(r))
	if err != nil {
		return err
	}
	return s.done(w, r, u, a, "Allocation "+r.PathValue("id")+" approved", "/app/approvals")
}

type pledgesView struct {
	Params  reportParams
	Pledges []projections.PledgeRow
	Names   map[string]string
}

// pledgesPage is GET /app/pledges: amount, paid, outstanding and overdue of
// each pledge, by donor and term.
func (s *Server) pledgesPage(w http.ResponseWriter, r *http.Request, u *session) error {
	ctx := r.Context()
	v := pledgesView{Params: s.readReportParams(ctx, r)}
	var ans struct {
		Pledges []projections.PledgeRow `json:"pledges"`
	}
	if err := s.getJSON(ctx, u, "/v1/pledges", v.Params.values(false), &ans); err != nil {
		return err
	}
	v.Pledges, v.Names = ans.Pledges, s.donorNames(ctx)
	s.render(w, r, u, http.StatusOK, "pledges", v)
	return nil
}

// donorsPage is GET /app/donors: the donors, each with a link to its page.
func (s *Server) donorsPage(w http.ResponseWriter, r *http.Request, u *session) error {
	if !s.canReadBooks(u) {
		return forbidden(u)
	}
	ds, err := s.cfg.Store.Donors(r.Context(), s.cfg.Fund)
	if err != nil {
		return err
	}
	s.render(w, r, u, http.StatusOK, "donors", ds)
	return nil
}

type donorView struct {
	Params   reportParams
	S        statement.Statement
	CSV, PDF string
	// Proof links the donor's proof bundle when the statement names a
	// signed checkpoint (docs/transparency.md); empty otherwise.
	Proof string
}

func (v donorView) PageTitle() string { return "Statement of " + v.S.Donor.Name }

// donorPage is GET /app/donors/{id}: the donor's statement for a term as of
// a date, with links to its CSV and PDF, and to its proof bundle when the
// statement names a signed checkpoint. The API refuses a donor's role
// another donor's statement.
func (s *Server) donorPage(w http.ResponseWriter, r *http.Request, u *session) error {
	ctx := r.Context()
	v := donorView{Params: s.readReportParams(ctx, r)}
	path := "/v1/donors/" + url.PathEscape(r.PathValue("id")) + "/statement"
	if err := s.getJSON(ctx, u, path, v.Params.values(true), &v.S); err != nil {
		return err
	}
	q := v.Params.values(true)
	q.Set("term", v.S.Term.ID)
	q.Set("as_of", v.S.AsOf)
	q.Set("format", "csv")
	v.CSV = "/app/api" + path + "?" + q.Encode()
	q.Set("format", "pdf")
	v.PDF = "/app/api" + path + "?" + q.Encode()
	if v.S.Checkpoint != nil {
		// The bundle is against the latest checkpoint: it takes no at_seq.
		pq := url.Values{"term": {v.S.Term.ID}, "as_of": {v.S.AsOf}}
		v.Proof = "/app/api/v1/donors/" + url.PathEscape(r.PathValue("id")) + "/proof?" + pq.Encode()
	}
	s.render(w, r, u, http.StatusOK, "donor", v)
	return nil
}

// eventTypes are the types the log filter offers.
var eventTypes = []string{
	events.TypeTermOpened, events.TypeDonorRegistered, events.TypePledgeRecorded, events.TypePledgeAmended, events.TypePledgeCancelled,
	events.TypeContributionReceived, events.TypeFeeCharged, events.TypeBudgetLineAdded, events.TypeAllocationProposed,
	events.TypeAllocationApproved, events.TypeExpenditureRecorded, events.TypeInterestEarned, events.TypeRefundPaid,
	events.TypeEventReversed, events.TypeBalanceCarriedOver, events.TypeTermClosed, events.TypeCityRegistered,
	events.TypeClusterRegistered, events.TypeCoordinatorAppointed, events.TypeMemberJoined,
}
