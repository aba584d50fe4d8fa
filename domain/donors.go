package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
)

// DonorAmendment is one donor_amended: the fields it changed (nil:
// unchanged) from its date On.
type DonorAmendment struct {
	On                        string
	Name, Kind, Country, City *string
}

// AsOf returns the donor as it stands on day on: its registration changed
// by the amendments dated on or before that day, in date order, then in the
// fund's order (Amendments is kept in that order). The registration itself
// holds for every day before the first amendment, whatever its own date:
// receipts are often dated before the donor was registered.
func (d *Donor) AsOf(on string) Donor {
	out := Donor{ID: d.ID, Name: d.Name, Kind: d.Kind, Country: d.Country, City: d.City}
	for _, a := range d.Amendments {
		if a.On > on {
			break
		}
		set(&out.Name, a.Name)
		set(&out.Kind, a.Kind)
		set(&out.Country, a.Country)
		set(&out.City, a.City)
	}
	return out
}

func set(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// addAmendment inserts a after the amendments dated on or before its date,
// so that Amendments stays in date order, then in the fund's order.
func (d *Donor) addAmendment(a DonorAmendment) {
	i := len(d.Amendments)
	for i > 0 && d.Amendments[i-1].On > a.On {
		i--
	}
	d.Amendments = append(d.Amendments[:i], append([]DonorAmendment{a}, d.Amendments[i:]...)...)
}

// amendDonor mends a donor's registration forward. Only the given fields
// that differ from the donor as of the amendment's date are recorded; a
// given field equal to it would change nothing on any day.
func (s *State) amendDonor(c *AmendDonor) ([]events.Event, error) {
	d, err := s.donor("id", c.ID)
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
