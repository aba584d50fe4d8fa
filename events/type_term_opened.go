package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeTermOpened is the stable name of the type (see Type.Name).
const TypeTermOpened = "term_opened"

var _ = register(Type{Seq: 1, Name: TypeTermOpened, V: 1, New: newOf[TermOpened]})

// TermOpened opens a two-year term with its target and the fee rate that
// every receipt of the term is charged at.
type TermOpened struct {
	TermID   string       `json:"term_id"`
	StartsOn string       `json:"starts_on"`
	EndsOn   string       `json:"ends_on"`
	Target   money.Amount `json:"target"`   // USD
	FeeRate  string       `json:"fee_rate"` // fraction, "0.01" is 1 %
}

func (TermOpened) EventType() string { return TypeTermOpened }
