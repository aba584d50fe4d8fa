package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeBalanceCarriedOver is the stable name of the type (see Type.Name).
const TypeBalanceCarriedOver = "balance_carried_over"

var _ = register(Type{Seq: 16, Name: TypeBalanceCarriedOver, V: 1, New: newOf[BalanceCarriedOver]})

// Share is one donor's part of an amount.
type Share struct {
	DonorID string       `json:"donor_id"`
	Amount  money.Amount `json:"amount"` // USD
}

// BalanceCarriedOver moves one pot of a closing term's unallocated balance
// into the next term: out of FromTermID's pot Earmark, into ToTermID's pot
// ToEarmark. Shares says whose money it is (they sum to Amount); it is empty
// only for money no donor can be credited with.
type BalanceCarriedOver struct {
	FromTermID string       `json:"from_term_id"`
	ToTermID   string       `json:"to_term_id"`
	Earmark    string       `json:"earmark,omitempty"`
	ToEarmark  string       `json:"to_earmark,omitempty"`
	Amount     money.Amount `json:"amount"` // USD
	Shares     []Share      `json:"shares,omitempty"`
}

func (BalanceCarriedOver) EventType() string { return TypeBalanceCarriedOver }
