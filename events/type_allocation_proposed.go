package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeAllocationProposed is the stable name of the type (see Type.Name).
const TypeAllocationProposed = "allocation_proposed"

var _ = register(Type{Seq: 7, Name: TypeAllocationProposed, V: 1, New: newOf[AllocationProposed]})

// AllocationProposed is the maker's half of an allocation. It moves no money.
type AllocationProposed struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	TermID       string       `json:"term_id"`
	Amount       money.Amount `json:"amount"` // USD
	Note         string       `json:"note,omitempty"`
	ProposedBy   string       `json:"proposed_by"`
}

func (AllocationProposed) EventType() string { return TypeAllocationProposed }
