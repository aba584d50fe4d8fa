package webapp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
)

// A form is one write endpoint of the API with a field table: the page
// draws the fields, the post turns them into the endpoint's JSON body and
// sends it through the API with the form's idempotency key. The rules stay
// the domain's: a refusal is shown beside the field it names, in the words
// of its message.

// field is one input of a form. Name is the JSON path of the value in the
// command's body ("amount.amount", "earmark.cluster_id"), or "path.<name>"
// for a segment of the endpoint's path ("{id}").
type field struct {
	Name, Label, Help string
	Kind              string // text, date, amount, textarea, select
	Options           []string
	List              string // a datalist of known ids: donors, terms, lines, …
	Group             string // the error field it shares: "amount" for amount.amount and amount.currency
	Default           string
	Required          bool
	Prefix            string // an id field prefilled with Prefix and a random suffix
}

// form is a write endpoint and its fields.
type form struct {
	Name, Title, Pattern, Intro string
	Fields                      []field
	// Preview, when set, is shown before the command is sent (a term's
	// close); the form then asks to confirm.
	Preview bool
}

func moneyFields(group, label string) []field {
	return []field{
		{Name: group + ".amount", Label: label, Help: "A decimal amount such as 1250.00", Kind: "amount", Group: group, Required: true},
		{Name: group + ".currency", Label: "Currency", Help: "ISO 4217 code", Group: group, Default: "USD", List: "currencies", Required: true},
	}
}

func join(fs ...[]field) []field {
	var out []field
	for _, f := range fs {
		out = append(out, f...)
	}
	return out
}

func one(f ...field) []field { return f }

