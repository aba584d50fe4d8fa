package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for interest_earned events (see readFold).
var _ = addFold(events.TypeInterestEarned, foldOf(foldInterest, unfoldRow("interest")))

func foldInterest(ctx context.Context, a *applier, e events.Event, p *events.InterestEarned) error {
	_, err := a.exec(ctx, `INSERT INTO interest (fund, interest_id, term_id, amount_minor, earned_on, fund_seq) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Fund, p.InterestID, p.TermID, p.Amount.Minor, p.EarnedOn, int64(e.FundSeq))
	return written(e, err)
}
