package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// CancelPledge cancels what a pledge still expects.
type CancelPledge struct {
	Meta
	ID          string `json:"-"` // the pledge, from the path
	Reason      string `json:"reason"`
	CancelledOn string `json:"cancelled_on"` // optional, default today
}

func (c *CancelPledge) decide(s *State) ([]events.Event, error) { return cancelPledge(s, c) }

func cancelPledge(s *State, c *CancelPledge) ([]events.Event, error) {
	pl, err := pledge(s, c.ID)
	if err != nil {
		return nil, err
	}
	if err := checkMultiline("reason", c.Reason, true); err != nil {
		return nil, err
	}
	if pl.Cancelled {
		return nil, refuse(CodePledgeCancelled, "id", "pledge %s was cancelled on %s", pl.ID, pl.CancelledOn)
	}
	left := pl.Amount.Minor - pl.PaidMinor
	if left <= 0 {
		return nil, refuse(CodePledgeFullyPaid, "id", "pledge %s is paid in full: there is nothing left to cancel", pl.ID)
	}
	on, err := optionalDate("cancelled_on", c.CancelledOn, c.Today)
	if err != nil {
		return nil, err
	}
	if err := checkSigned("cancelled_on", on, pl); err != nil {
		return nil, err
	}
	if err := checkOpenOn("cancelled_on", s.Terms[pl.TermID], on); err != nil {
		return nil, err
	}
	return build(on, &events.PledgeCancelled{PledgeID: pl.ID, DonorID: pl.DonorID, TermID: pl.TermID, Reason: c.Reason, Earmark: pl.Earmark,
		WrittenOff: money.Amount{Minor: left, Currency: pl.Amount.Currency}, WrittenOffUSD: money.USDAmount(pl.OutstandingUSD)})
}