// forms is the table of every write of the API but the approval (one click
// on the approvals page) and the batch.
var forms = []form{
	{Name: "receipt", Title: "Record a receipt", Pattern: "/v1/contributions", Intro: "Cash received from a donor, from the bank advice. Give the UN operational rate of the day when the currency is not USD.",
		Fields: join(one(
			field{Name: "id", Label: "Receipt id", Prefix: "rcpt", Required: true},
			field{Name: "donor_id", Label: "Donor", List: "donors", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true},
			field{Name: "pledge_id", Label: "Pledge paid (optional)", List: "pledges"}),
			moneyFields("amount", "Amount received"),
			one(field{Name: "usd_rate", Label: "USD rate (UN operational rate; not for USD)", Help: "US dollars for one unit of the currency"},
				field{Name: "received_on", Label: "Received on", Kind: "date", Required: true},
				field{Name: "bank_ref", Label: "Bank reference"}))},
	{Name: "allocation", Title: "Propose an allocation", Pattern: "/v1/allocations", Intro: "Unallocated money to a budget line; an approver other than you approves it.",
		Fields: join(one(
			field{Name: "id", Label: "Allocation id", Prefix: "al", Required: true},
			field{Name: "line_id", Label: "Budget line", List: "lines", Required: true}),
			moneyFields("amount", "Amount (USD)"),
			one(field{Name: "note", Label: "Note", Kind: "textarea"},
				field{Name: "proposed_on", Label: "Proposed on (default today)", Kind: "date"}))},
	{Name: "expenditure", Title: "Record an expenditure", Pattern: "/v1/expenditures",
		Fields: join(one(
			field{Name: "id", Label: "Expenditure id", Prefix: "x", Required: true},
			field{Name: "allocation_id", Label: "Approved allocation", List: "allocations", Required: true}),
			moneyFields("amount", "Amount spent"),
			one(field{Name: "usd_rate", Label: "USD rate (not for USD)"},
				field{Name: "spent_on", Label: "Spent on", Kind: "date", Required: true},
				field{Name: "payee", Label: "Payee", Required: true},
				field{Name: "description", Label: "Description", Kind: "textarea"},
				field{Name: "city_id", Label: "City of the registry (optional)", List: "cities"},
				field{Name: "country", Label: "Country (ISO 3166 alpha-2)"},
				field{Name: "city", Label: "City"}))},
	{Name: "donor", Title: "Register a donor", Pattern: "/v1/donors",
		Fields: one(
			field{Name: "id", Label: "Donor id", Required: true},
			field{Name: "name", Label: "Name", Required: true},
			field{Name: "kind", Label: "Kind", Kind: "select", Options: []string{"member_city", "country", "company", "foundation", "other"}, Required: true},
			field{Name: "country", Label: "Country (ISO 3166 alpha-2)", Required: true},
			field{Name: "city", Label: "City"})},
	{Name: "donor-amend", Title: "Amend a donor", Pattern: "/v1/donors/{id}/amend", Intro: "Fields left empty keep their value.",
		Fields: one(
			field{Name: "path.id", Label: "Donor", List: "donors", Required: true},
			field{Name: "name", Label: "New name"},
			field{Name: "kind", Label: "New kind", Kind: "select", Options: []string{"member_city", "country", "company", "foundation", "other"}},
			field{Name: "country", Label: "New country (ISO 3166 alpha-2)"},
			field{Name: "city", Label: "New city"},
			field{Name: "reason", Label: "Reason", Kind: "textarea", Required: true},
			field{Name: "amended_on", Label: "Amended on (default today)", Kind: "date"})},
	{Name: "pledge", Title: "Record a pledge", Pattern: "/v1/pledges",
		Fields: join(one(
			field{Name: "id", Label: "Pledge id", Prefix: "pl", Required: true},
			field{Name: "donor_id", Label: "Donor", List: "donors", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true}),
			moneyFields("amount", "Amount pledged"),
			one(field{Name: "usd_rate", Label: "USD rate of the signing month (not for USD)"},
				field{Name: "earmark.cluster_id", Label: "Earmark to a cluster (optional)", List: "clusters", Group: "earmark"},
				field{Name: "earmark.line_id", Label: "Earmark to a budget line (optional)", List: "lines", Group: "earmark"},
				field{Name: "signed_on", Label: "Signed on", Kind: "date", Required: true},
				field{Name: "due_on", Label: "Due on", Kind: "date", Required: true}))},
	{Name: "pledge-amend", Title: "Amend a pledge", Pattern: "/v1/pledges/{id}/amend", Intro: "Fields left empty keep their value.",
		Fields: join(one(field{Name: "path.id", Label: "Pledge", List: "pledges", Required: true}),
			[]field{{Name: "amount.amount", Label: "New amount", Kind: "amount", Group: "amount"}, {Name: "amount.currency", Label: "Currency of the pledge", Group: "amount", List: "currencies"}},
			one(field{Name: "usd_rate", Label: "New USD rate (not for USD)"},
				field{Name: "due_on", Label: "New due date", Kind: "date"},
				field{Name: "reason", Label: "Reason", Kind: "textarea", Required: true},
				field{Name: "amended_on", Label: "Amended on (default today)", Kind: "date"}))},
	{Name: "pledge-cancel", Title: "Cancel a pledge", Pattern: "/v1/pledges/{id}/cancel",
		Fields: one(field{Name: "path.id", Label: "Pledge", List: "pledges", Required: true},
			field{Name: "reason", Label: "Reason", Kind: "textarea", Required: true},
			field{Name: "cancelled_on", Label: "Cancelled on (default today)", Kind: "date"})},
	{Name: "budget-line", Title: "Add a budget line", Pattern: "/v1/budget-lines",
		Fields: join(one(
			field{Name: "id", Label: "Line id", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true},
			field{Name: "title", Label: "Title", Required: true}),
			moneyFields("amount", "Budget (USD)"),
			one(field{Name: "cluster_id", Label: "Cluster (optional)", List: "clusters"}))},
	{Name: "interest", Title: "Record interest", Pattern: "/v1/interest",
		Fields: join(one(
			field{Name: "id", Label: "Interest id", Prefix: "int", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true}),
			moneyFields("amount", "Interest (USD)"),
			one(field{Name: "earned_on", Label: "Earned on", Kind: "date", Required: true}))},
	{Name: "refund", Title: "Record a refund", Pattern: "/v1/refunds",
		Fields: join(one(
			field{Name: "id", Label: "Refund id", Prefix: "rf", Required: true},
			field{Name: "donor_id", Label: "Donor", List: "donors", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true}),
			moneyFields("amount", "Amount refunded (USD)"),
			one(field{Name: "paid_on", Label: "Paid on", Kind: "date", Required: true},
				field{Name: "reason", Label: "Reason", Kind: "textarea"}))},
	{Name: "reversal", Title: "Reverse an event", Pattern: "/v1/reversals", Intro: "Reverse from the event's page in the log, or give the event's id here.",
		Fields: one(
			field{Name: "id", Label: "Reversal id", Prefix: "rv", Required: true},
			field{Name: "event_id", Label: "Event id", Required: true},
			field{Name: "reason", Label: "Reason", Kind: "textarea", Required: true})},
	{Name: "term-open", Title: "Open a term", Pattern: "/v1/terms",
		Fields: join(one(
			field{Name: "id", Label: "Term id", Help: "such as 2024-2025", Required: true},
			field{Name: "starts_on", Label: "Starts on", Kind: "date", Required: true},
			field{Name: "ends_on", Label: "Ends on", Kind: "date", Required: true}),
			moneyFields("target", "Target (USD)"),
			one(field{Name: "fee_rate", Label: "Agent's fee rate", Help: "such as 0.01 for 1 %", Required: true}))},
	{Name: "term-close", Title: "Close a term", Pattern: "/v1/terms/{id}/close", Preview: true,
		Intro: "The page shows what the close will carry over or refund before you confirm it.",
		Fields: one(
			field{Name: "path.id", Label: "Term", List: "terms", Required: true},
			field{Name: "closed_on", Label: "Closed on", Kind: "date", Required: true},
			field{Name: "disposition.kind", Label: "Unallocated balance", Kind: "select", Options: []string{"carry_over", "refund"}, Group: "disposition", Required: true},
			field{Name: "disposition.to_term_id", Label: "Carry over to term", List: "terms", Group: "disposition"})},
	{Name: "city", Title: "Register a city", Pattern: "/v1/cities",
		Fields: one(
			field{Name: "id", Label: "City id", Required: true},
			field{Name: "name", Label: "Name", Required: true},
			field{Name: "country", Label: "Country (ISO 3166 alpha-2)", Required: true})},
	{Name: "cluster", Title: "Register a cluster", Pattern: "/v1/clusters",
		Fields: one(
			field{Name: "id", Label: "Cluster id", Required: true},
			field{Name: "name", Label: "Name", Required: true},
			field{Name: "technical_partner", Label: "Technical partner"})},
	{Name: "coordinator", Title: "Appoint a cluster coordinator", Pattern: "/v1/clusters/{id}/coordinators",
		Fields: one(
			field{Name: "path.id", Label: "Cluster", List: "clusters", Required: true},
			field{Name: "city_id", Label: "City", List: "cities", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true})},
	{Name: "member", Title: "Add a member city to a cluster", Pattern: "/v1/clusters/{id}/members",
		Fields: one(
			field{Name: "path.id", Label: "Cluster", List: "clusters", Required: true},
			field{Name: "city_id", Label: "City", List: "cities", Required: true},
			field{Name: "term_id", Label: "Term", List: "terms", Required: true})},
}

