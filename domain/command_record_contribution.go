package domain

import (
	"github.com/shopspring/decimal"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// RecordContribution records cash received from a donor for a term.
type RecordContribution struct {
	Meta
	ID         string     `json:"id"`
	DonorID    string     `json:"donor_id"`
	TermID     string     `json:"term_id"`
	PledgeID   string     `json:"pledge_id"`
	Amount     MoneyInput `json:"amount"`
	USDRate    string     `json:"usd_rate"`
	ReceivedOn string     `json:"received_on"`
	BankRef    string     `json:"bank_ref"`
}

func (c *RecordContribution) decide(s *State) ([]events.Event, error) {
	return recordContribution(s, c)
}

func recordContribution(s *State, c *RecordContribution) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := checkMovementID(s, c.ID); err != nil {
		return nil, err
	}
	d, err := donor(s, "donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := term(s, "term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	var pl *Pledge
	if c.PledgeID != "" {
		if pl = s.Pledges[c.PledgeID]; pl == nil {
			return nil, refuse(CodeUnknownPledge, "pledge_id", "no pledge %s is recorded", trunc(c.PledgeID))
		}
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	received := &events.ContributionReceived{
		ContributionID: c.ID, DonorID: d.ID, TermID: t.ID, PledgeID: c.PledgeID, Amount: amount,
		USDRate: rate, USDAmount: money.USDAmount(usd), ReceivedOn: c.ReceivedOn, BankRef: c.BankRef,
	}
	if pl != nil {
		settled, err := checkPays(pl, d, t, amount)
		if err != nil {
			return nil, err
		}
		received.Earmark = pl.Earmark
		received.PledgeSettledUSD = &settled
	}
	if err := checkPastDate("received_on", c.ReceivedOn, c.Today); err != nil {
		return nil, err
	}
	if c.ReceivedOn > t.EndsOn {
		return nil, refuse(CodeDateOutsideTerm, "received_on", "received_on %s is after term %s ends (%s)", c.ReceivedOn, t.ID, t.EndsOn)
	}
	if err := checkNotEarly("received_on", c.ReceivedOn, t, EarlyReceiptYears); err != nil {
		return nil, err
	}
	if err := checkOpenOn("received_on", t, c.ReceivedOn); err != nil {
		return nil, err
	}
	if err := checkText("bank_ref", c.BankRef, false); err != nil {
		return nil, err
	}
	ps := []events.Payload{received}
	// Rule 1: the fee is charged at the term's rate, in the same append,
	// out of the pot the receipt went into.
	feeRate := decimal.RequireFromString(t.FeeRate)
	if fee := money.Percent(usd, feeRate); fee > 0 {
		ps = append(ps, &events.FeeCharged{ContributionID: c.ID, DonorID: d.ID, TermID: t.ID, FeeRate: t.FeeRate,
			Amount: money.USDAmount(fee), Earmark: received.Earmark})
	}
	return build(c.ReceivedOn, ps...)
}
