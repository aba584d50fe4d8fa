package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// OpenTerm opens a two-year term of the fund.
type OpenTerm struct {
	Meta
	ID       string     `json:"id"`
	StartsOn string     `json:"starts_on"`
	EndsOn   string     `json:"ends_on"`
	Target   MoneyInput `json:"target"`
	FeeRate  string     `json:"fee_rate"`
}

func (c *OpenTerm) decide(s *State) ([]events.Event, error) { return openTerm(s, c) }

func openTerm(s *State, c *OpenTerm) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Terms[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "term %s is already open", c.ID)
	}
	if err := checkDate("starts_on", c.StartsOn); err != nil {
		return nil, err
	}
	if err := checkDate("ends_on", c.EndsOn); err != nil {
		return nil, err
	}
	if c.EndsOn <= c.StartsOn {
		return nil, refuse(CodeInvalidTermPeriod, "ends_on", "a term ends after it starts (%s to %s)", c.StartsOn, c.EndsOn)
	}
	if last := addYears(c.StartsOn, MaxTermYears); c.EndsOn > last {
		return nil, refuse(CodeInvalidTermPeriod, "ends_on", "a term lasts at most %d years: from %s it ends by %s, not %s", MaxTermYears, c.StartsOn, last, c.EndsOn)
	}
	target, err := parseUSD("target", c.Target)
	if err != nil {
		return nil, err
	}
	if c.FeeRate == "" {
		return nil, refuse(CodeMissingField, "fee_rate", "fee_rate is required (\"0.01\" is 1 %%; \"0\" for none)")
	}
	if !isFeeRate(c.FeeRate) {
		return nil, refuse(CodeInvalidFeeRate, "fee_rate", "fee_rate %q must be a fraction from 0 to %s with at most 6 decimals", c.FeeRate, MaxFeeRate)
	}
	for _, t := range s.Terms {
		if c.StartsOn <= t.EndsOn && t.StartsOn <= c.EndsOn {
			return nil, refuse(CodeTermOverlaps, "starts_on", "term %s overlaps term %s (%s to %s)", c.ID, t.ID, t.StartsOn, t.EndsOn)
		}
	}
	return build(c.StartsOn, &events.TermOpened{TermID: c.ID, StartsOn: c.StartsOn, EndsOn: c.EndsOn, Target: money.USDAmount(target), FeeRate: c.FeeRate})
}