func formByName(name string) (form, bool) {
	for _, f := range forms {
		if f.Name == name {
			return f, true
		}
	}
	return form{}, false
}

// probePath is the form's endpoint with "x" for each path segment, to ask
// the route table whether a role may post it.
func (f form) probePath() string {
	return strings.NewReplacer("{id}", "x").Replace(f.Pattern)
}

// formsFor returns the forms the user's role may post.
func (s *Server) formsFor(u *session) []form {
	var out []form
	for _, f := range forms {
		if s.may(u, http.MethodPost, f.probePath()) {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) formsIndex(w http.ResponseWriter, r *http.Request, u *session) error {
	fs := s.formsFor(u)
	if len(fs) == 0 {
		return forbidden(u)
	}
	s.render(w, r, u, http.StatusOK, "forms", fs)
	return nil
}

// newKey returns an idempotency key for one load of a form.
func newKey() string { return ledger.NewCommandID() }

// keyOf returns the posted form's idempotency key, a new one when it has
// none (no protection against a double submit then, but the command goes).
func keyOf(r *http.Request) string {
	if k := r.PostForm.Get("idempotency_key"); k != "" && len(k) <= ledger.MaxCommandIDLen {
		return k
	}
	return newKey()
}

// formView is a form drawn: its fields with their values and errors.
type formView struct {
	Form    form
	Key     string
	Values  map[string]string
	Errors  map[string]string // field name → message
	Error   string            // a refusal that names no field of the form
	Lists   map[string][]string
	Preview *closePreview
}

func (v formView) PageTitle() string { return v.Form.Title }

// formPage is GET /app/forms/{name}: the form, with values from the query
// (a link from an event's page fills in the event to reverse).
func (s *Server) formPage(w http.ResponseWriter, r *http.Request, u *session) error {
	f, ok := formByName(r.PathValue("name"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "No form " + r.PathValue("name") + "."}
	}
	if !s.may(u, http.MethodPost, f.probePath()) {
		return forbidden(u)
	}
	v := formView{Form: f, Key: newKey(), Values: map[string]string{}}
	for _, fd := range f.Fields {
		v.Values[fd.Name] = fd.Default
		if x := r.URL.Query().Get(fd.Name); x != "" {
			v.Values[fd.Name] = x
		}
		if fd.Prefix != "" && v.Values[fd.Name] == "" {
			v.Values[fd.Name] = fd.Prefix + "-" + s.cfg.Today() + "-" + randomSuffix()
		}
	}
	v.Lists = s.lists(r, u)
	s.render(w, r, u, http.StatusOK, "form", v)
	return nil
}

func randomSuffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// formSubmit is POST /app/forms/{name}: the fields become the endpoint's
// JSON body, sent with the form's idempotency key. A refusal draws the form
// again with what was typed and the message beside its field.
func (s *Server) formSubmit(w http.ResponseWriter, r *http.Request, u *session) error {
	f, ok := formByName(r.PathValue("name"))
	if !ok {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "No form " + r.PathValue("name") + "."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: "malformed_form", Message: "The form could not be read."}
	}
	v := formView{Form: f, Key: keyOf(r), Values: map[string]string{}, Errors: map[string]string{}}
	body := map[string]any{}
	path := f.Pattern
	for _, fd := range f.Fields {
		val := strings.TrimSpace(r.PostForm.Get(fd.Name))
		v.Values[fd.Name] = val
		if name, ok := strings.CutPrefix(fd.Name, "path."); ok {
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(val))
			continue
		}
		if val != "" {
			setPath(body, fd.Name, val)
		}
	}
	if strings.Contains(path, "{}") || strings.Contains(path, "//") {
		// An empty path segment: say so beside the field, as the domain
		// would for a missing id.
		for _, fd := range f.Fields {
			if strings.HasPrefix(fd.Name, "path.") && v.Values[fd.Name] == "" {
				v.Errors[fd.Name] = fd.Label + " is required"
			}
		}
		return s.formAgain(w, r, u, v, http.StatusUnprocessableEntity)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if f.Preview && r.PostForm.Get("confirm") != "yes" {
		p, err := s.previewClose(r, u, v.Values)
		if err != nil {
			return s.formRefused(w, r, u, v, err)
		}
		v.Preview = p
		return s.formAgain(w, r, u, v, http.StatusOK)
	}
	a, err := s.call(r.Context(), u, http.MethodPost, path, nil, b, v.Key)
	if err != nil {
		return s.formRefused(w, r, u, v, err)
	}
	return s.done(w, r, u, a, f.Title+": recorded", "/app/forms/"+f.Name)
}

// formRefused draws the form again with the API's refusal beside the field
// it names.
func (s *Server) formRefused(w http.ResponseWriter, r *http.Request, u *session, v formView, err error) error {
	ae, ok := err.(*apiError)
	if !ok {
		return err
	}
	if ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized {
		return err
	}
	placed := false
	for _, fd := range v.Form.Fields {
		name := strings.TrimPrefix(fd.Name, "path.")
		if ae.Field != "" && (ae.Field == name || ae.Field == fd.Group || (fd.Name == "path.id" && ae.Field == "id" && !hasField(v.Form, "id"))) {
			if fd.Group != "" && ae.Field == fd.Group {
				// One message for the group, beside its first input.
				if _, done := v.Errors[fd.Group]; done {
					continue
				}
				v.Errors[fd.Group] = ae.Message
			}
			v.Errors[fd.Name] = ae.Message
			placed = true
			break
		}
	}
	if !placed {
		v.Error = ae.Message
	}
	// A new key for the corrected command: the refused one was not
	// recorded, but a new load is a new attempt.
	v.Key = newKey()
	return s.formAgain(w, r, u, v, ae.Status)
}

func hasField(f form, name string) bool {
	for _, fd := range f.Fields {
		if fd.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) formAgain(w http.ResponseWriter, r *http.Request, u *session, v formView, status int) error {
	v.Lists = s.lists(r, u)
	s.render(w, r, u, status, "form", v)
	return nil
}

// setPath sets a dotted JSON path in a nested object.
func setPath(m map[string]any, path, val string) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		m[head] = val
		return
	}
	sub, ok := m[head].(map[string]any)
	if !ok {
		sub = map[string]any{}
		m[head] = sub
	}
	setPath(sub, rest, val)
}

