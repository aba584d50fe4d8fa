package events

// TypeDonorAmended is the stable name of the type (see Type.Name).
const TypeDonorAmended = "donor_amended"

var _ = register(Type{Seq: 3, Name: TypeDonorAmended, V: 1, New: newOf[DonorAmended]})

// DonorAmended mends a donor's registration forward: from EffectiveOn (its
// envelope's date) the donor's name, kind, country and city are those of
// the registration as changed by the amendments dated on or before that
// day, taken in date order, then in the fund's order. Only the fields given
// change (nil: unchanged); City "" removes the city. It moves no money and
// cannot be reversed: a second amendment mends the first.
type DonorAmended struct {
	DonorID string  `json:"donor_id"`
	Name    *string `json:"name,omitempty"`
	Kind    *string `json:"kind,omitempty"`
	Country *string `json:"country,omitempty"`
	City    *string `json:"city,omitempty"`
	Reason  string  `json:"reason"`
}

func (DonorAmended) EventType() string { return TypeDonorAmended }
