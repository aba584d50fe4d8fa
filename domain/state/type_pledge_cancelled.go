package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for pledge_cancelled events (see rule).
var _ = addRule(events.TypePledgeCancelled, typed[*events.PledgeCancelled]{
	apply:    applyPledgeCancelled,
	postings: postPledgeCancelled,
})

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
