package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for term_opened events (see readFold).
var _ = addFold(events.TypeTermOpened, foldOf(foldTermOpened, nil))

func foldTermOpened(ctx context.Context, a *applier, e events.Event, p *events.TermOpened) error {
	_, err := a.exec(ctx, `INSERT INTO terms (fund, term_id, starts_on, ends_on, target_minor, fee_rate, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.TermID, p.StartsOn, p.EndsOn, p.Target.Minor, p.FeeRate, int64(e.FundSeq))
	return written(e, err)
}
