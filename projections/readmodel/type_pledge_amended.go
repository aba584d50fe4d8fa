package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for pledge_amended events (see readFold).
var _ = addFold(events.TypePledgeAmended, foldOf(foldPledgeAmended, nil))

func foldPledgeAmended(ctx context.Context, a *applier, e events.Event, p *events.PledgeAmended) error {
	var (
		amount, usd int64
		rate, due   string
	)
	err := a.tx.QueryRowContext(ctx, `SELECT amount_minor, usd_rate, usd_minor, due_on FROM pledges
		WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'`,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Earmark).Scan(&amount, &rate, &usd, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: amend pledge %s: no such pledge open", ErrInconsistent, p.PledgeID)
	}
	if err != nil {
		return fmt.Errorf("amend pledge %s: %w", p.PledgeID, err)
	}
	// A revaluation after a reversal changes none of them: the pledge
	// keeps its status.
	changed := amount != p.Amount.Minor || rate != p.USDRate || usd != p.USDAmount.Minor || due != p.DueOn
	if err := a.execOne(ctx, "amend pledge "+p.PledgeID,
		`UPDATE pledges SET amount_minor = ?, usd_rate = ?, usd_minor = ?, due_on = ?,
			status = CASE WHEN ? THEN 'amended' ELSE status END, outstanding_usd_minor = outstanding_usd_minor + ?
		 WHERE fund = ? AND pledge_id = ?`,
		p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.DueOn, changed, p.OutstandingUSDChange.Minor, e.Fund, p.PledgeID); err != nil {
		return err
	}
	_, err = a.exec(ctx, `INSERT INTO pledge_changes (fund, fund_seq, pledge_id, kind, terms_changed, effective_on, amount_minor, usd_rate, usd_minor, due_on, reason,
		outstanding_usd_change_minor, written_off_minor, written_off_usd_minor) VALUES (?, ?, ?, 'amended', ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
		e.Fund, int64(e.FundSeq), p.PledgeID, changed, e.EffectiveOn, p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.DueOn, p.Reason, p.OutstandingUSDChange.Minor)
	return written(e, err)
}
