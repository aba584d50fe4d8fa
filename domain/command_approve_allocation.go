package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// ApproveAllocation approves a proposed allocation; the approver must not be
// the user who proposed it.
type ApproveAllocation struct {
	Meta
	ID         string `json:"-"`           // from the path
	ApprovedOn string `json:"approved_on"` // optional, default today
}

func (c *ApproveAllocation) decide(s *State) ([]events.Event, error) { return approveAllocation(s, c) }

func approveAllocation(s *State, c *ApproveAllocation) ([]events.Event, error) {
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
	if err := checkAllocatable(s, t, l, a.AmountMinor, l.ProposedMinor-a.AmountMinor); err != nil {
		return nil, err
	}
	return build(on, &events.AllocationApproved{AllocationID: a.ID, LineID: l.ID, TermID: t.ID, Amount: money.USDAmount(a.AmountMinor),
		ProposedBy: a.ProposedBy, ApprovedBy: c.Actor, Funding: drawFor(t, l, a.AmountMinor)})
}
