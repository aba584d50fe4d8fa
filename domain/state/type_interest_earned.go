package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for interest_earned events (see rule).
var _ = addRule(events.TypeInterestEarned, typed[*events.InterestEarned]{
	apply:    applyInterest,
	postings: postInterest,
	effect:   moveInterest,
	reversed: reversedInterest,
})

func applyInterest(s *State, p *events.InterestEarned, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Interest, p.InterestID)
	s.Interest[p.InterestID] = &Interest{ID: p.InterestID, TermID: p.TermID, USDMinor: p.Amount.Minor, EarnedOn: p.EarnedOn, EventSeq: e.FundSeq}
	rec.TermID = p.TermID
	return nil
}

func moveInterest(s *State, p *events.InterestEarned, sign int64) {
	t := s.Terms[p.TermID]
	x := sign * p.Amount.Minor
	t.Interest += x
	t.addPot("", x)
}

func reversedInterest(s *State, p *events.InterestEarned) {
	keep(s, s.Interest, p.InterestID)
	s.Interest[p.InterestID].Reversed = true
}

func postInterest(p *events.InterestEarned, add func(Posting)) {
	x := p.Amount.Minor
	add(Posting{Account: AccountTrustCash, TermID: p.TermID, Minor: x})
	add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, Minor: -x})
}
