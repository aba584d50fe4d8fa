package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for fee_charged events (see rule).
var _ = addRule(events.TypeFeeCharged, typed[*events.FeeCharged]{
	apply:    applyFee,
	postings: postFee,
	effect:   moveFee,
})

func applyFee(s *State, p *events.FeeCharged, rec *EventRecord, e events.Event) error {
	c, ok := s.Contributions[p.ContributionID]
	if !ok || s.Terms[p.TermID] == nil {
		return fmt.Errorf("fee on unknown contribution %s or term %s", p.ContributionID, p.TermID)
	}
	s.setFee(c.EventSeq, e.FundSeq)
	rec.TermID = p.TermID
	return nil
}

func moveFee(s *State, p *events.FeeCharged, sign int64) {
	keep(s, s.Contributions, p.ContributionID)
	t, c := s.Terms[p.TermID], s.Contributions[p.ContributionID]
	x := sign * p.Amount.Minor
	c.FeeMinor += x
	t.Fees += x
	t.UILRevenue += x
	t.addPot(p.Earmark, -x)
	t.addNet(p.Earmark, p.DonorID, -x)
}

func postFee(p *events.FeeCharged, add func(Posting)) {
	x := p.Amount.Minor
	add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, DonorID: p.DonorID, Earmark: p.Earmark, Minor: x})
	add(Posting{Account: AccountTrustCash, TermID: p.TermID, DonorID: p.DonorID, Minor: -x})
	add(Posting{Account: AccountUILCash, TermID: p.TermID, DonorID: p.DonorID, Minor: x})
	add(Posting{Account: AccountUILFeeRevenue, TermID: p.TermID, DonorID: p.DonorID, Minor: -x})
}