// doneView is the page after a write: the events it appended.
type doneView struct {
	Title    string
	Replayed bool
	Events   []events.Ref
	Back     string
	Linked   bool
}

func (v doneView) PageTitle() string { return v.Title }

func (s *Server) done(w http.ResponseWriter, r *http.Request, u *session, a *answer, title, back string) error {
	var res struct {
		Events []events.Ref `json:"events"`
	}
	if err := json.Unmarshal(a.body.Bytes(), &res); err != nil {
		return fmt.Errorf("decode write answer: %w", err)
	}
	v := doneView{Title: title, Replayed: a.status == http.StatusOK, Events: res.Events, Back: back, Linked: s.may(u, http.MethodGet, "/v1/events")}
	s.render(w, r, u, http.StatusOK, "done", v)
	return nil
}

// lists are the known ids a form's inputs offer (datalists): a help, not a
// rule — the domain judges what is sent.
func (s *Server) lists(r *http.Request, u *session) map[string][]string {
	ctx := r.Context()
	m := map[string][]string{"currencies": {"USD", "EUR", "JPY", "GBP", "CHF", "CNY", "KRW"}}
	m["terms"], _ = s.cfg.Store.TermIDs(ctx, s.cfg.Fund)
	ds, _ := s.cfg.Store.Donors(ctx, s.cfg.Fund)
	for _, d := range ds {
		m["donors"] = append(m["donors"], d.DonorID)
	}
	as, _ := s.cfg.Store.Allocations(ctx, s.cfg.Fund, "approved")
	for _, a := range as {
		m["allocations"] = append(m["allocations"], a.AllocationID)
	}
	if s.canReadBooks(u) {
		var br projections.BudgetReport
		if s.getJSON(ctx, u, "/v1/reports/budget", nil, &br) == nil {
			for _, l := range br.Lines {
				m["lines"] = append(m["lines"], l.LineID)
			}
			for _, c := range br.Clusters {
				m["clusters"] = append(m["clusters"], c.ClusterID)
			}
		}
		var ps struct {
			Pledges []projections.PledgeRow `json:"pledges"`
		}
		if s.getJSON(ctx, u, "/v1/pledges", nil, &ps) == nil {
			for _, p := range ps.Pledges {
				m["pledges"] = append(m["pledges"], p.PledgeID)
			}
		}
		var cs struct {
			Clusters []projections.ClusterRow `json:"clusters"`
		}
		if s.getJSON(ctx, u, "/v1/clusters", nil, &cs) == nil {
			seen := map[string]bool{}
			for _, c := range cs.Clusters {
				for _, p := range append(c.Coordinators, c.Members...) {
					if !seen[p.CityID] {
						seen[p.CityID] = true
						m["cities"] = append(m["cities"], p.CityID)
					}
				}
			}
		}
	}
	return m
}

