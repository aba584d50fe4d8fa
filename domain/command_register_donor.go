package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// RegisterDonor registers a donor.
type RegisterDonor struct {
	Meta
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	City    string `json:"city"`
}

func (c *RegisterDonor) decide(s *State) ([]events.Event, error) { return registerDonor(s, c) }

// DonorKinds are the kinds of donor the strategy names.
var DonorKinds = []string{"member_city", "country", "company", "foundation", "other"}

func registerDonor(s *State, c *RegisterDonor) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Donors[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "donor %s is already registered", c.ID)
	}
	if err := checkText("name", c.Name, true); err != nil {
		return nil, err
	}
	if c.Kind == "" {
		return nil, refuse(CodeMissingField, "kind", "kind is required: one of %v", DonorKinds)
	}
	if !contains(DonorKinds, c.Kind) {
		return nil, refuse(CodeInvalidDonorKind, "kind", "kind %q is not one of %v", c.Kind, DonorKinds)
	}
	if err := checkCountry("country", c.Country, true); err != nil {
		return nil, err
	}
	if err := checkText("city", c.City, false); err != nil {
		return nil, err
	}
	return build(c.Today, &events.DonorRegistered{DonorID: c.ID, Name: c.Name, Kind: c.Kind, Country: c.Country, City: c.City})
}
