package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// RecordInterest records interest earned on a term's trust balance.
type RecordInterest struct {
	Meta
	ID       string     `json:"id"`
	TermID   string     `json:"term_id"`
	Amount   MoneyInput `json:"amount"` // USD
	EarnedOn string     `json:"earned_on"`
}

func (c *RecordInterest) decide(s *State) ([]events.Event, error) { return recordInterest(s, c) }

func recordInterest(s *State, c *RecordInterest) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Interest[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "interest %s is already recorded", c.ID)
	}
	t, err := term(s, "term_id", c.TermID)
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
