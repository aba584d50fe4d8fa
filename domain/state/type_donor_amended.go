package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for donor_amended events (see rule).
var _ = addRule(events.TypeDonorAmended, typed[*events.DonorAmended]{
	apply: applyDonorAmended,
})

func applyDonorAmended(s *State, p *events.DonorAmended, _ *EventRecord, e events.Event) error {
	d, ok := s.Donors[p.DonorID]
	if !ok {
		return fmt.Errorf("unknown donor %s", p.DonorID)
	}
	d.addAmendment(DonorAmendment{On: e.EffectiveOn, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City})
	return nil
}
