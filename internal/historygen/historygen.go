// Package historygen draws random commands, valid or not, for the property
// tests of the domain and of the projections: ids mostly taken from what
// the state knows, so that histories go deep enough to spend, refund,
// reverse and close, and now and then a mistake to be refused.
//
// It holds what the two generators share: the terms they open, the
// drawing of ids, dates, money and rates, and the commands both draw the
// same way. Each test keeps its own choice of the next kind of command and
// the commands it draws differently.
package historygen

import (
	"sort"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TermSpans are the terms the generators open: two that follow each other
// and one that overlaps both.
var TermSpans = map[string][2]string{
	"T20": {"2020-01-01", "2021-12-31"},
	"T22": {"2022-01-01", "2023-12-31"},
	"T21": {"2021-06-01", "2022-06-30"},
}

// BadIDs are the malformed or unknown ids mixed in with good ones.
var BadIDs = []string{"", "bad id", "X9"}

// Pick draws from good most of the time and from bad now and then, so that
// a history has enough accepted commands to build on and enough mistakes to
// be refused.
func Pick(t *rapid.T, label string, good, bad []string) string {
	if len(bad) > 0 && rapid.IntRange(0, 7).Draw(t, label+" is bad") == 7 {
		return rapid.SampledFrom(bad).Draw(t, label)
	}
	return rapid.SampledFrom(good).Draw(t, label)
}

// Known returns the ids of m, sorted, or fallback when there are none.
func Known[V any](m map[string]*V, fallback string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return []string{fallback}
	}
	sort.Strings(ids)
	return ids
}

