package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for event_reversed events (see readFold).
var _ = addFold(events.TypeEventReversed, foldOf(foldReversal, nil))

// foldReversal records a reversal and marks what it reversed by the
// reversed type's unfold: the row of the reversed receipt, fee,
// expenditure, interest or refund gets reversed_by; an allocation whose
// approval is reversed is proposed again. The reversed event must be the
// one the reversal names, at the fund_seq and of the type it says.
func foldReversal(ctx context.Context, a *applier, e events.Event, p *events.EventReversed) error {
	var id, typ string
	err := a.tx.QueryRowContext(ctx, `SELECT id, type FROM events WHERE fund = ? AND fund_seq = ?`, e.Fund, int64(p.ReversedFundSeq)).Scan(&id, &typ)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (id != p.EventID || typ != p.ReversedType)) {
		return fmt.Errorf("%w: reversal %s names event %s (%s) at fund_seq %d, which is not there", ErrInconsistent, p.ReversalID, p.EventID, p.ReversedType, p.ReversedFundSeq)
	}
	if err != nil {
		return fmt.Errorf("read reversed event: %w", err)
	}
	if _, err := a.exec(ctx, `INSERT INTO reversals (fund, fund_seq, reversal_id, event_id, reversed_fund_seq, reversed_type, reason, effective_on)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.ReversalID, p.EventID, int64(p.ReversedFundSeq), p.ReversedType, p.Reason, e.EffectiveOn); err != nil {
		return fmt.Errorf("%w: write reversal %s of event %s (reversed before?): %v", ErrInconsistent, p.ReversalID, p.EventID, err)
	}
	unfold := readFolds[p.ReversedType].unfold
	if unfold == nil {
		return fmt.Errorf("%w: reversal %s of a %s event, which is not reversible", ErrInconsistent, p.ReversalID, p.ReversedType)
	}
	what := fmt.Sprintf("reverse %s at fund_seq %d", p.ReversedType, p.ReversedFundSeq)
	return unfold(ctx, a, e, p, what, int64(p.ReversedFundSeq))
}
