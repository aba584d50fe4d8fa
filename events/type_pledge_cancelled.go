package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypePledgeCancelled is the stable name of the type (see Type.Name).
const TypePledgeCancelled = "pledge_cancelled"

var _ = register(Type{Seq: 12, Name: TypePledgeCancelled, V: 1, New: newOf[PledgeCancelled]})

// PledgeCancelled ends a pledge: what it still expected is written off
// (WrittenOff in its currency, WrittenOffUSD in US dollars, what the memo
// accounts post). Receipts already paid against it stay.
type PledgeCancelled struct {
	PledgeID      string       `json:"pledge_id"`
	DonorID       string       `json:"donor_id"`
	TermID        string       `json:"term_id"`
	Reason        string       `json:"reason"`
	Earmark       string       `json:"earmark,omitempty"`
	WrittenOff    money.Amount `json:"written_off"`
	WrittenOffUSD money.Amount `json:"written_off_usd"`
}

func (PledgeCancelled) EventType() string { return TypePledgeCancelled }
