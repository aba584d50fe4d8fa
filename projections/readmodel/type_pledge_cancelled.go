package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for pledge_cancelled events (see readFold).
var _ = addFold(events.TypePledgeCancelled, foldOf(foldPledgeCancelled, nil))

func foldPledgeCancelled(ctx context.Context, a *applier, e events.Event, p *events.PledgeCancelled) error {
	var (
		amount, usd int64
		rate, due   string
	)
	err := a.tx.QueryRowContext(ctx, `UPDATE pledges SET status = 'cancelled', cancelled_on = ?, written_off_minor = ?, written_off_usd_minor = ?,
			outstanding_usd_minor = outstanding_usd_minor - ?
		 WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'
		 RETURNING amount_minor, usd_rate, usd_minor, due_on`,
		e.EffectiveOn, p.WrittenOff.Minor, p.WrittenOffUSD.Minor, p.WrittenOffUSD.Minor,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.WrittenOff.Currency, p.Earmark).Scan(&amount, &rate, &usd, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: cancel pledge %s: no such pledge open", ErrInconsistent, p.PledgeID)
	}
	if err == nil {
		_, err = a.exec(ctx, `INSERT INTO pledge_changes (fund, fund_seq, pledge_id, kind, terms_changed, effective_on, amount_minor, usd_rate, usd_minor, due_on, reason,
			outstanding_usd_change_minor, written_off_minor, written_off_usd_minor) VALUES (?, ?, ?, 'cancelled', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, int64(e.FundSeq), p.PledgeID, e.EffectiveOn, amount, rate, usd, due, p.Reason, -p.WrittenOffUSD.Minor, p.WrittenOff.Minor, p.WrittenOffUSD.Minor)
	}
	return written(e, err)
}
