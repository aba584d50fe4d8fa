package state

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
