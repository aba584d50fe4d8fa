package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// ProposeAllocation proposes to allocate unallocated money to a budget line.
type ProposeAllocation struct {
	Meta
	ID         string     `json:"id"`
	LineID     string     `json:"line_id"`
	Amount     MoneyInput `json:"amount"`
	Note       string     `json:"note"`
	ProposedOn string     `json:"proposed_on"` // optional, default today
}

func (c *ProposeAllocation) decide(s *State) ([]events.Event, error) { return proposeAllocation(s, c) }

func proposeAllocation(s *State, c *ProposeAllocation) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Allocations[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "allocation %s already exists", c.ID)
	}
	l, ok := s.Lines[c.LineID]
	if c.LineID == "" {
		return nil, refuse(CodeMissingField, "line_id", "line_id is required")
	}
	if !ok {
		return nil, refuse(CodeUnknownLine, "line_id", "no budget line %s", c.LineID)
	}
	t := s.Terms[l.TermID]
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkMultiline("note", c.Note, false); err != nil {
		return nil, err
	}
	on, err := optionalDate("proposed_on", c.ProposedOn, c.Today)
	if err != nil {
		return nil, err
	}
	if err := checkInTerm("proposed_on", on, t); err != nil {
		return nil, err
	}
	if err := checkOpenOn("proposed_on", t, on); err != nil {
		return nil, err
	}
	if err := checkAllocatable(s, t, l, amount, l.ProposedMinor); err != nil {
		return nil, err
	}
	return build(on, &events.AllocationProposed{AllocationID: c.ID, LineID: l.ID, TermID: t.ID, Amount: money.USDAmount(amount), Note: c.Note, ProposedBy: c.Actor})
}
