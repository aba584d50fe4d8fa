package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for fee_charged events (see readFold).
var _ = addFold(events.TypeFeeCharged, foldOf(foldFee, unfoldFee))

// chargeFeeQuery adds a fee to the receipt it was charged on (schema 13:
// a statement reads a receipt's fee from the receipt's row).
const chargeFeeQuery = `UPDATE contributions SET fee_minor = fee_minor + ?, fee_seq = max(fee_seq, ?) WHERE fund = ? AND contribution_id = ?`

func foldFee(ctx context.Context, a *applier, e events.Event, p *events.FeeCharged) error {
	_, err := a.exec(ctx, `INSERT INTO fees (fund, fund_seq, contribution_id, donor_id, term_id, fee_rate, amount_minor, effective_on, earmark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.ContributionID, p.DonorID, p.TermID, p.FeeRate, p.Amount.Minor, e.EffectiveOn, p.Earmark)
	if err != nil {
		return written(e, err)
	}
	return a.execOne(ctx, "charge the fee on receipt "+p.ContributionID, chargeFeeQuery, p.Amount.Minor, int64(e.FundSeq), e.Fund, p.ContributionID)
}

// unfoldFeeQuery marks a fee reversed and names its receipt.
const unfoldFeeQuery = `UPDATE fees SET reversed_by = ? WHERE fund = ? AND fund_seq = ? AND reversed_by = '' RETURNING contribution_id`

// unfoldFee marks a fee reversed, and its receipt as having a reversed
// fee: a statement then adds up the receipt's fees from fees, by what each
// view knew, rather than reading fee_minor.
func unfoldFee(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error {
	var receipt string
	err := a.tx.QueryRowContext(ctx, unfoldFeeQuery, r.ReversalID, e.Fund, rseq).Scan(&receipt)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s: no such fee standing", ErrInconsistent, what)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return a.execOne(ctx, what+": receipt "+receipt, `UPDATE contributions SET fee_reversed = 1 WHERE fund = ? AND contribution_id = ?`, e.Fund, receipt)
}
