package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
)

// AmendDonor mends a donor's registration forward. A field left out (or
// null) keeps its value; City "" removes the city. At least one field must
// be given and differ from the donor as of AmendedOn; Reason is required.
// Fields are pointers so that "not given" and "" differ.
type AmendDonor struct {
	Meta
	ID        string  `json:"-"` // the donor, from the path
	Name      *string `json:"name"`
	Kind      *string `json:"kind"`
	Country   *string `json:"country"`
	City      *string `json:"city"`
	Reason    string  `json:"reason"`
	AmendedOn string  `json:"amended_on"` // optional, default today
}

func (c *AmendDonor) decide(s *State) ([]events.Event, error) { return amendDonor(s, c) }

// amendDonor mends a donor's registration forward. Only the given fields
// that differ from the donor as of the amendment's date are recorded; a
// given field equal to it would change nothing on any day.
func amendDonor(s *State, c *AmendDonor) ([]events.Event, error) {
	d, err := donor(s, "id", c.ID)
	if err != nil {
		return nil, err
	}
	if c.Name == nil && c.Kind == nil && c.Country == nil && c.City == nil {
		return nil, refuse(CodeMissingField, "name", "an amendment changes at least one of name, kind, country and city")
	}
	if c.Name != nil {
		if err := checkText("name", *c.Name, true); err != nil {
			return nil, err
		}
	}
	if c.Kind != nil {
		if *c.Kind == "" {
			return nil, refuse(CodeMissingField, "kind", "kind cannot be emptied: one of %v", DonorKinds)
		}
		if !contains(DonorKinds, *c.Kind) {
			return nil, refuse(CodeInvalidDonorKind, "kind", "kind %q is not one of %v", trunc(*c.Kind), DonorKinds)
		}
	}
	if c.Country != nil {
		if err := checkCountry("country", *c.Country, true); err != nil {
			return nil, err
		}
	}
	if c.City != nil {
		if err := checkText("city", *c.City, false); err != nil {
			return nil, err
		}
	}
	if err := checkMultiline("reason", c.Reason, true); err != nil {
		return nil, err
	}
	on, err := optionalDate("amended_on", c.AmendedOn, c.Today)
	if err != nil {
		return nil, err
	}
	was := d.AsOf(on)
	p := &events.DonorAmended{DonorID: d.ID, Reason: c.Reason,
		Name: changed(c.Name, was.Name), Kind: changed(c.Kind, was.Kind), Country: changed(c.Country, was.Country), City: changed(c.City, was.City)}
	if p.Name == nil && p.Kind == nil && p.Country == nil && p.City == nil {
		return nil, refuse(CodeAmendmentChangesNothing, "", "donor %s already stands so as of %s: the amendment changes nothing", d.ID, on)
	}
	return build(on, p)
}

// changed returns v when it is given and differs from was, else nil.
func changed(v *string, was string) *string {
	if v == nil || *v == was {
		return nil
	}
	x := *v
	return &x
}
