package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

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

func (c *RecordRefund) decide(s *State) ([]events.Event, error) { return recordRefund(s, c) }

func recordRefund(s *State, c *RecordRefund) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Refunds[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "refund %s is already recorded", c.ID)
	}
	d, err := donor(s, "donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := term(s, "term_id", c.TermID)
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
