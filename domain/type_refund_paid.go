package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// The domain's rule for refund_paid events (see rule).
var _ = addRule(events.TypeRefundPaid, typed[*events.RefundPaid]{
	apply:    applyRefund,
	postings: postRefund,
	effect:   moveRefund,
	reversed: reversedRefund,
})

// RecordRefund records money of a term returned to a donor.
type RecordRefund struct {
	Meta
	ID      string     `json:"id"`
	DonorID string     `json:"donor_id"`
	TermID  string     `json:"term_id"`
	Amount  MoneyInput `json:"amount"` // USD
	PaidOn  string     `json:"paid_on"`
	Reason  string     `json:"reason"` // optional
}

func (c *RecordRefund) decide(s *State) ([]events.Event, error) { return s.recordRefund(c) }

func (s *State) recordRefund(c *RecordRefund) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Refunds[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "refund %s is already recorded", c.ID)
	}
	d, err := s.donor("donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("paid_on", c.PaidOn, c.Today); err != nil {
		return nil, err
	}
	if c.PaidOn < t.StartsOn {
		return nil, refuse(CodeDateOutsideTerm, "paid_on", "paid_on %s is before term %s starts (%s)", c.PaidOn, t.ID, t.StartsOn)
	}
	if err := checkMultiline("reason", c.Reason, false); err != nil {
		return nil, err
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	// Rule 4.
	draws, ok := refundDraws(t, d.ID, amount)
	if !ok {
		return nil, refuse(CodeRefundExceedsAttributable, "amount", "refunding %s exceeds donor %s's unspent attributable balance in term %s (%s)",
			money.FormatUSD(amount), d.ID, t.ID, money.FormatUSD(Attributable(s, t.ID, d.ID)))
	}
	// Rule 4 on paid_on too: a refund dated before the receipts it
	// returns would show, as of its date, a donor refunded money it had
	// not paid in, and another donor's interest paying for it (issue 8).
	then, err := AttributableOn(s, t.ID, d.ID, c.PaidOn)
	if err != nil {
		return nil, err
	}
	if amount > then {
		return nil, refuse(CodeRefundExceedsAttributable, "paid_on", "refunding %s on %s exceeds donor %s's unspent attributable balance in term %s on that day (%s): date the refund on or after the receipts it returns",
			money.FormatUSD(amount), c.PaidOn, d.ID, t.ID, money.FormatUSD(then))
	}
	return build(c.PaidOn, &events.RefundPaid{RefundID: c.ID, DonorID: d.ID, TermID: t.ID, Amount: money.USDAmount(amount),
		PaidOn: c.PaidOn, Reason: c.Reason, Funding: draws})
}

func applyRefund(s *State, p *events.RefundPaid, rec *EventRecord, e events.Event) error {
	if s.Terms[p.TermID] == nil {
		return fmt.Errorf("unknown term %s", p.TermID)
	}
	keep(s, s.Refunds, p.RefundID)
	s.Refunds[p.RefundID] = &Refund{ID: p.RefundID, DonorID: p.DonorID, TermID: p.TermID, USDMinor: p.Amount.Minor,
		PaidOn: p.PaidOn, Funding: append([]events.Draw(nil), p.Funding...), EventID: e.ID}
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
