package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for allocation_approved events (see readFold).
var _ = addFold(events.TypeAllocationApproved, foldOf(foldApproval, unfoldApproval))

func foldApproval(ctx context.Context, a *applier, e events.Event, p *events.AllocationApproved) error {
	return a.execOne(ctx, "approve allocation "+p.AllocationID,
		`UPDATE allocations SET status = 'approved', approved_by = ?, approved_on = ?, approved_seq = ?
		 WHERE fund = ? AND allocation_id = ? AND status = 'proposed' AND amount_minor = ?`,
		p.ApprovedBy, e.EffectiveOn, int64(e.FundSeq), e.Fund, p.AllocationID, p.Amount.Minor)
}

// unfoldApproval makes the allocation proposed again, as in domain.State.
func unfoldApproval(ctx context.Context, a *applier, e events.Event, _ *events.EventReversed, what string, rseq int64) error {
	return a.execOne(ctx, what, `UPDATE allocations SET status = 'proposed', approved_by = '', approved_on = '', approved_seq = 0
		WHERE fund = ? AND approved_seq = ? AND status = 'approved'`, e.Fund, rseq)
}
