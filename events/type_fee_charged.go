package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeFeeCharged is the stable name of the type (see Type.Name).
const TypeFeeCharged = "fee_charged"

var _ = register(Type{Seq: 5, Name: TypeFeeCharged, V: 1, ReversedWith: TypeContributionReceived, New: newOf[FeeCharged]})

// FeeCharged moves the administrative agent's fee on a receipt from the trust
// book to UIL's own revenue. It is the only way money leaves the trust for UIL.
type FeeCharged struct {
	ContributionID string       `json:"contribution_id"`
	DonorID        string       `json:"donor_id"`
	TermID         string       `json:"term_id"`
	FeeRate        string       `json:"fee_rate"`
	Amount         money.Amount `json:"amount"` // USD
	// Earmark is the receipt's pot, which the fee comes out of.
	Earmark string `json:"earmark,omitempty"`
}

func (FeeCharged) EventType() string { return TypeFeeCharged }
