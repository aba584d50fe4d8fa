package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeAllocationApproved is the stable name of the type (see Type.Name).
const TypeAllocationApproved = "allocation_approved"

var _ = register(Type{Seq: 8, Name: TypeAllocationApproved, V: 1, Reversible: true, New: newOf[AllocationApproved]})

// AllocationApproved is the checker's half: it moves the amount from the
// term's unallocated balance to the budget line. Funding says which pots the
// amount was drawn from; events written before earmarks existed have none,
// and their amount came from the unearmarked pot.
type AllocationApproved struct {
	AllocationID string       `json:"allocation_id"`
	LineID       string       `json:"line_id"`
	TermID       string       `json:"term_id"`
	Amount       money.Amount `json:"amount"` // USD
	ProposedBy   string       `json:"proposed_by"`
	ApprovedBy   string       `json:"approved_by"`
	Funding      []Draw       `json:"funding,omitempty"`
}

func (AllocationApproved) EventType() string { return TypeAllocationApproved }
