package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for allocation_proposed events (see readFold).
var _ = addFold(events.TypeAllocationProposed, foldOf(foldProposal, nil))

func foldProposal(ctx context.Context, a *applier, e events.Event, p *events.AllocationProposed) error {
	_, err := a.exec(ctx, `INSERT INTO allocations (fund, allocation_id, line_id, term_id, amount_minor, note, status, proposed_by, proposed_on, proposed_seq)
		VALUES (?, ?, ?, ?, ?, ?, 'proposed', ?, ?, ?)`,
		e.Fund, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Note, p.ProposedBy, e.EffectiveOn, int64(e.FundSeq))
	return written(e, err)
}
