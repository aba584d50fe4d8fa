package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for city_registered events (see rule).
var _ = addRule(events.TypeCityRegistered, typed[*events.CityRegistered]{
	apply: applyCity,
})

func applyCity(s *State, p *events.CityRegistered, _ *EventRecord, _ events.Event) error {
	s.Cities[p.CityID] = &City{ID: p.CityID, Name: p.Name, Country: p.Country}
	return nil
}
