package domain_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestScenario2020Term follows the 2020–2021 term from its opening to its
// first spending, at domain level, and checks every figure to the cent.
func TestScenario2020Term(t *testing.T) {
	s := domain.NewState("mdfm")
	var log []events.Event
	do := func(c domain.Command) {
		t.Helper()
		evs, err := domain.Decide(s, c)
		if err != nil {
			t.Fatalf("Decide(%T): %v", c, err)
		}
		log = append(log, applyAll(t, s, evs)...)
	}
	refused := func(c domain.Command, code string) {
		t.Helper()
		seq := s.FundSeq
		evs, err := domain.Decide(s, c)
		var de *errs.Error
		if !errors.As(err, &de) || de.Code != code || len(evs) != 0 {
			t.Fatalf("Decide(%T) = %d events, %v; want refusal %s and no event", c, len(evs), err, code)
		}
		if s.FundSeq != seq {
			t.Fatalf("a refusal moved fund_seq from %d to %d", seq, s.FundSeq)
		}
	}

	do(&domain.OpenTerm{Meta: alice, ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31",
		Target: usdIn("1000000.00"), FeeRate: "0.01"})
	do(&domain.RegisterDonor{Meta: alice, ID: "DE", Name: "Germany", Kind: "country", Country: "DE"})
	do(&domain.RegisterDonor{Meta: alice, ID: "KR-SUWON", Name: "Suwon", Kind: "member_city", Country: "KR", City: "Suwon"})

	// EUR 120000.00 at 1.0832 is US$129984.00; the fee at 1 % is US$1299.84.
	do(&domain.RecordContribution{Meta: alice, ID: "C-1", DonorID: "DE", TermID: "2020-2021",
		Amount: eurIn("120000.00"), USDRate: "1.0832", ReceivedOn: "2020-03-02", BankRef: "DE-2020-001"})
	// US$25000.00; the fee is US$250.00.
	do(&domain.RecordContribution{Meta: alice, ID: "C-2", DonorID: "KR-SUWON", TermID: "2020-2021",
		Amount: usdIn("25000.00"), ReceivedOn: "2020-05-20"})

	do(&domain.AddBudgetLine{Meta: alice, ID: "MDFM-1.1", TermID: "2020-2021", Title: "Network coordination",
		Amount: usdIn("100000.00")})

	// alice proposes; she cannot approve her own proposal; bob can.
	do(&domain.ProposeAllocation{Meta: alice, ID: "A-1", LineID: "MDFM-1.1", Amount: usdIn("60000.00"), ProposedOn: "2020-06-01"})
	refused(&domain.ApproveAllocation{Meta: alice, ID: "A-1", ApprovedOn: "2020-06-02"}, domain.CodeSameUserApproval)
	do(&domain.ApproveAllocation{Meta: bob, ID: "A-1", ApprovedOn: "2020-06-02"})

	// US$12345.67, then EUR 5000.00 at 1.0832: US$5416.00.
	do(&domain.RecordExpenditure{Meta: alice, ID: "E-1", AllocationID: "A-1", Amount: usdIn("12345.67"),
		SpentOn: "2020-07-15", Payee: "City of Cork", Country: "IE", City: "Cork"})
	do(&domain.RecordExpenditure{Meta: alice, ID: "E-2", AllocationID: "A-1", Amount: eurIn("5000.00"), USDRate: "1.0832",
		SpentOn: "2020-09-01", Payee: "UIL workshop", Country: "DE", City: "Hamburg"})
	// US$42238.33 is left of the allocation: a cent more is refused.
	refused(&domain.RecordExpenditure{Meta: alice, ID: "E-3", AllocationID: "A-1", Amount: usdIn("42238.34"),
		SpentOn: "2020-10-01", Payee: "City of Cork"}, domain.CodeInsufficientAllocationBalance)

	term := s.Terms["2020-2021"]
	want := domain.Totals{
		Received:         15498400, // 129984.00 + 25000.00
		Fees:             154984,   // 1299.84 + 250.00
		Spent:            1776167,  // 12345.67 + 5416.00
		Unallocated:      9343416,  // 154984.00 − 1549.84 − 60000.00
		AllocatedUnspent: 4223833,  // 60000.00 − 17761.67
		UILRevenue:       154984,   // the fees, and nothing else
	}
	if diff := cmp.Diff(want, term.Totals); diff != "" {
		t.Errorf("totals of 2020-2021 (-want +got):\n%s", diff)
	}
	// The trust balance leaves out UIL's fees: 154984.00 − 1549.84 − 17761.67.
	if got := term.Cash(); got != 13567249 {
		t.Errorf("Cash() = %d, want 13567249 (US$135672.49)", got)
	}
	if term.Cash() != term.Unallocated+term.AllocatedUnspent {
		t.Errorf("cash %d != unallocated %d + allocated-unspent %d", term.Cash(), term.Unallocated, term.AllocatedUnspent)
	}
	if term.TargetMinor != 100000000 || term.FeeRate != "0.01" {
		t.Errorf("term target %d, fee rate %q; want 100000000 and 0.01", term.TargetMinor, term.FeeRate)
	}

	line := s.Lines["MDFM-1.1"]
	if line.BudgetMinor != 10000000 || line.ApprovedMinor != 6000000 || line.ProposedMinor != 0 {
		t.Errorf("line MDFM-1.1: budget %d, approved %d, proposed %d; want 10000000, 6000000, 0",
			line.BudgetMinor, line.ApprovedMinor, line.ProposedMinor)
	}
	a := s.Allocations["A-1"]
	wantA := domain.Allocation{ID: "A-1", LineID: "MDFM-1.1", TermID: "2020-2021", AmountMinor: 6000000,
		ProposedBy: "alice", ProposedOn: "2020-06-01", Approved: true, ApprovedBy: "bob", ApprovedOn: "2020-06-02",
		SpentMinor: 1776167, Funding: []events.Draw{{Amount: money.USDAmount(6000000)}}, ApprovalEventID: "ev-10"}
	if diff := cmp.Diff(wantA, *a); diff != "" {
		t.Errorf("allocation A-1 (-want +got):\n%s", diff)
	}
	for id, want := range map[string][2]int64{"C-1": {12998400, 129984}, "C-2": {2500000, 25000}} {
		c := s.Contributions[id]
		if c.USDMinor != want[0] || c.FeeMinor != want[1] {
			t.Errorf("contribution %s: US cents %d, fee %d; want %d, %d", id, c.USDMinor, c.FeeMinor, want[0], want[1])
		}
	}

	// The trial balance drawn from the postings: every account, and both
	// books, balance; UIL holds the fees.
	balances := map[string]int64{}
	for _, e := range log {
		ps, err := domain.Postings(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			balances[p.Account] += p.Minor
		}
	}
	wantBalances := map[string]int64{
		domain.AccountTrustCash:        13567249,
		domain.AccountTrustUnallocated: -9343416,
		domain.AccountTrustAllocated:   -6000000,
		domain.AccountTrustSpent:       1776167,
		domain.AccountUILCash:          154984,
		domain.AccountUILFeeRevenue:    -154984,
	}
	if diff := cmp.Diff(wantBalances, balances); diff != "" {
		t.Errorf("trial balance (-want +got):\n%s", diff)
	}

	var types []string
	for _, e := range log {
		types = append(types, e.Type)
	}
	wantTypes := []string{
		events.TypeTermOpened, events.TypeDonorRegistered, events.TypeDonorRegistered,
		events.TypeContributionReceived, events.TypeFeeCharged,
		events.TypeContributionReceived, events.TypeFeeCharged,
		events.TypeBudgetLineAdded, events.TypeAllocationProposed, events.TypeAllocationApproved,
		events.TypeExpenditureRecorded, events.TypeExpenditureRecorded,
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if s.FundSeq != uint64(len(wantTypes)) {
		t.Errorf("fund_seq %d, want %d", s.FundSeq, len(wantTypes))
	}
}
