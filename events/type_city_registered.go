package events

// TypeCityRegistered is the stable name of the type (see Type.Name).
const TypeCityRegistered = "city_registered"

var _ = register(Type{Seq: 18, Name: TypeCityRegistered, V: 1, New: newOf[CityRegistered]})

// CityRegistered adds a city of the UNESCO Global Network of Learning Cities
// to the registry.
type CityRegistered struct {
	CityID  string `json:"city_id"`
	Name    string `json:"name"`
	Country string `json:"country"` // ISO 3166 alpha-2
}

func (CityRegistered) EventType() string { return TypeCityRegistered }
