package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for allocation_proposed events (see rule).
var _ = addRule(events.TypeAllocationProposed, typed[*events.AllocationProposed]{
	apply: applyProposal,
})

func applyProposal(s *State, p *events.AllocationProposed, _ *EventRecord, e events.Event) error {
	l, ok := s.Lines[p.LineID]
	if !ok {
		return fmt.Errorf("unknown line %s", p.LineID)
	}
	s.Allocations[p.AllocationID] = &Allocation{ID: p.AllocationID, LineID: p.LineID, TermID: p.TermID, AmountMinor: p.Amount.Minor, ProposedBy: p.ProposedBy, ProposedOn: e.EffectiveOn}
	l.ProposedMinor += p.Amount.Minor
	return nil
}
