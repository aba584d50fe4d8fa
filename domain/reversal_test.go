package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/historygen"
	"pgregory.net/rapid"
)

// balances is every balance of a fund that a reversal must restore: each
// term's totals, pots and donors' nets and attributable balances, each
// line's approved and proposed sums, each allocation's state, each pledge's
// payments and outstanding value, and the trial balance of every account.
type balances struct {
	Terms        map[string]termBalances
	Lines        map[string][2]int64
	Allocations  map[string]domain.Allocation
	Pledges      map[string]domain.PledgeBalance
	PledgesPaid  map[string][2]int64
	Attributable map[string]int64 // "term/donor"
	Trial        map[ledgerKey]int64
}

type termBalances struct {
	Totals      domain.Totals
	Unearmarked int64
	Earmarked   map[string]int64
	DonorNet    map[string]map[string]int64
}

func balancesOf(s *domain.State, books map[ledgerKey]int64) balances {
	b := balances{Terms: map[string]termBalances{}, Lines: map[string][2]int64{}, Allocations: map[string]domain.Allocation{},
		Pledges: map[string]domain.PledgeBalance{}, PledgesPaid: map[string][2]int64{}, Attributable: map[string]int64{},
		Trial: map[ledgerKey]int64{}}
	c := s.Clone()
	for id, t := range c.Terms {
		b.Terms[id] = termBalances{t.Totals, t.Unearmarked, t.Earmarked, t.DonorNet}
		for d := range s.Donors {
			b.Attributable[id+"/"+d] = domain.Attributable(s, id, d)
		}
	}
	for id, l := range c.Lines {
		b.Lines[id] = [2]int64{l.ApprovedMinor, l.ProposedMinor}
	}
	for id, a := range c.Allocations {
		b.Allocations[id] = *a
	}
	for id, pl := range c.Pledges {
		b.Pledges[id], _ = domain.PledgeOutstanding(s, id)
		b.PledgesPaid[id] = [2]int64{pl.PaidMinor, pl.PaidUSDMinor}
	}
	for k, v := range books {
		if v != 0 {
			b.Trial[k] = v
		}
	}
	return b
}

// TestReversalRestoresBalances: in random histories, reversing a money
// event just after it was made (a receipt with its fee, an approval, an
// expenditure, interest, a refund) is always accepted and leaves every
// balance exactly as it was before the event.
func TestReversalRestoresBalances(t *testing.T) {
	reversed := map[string]int{}
	property := func(t *rapid.T) {
		s := domain.NewState("mdfm")
		books := map[ledgerKey]int64{}
		n := rapid.IntRange(minCommands, maxCommands).Draw(t, "commands")
		for i := 0; i < n; i++ {
			c := genCommand(t, s)
			before := balancesOf(s, books)
			evs, err := domain.Decide(s, c)
			if err != nil {
				continue
			}
			applied := applyAll(t, s, evs)
			book(t, books, applied)
			switch c.(type) {
			case *domain.RecordContribution, *domain.ApproveAllocation, *domain.RecordExpenditure,
				*domain.RecordInterest, *domain.RecordRefund:
			default:
				continue
			}
			if !rapid.Bool().Draw(t, "reverse it") {
				continue
			}
			for _, e := range applied {
				if e.Type == events.TypeFeeCharged {
					continue // reversed with its receipt
				}
				rev := &domain.ReverseEvent{Meta: approver, ID: fmt.Sprintf("RV-%s", e.ID), EventID: e.ID, Reason: "wrong entry"}
				rev.Today = "2023-12-31"
				revs, err := domain.Decide(s, rev)
				if err != nil {
					t.Fatalf("reversing %s just after it was made: %v", e.Type, err)
				}
				book(t, books, applyAll(t, s, revs))
				reversed[e.Type]++
			}
			after := balancesOf(s, books)
			if diff := cmp.Diff(before, after, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%T and its reversal changed balances (-before +after):\n%s", c, diff)
			}
		}
	}
	// A reversed expenditure needs a history that reaches spending: one
	// round in fifty has none.
	var types []string
	for _, ty := range events.Types() {
		if ty.Reversible {
			types = append(types, ty.Name)
		}
	}
	if missing := historygen.UntilCovered(func() { rapid.Check(t, property) }, reversed, types); missing != nil {
		t.Error(historygen.Missing("reversal of", missing))
	}
	t.Logf("reversed: %v", reversed)
}

// TestReversalOfReceiptRefundedInFull: a donor refunded its whole
// attributable balance has a net of exactly zero in the pot (no DonorNet
// entry); reversing its receipt is refused, since its net would go below
// zero, and accepted once the refund is reversed first.
func TestReversalOfReceiptRefundedInFull(t *testing.T) {
	s := given(t, refundedInFull()...)
	tm := s.Terms["2020-2021"]
	if _, ok := tm.DonorNet[""]["DE"]; ok || domain.Attributable(s, "2020-2021", "DE") != 0 {
		t.Fatalf("DE's net %v, attributable %d: want no entry and 0", tm.DonorNet[""], domain.Attributable(s, "2020-2021", "DE"))
	}
	if rec, _, _ := s.Event("ev-6"); rec == nil || rec.Type != events.TypeContributionReceived {
		t.Fatalf("ev-6 is %+v, want a %s", rec, events.TypeContributionReceived)
	}
	seq := s.FundSeq
	evs, err := domain.Decide(s, reverse("ev-6"))
	var de *errs.Error
	if len(evs) != 0 || !errors.As(err, &de) || de.Code != domain.CodeReversalOverdrawsDonor {
		t.Fatalf("reversing DE's receipt = %d events, %v; want none and %s", len(evs), err, domain.CodeReversalOverdrawsDonor)
	}
	if s.FundSeq != seq {
		t.Fatalf("fund_seq %d after a refusal, want %d", s.FundSeq, seq)
	}
	// Reverse the refund (ev-8) first, then the receipt.
	evs, err = domain.Decide(s, reverse("ev-8"))
	if err != nil {
		t.Fatalf("reversing the refund: %v", err)
	}
	applyAll(t, s, evs)
	evs, err = domain.Decide(s, with(reverse("ev-6"), func(c *domain.ReverseEvent) { c.ID = "X-2" }))
	if err != nil {
		t.Fatalf("reversing the receipt after its refund: %v", err)
	}
	applyAll(t, s, evs)
	if n := tm.DonorNet[""]; n["DE"] != 0 || n["FR"] != 990000 {
		t.Errorf("nets after both reversals %v, want FR 990000 only", n)
	}
}
