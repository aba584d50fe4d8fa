package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeInterestEarned is the stable name of the type (see Type.Name).
const TypeInterestEarned = "interest_earned"

var _ = register(Type{Seq: 13, Name: TypeInterestEarned, V: 1, Reversible: true, New: newOf[InterestEarned]})

// InterestEarned is interest credited on a term's trust balance. It stays in
// the trust, in the term's unearmarked pot.
type InterestEarned struct {
	InterestID string       `json:"interest_id"`
	TermID     string       `json:"term_id"`
	Amount     money.Amount `json:"amount"` // USD
	EarnedOn   string       `json:"earned_on"`
}

func (InterestEarned) EventType() string { return TypeInterestEarned }
