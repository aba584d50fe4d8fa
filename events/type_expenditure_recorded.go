package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeExpenditureRecorded is the stable name of the type (see Type.Name).
const TypeExpenditureRecorded = "expenditure_recorded"

var _ = register(Type{Seq: 9, Name: TypeExpenditureRecorded, V: 1, Reversible: true, New: newOf[ExpenditureRecorded]})

// ExpenditureRecorded is money spent against an approved allocation. Amount is
// in the currency paid; USDAmount is what the trust book counts.
type ExpenditureRecorded struct {
	ExpenditureID string       `json:"expenditure_id"`
	AllocationID  string       `json:"allocation_id"`
	LineID        string       `json:"line_id"`
	TermID        string       `json:"term_id"`
	Amount        money.Amount `json:"amount"`
	USDRate       string       `json:"usd_rate"`
	USDAmount     money.Amount `json:"usd_amount"`
	SpentOn       string       `json:"spent_on"`
	Payee         string       `json:"payee"`
	Description   string       `json:"description,omitempty"`
	Country       string       `json:"country,omitempty"`
	City          string       `json:"city,omitempty"`
	CityID        string       `json:"city_id,omitempty"` // a city of the registry
}

func (ExpenditureRecorded) EventType() string { return TypeExpenditureRecorded }
