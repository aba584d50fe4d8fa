package events

import "github.com/unesco-uil/mdfm-ledger/money"

// InterestEarned is interest credited on a term's trust balance. It stays in
// the trust, in the term's unearmarked pot.
type InterestEarned struct {
	InterestID string       `json:"interest_id"`
	TermID     string       `json:"term_id"`
	Amount     money.Amount `json:"amount"` // USD
	EarnedOn   string       `json:"earned_on"`
}

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
