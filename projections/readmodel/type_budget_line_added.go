package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for budget_line_added events (see readFold).
var _ = addFold(events.TypeBudgetLineAdded, foldOf(foldBudgetLine, nil))

func foldBudgetLine(ctx context.Context, a *applier, e events.Event, p *events.BudgetLineAdded) error {
	_, err := a.exec(ctx, `INSERT INTO budget_lines (fund, line_id, term_id, title, amount_minor, cluster_id, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.LineID, p.TermID, p.Title, p.Amount.Minor, p.ClusterID, int64(e.FundSeq))
	return written(e, err)
}
