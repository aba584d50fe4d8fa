package domain_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestScenarioWholeTerm follows the 2020–2021 term from its pledges to its
// close, at domain level: pledges in EUR, JPY and USD (two of them
// earmarked), partial receipts, interest, allocations to MDFM and cluster
// lines drawing on the right pots, spending in USD and EUR, a wrong receipt
// reversed and entered again, a refund, a pledge amended and one cancelled,
// and a close that carries the unallocated balance over to 2022–2023. Every
// figure is checked to the cent.
func TestScenarioWholeTerm(t *testing.T) {
	s := domain.NewState("mdfm")
	var log []events.Event
	officer := domain.Meta{Actor: "alice", Today: "2022-03-31", Role: "officer"}
	checker := domain.Meta{Actor: "bob", Today: "2022-03-31", Role: domain.RoleApprover}
	do := func(c domain.Command) []events.Event {
		t.Helper()
		evs, err := domain.Decide(s, c)
		if err != nil {
			t.Fatalf("Decide(%T): %v", c, err)
		}
		applied := applyAll(t, s, evs)
		log = append(log, applied...)
		return applied
	}
	refused := func(c domain.Command, code string) {
		t.Helper()
		evs, err := domain.Decide(s, c)
		var de *errs.Error
		if !errors.As(err, &de) || de.Code != code || len(evs) != 0 {
			t.Fatalf("Decide(%T) = %d events, %v; want refusal %s", c, len(evs), err, code)
		}
	}
	usd := func(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }
	cur := func(s, c string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: c} }
	const T = "2020-2021"

	// The terms, the donors, the registry and the budget.
	do(&domain.OpenTerm{Meta: checker, ID: T, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	do(&domain.OpenTerm{Meta: checker, ID: "2022-2023", StartsOn: "2022-01-01", EndsOn: "2023-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	do(&domain.RegisterDonor{Meta: officer, ID: "DE", Name: "Germany", Kind: "country", Country: "DE"})
	do(&domain.RegisterDonor{Meta: officer, ID: "JP-CITY", Name: "A Japanese member city", Kind: "member_city", Country: "JP"})
	do(&domain.RegisterDonor{Meta: officer, ID: "FDN", Name: "A foundation", Kind: "foundation", Country: "US"})
	do(&domain.RegisterCluster{Meta: officer, ID: "ESD", Name: "Education for Sustainable Development", TechnicalPartner: "A partner"})
	do(&domain.RegisterCity{Meta: officer, ID: "cork", Name: "Cork", Country: "IE"})
	do(&domain.RegisterCity{Meta: officer, ID: "suwon", Name: "Suwon", Country: "KR"})
	do(&domain.RegisterCity{Meta: officer, ID: "lagos", Name: "Lagos", Country: "NG"})
	do(&domain.AppointCoordinator{Meta: officer, ClusterID: "ESD", CityID: "cork", TermID: T})
	do(&domain.AppointCoordinator{Meta: officer, ClusterID: "ESD", CityID: "suwon", TermID: T})
	do(&domain.JoinCluster{Meta: officer, ClusterID: "ESD", CityID: "lagos", TermID: T})
	refused(&domain.AppointCoordinator{Meta: officer, ClusterID: "ESD", CityID: "lagos", TermID: T}, domain.CodeClusterHasTwoCoordinators)
	for _, l := range []struct{ id, amount, cluster string }{
		{"MDFM-1.1", "200000.00", ""}, {"MDFM-1.2", "100000.00", ""}, {"ESD-2.1", "100000.00", "ESD"},
	} {
		do(&domain.AddBudgetLine{Meta: officer, ID: l.id, TermID: T, Title: "Line " + l.id, Amount: usd(l.amount), ClusterID: l.cluster})
	}

	// Pledges in three currencies: EUR 200000.00 at 1.10 (US$220000.00),
	// JPY 10000000 at 0.0093 (US$93000.00) earmarked to the ESD cluster, and
	// US$50000.00 earmarked to line MDFM-1.2.
	do(&domain.RecordPledge{Meta: officer, ID: "P-DE", DonorID: "DE", TermID: T, Amount: cur("200000.00", "EUR"), USDRate: "1.10",
		SignedOn: "2020-01-15", DueOn: "2021-06-30"})
	do(&domain.RecordPledge{Meta: officer, ID: "P-JP", DonorID: "JP-CITY", TermID: T, Amount: cur("10000000", "JPY"), USDRate: "0.0093",
		Earmark: &domain.EarmarkInput{ClusterID: "ESD"}, SignedOn: "2020-02-01", DueOn: "2020-12-31"})
	do(&domain.RecordPledge{Meta: officer, ID: "P-FDN", DonorID: "FDN", TermID: T, Amount: usd("50000.00"),
		Earmark: &domain.EarmarkInput{LineID: "MDFM-1.2"}, SignedOn: "2020-03-01", DueOn: "2021-03-31"})

	// Partial receipts. EUR 100000.00 at 1.0832 is US$108320.00 (fee
	// 1083.20); JPY 6000000 at 0.0095 is US$57000.00 (fee 570.00), into the
	// ESD pot.
	do(&domain.RecordContribution{Meta: officer, ID: "C-1", DonorID: "DE", TermID: T, PledgeID: "P-DE", Amount: cur("100000.00", "EUR"),
		USDRate: "1.0832", ReceivedOn: "2020-03-02"})
	refused(&domain.RecordContribution{Meta: officer, ID: "C-X", DonorID: "JP-CITY", TermID: T, PledgeID: "P-JP", Amount: usd("1000.00"),
		ReceivedOn: "2020-04-10"}, domain.CodePledgeCurrencyMismatch)
	do(&domain.RecordContribution{Meta: officer, ID: "C-2", DonorID: "JP-CITY", TermID: T, PledgeID: "P-JP", Amount: cur("6000000", "JPY"),
		USDRate: "0.0095", ReceivedOn: "2020-04-10"})
	// The foundation's US$50000.00 is entered as US$5000.00, reversed, and
	// entered again.
	wrong := do(&domain.RecordContribution{Meta: officer, ID: "C-3", DonorID: "FDN", TermID: T, PledgeID: "P-FDN", Amount: usd("5000.00"),
		ReceivedOn: "2020-05-05"})
	if b, _ := domain.PledgeOutstanding(s, "P-FDN"); b.USDMinor != 4500000 {
		t.Errorf("P-FDN outstanding after the wrong receipt: %+v, want US$45000.00", b)
	}
	rev := do(&domain.ReverseEvent{Meta: officer, ID: "X-1", EventID: wrong[0].ID, Reason: "US$50000.00 entered as US$5000.00"})
	if len(rev) != 2 || decodeP[*events.EventReversed](t, rev[0]).EventID != wrong[1].ID || decodeP[*events.EventReversed](t, rev[1]).EventID != wrong[0].ID {
		t.Fatalf("the reversal of a receipt reverses its fee first, then the receipt: %+v", rev)
	}
	refused(&domain.ReverseEvent{Meta: officer, ID: "X-2", EventID: wrong[0].ID, Reason: "again"}, domain.CodeAlreadyReversed)
	do(&domain.RecordContribution{Meta: officer, ID: "C-4", DonorID: "FDN", TermID: T, PledgeID: "P-FDN", Amount: usd("50000.00"),
		ReceivedOn: "2020-05-05"})
	// An unearmarked receipt without pledge, and interest.
	do(&domain.RecordContribution{Meta: officer, ID: "C-5", DonorID: "JP-CITY", TermID: T, Amount: usd("10000.00"), ReceivedOn: "2021-03-01"})
	do(&domain.RecordInterest{Meta: officer, ID: "I-1", TermID: T, Amount: usd("1234.56"), EarnedOn: "2020-12-31"})

	term := s.Terms[T]
	if got, want := (pots{term.Unearmarked, term.Earmarked}), (pots{11837136, map[string]int64{"cluster:ESD": 5643000, "line:MDFM-1.2": 4950000}}); !cmp.Equal(got, want) {
		t.Errorf("pots after the receipts: %+v, want %+v", got, want)
	}

	// Allocations draw on the line's pot, then its cluster's, then the
	// unearmarked pot.
	allocate := func(id, line, amount, on string) {
		t.Helper()
		do(&domain.ProposeAllocation{Meta: officer, ID: id, LineID: line, Amount: usd(amount), ProposedOn: on})
		do(&domain.ApproveAllocation{Meta: checker, ID: id, ApprovedOn: on})
	}
	allocate("A-1", "MDFM-1.1", "80000.00", "2020-06-01")
	allocate("A-2", "ESD-2.1", "50000.00", "2020-06-15")
	allocate("A-3", "MDFM-1.2", "30000.00", "2020-07-01")
	for id, want := range map[string][]events.Draw{
		"A-1": {{Amount: money.USDAmount(8000000)}},
		"A-2": {{Earmark: "cluster:ESD", Amount: money.USDAmount(5000000)}},
		"A-3": {{Earmark: "line:MDFM-1.2", Amount: money.USDAmount(3000000)}},
	} {
		if diff := cmp.Diff(want, s.Allocations[id].Funding); diff != "" {
			t.Errorf("funding of %s (-want +got):\n%s", id, diff)
		}
	}
	// US$64301.36 is unallocated, but only US$38371.36 of it may go to
	// MDFM-1.1: the rest is earmarked.
	refused(&domain.ProposeAllocation{Meta: officer, ID: "A-4", LineID: "MDFM-1.1", Amount: usd("40000.00"), ProposedOn: "2020-08-01"},
		domain.CodeFundsEarmarkedElsewhere)

	// Spending in USD and EUR; the city names the country.
	do(&domain.RecordExpenditure{Meta: officer, ID: "E-1", AllocationID: "A-1", Amount: usd("25000.00"), SpentOn: "2020-08-20",
		Payee: "Consultant", CityID: "cork"})
	if e := s.Expenditures["E-1"]; e.USDMinor != 2500000 {
		t.Errorf("E-1: %+v", e)
	}
	do(&domain.RecordExpenditure{Meta: officer, ID: "E-2", AllocationID: "A-2", Amount: cur("20000.00", "EUR"), USDRate: "1.18",
		SpentOn: "2020-11-20", Payee: "Workshop venue", CityID: "lagos", Country: "NG"})
	do(&domain.RecordExpenditure{Meta: officer, ID: "E-3", AllocationID: "A-3", Amount: usd("12345.67"), SpentOn: "2021-02-01", Payee: "Printer"})

	// The foundation is refunded US$5000.00 of its line's pot; its
	// attributable balance is then the US$14500.00 left there.
	if got := domain.Attributable(s, T, "FDN"); got != 1950000 {
		t.Errorf("FDN attributable %d, want 1950000", got)
	}
	do(&domain.RecordRefund{Meta: officer, ID: "R-1", DonorID: "FDN", TermID: T, Amount: usd("5000.00"), PaidOn: "2021-06-01", Reason: "activity downsized"})
	refused(&domain.RecordRefund{Meta: officer, ID: "R-2", DonorID: "FDN", TermID: T, Amount: usd("14500.01"), PaidOn: "2021-06-02"},
		domain.CodeRefundExceedsAttributable)

	// Pledges: what they still expect, what is overdue; an amendment and a
	// cancellation.
	outstanding := func(id string) domain.PledgeBalance { b, _ := domain.PledgeOutstanding(s, id); return b }
	for id, want := range map[string]domain.PledgeBalance{
		"P-DE":  {money.Amount{Minor: 10000000, Currency: "EUR"}, 11000000},
		"P-JP":  {money.Amount{Minor: 4000000, Currency: "JPY"}, 3720000},
		"P-FDN": {money.Amount{Minor: 0, Currency: "USD"}, 0},
	} {
		if got := outstanding(id); got != want {
			t.Errorf("pledge %s outstanding %+v, want %+v", id, got, want)
		}
	}
	if got := overdueIDs(domain.PledgesOverdue(s, "2021-12-31")); !cmp.Equal(got, []string{"P-JP", "P-DE"}) {
		t.Errorf("overdue as of 2021-12-31: %v, want P-JP then P-DE", got)
	}
	do(&domain.AmendPledge{Meta: officer, ID: "P-JP", Amount: cur("8000000", "JPY"), USDRate: "0.0093", Reason: "budget revised", AmendedOn: "2021-09-01"})
	do(&domain.CancelPledge{Meta: officer, ID: "P-DE", Reason: "budget cut", CancelledOn: "2021-11-30"})
	if got, want := outstanding("P-JP"), (domain.PledgeBalance{money.Amount{Minor: 2000000, Currency: "JPY"}, 1860000}); got != want {
		t.Errorf("P-JP outstanding after the amendment %+v, want %+v", got, want)
	}
	if got := overdueIDs(domain.PledgesOverdue(s, "2021-12-31")); !cmp.Equal(got, []string{"P-JP"}) {
		t.Errorf("overdue after the cancellation: %v, want P-JP", got)
	}

	want := domain.Totals{
		Received:         22532000, // 108320.00 + 57000.00 + 50000.00 + 10000.00; the wrong 5000.00 is reversed
		Interest:         123456,
		Fees:             225320, // 1083.20 + 570.00 + 500.00 + 100.00
		Spent:            6094567,
		Refunded:         500000,
		Unallocated:      5930136, // 38371.36 unearmarked + 6430.00 ESD + 14500.00 MDFM-1.2
		AllocatedUnspent: 9905433, // 160000.00 − 60945.67
		UILRevenue:       225320,
	}
	if diff := cmp.Diff(want, term.Totals); diff != "" {
		t.Errorf("totals of %s before its close (-want +got):\n%s", T, diff)
	}
	if term.Cash() != 15835569 || term.Cash() != term.Unallocated+term.AllocatedUnspent {
		t.Errorf("cash %d, want 15835569 = unallocated + allocated-unspent", term.Cash())
	}
	// The unearmarked US$38371.36 is DE's and JP-CITY's pro rata to their
	// net unearmarked receipts (107236.80 and 9900.00); the ESD pot is
	// JP-CITY's, the MDFM-1.2 pot FDN's.
	for d, want := range map[string]int64{"DE": 3512834, "JP-CITY": 324302 + 643000, "FDN": 1450000} {
		if got := domain.Attributable(s, T, d); got != want {
			t.Errorf("%s attributable %d, want %d", d, got, want)
		}
	}

	// The close: the MDFM-1.2 pot cannot follow its line, so it goes back to
	// FDN; the ESD pot and the unearmarked pot move to 2022-2023.
	refused(&domain.CloseTerm{Meta: checker, ID: T, ClosedOn: "2021-10-01", Disposition: domain.DispositionInput{Kind: "carry_over", ToTermID: "2022-2023"}},
		domain.CodeTermNotEnded)
	closing := do(&domain.CloseTerm{Meta: checker, ID: T, ClosedOn: "2022-01-31", Disposition: domain.DispositionInput{Kind: "carry_over", ToTermID: "2022-2023"}})
	got := make([]events.Payload, 0, len(closing))
	for _, e := range closing {
		p, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	u := money.USDAmount
	wantClose := []events.Payload{
		&events.RefundPaid{RefundID: "close:2020-2021:FDN", DonorID: "FDN", TermID: T, Amount: u(1450000), PaidOn: "2022-01-31",
			Reason: "term 2020-2021 closed: unallocated balance refunded", Funding: []events.Draw{{Earmark: "line:MDFM-1.2", Amount: u(1450000)}}},
		&events.BalanceCarriedOver{FromTermID: T, ToTermID: "2022-2023", Earmark: "cluster:ESD", ToEarmark: "cluster:ESD", Amount: u(643000),
			Shares: []events.Share{{DonorID: "JP-CITY", Amount: u(643000)}}},
		&events.BalanceCarriedOver{FromTermID: T, ToTermID: "2022-2023", Amount: u(3837136),
			Shares: []events.Share{{DonorID: "DE", Amount: u(3512834)}, {DonorID: "JP-CITY", Amount: u(324302)}}},
		&events.TermClosed{TermID: T, ClosedOn: "2022-01-31", Disposition: events.Disposition{Kind: "carry_over", ToTermID: "2022-2023"},
			Unallocated: u(5930136), CarriedOver: u(4480136), Refunded: u(1450000),
			AllocationsKept: []events.KeptAllocation{
				{AllocationID: "A-1", LineID: "MDFM-1.1", Amount: u(5500000)},
				{AllocationID: "A-2", LineID: "ESD-2.1", Amount: u(2640000)},
				{AllocationID: "A-3", LineID: "MDFM-1.2", Amount: u(1765433)},
			}},
	}
	if diff := cmp.Diff(wantClose, got); diff != "" {
		t.Errorf("events of the close (-want +got):\n%s", diff)
	}
	want.Refunded, want.Unallocated, want.CarriedOut = 1950000, 0, 4480136
	if diff := cmp.Diff(want, term.Totals); diff != "" {
		t.Errorf("totals of %s after its close (-want +got):\n%s", T, diff)
	}
	next := s.Terms["2022-2023"]
	if diff := cmp.Diff(domain.Totals{Unallocated: 4480136, CarriedIn: 4480136}, next.Totals); diff != "" {
		t.Errorf("totals of 2022-2023 after the carry-over (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pots{3837136, map[string]int64{"cluster:ESD": 643000}}, pots{next.Unearmarked, next.Earmarked}); diff != "" {
		t.Errorf("pots of 2022-2023 (-want +got):\n%s", diff)
	}

	// After the close: nothing new dated inside the term; a kept allocation
	// is still spent, dated after the term's end; only an approver reverses.
	refused(&domain.RecordContribution{Meta: officer, ID: "C-6", DonorID: "DE", TermID: T, Amount: usd("10.00"), ReceivedOn: "2021-05-01"},
		domain.CodeTermClosed)
	refused(&domain.ReverseEvent{Meta: officer, ID: "X-3", EventID: eventOf(t, log, events.TypeExpenditureRecorded, "E-3"), Reason: "wrong payee"},
		domain.CodeTermClosed)
	do(&domain.RecordExpenditure{Meta: officer, ID: "E-4", AllocationID: "A-1", Amount: usd("5000.00"), SpentOn: "2022-02-10", Payee: "Consultant"})
	do(&domain.ReverseEvent{Meta: checker, ID: "X-3", EventID: eventOf(t, log, events.TypeExpenditureRecorded, "E-3"), Reason: "wrong payee"})
	// The carried ESD money funds an ESD line of the new term first.
	do(&domain.AddBudgetLine{Meta: officer, ID: "ESD-22.1", TermID: "2022-2023", Title: "ESD workshop", Amount: usd("20000.00"), ClusterID: "ESD"})
	allocate("A-6", "ESD-22.1", "10000.00", "2022-03-01")
	if diff := cmp.Diff([]events.Draw{{Earmark: "cluster:ESD", Amount: u(643000)}, {Amount: u(357000)}}, s.Allocations["A-6"].Funding); diff != "" {
		t.Errorf("funding of A-6 (-want +got):\n%s", diff)
	}

	want.Spent = 6094567 + 500000 - 1234567 // E-4 spent, E-3 reversed
	want.AllocatedUnspent = 9905433 - 500000 + 1234567
	if diff := cmp.Diff(want, term.Totals); diff != "" {
		t.Errorf("final totals of %s (-want +got):\n%s", T, diff)
	}

	// The trial balance from the postings: each book balances, the memo
	// holds what P-JP still expects, and the trust accounts agree with the
	// state of both terms.
	balances := map[string]int64{}
	var total int64
	for _, e := range log {
		ps, err := domain.Postings(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			balances[p.Account] += p.Minor
			total += p.Minor
		}
	}
	cash := term.Cash() + next.Cash()
	wantBalances := map[string]int64{
		domain.AccountTrustCash:         cash,
		domain.AccountTrustUnallocated:  -(term.Unallocated + next.Unallocated),
		domain.AccountTrustAllocated:    -(8000000 + 5000000 + 3000000 + 1000000),
		domain.AccountTrustSpent:        want.Spent,
		domain.AccountUILCash:           225320,
		domain.AccountUILFeeRevenue:     -225320,
		domain.AccountMemoPledges:       1860000,
		domain.AccountMemoPledgesContra: -1860000,
	}
	if diff := cmp.Diff(wantBalances, balances, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("trial balance (-want +got):\n%s", diff)
	}
	if total != 0 {
		t.Errorf("postings sum to %d", total)
	}
}

type pots struct {
	Unearmarked int64
	Earmarked   map[string]int64
}

func overdueIDs(ps []domain.OverduePledge) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.PledgeID)
	}
	return ids
}

// decodeP decodes an event's payload as P.
func decodeP[P events.Payload](t *testing.T, e events.Event) P {
	t.Helper()
	p, err := e.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p.(P)
}

// eventOf returns the id of the event of type typ about id (an expenditure
// id, …) in log.
func eventOf(t *testing.T, log []events.Event, typ, id string) string {
	t.Helper()
	for _, e := range log {
		if e.Type != typ {
			continue
		}
		if p, ok := decodeP[events.Payload](t, e).(*events.ExpenditureRecorded); ok && p.ExpenditureID == id {
			return e.ID
		}
	}
	t.Fatalf("no %s event about %s", typ, id)
	return ""
}