// Allocations returns the ids of the allocations that are approved (or
// not), sorted, or "A1" when there are none.
func Allocations(s *domain.State, approved bool) []string {
	var ids []string
	for id, a := range s.Allocations {
		if a.Approved == approved {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return []string{"A1"}
	}
	sort.Strings(ids)
	return ids
}

// ReversibleEvents returns the ids of the money events a reversal may name
// (reversed or not, as asked), in the fund's order.
func ReversibleEvents(s *domain.State, reversed bool) []string {
	var ids []string
	for i, e := range s.Events.Entries {
		seq := uint64(i + 1)
		if events.Reversible(s.Events.Label(e.Type)) && (s.Events.ReversedBy[seq] != "") == reversed {
			ids = append(ids, s.IDAt(seq))
		}
	}
	return ids
}

// Unreversible returns the ids of the events a reversal may not name (fees,
// term openings, donor amendments and what is already reversed), sorted.
func Unreversible(s *domain.State) []string {
	var ids []string
	for i, e := range s.Events.Entries {
		seq := uint64(i + 1)
		if typ := s.Events.Label(e.Type); typ == events.TypeFeeCharged || typ == events.TypeTermOpened || typ == events.TypeDonorAmended || s.Events.ReversedBy[seq] != "" {
			ids = append(ids, s.IDAt(seq))
		}
	}
	sort.Strings(ids)
	return ids
}

// USDNear draws US dollars up to a tenth more than limit, so that a command
// is mostly within what is left and sometimes just beyond it.
func USDNear(t *rapid.T, label string, limit int64) domain.MoneyInput {
	minor := rapid.Int64Range(1, max(1, limit+limit/10)).Draw(t, label+".minor")
	return domain.MoneyInput{Amount: money.FormatUSD(minor), Currency: "USD"}
}

// Gen draws fields and commands with the mistakes a test wants mixed in.
type Gen struct {
	BadDates    []string // dates that are malformed or outside every term
	BadAmounts  []string // amounts that are zero, negative, too precise or malformed
	BadUSDRates []string // usd_rates wrong for US dollars
	BadRates    []string // usd_rates wrong for another currency
}

// Date draws a date, mostly inside term (or any term when term is unknown).
func (g Gen) Date(t *rapid.T, label, term string) string {
	good := []string{"2020-01-01", "2020-06-15", "2021-03-15", "2021-07-01", "2021-12-31", "2022-01-01", "2022-07-01", "2023-12-31"}
	if span, ok := TermSpans[term]; ok {
		good = []string{span[0], span[0][:4] + "-03-15", span[0][:4] + "-09-30", span[1][:4] + "-04-01", span[1]}
	}
	return Pick(t, label, good, g.BadDates)
}

// Money draws money as a user types it: mostly valid amounts up to maxMinor
// minor units in a known currency (US dollars only unless foreign),
// sometimes one of g.BadAmounts or in an unknown currency.
func (g Gen) Money(t *rapid.T, label string, maxMinor int64, foreign bool) domain.MoneyInput {
	good := []string{"USD"}
	if foreign {
		good = []string{"USD", "USD", "EUR", "JPY", "KWD"}
	}
	code := Pick(t, label+".currency", good, []string{"XXX", "", "EUR"})
	cur, err := money.LookupCurrency(code)
	if err != nil {
		cur = money.USD
	}
	amount := money.Format(rapid.Int64Range(1, maxMinor).Draw(t, label+".minor"), cur)
	if rapid.IntRange(0, 9).Draw(t, label+" is bad") == 9 {
		amount = rapid.SampledFrom(g.BadAmounts).Draw(t, label+".bad")
	}
	return domain.MoneyInput{Amount: amount, Currency: code}
}

// Rate draws a usd_rate for money in code.
func (g Gen) Rate(t *rapid.T, label string, code string) string {
	if code == "USD" {
		return Pick(t, label, []string{"", "1"}, g.BadUSDRates)
	}
	return Pick(t, label, []string{"1.1", "1.0832", "0.0091", "3.2563", "0.9"}, g.BadRates)
}

// Cluster draws a cluster's registration.
func (g Gen) Cluster(t *rapid.T, m domain.Meta) *domain.RegisterCluster {
	return &domain.RegisterCluster{Meta: m, ID: Pick(t, "cluster", []string{"ESD", "EQI"}, BadIDs), Name: "Cluster"}
}

// Contribution draws a receipt, now and then paying a pledge s knows.
func (g Gen) Contribution(t *rapid.T, s *domain.State, m domain.Meta) *domain.RecordContribution {
	term := Pick(t, "term_id", Known(s.Terms, "T20"), []string{"T99", ""})
	in := g.Money(t, "amount", 10000000, true)
	c := &domain.RecordContribution{Meta: m,
		ID:      Pick(t, "contribution", []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"}, BadIDs),
		DonorID: Pick(t, "donor_id", Known(s.Donors, "D1"), []string{"D9", ""}), TermID: term, Amount: in,
		USDRate: g.Rate(t, "usd_rate", in.Currency), ReceivedOn: g.Date(t, "received_on", term)}
	if len(s.Pledges) > 0 && rapid.Bool().Draw(t, "pays a pledge") {
		c.PledgeID = Pick(t, "pledge_id", Known(s.Pledges, "P1"), []string{"P9"})
		if pl, ok := s.Pledges[c.PledgeID]; ok {
			if rapid.IntRange(0, 7).Draw(t, "another donor or term") != 7 {
				c.DonorID, c.TermID = pl.DonorID, pl.TermID
			}
			cur, _ := money.LookupCurrency(pl.Amount.Currency)
			left := pl.Amount.Minor - pl.PaidMinor
			minor := rapid.Int64Range(1, max(1, left+left/10)).Draw(t, "paid.minor")
			c.Amount = domain.MoneyInput{Amount: money.Format(minor, cur), Currency: cur.Code}
			c.USDRate = g.Rate(t, "usd_rate", cur.Code)
			c.ReceivedOn = g.Date(t, "received_on", c.TermID)
		}
	}
	return c
}

// AmendPledge draws an amendment of a pledge s knows, of its amount (near
// what is paid and up to half as much again) or its due date.
func (g Gen) AmendPledge(t *rapid.T, s *domain.State, m domain.Meta) *domain.AmendPledge {
	c := &domain.AmendPledge{Meta: m, ID: Pick(t, "pledge_id", Known(s.Pledges, "P1"), []string{"P9", ""}),
		Reason: Pick(t, "reason", []string{"addendum"}, []string{""})}
	if pl, ok := s.Pledges[c.ID]; ok && rapid.IntRange(0, 3).Draw(t, "amend amount") > 0 {
		cur, _ := money.LookupCurrency(pl.Amount.Currency)
		minor := rapid.Int64Range(max(1, pl.PaidMinor-pl.PaidMinor/10), max(1, pl.Amount.Minor*3/2)).Draw(t, "amended.minor")
		c.Amount = domain.MoneyInput{Amount: money.Format(minor, cur), Currency: cur.Code}
		c.USDRate = g.Rate(t, "usd_rate", cur.Code)
	}
	if rapid.Bool().Draw(t, "amend due_on") {
		c.DueOn = g.Date(t, "due_on", "")
	}
	return c
}

// AmendDonor draws an amendment of a donor s knows: some of its name, kind,
// country and city (now and then none, or one that is invalid), dated today
// or on a date of a term.
func (g Gen) AmendDonor(t *rapid.T, s *domain.State, m domain.Meta) *domain.AmendDonor {
	c := &domain.AmendDonor{Meta: m, ID: Pick(t, "donor_id", Known(s.Donors, "D1"), []string{"D9", ""}),
		Reason: Pick(t, "reason", []string{"typo"}, []string{""})}
	field := func(label string, good, bad []string) *string {
		if !rapid.Bool().Draw(t, "amend "+label) {
			return nil
		}
		v := Pick(t, label, good, bad)
		return &v
	}
	c.Name = field("name", []string{"Donor", "Donor (amended)", "Dönor"}, []string{""})
	c.Kind = field("kind", []string{"country", "member_city", "foundation"}, []string{"government", ""})
	c.Country = field("country", []string{"DE", "KE", "KR"}, []string{"ZZ", ""})
	c.City = field("city", []string{"", "Bonn"}, nil)
	if rapid.Bool().Draw(t, "amended_on given") {
		c.AmendedOn = g.Date(t, "amended_on", "")
	}
	return c
}

// CancelPledge draws the cancellation of a pledge s knows.
func (g Gen) CancelPledge(t *rapid.T, s *domain.State, m domain.Meta) *domain.CancelPledge {
	return &domain.CancelPledge{Meta: m, ID: Pick(t, "pledge_id", Known(s.Pledges, "P1"), []string{"P9", ""}),
		Reason: Pick(t, "reason", []string{"withdrawn"}, []string{""})}
}

// Interest draws interest earned by a term.
func (g Gen) Interest(t *rapid.T, s *domain.State, m domain.Meta) *domain.RecordInterest {
	term := Pick(t, "term_id", Known(s.Terms, "T20"), []string{"T99", ""})
	return &domain.RecordInterest{Meta: m, ID: Pick(t, "interest", []string{"I1", "I2", "I3", "I4"}, BadIDs), TermID: term,
		Amount: g.Money(t, "interest", 500000, false), EarnedOn: g.Date(t, "earned_on", term)}
}

// Refund draws a refund to a donor, half the time near what is
// attributable to the donor in the term, both today and on its paid_on.
func (g Gen) Refund(t *rapid.T, s *domain.State, m domain.Meta) *domain.RecordRefund {
	term := Pick(t, "term_id", Known(s.Terms, "T20"), []string{"T99", ""})
	donor := Pick(t, "donor_id", Known(s.Donors, "D1"), []string{"D9", ""})
	paidOn := g.Date(t, "paid_on", term)
	in := g.Money(t, "refund", 3000000, false)
	if rapid.Bool().Draw(t, "refund what is attributable") {
		most := domain.Attributable(s, term, donor)
		if then, err := domain.AttributableOn(s, term, donor, paidOn); err == nil {
			most = min(most, then)
		}
		in = USDNear(t, "refund", most)
	}
	return &domain.RecordRefund{Meta: m, ID: Pick(t, "refund", []string{"R1", "R2", "R3", "R4", "R5"}, BadIDs),
		DonorID: donor, TermID: term, Amount: in, PaidOn: paidOn}
}

// BudgetLine draws a budget line, now and then of a cluster.
func (g Gen) BudgetLine(t *rapid.T, s *domain.State, m domain.Meta) *domain.AddBudgetLine {
	return &domain.AddBudgetLine{Meta: m, ID: Pick(t, "line", []string{"L1", "L2", "L3", "L4", "L5", "L6"}, BadIDs),
		TermID: Pick(t, "term_id", Known(s.Terms, "T20"), []string{"T99", ""}),
		Title:  "Line", Amount: g.Money(t, "budget", 5000000, false),
		ClusterID: Pick(t, "cluster_id", []string{"", "", "ESD", "EQI"}, []string{"LIT"})}
}

// Proposal draws a proposed allocation to a line, half the time near what
// the line and its term have left.
func (g Gen) Proposal(t *rapid.T, s *domain.State, m domain.Meta) *domain.ProposeAllocation {
	line := Pick(t, "line_id", Known(s.Lines, "L1"), []string{"L9", ""})
	term := ""
	if l, ok := s.Lines[line]; ok {
		term = l.TermID
	}
	in := g.Money(t, "allocated", 3000000, false)
	if l, ok := s.Lines[line]; ok && rapid.Bool().Draw(t, "allocate what is left") {
		in = USDNear(t, "allocated", min(s.Terms[l.TermID].Unallocated, l.BudgetMinor-l.ApprovedMinor-l.ProposedMinor))
	}
	return &domain.ProposeAllocation{Meta: m, ID: Pick(t, "allocation", []string{"A1", "A2", "A3", "A4", "A5", "A6"}, BadIDs),
		LineID: line, Amount: in, ProposedOn: g.Date(t, "proposed_on", term)}
}

// Approval draws the approval of a proposed allocation.
func (g Gen) Approval(t *rapid.T, s *domain.State, m domain.Meta) *domain.ApproveAllocation {
	id := Pick(t, "allocation_id", Allocations(s, false), []string{"A9", "", "A1"})
	on := g.Date(t, "approved_on", "")
	if a, ok := s.Allocations[id]; ok {
		on = Pick(t, "approved_on", []string{a.ProposedOn, TermSpans[a.TermID][1]}, g.BadDates)
	}
	return &domain.ApproveAllocation{Meta: m, ID: id, ApprovedOn: on}
}

// Expenditure draws an expenditure of an approved allocation, half the time
// near what the allocation has left.
func (g Gen) Expenditure(t *rapid.T, s *domain.State, m domain.Meta) *domain.RecordExpenditure {
	id := Pick(t, "allocation_id", Allocations(s, true), []string{"A9", "", "A1"})
	on := g.Date(t, "spent_on", "")
	if a, ok := s.Allocations[id]; ok && a.Approved {
		// The last date spends what a closed term's allocation kept.
		on = Pick(t, "spent_on", []string{a.ApprovedOn, TermSpans[a.TermID][1], "2023-12-31"}, g.BadDates)
	}
	in := g.Money(t, "spent", 1000000, true)
	if a, ok := s.Allocations[id]; ok && a.Approved && rapid.Bool().Draw(t, "spend what is left") {
		in = USDNear(t, "spent", a.AmountMinor-a.SpentMinor)
	}
	return &domain.RecordExpenditure{Meta: m,
		ID:           Pick(t, "expenditure", []string{"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"}, BadIDs),
		AllocationID: id, Amount: in, USDRate: g.Rate(t, "usd_rate", in.Currency),
		SpentOn: on, Payee: Pick(t, "payee", []string{"Payee"}, []string{""})}
}
