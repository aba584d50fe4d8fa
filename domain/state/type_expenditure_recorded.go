package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for expenditure_recorded events (see rule).
var _ = addRule(events.TypeExpenditureRecorded, typed[*events.ExpenditureRecorded]{
	apply:    applyExpenditure,
	postings: postExpenditure,
	effect:   moveExpenditure,
	reversed: reversedExpenditure,
})

func applyExpenditure(s *State, p *events.ExpenditureRecorded, rec *EventRecord, e events.Event) error {
	a, ok := s.Allocations[p.AllocationID]
	if !ok {
		return fmt.Errorf("unknown allocation %s", p.AllocationID)
	}
	keep(s, s.Expenditures, p.ExpenditureID)
	s.Expenditures[p.ExpenditureID] = &Expenditure{ID: p.ExpenditureID, AllocationID: intern(p.AllocationID), USDMinor: p.USDAmount.Minor, EventSeq: e.FundSeq}
	rec.TermID = a.TermID
	return nil
}

func moveExpenditure(s *State, p *events.ExpenditureRecorded, sign int64) {
	a := s.Allocations[p.AllocationID]
	t := s.Terms[a.TermID]
	x := sign * p.USDAmount.Minor
	a.SpentMinor += x
	t.Spent += x
	t.AllocatedUnspent -= x
}

func reversedExpenditure(s *State, p *events.ExpenditureRecorded) {
	keep(s, s.Expenditures, p.ExpenditureID)
	s.Expenditures[p.ExpenditureID].Reversed = true
}

func postExpenditure(p *events.ExpenditureRecorded, add func(Posting)) {
	x := p.USDAmount.Minor
	add(Posting{Account: AccountTrustSpent, TermID: p.TermID, LineID: p.LineID, Minor: x})
	add(Posting{Account: AccountTrustCash, TermID: p.TermID, LineID: p.LineID, Minor: -x})
}
