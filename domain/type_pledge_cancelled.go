package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for pledge_cancelled events (see rule).
var _ = addRule(events.TypePledgeCancelled, typed[*events.PledgeCancelled]{
	apply:    applyPledgeCancelled,
	postings: postPledgeCancelled,
})

// CancelPledge cancels what a pledge still expects.
type CancelPledge struct {
	Meta
	ID          string `json:"-"` // the pledge, from the path
	Reason      string `json:"reason"`
	CancelledOn string `json:"cancelled_on"` // optional, default today
}

func (c *CancelPledge) decide(s *State) ([]events.Event, error) { return s.cancelPledge(c) }

func (s *State) cancelPledge(c *CancelPledge) ([]events.Event, error) {
	pl, err := s.pledge(c.ID)
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

func applyPledgeCancelled(s *State, p *events.PledgeCancelled, _ *EventRecord, e events.Event) error {
	pl, ok := s.Pledges[p.PledgeID]
	if !ok {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	pl.Cancelled, pl.CancelledOn = true, e.EffectiveOn
	pl.OutstandingUSD -= p.WrittenOffUSD.Minor
	return nil
}

func postPledgeCancelled(p *events.PledgeCancelled, add func(Posting)) {
	memo(add, p.TermID, p.DonorID, p.PledgeID, p.Earmark, -p.WrittenOffUSD.Minor)
}
