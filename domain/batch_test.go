package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// TestDecideBatch: each command is decided against the state the ones
// before it leave; the events of all come back in order; s is untouched.
func TestDecideBatch(t *testing.T) {
	s := given(t, openTerm())
	before := given(t, openTerm())
	cmds := []domain.Command{registerDonor(), eurReceipt(), addLine(), propose(), approve(), spend()}
	evs, i, err := domain.DecideBatch(s, cmds)
	if err != nil || i != -1 {
		t.Fatalf("DecideBatch = %d, %v; want all accepted", i, err)
	}
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("DecideBatch changed the state (-before +after):\n%s", diff)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
		if e.ID != "" || e.FundSeq != 0 || e.Fund != "" {
			t.Errorf("DecideBatch stamped %s: %+v", e.Type, e)
		}
	}
	want := []string{events.TypeDonorRegistered, events.TypeContributionReceived, events.TypeFeeCharged, events.TypeBudgetLineAdded,
		events.TypeAllocationProposed, events.TypeAllocationApproved, events.TypeExpenditureRecorded}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	// The events apply to s as the writer would, to the same state as the
	// commands one by one.
	applyAll(t, s, evs)
	one := given(t, openTerm(), registerDonor(), eurReceipt(), addLine(), propose(), approve(), spend())
	if diff := cmp.Diff(one.Terms, s.Terms); diff != "" {
		t.Errorf("the batch's terms differ from the commands one by one (-one +batch):\n%s", diff)
	}
}

func TestDecideBatchRefusal(t *testing.T) {
	s := given(t, openTerm())
	before := given(t, openTerm())
	// The second approval needs money the first one took.
	cmds := []domain.Command{registerDonor(), eurReceipt(), addLine(),
		with(propose(), func(c *domain.ProposeAllocation) { c.Amount = usdIn("30000.00") }),
		with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2" }),
		with(propose(), func(c *domain.ProposeAllocation) { c.ID = "A-2"; c.LineID = "MDFM-1.2"; c.Amount = usdIn("30000.00") }),
		approve(),
		with(approve(), func(c *domain.ApproveAllocation) { c.ID = "A-2" }),
		spend()}
	evs, i, err := domain.DecideBatch(s, cmds)
	var de *errs.Error
	if len(evs) != 0 || i != 7 || !errors.As(err, &de) || de.Code != domain.CodeInsufficientUnallocated {
		t.Fatalf("DecideBatch = %d events, index %d, %v; want none, 7, %s", len(evs), i, err, domain.CodeInsufficientUnallocated)
	}
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("a refused batch changed the state (-before +after):\n%s", diff)
	}
}

// TestClone: a clone shares nothing that Apply changes.
func TestClone(t *testing.T) {
	history := func() []domain.Command {
		return plus(funded(), registerCluster("ESD"), registerCity("cork", "IE"), appoint("ESD", "cork"),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{ClusterID: "ESD"} }),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2" }), propose(), approve(), spend(), refund())
	}
	s := given(t, history()...)
	before := given(t, history()...) // built apart, to share nothing with s
	c := s.Clone()
	if diff := cmp.Diff(s, c); diff != "" {
		t.Fatalf("clone differs (-s +clone):\n%s", diff)
	}
	applyAll(t, c, mustDecide(t, c, interest()))
	for i, id := range []string{s.IDAt(s.Expenditures["E-1"].EventSeq), s.Allocations["A-1"].ApprovalEventID, s.IDAt(s.Refunds["R-1"].EventSeq), "ev-3",
		s.IDAt(s.Contributions["C-2"].EventSeq)} {
		applyAll(t, c, mustDecide(t, c, with(reverse(id), func(r *domain.ReverseEvent) { r.ID = fmt.Sprintf("X-%d", i) })))
	}
	applyAll(t, c, mustDecide(t, c, registerCity("suwon", "KR")))
	applyAll(t, c, mustDecide(t, c, appoint("ESD", "suwon")))
	c.Terms["2020-2021"].Earmarked["line:x"] = 1
	c.Clusters["ESD"].Members["2020-2021"][0] = "changed"
	c.Pledges["P-1"].PaidMinor = -1
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("changing the clone changed the state (-before +after):\n%s", diff)
	}
}

func mustDecide(t *testing.T, s *domain.State, c domain.Command) []events.Event {
	t.Helper()
	evs, err := domain.Decide(s, c)
	if err != nil {
		t.Fatalf("Decide(%T): %v", c, err)
	}
	return evs
}

// TestDecideBatchPutsBackSharedEntries: a batch that adds to and changes
// the entries DecideBatch shares with s (receipts and their fees,
// expenditures, interest, refunds, reversals of each, the event records)
// leaves s as it was, whether it is accepted or refused.
func TestDecideBatchPutsBackSharedEntries(t *testing.T) {
	history := func() []domain.Command {
		return plus(funded(), with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2" }), propose(), approve(), spend(), refund(), interest())
	}
	s := given(t, history()...)
	before := given(t, history()...) // built apart, to share nothing with s
	var cmds []domain.Command
	for i, id := range []string{s.IDAt(s.Refunds["R-1"].EventSeq), s.IDAt(s.Expenditures["E-1"].EventSeq), s.IDAt(s.Interest["I-1"].EventSeq), s.IDAt(s.Contributions["C-2"].EventSeq)} {
		cmds = append(cmds, with(reverse(id), func(r *domain.ReverseEvent) { r.ID = fmt.Sprintf("X-%d", i) }))
	}
	cmds = append(cmds, with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-3" }),
		with(interest(), func(c *domain.RecordInterest) { c.ID = "I-2" }))
	for _, refused := range []bool{false, true} {
		batch := cmds
		if refused {
			// Reversed once already, in this batch.
			batch = append(batch, with(reverse(s.IDAt(s.Contributions["C-2"].EventSeq)), func(r *domain.ReverseEvent) { r.ID = "X-again" }))
		}
		evs, i, err := domain.DecideBatch(s, batch)
		if refused != (err != nil) {
			t.Fatalf("refused %v: DecideBatch = %d events, index %d, %v", refused, len(evs), i, err)
		}
		if diff := cmp.Diff(before, s); diff != "" {
			t.Errorf("refused %v: DecideBatch changed the state (-before +after):\n%s", refused, diff)
		}
	}
}
