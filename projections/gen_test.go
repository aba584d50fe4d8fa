package projections_test

import (
	"fmt"
	"maps"
	"slices"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/historygen"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
)

// The generator of valid and invalid command histories. It shares
// internal/historygen with domain/property_test.go (the domain's own
// property test) and extends it with the city registry, coordinators and
// members; the commands go through a real writer here, so Meta.Today is the
// writer's.

// termSpans are the terms the generator opens.
var termSpans = historygen.TermSpans

// genToday is the writers' date in the property test: after every term.
const genToday = "2023-12-31"

// gen mixes in fewer kinds of mistake than the domain's test does.
var gen = historygen.Gen{
	BadDates:    []string{"", "2021-02-30", "21-1-1", "2019-12-31", "2024-06-30"},
	BadAmounts:  []string{"0", "-5.00", "12.3456", "", "1,000"},
	BadUSDRates: []string{"1.1"},
	BadRates:    []string{"", "0", "-1"},
}

// kinds are the kinds of command this generator draws, and when.
var kinds = historygen.Kinds{Registry: true, CloseAfter: 30}

// genCommand draws one command, valid or not, with ids mostly taken from
// what s knows so that histories go deep enough to spend, refund, reverse
// and close. It returns the command with the actor and role to send it as.
// The commands drawn the same way in the domain's test come from
// historygen (some with a field more here); the rest are drawn here.
func genCommand(t *rapid.T, s *domain.State) (c domain.Command, actor, role string) {
	pick := historygen.Pick
	var m domain.Meta // the writer sets it
	actor = rapid.SampledFrom([]string{"alice", "bob"}).Draw(t, "actor")
	role = rapid.SampledFrom([]string{"officer", domain.RoleApprover}).Draw(t, "role")
	terms := historygen.Known(s.Terms, "T20")
	cities := historygen.Known(s.Cities, "cork")
	switch kind := kinds.Draw(t, s); kind {
	case historygen.KindOpenTerm:
		id := pick(t, "term", []string{"T20", "T22", "T21"}, append(historygen.BadIDs, "T20"))
		span, ok := termSpans[id]
		if !ok || rapid.IntRange(0, 9).Draw(t, "odd span") == 9 {
			span = [2]string{gen.Date(t, "starts_on", ""), gen.Date(t, "ends_on", "")}
		}
		return &domain.OpenTerm{ID: id, StartsOn: span[0], EndsOn: span[1],
			Target:  gen.Money(t, "target", 100000000, false),
			FeeRate: pick(t, "fee_rate", []string{"0.01", "0.05", "0.0125", "0"}, []string{"0.25", "-0.01", "abc"})}, actor, role
	case historygen.KindRegisterDonor:
		return &domain.RegisterDonor{ID: pick(t, "donor", []string{"D1", "D2", "D3"}, historygen.BadIDs), Name: "Donor",
			Kind:    pick(t, "donor kind", []string{"country", "member_city", "foundation"}, []string{"government"}),
			Country: pick(t, "country", []string{"DE", "KE", "KR"}, []string{"ZZ", ""})}, actor, role
	case historygen.KindRegisterCluster:
		c := gen.Cluster(t, m)
		c.TechnicalPartner = rapid.SampledFrom([]string{"", "A partner"}).Draw(t, "technical partner")
		return c, actor, role
	case historygen.KindRegisterCity:
		return &domain.RegisterCity{ID: pick(t, "city", []string{"cork", "suwon", "lagos", "lyon"}, historygen.BadIDs), Name: "City",
			Country: pick(t, "city country", []string{"IE", "KR", "NG", "FR"}, []string{"ZZ"})}, actor, role
	case historygen.KindAppointCoordinator:
		return &domain.AppointCoordinator{ClusterID: pick(t, "cluster_id", historygen.Known(s.Clusters, "ESD"), []string{"LIT"}),
			CityID: pick(t, "city_id", cities, []string{"nowhere"}), TermID: pick(t, "term_id", terms, []string{"T99"})}, actor, role
	case historygen.KindJoinCluster:
		return &domain.JoinCluster{ClusterID: pick(t, "cluster_id", historygen.Known(s.Clusters, "ESD"), []string{"LIT"}),
			CityID: pick(t, "city_id", cities, []string{"nowhere"}), TermID: pick(t, "term_id", terms, []string{"T99"})}, actor, role
	case historygen.KindRecordContribution:
		return gen.Contribution(t, s, m), actor, role
	case historygen.KindRecordPledge:
		term := pick(t, "term_id", terms, []string{"T99"})
		in := gen.Money(t, "pledged", 20000000, true)
		var em *domain.EarmarkInput
		switch rapid.IntRange(0, 4).Draw(t, "earmark") {
		case 1, 2:
			em = &domain.EarmarkInput{LineID: pick(t, "earmark line", historygen.Known(s.Lines, "L1"), []string{"L9"})}
		case 3:
			em = &domain.EarmarkInput{ClusterID: pick(t, "earmark cluster", []string{"ESD", "EQI"}, []string{"LIT"})}
		}
		return &domain.RecordPledge{ID: pick(t, "pledge", []string{"P1", "P2", "P3", "P4", "P5", "P6"}, historygen.BadIDs),
			DonorID: pick(t, "donor_id", historygen.Known(s.Donors, "D1"), []string{"D9"}), TermID: term, Amount: in,
			USDRate: gen.Rate(t, "usd_rate", in.Currency), Earmark: em,
			SignedOn: gen.Date(t, "signed_on", term), DueOn: gen.Date(t, "due_on", term)}, actor, role
	case historygen.KindAmendPledge:
		c := gen.AmendPledge(t, s, m)
		if pl, ok := s.Pledges[c.ID]; ok {
			// Today is after every term: most amendments are back-dated.
			c.AmendedOn = gen.Date(t, "amended_on", pl.TermID)
		}
		return c, actor, role
	case historygen.KindCancelPledge:
		c := gen.CancelPledge(t, s, m)
		if pl, ok := s.Pledges[c.ID]; ok {
			c.CancelledOn = gen.Date(t, "cancelled_on", pl.TermID)
		}
		return c, actor, role
	case historygen.KindRecordInterest:
		return gen.Interest(t, s, m), actor, role
	case historygen.KindRecordRefund:
		return gen.Refund(t, s, m), actor, role
	case historygen.KindReverseEvent:
		// Receipts outnumber the other money events: draw the type first,
		// so that approvals, expenditures, interest and refunds are
		// reversed too.
		byType := map[string][]string{}
		for _, id := range historygen.ReversibleEvents(s, false) {
			seq, _ := s.SeqOf(id)
			typ := s.Events.Label(s.Events.Entries[seq-1].Type)
			byType[typ] = append(byType[typ], id)
		}
		good := []string{"none"}
		if len(byType) > 0 {
			good = byType[rapid.SampledFrom(slices.Sorted(maps.Keys(byType))).Draw(t, "reversed type")]
		}
		return &domain.ReverseEvent{ID: pick(t, "reversal", []string{fmt.Sprintf("X%d", s.FundSeq)}, []string{"X1", ""}),
			EventID: pick(t, "event_id", good, append(historygen.Unreversible(s), "ev-404")),
			Reason:  pick(t, "reason", []string{"wrong entry"}, []string{""})}, actor, role
	case historygen.KindCloseTerm:
		term := pick(t, "term", terms, []string{"T99"})
		if rapid.IntRange(0, 3).Draw(t, "close the first term") > 0 {
			term = "T20"
		}
		c := &domain.CloseTerm{ID: term, ClosedOn: pick(t, "closed_on", []string{termSpans[term][1], "2023-12-31"}, gen.BadDates)}
		c.Disposition.Kind = pick(t, "disposition", []string{domain.DispositionRefund, domain.DispositionCarryOver, domain.DispositionCarryOver},
			[]string{"donate", ""})
		if c.Disposition.Kind == domain.DispositionCarryOver {
			c.Disposition.ToTermID = pick(t, "to_term_id", []string{"T22"}, []string{"T21", "T20", ""})
		}
		return c, actor, role
	case historygen.KindAmendDonor:
		return gen.AmendDonor(t, s, m), actor, role
	case historygen.KindAddBudgetLine:
		return gen.BudgetLine(t, s, m), actor, role
	case historygen.KindProposeAllocation:
		return gen.Proposal(t, s, m), actor, role
	case historygen.KindApproveAllocation:
		return gen.Approval(t, s, m), actor, role
	default:
		c := gen.Expenditure(t, s, m)
		if len(s.Cities) > 0 && rapid.Bool().Draw(t, "spent in a city of the registry") {
			c.CityID = rapid.SampledFrom(cities).Draw(t, "city_id")
		}
		return c, actor, role
	}
}

// historyPrelude is how every generated history starts: the two terms a
// close can carry over between and two donors, so that histories go deep;
// the generator may add a third term, donor, and anything else.
func historyPrelude(rt *rapid.T) []domain.Command {
	return []domain.Command{
		&domain.OpenTerm{ID: "T20", StartsOn: termSpans["T20"][0], EndsOn: termSpans["T20"][1], Target: ledgertest.USD("1000000.00"),
			FeeRate: rapid.SampledFrom([]string{"0.01", "0.07", "0.015", "0"}).Draw(rt, "fee_rate")},
		&domain.OpenTerm{ID: "T22", StartsOn: termSpans["T22"][0], EndsOn: termSpans["T22"][1], Target: ledgertest.USD("1000000.00"), FeeRate: "0.01"},
		&domain.RegisterDonor{ID: "D1", Name: "City of Osaka", Kind: "member_city", Country: "JP"},
		&domain.RegisterDonor{ID: "D2", Name: "Germany", Kind: "country", Country: "DE"},
	}
}
