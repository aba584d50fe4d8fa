package events

import "github.com/unesco-uil/mdfm-ledger/money"

// TypeEventReversed is the stable name of the type (see Type.Name).
const TypeEventReversed = "event_reversed"

var _ = register(Type{Seq: 15, Name: TypeEventReversed, V: 1, New: newOf[EventReversed]})

// Posting is one leg of an event as a reversal carries it: an amount in US
// dollars on an account, positive for a debit, negative for a credit.
type Posting struct {
	Account  string       `json:"account"`
	TermID   string       `json:"term_id"`
	LineID   string       `json:"line_id,omitempty"`
	DonorID  string       `json:"donor_id,omitempty"`
	Earmark  string       `json:"earmark,omitempty"`
	PledgeID string       `json:"pledge_id,omitempty"`
	Amount   money.Amount `json:"amount"` // USD
}

// EventReversed cancels an earlier money event: its postings are the
// reversed event's, negated, so that the two together leave every account as
// it was. A receipt is reversed together with its fee: two EventReversed
// with the same ReversalID, the fee's first.
type EventReversed struct {
	ReversalID      string    `json:"reversal_id"`
	EventID         string    `json:"event_id"`
	ReversedFundSeq uint64    `json:"reversed_fund_seq"`
	ReversedType    string    `json:"reversed_type"`
	Reason          string    `json:"reason"`
	Postings        []Posting `json:"postings"`
}

func (EventReversed) EventType() string { return TypeEventReversed }
