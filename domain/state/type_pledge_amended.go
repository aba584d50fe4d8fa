package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for pledge_amended events (see rule).
var _ = addRule(events.TypePledgeAmended, typed[*events.PledgeAmended]{
	apply:    applyPledgeAmended,
	postings: postPledgeAmended,
})

func applyPledgeAmended(s *State, p *events.PledgeAmended, _ *EventRecord, _ events.Event) error {
	pl, ok := s.Pledges[p.PledgeID]
	if !ok {
		return fmt.Errorf("unknown pledge %s", p.PledgeID)
	}
	pl.Amount, pl.USDRate, pl.USDMinor, pl.DueOn = p.Amount, p.USDRate, p.USDAmount.Minor, p.DueOn
	pl.OutstandingUSD += p.OutstandingUSDChange.Minor
	return nil
}

func postPledgeAmended(p *events.PledgeAmended, add func(Posting)) {
	memo(add, p.TermID, p.DonorID, p.PledgeID, p.Earmark, p.OutstandingUSDChange.Minor)
}
