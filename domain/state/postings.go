package state

import (
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// Accounts of the two books and the memo. Debits are positive, credits
// negative; the postings of one event sum to zero, and so does each book
// except through a fee, which moves money from trust to uil. The memo
// accounts hold pledges, promises that are not cash: they balance among
// themselves and never mix with the trust book.
const (
	AccountTrustCash         = "trust:cash"          // asset: money held in trust
	AccountTrustUnallocated  = "trust:unallocated"   // net assets held in trust, not yet allocated (per earmark)
	AccountTrustAllocated    = "trust:allocated"     // net assets allocated to a line (per line)
	AccountTrustSpent        = "trust:spent"         // spent on a line (per line), reduces net assets
	AccountUILCash           = "uil:cash"            // the agent's own money
	AccountUILFeeRevenue     = "uil:fee_revenue"     // the agent's revenue: fees only
	AccountMemoPledges       = "memo:pledges"        // what pledges still expect, in US dollars (per pledge)
	AccountMemoPledgesContra = "memo:pledges_contra" // its contra account
)

// Posting is one leg of an event: an amount in US cents on an account,
// positive for a debit and negative for a credit.
type Posting struct {
	Account string
	TermID  string
	LineID  string // set on per-line accounts
	DonorID string // set where a donor's money is concerned
	Minor   int64
	// Earmark is the pot of trust:unallocated postings ("line:<id>",
	// "cluster:<id>", "" for the unearmarked pot), and the pledge's earmark
	// on memo postings.
	Earmark  string
	PledgeID string // set on memo postings
}

// ErrUnbalanced is wrapped by Postings when the legs of an event do not sum
// to zero. Events this package decides always balance; a stored event that
// does not was written by an older, faulty version or forged. It is an
// error, not a panic, because the event is input: a panic here made every
// start of ledgerd crash on such an event (issue 8).
var ErrUnbalanced = errors.New("postings do not balance")

// Postings returns the legs of an event; events that move no money have
// none. Legs of zero are left out. Legs that do not sum to zero (possible
// only for payloads that carry their own split: an allocation's funding, a
// refund's funding, a reversal's legs) answer an error wrapping
// ErrUnbalanced, naming the event's type and fund_seq.
func Postings(e events.Event) ([]Posting, error) {
	p, err := e.Payload()
	if err != nil {
		return nil, err
	}
	return PayloadPostings(e, p)
}

// PayloadPostings is Postings of e with its payload p already decoded
// (e.Payload()): the read model decodes each payload once for its rows and
// its postings.
func PayloadPostings(e events.Event, p events.Payload) ([]Posting, error) {
	ps, err := postingsOf(p)
	if err != nil {
		return nil, err
	}
	var sum int64
	for _, x := range ps {
		sum += x.Minor
	}
	if sum != 0 {
		return nil, fmt.Errorf("%w: the postings of %s fund %s fund_seq %d sum to %d, not zero", ErrUnbalanced, e.Type, e.Fund, e.FundSeq, sum)
	}
	return ps, nil
}

// postingsOf returns the legs of one payload, without checking their sum:
// its type's rule.postings, legs of zero left out.
func postingsOf(p events.Payload) ([]Posting, error) {
	r, err := ruleOf(p)
	if err != nil {
		return nil, err
	}
	if r.postings == nil {
		return nil, nil
	}
	var ps []Posting
	r.postings(p, func(x Posting) {
		if x.Minor != 0 {
			ps = append(ps, x)
		}
	})
	return ps, nil
}

// The postings of each event type that moves money (rule.postings) are in
// the type's file, type_<name>.go.

// memo adds the two memo legs of a change of x in what a pledge expects.
func memo(add func(Posting), term, donor, pledge, earmark string, x int64) {
	add(Posting{Account: AccountMemoPledges, TermID: term, DonorID: donor, PledgeID: pledge, Earmark: earmark, Minor: x})
	add(Posting{Account: AccountMemoPledgesContra, TermID: term, DonorID: donor, PledgeID: pledge, Earmark: earmark, Minor: -x})
}
