package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeRefundPaid is the stable name of the type (see Type.Name).
const TypeRefundPaid = "refund_paid"

var _ = register(Type{Seq: 14, Name: TypeRefundPaid, V: 1, Reversible: true, New: newOf[RefundPaid]})

// RefundPaid is money of a term's unallocated balance returned to a donor.
// Funding lists the pots it came out of, so that a reversal puts it back
// exactly where it was.
type RefundPaid struct {
	RefundID string       `json:"refund_id"`
	DonorID  string       `json:"donor_id"`
	TermID   string       `json:"term_id"`
	Amount   money.Amount `json:"amount"` // USD
	PaidOn   string       `json:"paid_on"`
	Reason   string       `json:"reason,omitempty"`
	Funding  []Draw       `json:"funding"`
}

func (RefundPaid) EventType() string { return TypeRefundPaid }
