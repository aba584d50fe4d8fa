package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// RegisterCity adds a city of the network to the registry.
type RegisterCity struct {
	Meta
	ID      string `json:"id"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

func (c *RegisterCity) decide(s *State) ([]events.Event, error) { return registerCity(s, c) }

func registerCity(s *State, c *RegisterCity) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Cities[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "city %s is already registered", c.ID)
	}
	if err := checkText("name", c.Name, true); err != nil {
		return nil, err
	}
	if err := checkCountry("country", c.Country, true); err != nil {
		return nil, err
	}
	return build(c.Today, &events.CityRegistered{CityID: c.ID, Name: c.Name, Country: c.Country})
}
