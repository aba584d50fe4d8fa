package domain

import (
	"github.com/unesco-uil/mdfm-ledger/domain/state"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// The state of a fund and how its events fold into it, with their postings,
// are package state (domain/state): Decide reads the state, Apply builds it.
// The names below keep them part of the domain's API.

// The state's types (see package state).
type (
	State          = state.State
	Term           = state.Term
	Totals         = state.Totals
	Donor          = state.Donor
	DonorAmendment = state.DonorAmendment
	Contribution   = state.Contribution
	Line           = state.Line
	Allocation     = state.Allocation
	Expenditure    = state.Expenditure
	Pledge         = state.Pledge
	Interest       = state.Interest
	Refund         = state.Refund
	Reversal       = state.Reversal
	City           = state.City
	Cluster        = state.Cluster
	EventRecord    = state.EventRecord
	UndoLog        = state.UndoLog
	Posting        = state.Posting
)

// Accounts of the two books and the memo (see package state).
const (
	AccountTrustCash         = state.AccountTrustCash
	AccountTrustUnallocated  = state.AccountTrustUnallocated
	AccountTrustAllocated    = state.AccountTrustAllocated
	AccountTrustSpent        = state.AccountTrustSpent
	AccountUILCash           = state.AccountUILCash
	AccountUILFeeRevenue     = state.AccountUILFeeRevenue
	AccountMemoPledges       = state.AccountMemoPledges
	AccountMemoPledgesContra = state.AccountMemoPledgesContra
)

// ErrUnbalanced is state.ErrUnbalanced.
var ErrUnbalanced = state.ErrUnbalanced

// NewState returns the empty state of a fund (state.NewState).
func NewState(fund string) *State { return state.NewState(fund) }

// Apply folds one event into the state (state.Apply).
func Apply(s *State, e events.Event) error { return state.Apply(s, e) }

// ApplyDecoded is Apply with the payload decoded (state.ApplyDecoded).
func ApplyDecoded(s *State, e events.Event, p events.Payload) error {
	return state.ApplyDecoded(s, e, p)
}

// Postings returns the legs of an event (state.Postings).
func Postings(e events.Event) ([]Posting, error) { return state.Postings(e) }

// PayloadPostings is Postings with the payload decoded (state.PayloadPostings).
func PayloadPostings(e events.Event, p events.Payload) ([]Posting, error) {
	return state.PayloadPostings(e, p)
}

// Attributable returns a donor's unspent attributable balance in a term
// (state.Attributable).
func Attributable(s *State, termID, donorID string) int64 {
	return state.Attributable(s, termID, donorID)
}

// AttributableOn is Attributable as of the end of day on
// (state.AttributableOn).
func AttributableOn(s *State, termID, donorID, on string) (int64, error) {
	return state.AttributableOn(s, termID, donorID, on)
}
