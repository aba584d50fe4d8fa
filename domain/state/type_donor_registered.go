package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for donor_registered events (see rule).
var _ = addRule(events.TypeDonorRegistered, typed[*events.DonorRegistered]{
	apply: applyDonorRegistered,
})

func applyDonorRegistered(s *State, p *events.DonorRegistered, _ *EventRecord, _ events.Event) error {
	s.Donors[p.DonorID] = &Donor{ID: p.DonorID, Name: p.Name, Kind: p.Kind, Country: p.Country, City: p.City}
	return nil
}
