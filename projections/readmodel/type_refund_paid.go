package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for refund_paid events (see readFold).
var _ = addFold(events.TypeRefundPaid, foldOf(foldRefund, unfoldRow("refunds")))

func foldRefund(ctx context.Context, a *applier, e events.Event, p *events.RefundPaid) error {
	_, err := a.exec(ctx, `INSERT INTO refunds (fund, refund_id, donor_id, term_id, amount_minor, paid_on, reason, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.RefundID, p.DonorID, p.TermID, p.Amount.Minor, p.PaidOn, p.Reason, int64(e.FundSeq))
	var sum int64
	for i, d := range p.Funding {
		if err != nil {
			break
		}
		sum += d.Amount.Minor
		_, err = a.exec(ctx, `INSERT INTO refund_funding (fund, refund_id, leg, earmark, amount_minor) VALUES (?, ?, ?, ?, ?)`,
			e.Fund, p.RefundID, i, d.Earmark, d.Amount.Minor)
	}
	if err == nil && sum != p.Amount.Minor {
		return fmt.Errorf("%w: refund %s of %d draws %d from its pots", ErrInconsistent, p.RefundID, p.Amount.Minor, sum)
	}
	return written(e, err)
}
