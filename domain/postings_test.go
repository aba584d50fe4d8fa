package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

func postingsOf(t *testing.T, p events.Payload) []domain.Posting {
	t.Helper()
	e, err := events.New("2021-01-01", p)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := domain.Postings(e)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestPostings(t *testing.T) {
	usd := money.USDAmount
	const T = "2020-2021"
	for _, tc := range []struct {
		name string
		p    events.Payload
		want []domain.Posting
	}{
		{"an approval drawing on two pots posts each with its earmark",
			&events.AllocationApproved{AllocationID: "A", LineID: "ESD-2.1", TermID: T, Amount: usd(300),
				Funding: []events.Draw{{Earmark: "cluster:ESD", Amount: usd(100)}, {Amount: usd(200)}}},
			[]domain.Posting{
				{Account: domain.AccountTrustUnallocated, TermID: T, Earmark: "cluster:ESD", Minor: 100},
				{Account: domain.AccountTrustUnallocated, TermID: T, Minor: 200},
				{Account: domain.AccountTrustAllocated, TermID: T, LineID: "ESD-2.1", Minor: -300},
			}},
		{"an approval written before earmarks drew on the unearmarked pot",
			&events.AllocationApproved{AllocationID: "A", LineID: "L", TermID: T, Amount: usd(300)},
			[]domain.Posting{
				{Account: domain.AccountTrustUnallocated, TermID: T, Minor: 300},
				{Account: domain.AccountTrustAllocated, TermID: T, LineID: "L", Minor: -300},
			}},
		{"a pledge is a memo entry",
			&events.PledgeRecorded{PledgeID: "P", DonorID: "DE", TermID: T, Amount: money.Amount{Minor: 100, Currency: "EUR"}, USDRate: "1.1",
				USDAmount: usd(110), Earmark: &events.Earmark{LineID: "L"}},
			[]domain.Posting{
				{Account: domain.AccountMemoPledges, TermID: T, DonorID: "DE", PledgeID: "P", Earmark: "line:L", Minor: 110},
				{Account: domain.AccountMemoPledgesContra, TermID: T, DonorID: "DE", PledgeID: "P", Earmark: "line:L", Minor: -110},
			}},
		{"a receipt paying a pledge lowers the memo",
			&events.ContributionReceived{ContributionID: "C", DonorID: "DE", TermID: T, PledgeID: "P", Amount: money.Amount{Minor: 50, Currency: "EUR"},
				USDRate: "1.2", USDAmount: usd(60), Earmark: "line:L", PledgeSettledUSD: ptr(usd(55))},
			[]domain.Posting{
				{Account: domain.AccountTrustCash, TermID: T, DonorID: "DE", Minor: 60},
				{Account: domain.AccountTrustUnallocated, TermID: T, DonorID: "DE", Earmark: "line:L", Minor: -60},
				{Account: domain.AccountMemoPledges, TermID: T, DonorID: "DE", PledgeID: "P", Earmark: "line:L", Minor: -55},
				{Account: domain.AccountMemoPledgesContra, TermID: T, DonorID: "DE", PledgeID: "P", Earmark: "line:L", Minor: 55},
			}},
		{"an amendment that changes nothing posts nothing",
			&events.PledgeAmended{PledgeID: "P", DonorID: "DE", TermID: T, Amount: money.Amount{Minor: 50, Currency: "EUR"}, USDAmount: usd(55),
				OutstandingUSDChange: usd(0)},
			nil},
		{"a refund from two pots",
			&events.RefundPaid{RefundID: "R", DonorID: "DE", TermID: T, Amount: usd(30),
				Funding: []events.Draw{{Earmark: "line:L", Amount: usd(10)}, {Amount: usd(20)}}},
			[]domain.Posting{
				{Account: domain.AccountTrustUnallocated, TermID: T, DonorID: "DE", Earmark: "line:L", Minor: 10},
				{Account: domain.AccountTrustUnallocated, TermID: T, DonorID: "DE", Minor: 20},
				{Account: domain.AccountTrustCash, TermID: T, DonorID: "DE", Minor: -30},
			}},
		{"a carry-over leaves one term and enters the next, per donor",
			&events.BalanceCarriedOver{FromTermID: T, ToTermID: "2022-2023", Earmark: "line:L", ToEarmark: "cluster:C", Amount: usd(30),
				Shares: []events.Share{{DonorID: "DE", Amount: usd(10)}, {DonorID: "FR", Amount: usd(20)}}},
			[]domain.Posting{
				{Account: domain.AccountTrustUnallocated, TermID: T, DonorID: "DE", Earmark: "line:L", Minor: 10},
				{Account: domain.AccountTrustCash, TermID: T, DonorID: "DE", Minor: -10},
				{Account: domain.AccountTrustCash, TermID: "2022-2023", DonorID: "DE", Minor: 10},
				{Account: domain.AccountTrustUnallocated, TermID: "2022-2023", DonorID: "DE", Earmark: "cluster:C", Minor: -10},
				{Account: domain.AccountTrustUnallocated, TermID: T, DonorID: "FR", Earmark: "line:L", Minor: 20},
				{Account: domain.AccountTrustCash, TermID: T, DonorID: "FR", Minor: -20},
				{Account: domain.AccountTrustCash, TermID: "2022-2023", DonorID: "FR", Minor: 20},
				{Account: domain.AccountTrustUnallocated, TermID: "2022-2023", DonorID: "FR", Earmark: "cluster:C", Minor: -20},
			}},
		{"interest", &events.InterestEarned{InterestID: "I", TermID: T, Amount: usd(7)},
			[]domain.Posting{
				{Account: domain.AccountTrustCash, TermID: T, Minor: 7},
				{Account: domain.AccountTrustUnallocated, TermID: T, Minor: -7},
			}},
		{"a reversal posts what it carries",
			&events.EventReversed{ReversalID: "X", EventID: "e", Postings: []events.Posting{
				{Account: domain.AccountTrustCash, TermID: T, Amount: usd(-7)}, {Account: domain.AccountTrustUnallocated, TermID: T, Amount: usd(7)}}},
			[]domain.Posting{
				{Account: domain.AccountTrustCash, TermID: T, Minor: -7},
				{Account: domain.AccountTrustUnallocated, TermID: T, Minor: 7},
			}},
		{"a close moves no money itself", &events.TermClosed{TermID: T, Unallocated: usd(5), CarriedOver: usd(5), Refunded: usd(0)}, nil},
		{"a city moves no money", &events.CityRegistered{CityID: "cork"}, nil},
	} {
		if diff := cmp.Diff(tc.want, postingsOf(t, tc.p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestApplyOldApproval: an allocation_approved written before earmarks (no
// funding) replays as drawn from the unearmarked pot.
func TestApplyOldApproval(t *testing.T) {
	s := given(t, plus(funded(), propose())...)
	old := events.Event{Type: events.TypeAllocationApproved, V: 1, EffectiveOn: "2021-04-02",
		Data: json.RawMessage(`{"allocation_id":"A-1","amount":{"amount":"20000.00","currency":"USD"},"approved_by":"bob","line_id":"MDFM-1.1","proposed_by":"alice","term_id":"2020-2021"}`)}
	applyAll(t, s, []events.Event{old})
	term := s.Terms["2020-2021"]
	if term.Unearmarked != 3445000 || term.Unallocated != 3445000 || term.AllocatedUnspent != 2000000 {
		t.Errorf("after an old approval: unearmarked %d, unallocated %d, allocated %d", term.Unearmarked, term.Unallocated, term.AllocatedUnspent)
	}
	if diff := cmp.Diff([]events.Draw{{Amount: money.USDAmount(2000000)}}, s.Allocations["A-1"].Funding); diff != "" {
		t.Errorf("funding (-want +got):\n%s", diff)
	}
}

// TestPostingsUnbalanced: a stored event whose own split does not add up
// (an allocation funded by less than its amount) answers ErrUnbalanced
// naming the event; it used to panic, which crashed ledgerd at every start.
func TestPostingsUnbalanced(t *testing.T) {
	e, err := events.New("2021-01-01", &events.AllocationApproved{AllocationID: "A", LineID: "L", TermID: "2020-2021",
		Amount: money.USDAmount(300), Funding: []events.Draw{{Amount: money.USDAmount(200)}}})
	if err != nil {
		t.Fatal(err)
	}
	e.Fund, e.FundSeq = "mdfm", 7
	ps, err := domain.Postings(e)
	if !errors.Is(err, domain.ErrUnbalanced) || ps != nil {
		t.Fatalf("Postings = %v, %v; want ErrUnbalanced", ps, err)
	}
	if want := "fund mdfm fund_seq 7"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}
