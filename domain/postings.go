package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// Accounts of the two books and the memo. Debits are positive, credits
// negative; the postings of one event sum to zero, and so does each book
// except through a fee, which moves money from trust to uil.
const (
	AccountTrustCash        = "trust:cash"        // asset: money held in trust
	AccountTrustUnallocated = "trust:unallocated" // net assets held in trust, not yet allocated
	AccountTrustAllocated   = "trust:allocated"   // net assets allocated to a line (per line)
	AccountTrustSpent       = "trust:spent"       // spent on a line (per line), reduces net assets
	AccountUILCash          = "uil:cash"          // the agent's own money
	AccountUILFeeRevenue    = "uil:fee_revenue"   // the agent's revenue: fees only
)

// Posting is one leg of an event: an amount in US cents on an account,
// positive for a debit and negative for a credit.
type Posting struct {
	Account string
	TermID  string
	LineID  string // set on per-line accounts
	DonorID string // set where a donor's money is concerned
	Minor   int64
}

// Postings returns the legs of an event; events that move no money have
// none. The legs always sum to zero: a violation panics, since it would mean
// a bug in this function, not bad input.
func Postings(e events.Event) ([]Posting, error) {
	p, err := e.Payload()
	if err != nil {
		return nil, err
	}
	var ps []Posting
	switch p := p.(type) {
	case *events.ContributionReceived:
		x := p.USDAmount.Minor
		ps = []Posting{
			{Account: AccountTrustCash, TermID: p.TermID, DonorID: p.DonorID, Minor: x},
			{Account: AccountTrustUnallocated, TermID: p.TermID, DonorID: p.DonorID, Minor: -x},
		}
	case *events.FeeCharged:
		x := p.Amount.Minor
		ps = []Posting{
			{Account: AccountTrustUnallocated, TermID: p.TermID, DonorID: p.DonorID, Minor: x},
			{Account: AccountTrustCash, TermID: p.TermID, DonorID: p.DonorID, Minor: -x},
			{Account: AccountUILCash, TermID: p.TermID, DonorID: p.DonorID, Minor: x},
			{Account: AccountUILFeeRevenue, TermID: p.TermID, DonorID: p.DonorID, Minor: -x},
		}
	case *events.AllocationApproved:
		x := p.Amount.Minor
		ps = []Posting{
			{Account: AccountTrustUnallocated, TermID: p.TermID, Minor: x},
			{Account: AccountTrustAllocated, TermID: p.TermID, LineID: p.LineID, Minor: -x},
		}
	case *events.ExpenditureRecorded:
		x := p.USDAmount.Minor
		ps = []Posting{
			{Account: AccountTrustSpent, TermID: p.TermID, LineID: p.LineID, Minor: x},
			{Account: AccountTrustCash, TermID: p.TermID, LineID: p.LineID, Minor: -x},
		}
	case *events.TermOpened, *events.DonorRegistered, *events.BudgetLineAdded, *events.AllocationProposed:
		return nil, nil
	default:
		return nil, fmt.Errorf("no postings rule for %T", p)
	}
	var sum int64
	for _, x := range ps {
		sum += x.Minor
	}
	if sum != 0 {
		panic(fmt.Sprintf("postings of %s fund_seq %d sum to %d, not zero", e.Type, e.FundSeq, sum))
	}
	return ps, nil
}
