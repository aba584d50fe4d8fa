package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for refund_paid events (see rule).
var _ = addRule(events.TypeRefundPaid, typed[*events.RefundPaid]{
	apply:    applyRefund,
	postings: postRefund,
	effect:   moveRefund,
	reversed: reversedRefund,
})

func applyRefund(s *State, p *events.RefundPaid, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Refunds, p.RefundID)
	s.Refunds[p.RefundID] = &Refund{ID: p.RefundID, DonorID: p.DonorID, TermID: p.TermID, USDMinor: p.Amount.Minor,
		PaidOn: p.PaidOn, Funding: append([]events.Draw(nil), p.Funding...), EventSeq: e.FundSeq}
	rec.TermID = p.TermID
	return nil
}

func moveRefund(s *State, p *events.RefundPaid, sign int64) {
	t := s.Terms[p.TermID]
	t.Refunded += sign * p.Amount.Minor
	for _, d := range p.Funding {
		t.addPot(d.Earmark, -sign*d.Amount.Minor)
		t.addNet(d.Earmark, p.DonorID, -sign*d.Amount.Minor)
	}
}

func reversedRefund(s *State, p *events.RefundPaid) {
	keep(s, s.Refunds, p.RefundID)
	s.Refunds[p.RefundID].Reversed = true
}

func postRefund(p *events.RefundPaid, add func(Posting)) {
	for _, d := range p.Funding {
		add(Posting{Account: AccountTrustUnallocated, TermID: p.TermID, DonorID: p.DonorID, Earmark: d.Earmark, Minor: d.Amount.Minor})
	}
	add(Posting{Account: AccountTrustCash, TermID: p.TermID, DonorID: p.DonorID, Minor: -p.Amount.Minor})
}
