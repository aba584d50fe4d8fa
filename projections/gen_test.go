package projections_test

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The generator of valid and invalid command histories. It is adapted from
// domain/property_test.go (the domain's own property test), extended with
// the city registry, coordinators and members; the commands go through a
// real writer here, so Meta.Today is the writer's.

// Terms the generator opens: two that follow each other and one that
// overlaps both.
var termSpans = map[string][2]string{
	"T20": {"2020-01-01", "2021-12-31"},
	"T22": {"2022-01-01", "2023-12-31"},
	"T21": {"2021-06-01", "2022-06-30"},
}

// genToday is the writers' date in the property test: after every term.
const genToday = "2023-12-31"

// pick draws from good most of the time and from bad now and then.
func pick(t *rapid.T, label string, good, bad []string) string {
	if len(bad) > 0 && rapid.IntRange(0, 7).Draw(t, label+" is bad") == 7 {
		return rapid.SampledFrom(bad).Draw(t, label)
	}
	return rapid.SampledFrom(good).Draw(t, label)
}

// known returns the ids of m, sorted, or fallback when there are none.
func known[V any](m map[string]*V, fallback string) []string {
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

// allocationIDs returns the ids of the allocations that are approved (or
// not), sorted, or "A1" when there are none.
func allocationIDs(s *domain.State, approved bool) []string {
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

var (
	badDates = []string{"", "2021-02-30", "21-1-1", "2019-12-31", "2024-06-30"}
	badIDs   = []string{"", "bad id", "X9"}
)

// genDate draws a date, mostly inside term (or any term when term is unknown).
func genDate(t *rapid.T, label, term string) string {
	good := []string{"2020-01-01", "2020-06-15", "2021-03-15", "2021-07-01", "2021-12-31", "2022-01-01", "2022-07-01", "2023-12-31"}
	if span, ok := termSpans[term]; ok {
		good = []string{span[0], span[0][:4] + "-03-15", span[0][:4] + "-09-30", span[1][:4] + "-04-01", span[1]}
	}
	return pick(t, label, good, badDates)
}

// genMoney draws money as a user types it: mostly valid amounts up to
// maxMinor minor units in a known currency, sometimes malformed.
func genMoney(t *rapid.T, label string, maxMinor int64, foreign bool) domain.MoneyInput {
	good := []string{"USD"}
	if foreign {
		good = []string{"USD", "USD", "EUR", "JPY", "KWD"}
	}
	code := pick(t, label+".currency", good, []string{"XXX", "", "EUR"})
	cur, err := money.LookupCurrency(code)
	if err != nil {
		cur = money.USD
	}
	amount := money.Format(rapid.Int64Range(1, maxMinor).Draw(t, label+".minor"), cur)
	if rapid.IntRange(0, 9).Draw(t, label+" is bad") == 9 {
		amount = rapid.SampledFrom([]string{"0", "-5.00", "12.3456", "", "1,000"}).Draw(t, label+".bad")
	}
	return domain.MoneyInput{Amount: amount, Currency: code}
}

// genUSDNear draws US dollars up to a tenth more than limit.
func genUSDNear(t *rapid.T, label string, limit int64) domain.MoneyInput {
	minor := rapid.Int64Range(1, max(1, limit+limit/10)).Draw(t, label+".minor")
	return domain.MoneyInput{Amount: money.FormatUSD(minor), Currency: "USD"}
}

// genRate draws a usd_rate for money in code.
func genRate(t *rapid.T, label string, code string) string {
	if code == "USD" {
		return pick(t, label, []string{"", "1"}, []string{"1.1"})
	}
	return pick(t, label, []string{"1.1", "1.0832", "0.0091", "3.2563", "0.9"}, []string{"", "0", "-1"})
}

// The kinds of command the generator draws.
const (
	kindOpenTerm = iota
	kindRegisterDonor
	kindRecordContribution
	kindAddBudgetLine
	kindProposeAllocation
	kindApproveAllocation
	kindRecordExpenditure
	kindRegisterCluster
	kindRecordPledge
	kindAmendPledge
	kindCancelPledge
	kindRecordInterest
	kindRecordRefund
	kindReverseEvent
	kindCloseTerm
	kindRegisterCity
	kindAppointCoordinator
	kindJoinCluster
	kindLast = kindJoinCluster
)

// reversibleEvents returns the ids of the money events a reversal may name
// (reversed or not, as asked), in the fund's order.
func reversibleEvents(s *domain.State, reversed bool) []string {
	var ids []string
	for id, r := range s.Events {
		switch r.Type {
		case events.TypeContributionReceived, events.TypeAllocationApproved, events.TypeExpenditureRecorded,
			events.TypeInterestEarned, events.TypeRefundPaid:
			if (r.ReversedBy != "") == reversed {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return s.Events[ids[i]].FundSeq < s.Events[ids[j]].FundSeq })
	return ids
}

// genKind draws the kind of the next command: mostly one that s is ready
// for, sometimes any kind at all.
func genKind(t *rapid.T, s *domain.State) int {
	if rapid.IntRange(0, 7).Draw(t, "any kind") == 7 {
		return rapid.IntRange(kindOpenTerm, kindLast).Draw(t, "kind")
	}
	var ready []int
	for _, a := range s.Allocations {
		if a.Approved {
			ready = append(ready, kindRecordExpenditure, kindRecordExpenditure)
			break
		}
	}
	for _, a := range s.Allocations {
		if !a.Approved {
			ready = append(ready, kindApproveAllocation, kindApproveAllocation)
			break
		}
	}
	if len(s.Lines) > 0 {
		ready = append(ready, kindProposeAllocation, kindProposeAllocation)
	}
	if len(s.Terms) > 0 && len(s.Donors) > 0 {
		ready = append(ready, kindRecordContribution, kindRecordContribution, kindRecordPledge, kindRecordPledge)
	}
	if len(s.Pledges) > 0 {
		ready = append(ready, kindRecordContribution, kindRecordContribution, kindAmendPledge, kindAmendPledge, kindCancelPledge)
	}
	if len(s.Contributions) > 0 {
		ready = append(ready, kindRecordRefund, kindRecordInterest)
	}
	if len(reversibleEvents(s, false)) > 0 {
		ready = append(ready, kindReverseEvent, kindReverseEvent)
	}
	if len(s.Terms) > 0 {
		ready = append(ready, kindAddBudgetLine)
	}
	// A close ends a term's story: draw it once the term has a history,
	// a next term to carry over to and money to dispose of.
	if t20 := s.Terms["T20"]; len(s.Terms) > 1 && t20 != nil && !t20.Closed && t20.Unallocated > 0 && s.FundSeq > 30 {
		ready = append(ready, kindCloseTerm)
	}
	if len(s.Clusters) < 2 {
		ready = append(ready, kindRegisterCluster)
	}
	if len(s.Cities) < 4 {
		ready = append(ready, kindRegisterCity)
	}
	if len(s.Clusters) > 0 && len(s.Cities) > 0 && len(s.Terms) > 0 {
		ready = append(ready, kindAppointCoordinator, kindJoinCluster)
	}
	if len(s.Donors) < 3 {
		ready = append(ready, kindRegisterDonor)
	}
	if len(s.Terms) < 2 {
		ready = append(ready, kindOpenTerm)
	}
	return rapid.SampledFrom(ready).Draw(t, "kind")
}

// genCommand draws one command, valid or not, with ids mostly taken from
// what s knows so that histories go deep enough to spend, refund, reverse
// and close. It returns the command with the actor and role to send it as.
func genCommand(t *rapid.T, s *domain.State) (c domain.Command, actor, role string) {
	actor = rapid.SampledFrom([]string{"alice", "bob"}).Draw(t, "actor")
	role = rapid.SampledFrom([]string{"officer", domain.RoleApprover}).Draw(t, "role")
	terms := known(s.Terms, "T20")
	switch kind := genKind(t, s); kind {
	case kindOpenTerm:
		id := pick(t, "term", []string{"T20", "T22", "T21"}, append(badIDs, "T20"))
		span, ok := termSpans[id]
		if !ok || rapid.IntRange(0, 9).Draw(t, "odd span") == 9 {
			span = [2]string{genDate(t, "starts_on", ""), genDate(t, "ends_on", "")}
		}
		return &domain.OpenTerm{ID: id, StartsOn: span[0], EndsOn: span[1],
			Target:  genMoney(t, "target", 100000000, false),
			FeeRate: pick(t, "fee_rate", []string{"0.01", "0.05", "0.0125", "0"}, []string{"0.25", "-0.01", "abc"})}, actor, role
	case kindRegisterDonor:
		return &domain.RegisterDonor{ID: pick(t, "donor", []string{"D1", "D2", "D3"}, badIDs), Name: "Donor",
			Kind:    pick(t, "donor kind", []string{"country", "member_city", "foundation"}, []string{"government"}),
			Country: pick(t, "country", []string{"DE", "KE", "KR"}, []string{"ZZ", ""})}, actor, role
	case kindRegisterCluster:
		return &domain.RegisterCluster{ID: pick(t, "cluster", []string{"ESD", "EQI"}, badIDs), Name: "Cluster",
			TechnicalPartner: rapid.SampledFrom([]string{"", "A partner"}).Draw(t, "technical partner")}, actor, role
	case kindRegisterCity:
		return &domain.RegisterCity{ID: pick(t, "city", []string{"cork", "suwon", "lagos", "lyon"}, badIDs), Name: "City",
			Country: pick(t, "city country", []string{"IE", "KR", "NG", "FR"}, []string{"ZZ"})}, actor, role
	case kindAppointCoordinator:
		return &domain.AppointCoordinator{ClusterID: pick(t, "cluster_id", known(s.Clusters, "ESD"), []string{"LIT"}),
			CityID: pick(t, "city_id", known(s.Cities, "cork"), []string{"nowhere"}), TermID: pick(t, "term_id", terms, []string{"T99"})}, actor, role
	case kindJoinCluster:
		return &domain.JoinCluster{ClusterID: pick(t, "cluster_id", known(s.Clusters, "ESD"), []string{"LIT"}),
			CityID: pick(t, "city_id", known(s.Cities, "cork"), []string{"nowhere"}), TermID: pick(t, "term_id", terms, []string{"T99"})}, actor, role
	case kindRecordContribution:
		term := pick(t, "term_id", terms, []string{"T99", ""})
		in := genMoney(t, "amount", 10000000, true)
		c := &domain.RecordContribution{
			ID:      pick(t, "contribution", []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"}, badIDs),
			DonorID: pick(t, "donor_id", known(s.Donors, "D1"), []string{"D9", ""}), TermID: term, Amount: in,
			USDRate: genRate(t, "usd_rate", in.Currency), ReceivedOn: genDate(t, "received_on", term)}
		if len(s.Pledges) > 0 && rapid.Bool().Draw(t, "pays a pledge") {
			c.PledgeID = pick(t, "pledge_id", known(s.Pledges, "P1"), []string{"P9"})
			if pl, ok := s.Pledges[c.PledgeID]; ok {
				if rapid.IntRange(0, 7).Draw(t, "another donor or term") != 7 {
					c.DonorID, c.TermID = pl.DonorID, pl.TermID
				}
				cur, _ := money.LookupCurrency(pl.Amount.Currency)
				left := pl.Amount.Minor - pl.PaidMinor
				minor := rapid.Int64Range(1, max(1, left+left/10)).Draw(t, "paid.minor")
				c.Amount = domain.MoneyInput{Amount: money.Format(minor, cur), Currency: cur.Code}
				c.USDRate = genRate(t, "usd_rate", cur.Code)
				c.ReceivedOn = genDate(t, "received_on", c.TermID)
			}
		}
		return c, actor, role
	case kindRecordPledge:
		term := pick(t, "term_id", terms, []string{"T99"})
		in := genMoney(t, "pledged", 20000000, true)
		var em *domain.EarmarkInput
		switch rapid.IntRange(0, 4).Draw(t, "earmark") {
		case 1, 2:
			em = &domain.EarmarkInput{LineID: pick(t, "earmark line", known(s.Lines, "L1"), []string{"L9"})}
		case 3:
			em = &domain.EarmarkInput{ClusterID: pick(t, "earmark cluster", []string{"ESD", "EQI"}, []string{"LIT"})}
		}
		return &domain.RecordPledge{ID: pick(t, "pledge", []string{"P1", "P2", "P3", "P4", "P5", "P6"}, badIDs),
			DonorID: pick(t, "donor_id", known(s.Donors, "D1"), []string{"D9"}), TermID: term, Amount: in,
			USDRate: genRate(t, "usd_rate", in.Currency), Earmark: em,
			SignedOn: genDate(t, "signed_on", term), DueOn: genDate(t, "due_on", term)}, actor, role
	case kindAmendPledge:
		c := &domain.AmendPledge{ID: pick(t, "pledge_id", known(s.Pledges, "P1"), []string{"P9", ""}),
			Reason: pick(t, "reason", []string{"addendum"}, []string{""})}
		if pl, ok := s.Pledges[c.ID]; ok && rapid.IntRange(0, 3).Draw(t, "amend amount") > 0 {
			cur, _ := money.LookupCurrency(pl.Amount.Currency)
			minor := rapid.Int64Range(max(1, pl.PaidMinor-pl.PaidMinor/10), max(1, pl.Amount.Minor*3/2)).Draw(t, "amended.minor")
			c.Amount = domain.MoneyInput{Amount: money.Format(minor, cur), Currency: cur.Code}
			c.USDRate = genRate(t, "usd_rate", cur.Code)
		}
		if rapid.Bool().Draw(t, "amend due_on") {
			c.DueOn = genDate(t, "due_on", "")
		}
		if pl, ok := s.Pledges[c.ID]; ok {
			// Today is after every term: most amendments are back-dated.
			c.AmendedOn = genDate(t, "amended_on", pl.TermID)
		}
		return c, actor, role
	case kindCancelPledge:
		c := &domain.CancelPledge{ID: pick(t, "pledge_id", known(s.Pledges, "P1"), []string{"P9", ""}),
			Reason: pick(t, "reason", []string{"withdrawn"}, []string{""})}
		if pl, ok := s.Pledges[c.ID]; ok {
			c.CancelledOn = genDate(t, "cancelled_on", pl.TermID)
		}
		return c, actor, role
	case kindRecordInterest:
		term := pick(t, "term_id", terms, []string{"T99", ""})
		return &domain.RecordInterest{ID: pick(t, "interest", []string{"I1", "I2", "I3", "I4"}, badIDs), TermID: term,
			Amount: genMoney(t, "interest", 500000, false), EarnedOn: genDate(t, "earned_on", term)}, actor, role
	case kindRecordRefund:
		term := pick(t, "term_id", terms, []string{"T99", ""})
		donor := pick(t, "donor_id", known(s.Donors, "D1"), []string{"D9", ""})
		in := genMoney(t, "refund", 3000000, false)
		if rapid.Bool().Draw(t, "refund what is attributable") {
			in = genUSDNear(t, "refund", domain.Attributable(s, term, donor))
		}
		return &domain.RecordRefund{ID: pick(t, "refund", []string{"R1", "R2", "R3", "R4", "R5"}, badIDs),
			DonorID: donor, TermID: term, Amount: in, PaidOn: genDate(t, "paid_on", term)}, actor, role
	case kindReverseEvent:
		var bad []string
		for id, r := range s.Events {
			if r.Type == events.TypeFeeCharged || r.Type == events.TypeTermOpened || r.ReversedBy != "" {
				bad = append(bad, id)
			}
		}
		sort.Strings(bad)
		// Receipts outnumber the other money events: draw the type first,
		// so that approvals, expenditures, interest and refunds are
		// reversed too.
		byType := map[string][]string{}
		for _, id := range reversibleEvents(s, false) {
			typ := s.Events[id].Type
			byType[typ] = append(byType[typ], id)
		}
		good := []string{"none"}
		if len(byType) > 0 {
			good = byType[rapid.SampledFrom(slices.Sorted(maps.Keys(byType))).Draw(t, "reversed type")]
		}
		return &domain.ReverseEvent{ID: pick(t, "reversal", []string{fmt.Sprintf("X%d", s.FundSeq)}, []string{"X1", ""}),
			EventID: pick(t, "event_id", good, append(bad, "ev-404")),
			Reason:  pick(t, "reason", []string{"wrong entry"}, []string{""})}, actor, role
	case kindCloseTerm:
		term := pick(t, "term", terms, []string{"T99"})
		if rapid.IntRange(0, 3).Draw(t, "close the first term") > 0 {
			term = "T20"
		}
		c := &domain.CloseTerm{ID: term, ClosedOn: pick(t, "closed_on", []string{termSpans[term][1], "2023-12-31"}, badDates)}
		c.Disposition.Kind = pick(t, "disposition", []string{domain.DispositionRefund, domain.DispositionCarryOver, domain.DispositionCarryOver},
			[]string{"donate", ""})
		if c.Disposition.Kind == domain.DispositionCarryOver {
			c.Disposition.ToTermID = pick(t, "to_term_id", []string{"T22"}, []string{"T21", "T20", ""})
		}
		return c, actor, role
	case kindAddBudgetLine:
		return &domain.AddBudgetLine{ID: pick(t, "line", []string{"L1", "L2", "L3", "L4", "L5", "L6"}, badIDs),
			TermID: pick(t, "term_id", terms, []string{"T99", ""}),
			Title:  "Line", Amount: genMoney(t, "budget", 5000000, false),
			ClusterID: pick(t, "cluster_id", []string{"", "", "ESD", "EQI"}, []string{"LIT"})}, actor, role
	case kindProposeAllocation:
		line := pick(t, "line_id", known(s.Lines, "L1"), []string{"L9", ""})
		term := ""
		if l, ok := s.Lines[line]; ok {
			term = l.TermID
		}
		in := genMoney(t, "allocated", 3000000, false)
		if l, ok := s.Lines[line]; ok && rapid.Bool().Draw(t, "allocate what is left") {
			in = genUSDNear(t, "allocated", min(s.Terms[l.TermID].Unallocated, l.BudgetMinor-l.ApprovedMinor-l.ProposedMinor))
		}
		return &domain.ProposeAllocation{ID: pick(t, "allocation", []string{"A1", "A2", "A3", "A4", "A5", "A6"}, badIDs),
			LineID: line, Amount: in, ProposedOn: genDate(t, "proposed_on", term)}, actor, role
	case kindApproveAllocation:
		id := pick(t, "allocation_id", allocationIDs(s, false), []string{"A9", "", "A1"})
		on := genDate(t, "approved_on", "")
		if a, ok := s.Allocations[id]; ok {
			on = pick(t, "approved_on", []string{a.ProposedOn, termSpans[a.TermID][1]}, badDates)
		}
		return &domain.ApproveAllocation{ID: id, ApprovedOn: on}, actor, role
	default:
		id := pick(t, "allocation_id", allocationIDs(s, true), []string{"A9", "", "A1"})
		on := genDate(t, "spent_on", "")
		if a, ok := s.Allocations[id]; ok && a.Approved {
			// The last date spends what a closed term's allocation kept.
			on = pick(t, "spent_on", []string{a.ApprovedOn, termSpans[a.TermID][1], "2023-12-31"}, badDates)
		}
		in := genMoney(t, "spent", 1000000, true)
		if a, ok := s.Allocations[id]; ok && a.Approved && rapid.Bool().Draw(t, "spend what is left") {
			in = genUSDNear(t, "spent", a.AmountMinor-a.SpentMinor)
		}
		c := &domain.RecordExpenditure{
			ID:           pick(t, "expenditure", []string{"E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"}, badIDs),
			AllocationID: id, Amount: in, USDRate: genRate(t, "usd_rate", in.Currency),
			SpentOn: on, Payee: pick(t, "payee", []string{"Payee"}, []string{""})}
		if len(s.Cities) > 0 && rapid.Bool().Draw(t, "spent in a city of the registry") {
			c.CityID = rapid.SampledFrom(known(s.Cities, "cork")).Draw(t, "city_id")
		}
		return c, actor, role
	}
}
