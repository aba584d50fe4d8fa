package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for allocation_approved events (see rule).
var _ = addRule(events.TypeAllocationApproved, typed[*events.AllocationApproved]{
	apply:    applyApproval,
	postings: postApproval,
	effect:   moveApproval,
	reversed: reversedApproval,
})

// ApproveAllocation approves a proposed allocation; the approver must not be
// the user who proposed it.
type ApproveAllocation struct {
	Meta
	ID         string `json:"-"`           // from the path
	ApprovedOn string `json:"approved_on"` // optional, default today
}

func (c *ApproveAllocation) decide(s *State) ([]events.Event, error) { return s.approveAllocation(c) }

func (s *State) approveAllocation(c *ApproveAllocation) ([]events.Event, error) {
	a, ok := s.Allocations[c.ID]
	if !ok {
		return nil, refuse(CodeUnknownAllocation, "id", "no allocation %s", c.ID)
	}
	if a.Approved {
		return nil, refuse(CodeAllocationAlreadyApproved, "id", "allocation %s was approved by %s", a.ID, a.ApprovedBy)
	}
	// Rule 3: maker-checker compares users, not roles.
	if a.ProposedBy == c.Actor {
		return nil, refuse(CodeSameUserApproval, "", "allocation %s was proposed by %s, who cannot approve it too", a.ID, a.ProposedBy)
	}
	l, t := s.Lines[a.LineID], s.Terms[a.TermID]
	on, err := optionalDate("approved_on", c.ApprovedOn, c.Today)
	if err != nil {
		return nil, err
	}
	if on < a.ProposedOn {
		return nil, refuse(CodeInvalidDate, "approved_on", "approved_on %s is before the proposal (%s)", on, a.ProposedOn)
	}
	if err := checkInTerm("approved_on", on, t); err != nil {
		return nil, err
	}
	if err := checkOpenOn("approved_on", t, on); err != nil {
		return nil, err
	}
	if err := s.checkAllocatable(t, l, a.AmountMinor, l.ProposedMinor-a.AmountMinor); err != nil {
		return nil, err
	}
	return build(on, &events.AllocationApproved{AllocationID: a.ID, LineID: l.ID, TermID: t.ID, Amount: money.USDAmount(a.AmountMinor),
		ProposedBy: a.ProposedBy, ApprovedBy: c.Actor, Funding: drawFor(t, l, a.AmountMinor)})
}

func applyApproval(s *State, p *events.AllocationApproved, rec *EventRecord, e events.Event) error {
	a, ok := s.Allocations[p.AllocationID]
	if !ok {
		return fmt.Errorf("unknown allocation %s", p.AllocationID)
	}
	a.Approved, a.ApprovedBy, a.ApprovedOn = true, p.ApprovedBy, e.EffectiveOn
	a.Funding = append([]events.Draw(nil), funding(p)...)
	a.ApprovalEventID = e.ID
	rec.TermID = a.TermID
	return nil
}

func moveApproval(s *State, p *events.AllocationApproved, sign int64) {
	a := s.Allocations[p.AllocationID]
	l, t := s.Lines[a.LineID], s.Terms[a.TermID]
	x := sign * a.AmountMinor
	l.ProposedMinor -= x
	l.ApprovedMinor += x
	for _, d := range funding(p) {
		t.addPot(d.Earmark, -sign*d.Amount.Minor)
	}
	t.AllocatedUnspent += x
}

// reversedApproval makes the allocation proposed again.
func reversedApproval(s *State, p *events.AllocationApproved) {
	a := s.Allocations[p.AllocationID]
	a.Approved, a.ApprovedBy, a.ApprovedOn, a.Funding, a.ApprovalEventID = false, "", "", nil, ""
}

// funding returns the pots an approval drew on; an approval written before
// earmarks existed drew its whole amount from the unearmarked pot.
func funding(p *events.AllocationApproved) []events.Draw {
	if len(p.Funding) == 0 {
		return []events.Draw{{Amount: p.Amount}}
	}
	return p.Funding
}

func postApproval(p *events.AllocationApproved, add func(Posting)) {
	for _, d := range funding(p) {
		add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, Earmark: d.Earmark, Minor: d.Amount.Minor})
	}
	add(Posting{Account: AccountTrustAllocated, TermID: p.TermID, LineID: p.LineID, Minor: -p.Amount.Minor})
}
