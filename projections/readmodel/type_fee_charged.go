package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for fee_charged events (see readFold).
var _ = addFold(events.TypeFeeCharged, foldOf(foldFee, unfoldRow("fees")))

func foldFee(ctx context.Context, a *applier, e events.Event, p *events.FeeCharged) error {
	_, err := a.exec(ctx, `INSERT INTO fees (fund, fund_seq, contribution_id, donor_id, term_id, fee_rate, amount_minor, effective_on, earmark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.ContributionID, p.DonorID, p.TermID, p.FeeRate, p.Amount.Minor, e.EffectiveOn, p.Earmark)
	return written(e, err)
}
