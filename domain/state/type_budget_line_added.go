package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for budget_line_added events (see rule).
var _ = addRule(events.TypeBudgetLineAdded, typed[*events.BudgetLineAdded]{
	apply: applyBudgetLine,
})

func applyBudgetLine(s *State, p *events.BudgetLineAdded, _ *EventRecord, _ events.Event) error {
	s.Lines[p.LineID] = &Line{ID: p.LineID, TermID: p.TermID, ClusterID: p.ClusterID, BudgetMinor: p.Amount.Minor}
	return nil
}
