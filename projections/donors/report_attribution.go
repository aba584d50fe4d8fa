// Package donors attributes a term's money to its donors — what each put
// in, its share of fees and interest, what its money paid for, what is left
// — and draws each donor's accountability statement from it. It reads one
// snapshot (projections.View) of the read model; what it reads is apart
// (attribution_read.go) from how it shares and spreads the money
// (attribution_share.go, with money.PotWeights and money.SharePot, the rule
// the domain shares pots by).
package donors

import (
	"context"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// MaxAttributionCells bounds the work of one attribution: donors times the
// allocations and expenditures they are spread over. A term beyond it is
// refused with an error rather than computed without bound.
const MaxAttributionCells = 5_000_000

// AttributionQuery asks who paid for what in one term of a fund: the
// fields mean what they mean in BalanceQuery.
type AttributionQuery struct {
	Fund  string
	Term  string
	AsOf  string
	AtSeq uint64
}

// Attribution is a term's money attributed to its donors at the end of
// AsOf, from what the ledger knew at FundSeq: every donor with money in the
// term, and what no donor can be credited with. Adding up the donors and
// Unattributed gives the term's balance figure for figure (received plus
// carried in, fees, interest, spent, refunded, carried out, allocated
// unspent, unallocated). Unattributed is zero but in two cases: no donor
// has net money in the term (interest alone), or allocations dated before
// the receipts that paid for them overdraw a pot as of AsOf.
//
// The rules (the donor statement prints them):
//   - receipts, fees, refunds and carry-overs are the donor's own;
//   - each pot of the unallocated balance (the unearmarked pool, and each
//     earmark to a line or a cluster) is shared among the donors whose
//     money it holds pro rata to their net money put into it (receipts
//     less fees, less refunds drawn from it, plus what a close carried in
//     and less what it carried out), with the largest remainder, exactly
//     as the domain shares it for refunds and closes (domain.Term.PotShares);
//     a pot none of them has net money in is shared pro rata to their net
//     money in all the pots of the term;
//   - interest (credited to the pool) is shared pro rata like the pool;
//   - what a donor put into a pot, plus its interest, less its share of
//     what the pot still holds, is what the allocations drawn from that pot
//     took of its money: spread over those allocations pro rata to what
//     each drew, and over each allocation's expenditures and unspent rest
//     pro rata to their amounts, every split rounded so that each donor's
//     parts and each allocation's and expenditure's parts add up to the
//     cent (apportion).
type Attribution struct {
	Fund         string             `json:"fund"`
	Term         string             `json:"term"`
	AsOf         string             `json:"as_of"`
	FundSeq      uint64             `json:"fund_seq"`
	ChainHead    string             `json:"chain_head"`
	Donors       []DonorAttribution `json:"donors"`
	Unattributed AttributionFigures `json:"unattributed"`
}

// DonorAttribution is one donor's part of a term.
type DonorAttribution struct {
	DonorID string `json:"donor_id"`
	AttributionFigures
}

// AttributionFigures are US dollars as decimal strings. Received counts
// what a close carried in from the previous term.
type AttributionFigures struct {
	Received         string `json:"received"`
	Fees             string `json:"fees"`
	Interest         string `json:"interest"`
	Spent            string `json:"spent"`
	Refunded         string `json:"refunded"`
	CarriedOut       string `json:"carried_out"`
	AllocatedUnspent string `json:"allocated_unspent"`
	Unallocated      string `json:"unallocated"`
}

// Attribute attributes a term's money to its donors from one snapshot of
// the read model. Errors are *errs.Error (invalid_date, unknown_fund,
// unknown_term, invalid_at_seq, no_data_as_of, not_attributable), an error
// wrapping ErrInconsistent when the read model contradicts itself, or an
// infrastructure error.
func Attribute(ctx context.Context, s *projections.Store, q AttributionQuery) (Attribution, error) {
	if !projections.ValidDate(q.AsOf) {
		return Attribution{}, projections.InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "attribution", q.Fund, q.AtSeq)
	if err != nil {
		return Attribution{}, err
	}
	defer v.Tx.Rollback()
	span, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	term := span.ID
	t, err := projections.LoadTerm(ctx, v, term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	if err := t.CheckAsOf(q.AsOf); err != nil {
		return Attribution{}, err
	}
	at, err := attributeTerm(ctx, v, term, q.AsOf)
	if err != nil {
		return Attribution{}, err
	}
	out := Attribution{Fund: q.Fund, Term: term, AsOf: q.AsOf, FundSeq: v.FundSeq, ChainHead: v.ChainHead, Donors: []DonorAttribution{}}
	for _, id := range at.ids() {
		p := at.parts[id]
		if id == "" {
			out.Unattributed = p.figures()
			continue
		}
		out.Donors = append(out.Donors, DonorAttribution{DonorID: id, AttributionFigures: p.figures()})
	}
	if _, ok := at.parts[""]; !ok {
		out.Unattributed = (&participant{}).figures()
	}
	return out, nil
}

// unattributed is the participant id of money no donor can be credited
// with.
const unattributed = ""

// participant is a donor (or unattributed) in one term's attribution, all
// in US cents.
type participant struct {
	id string
	// net is, per pot ("" the pool, else "line:<id>" or "cluster:<id>"),
	// the money the participant put into the pot: receipts less fees, less
	// refunds drawn from it, plus carried in, less carried out.
	net                      map[string]int64
	received, fees, refunded int64 // received counts receipts only
	carriedIn, carriedOut    int64
	carriedOutOf             map[string]int64 // by pot
	// weight is, per pot, the net money put in since a close last carried
	// the pot out, when positive: what the pot's shares are weighed by.
	weight                                  map[string]int64
	interest, unallocated, allocatedUnspent int64
	// spentUSD is what the participant's money paid for; spentBy the
	// same by what a statement shows of it (spentKey). Both are kept for
	// every participant, so that one attribution draws the statement of
	// any of its donors (Memo).
	spentUSD int64
	spentBy  map[spentKey]int64
}

func (p *participant) spentTotal() int64 { return p.spentUSD }

func (p *participant) figures() AttributionFigures {
	return AttributionFigures{
		Received: money.FormatUSD(p.received + p.carriedIn), Fees: money.FormatUSD(p.fees), Interest: money.FormatUSD(p.interest),
		Spent: money.FormatUSD(p.spentTotal()), Refunded: money.FormatUSD(p.refunded), CarriedOut: money.FormatUSD(p.carriedOut),
		AllocatedUnspent: money.FormatUSD(p.allocatedUnspent), Unallocated: money.FormatUSD(p.unallocated),
	}
}

// spentKey is what a statement shows of the expenditures a participant's
// money paid for (paidFor): their budget line and place, and whether the
// money was earmarked or from the pool. A participant's parts of the
// expenditures are summed by it, not kept one by one: keeping every
// donor's part of every expenditure made a part for each of the term's
// expenditures and donors (issue 10).
type spentKey struct {
	line      string
	earmarked bool
	where     projections.Place
}

// standingApproval is an allocation's approval standing at the view: the line, the
// pots it drew on and the expenditures against it.
type standingApproval struct {
	seq          int64
	allocationID string
	lineID       string
	amount       int64
	draws        map[string]int64 // pot → amount
	exps         []*projections.Expenditure
}

// attribution is the result of attributeTerm.
type attribution struct {
	parts     map[string]*participant
	exps      []*projections.Expenditure
	approvals []*standingApproval
	// inflow is what the pots' donors shared as interest: the term's
	// interest, and money no donor could claim that a close carried in.
	inflow int64
	asOf   string
}

// ids returns the participants' ids, sorted (unattributed first).
func (a *attribution) ids() []string {
	ids := make([]string, 0, len(a.parts))
	for id := range a.parts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (a *attribution) part(id string) *participant {
	p, ok := a.parts[id]
	if !ok {
		p = &participant{id: id, net: map[string]int64{}, carriedOutOf: map[string]int64{}, weight: map[string]int64{}, spentBy: map[spentKey]int64{}}
		a.parts[id] = p
	}
	return p
}
