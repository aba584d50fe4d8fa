package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeTermClosed is the stable name of the type (see Type.Name).
const TypeTermClosed = "term_closed"

var _ = register(Type{Seq: 17, Name: TypeTermClosed, V: 1, New: newOf[TermClosed]})

// Disposition says what a term's close does with its unallocated balance:
// Kind "carry_over" (to ToTermID) or "refund" (to the donors).
type Disposition struct {
	Kind     string `json:"kind"`
	ToTermID string `json:"to_term_id,omitempty"`
}

// KeptAllocation is an approved allocation of a closed term with the money
// it keeps: Amount is what it had not spent at the close.
type KeptAllocation struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	Amount       money.Amount `json:"amount"` // USD
}

// TermClosed closes a term. The carry-over or refund events of its
// unallocated balance come before it in the same append; Unallocated is
// what they disposed of (CarriedOver + Refunded). It moves no money itself.
type TermClosed struct {
	TermID          string           `json:"term_id"`
	ClosedOn        string           `json:"closed_on"`
	Disposition     Disposition      `json:"disposition"`
	Unallocated     money.Amount     `json:"unallocated"`  // USD
	CarriedOver     money.Amount     `json:"carried_over"` // USD
	Refunded        money.Amount     `json:"refunded"`     // USD
	AllocationsKept []KeptAllocation `json:"allocations_kept"`
}

func (TermClosed) EventType() string { return TypeTermClosed }