// closePreview is what closing a term would do: its unallocated balance
// now, carried over or refunded, and each donor's part of it.
type closePreview struct {
	Term, ClosedOn, Kind, ToTerm string
	Unallocated                  string
	Earmarked                    []kv
	Donors                       []donorMoney
}

// previewClose draws the preview of a term's close from the balance and
// the attribution reports at the closing date. The close itself is the
// domain's; this shows the figures it starts from.
func (s *Server) previewClose(r *http.Request, u *session, vals map[string]string) (*closePreview, error) {
	ctx := r.Context()
	p := &closePreview{Term: vals["path.id"], ClosedOn: vals["closed_on"], Kind: vals["disposition.kind"], ToTerm: vals["disposition.to_term_id"]}
	q := url.Values{"term": {p.Term}}
	if p.ClosedOn != "" {
		q.Set("as_of", p.ClosedOn)
	}
	var b projections.Balance
	if err := s.getJSON(ctx, u, "/v1/funds/"+s.cfg.Fund+"/balance", q, &b); err != nil {
		if ae, ok := err.(*apiError); ok && ae.Field == "term" {
			ae.Field = "id"
		}
		return nil, err
	}
	p.Unallocated = b.Unallocated
	for k, x := range b.UnallocatedEarmarked.Map() {
		p.Earmarked = append(p.Earmarked, kv{k, x})
	}
	at, err := donors.Attribute(ctx, s.cfg.Store, donors.AttributionQuery{Fund: s.cfg.Fund, Term: b.Term, AsOf: b.AsOf, AtSeq: b.FundSeq})
	if err == nil {
		names := s.donorNames(ctx)
		for _, d := range at.Donors {
			p.Donors = append(p.Donors, donorMoney{ID: d.DonorID, Name: names[d.DonorID], AttributionFigures: d.AttributionFigures})
		}
	}
	return p, nil
}
