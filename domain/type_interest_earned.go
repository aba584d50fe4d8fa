package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for interest_earned events (see rule).
var _ = addRule(events.TypeInterestEarned, typed[*events.InterestEarned]{
	apply:    applyInterest,
	postings: postInterest,
	effect:   moveInterest,
	reversed: reversedInterest,
})

// RecordInterest records interest earned on a term's trust balance.
type RecordInterest struct {
	Meta
	ID       string     `json:"id"`
	TermID   string     `json:"term_id"`
	Amount   MoneyInput `json:"amount"` // USD
	EarnedOn string     `json:"earned_on"`
}

func (c *RecordInterest) decide(s *State) ([]events.Event, error) { return s.recordInterest(c) }

func (s *State) recordInterest(c *RecordInterest) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Interest[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "interest %s is already recorded", c.ID)
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("earned_on", c.EarnedOn, c.Today); err != nil {
		return nil, err
	}
	if c.EarnedOn < t.StartsOn {
		return nil, refuse(CodeDateOutsideTerm, "earned_on", "earned_on %s is before term %s starts (%s)", c.EarnedOn, t.ID, t.StartsOn)
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	return build(c.EarnedOn, &events.InterestEarned{InterestID: c.ID, TermID: t.ID, Amount: money.USDAmount(amount), EarnedOn: c.EarnedOn})
}

func applyInterest(s *State, p *events.InterestEarned, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Interest, p.InterestID)
	s.Interest[p.InterestID] = &Interest{ID: p.InterestID, TermID: p.TermID, USDMinor: p.Amount.Minor, EarnedOn: p.EarnedOn, EventID: e.ID}
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
