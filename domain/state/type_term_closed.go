package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for term_closed events (see rule).
var _ = addRule(events.TypeTermClosed, typed[*events.TermClosed]{
	apply: applyTermClosed,
})

func applyTermClosed(s *State, p *events.TermClosed, _ *EventRecord, _ events.Event) error {
	t, ok := s.Terms[p.TermID]
	if !ok {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	t.Closed, t.ClosedOn = true, p.ClosedOn
	t.DispositionKind, t.CarriedTo = p.Disposition.Kind, p.Disposition.ToTermID
	t.KeptAtClose = append([]events.KeptAllocation(nil), p.AllocationsKept...)
	t.DisposedAtClose = p.Unallocated.Minor
	return nil
}
