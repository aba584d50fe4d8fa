package events

// TypeDonorRegistered is the stable name of the type (see Type.Name).
const TypeDonorRegistered = "donor_registered"

var _ = register(Type{Seq: 2, Name: TypeDonorRegistered, V: 1, New: newOf[DonorRegistered]})

// DonorRegistered registers a member city, country, company or foundation.
type DonorRegistered struct {
	DonorID string `json:"donor_id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country"`
	City    string `json:"city,omitempty"`
}

func (DonorRegistered) EventType() string { return TypeDonorRegistered }
