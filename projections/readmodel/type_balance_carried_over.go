package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for balance_carried_over events (see readFold).
var _ = addFold(events.TypeBalanceCarriedOver, foldOf(foldCarryOver, nil))

func foldCarryOver(ctx context.Context, a *applier, e events.Event, p *events.BalanceCarriedOver) error {
	seq := int64(e.FundSeq)
	_, err := a.exec(ctx, `INSERT INTO carry_overs (fund, fund_seq, from_term_id, to_term_id, earmark, to_earmark, amount_minor, effective_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, seq, p.FromTermID, p.ToTermID, p.Earmark, p.ToEarmark, p.Amount.Minor, e.EffectiveOn)
	var sum int64
	for _, sh := range p.Shares {
		if err != nil {
			break
		}
		sum += sh.Amount.Minor
		_, err = a.exec(ctx, `INSERT INTO carry_over_shares (fund, fund_seq, donor_id, amount_minor) VALUES (?, ?, ?, ?)`,
			e.Fund, seq, sh.DonorID, sh.Amount.Minor)
	}
	if err == nil && len(p.Shares) > 0 && sum != p.Amount.Minor {
		return fmt.Errorf("%w: carry-over of %d has shares summing to %d", ErrInconsistent, p.Amount.Minor, sum)
	}
	return written(e, err)
}
