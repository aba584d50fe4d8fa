package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for allocation_approved events (see readFold).
var _ = addFold(events.TypeAllocationApproved, foldOf(foldApproval, unfoldApproval))

// foldApproval marks the allocation approved and keeps which allocation
// the approval approved (approvals): the allocation's row only names its
// standing approval, and a report at an earlier view needs the allocation
// of an approval reversed since.
func foldApproval(ctx context.Context, a *applier, e events.Event, p *events.AllocationApproved) error {
	if err := a.execOne(ctx, "approve allocation "+p.AllocationID,
		`UPDATE allocations SET status = 'approved', approved_by = ?, approved_on = ?, approved_seq = ?
		 WHERE fund = ? AND allocation_id = ? AND status = 'proposed' AND amount_minor = ?`,
		p.ApprovedBy, e.EffectiveOn, int64(e.FundSeq), e.Fund, p.AllocationID, p.Amount.Minor); err != nil {
		return err
	}
	_, err := a.exec(ctx, `INSERT INTO approvals (fund, fund_seq, allocation_id) VALUES (?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.AllocationID)
	return written(e, err)
}

// unfoldApproval makes the allocation proposed again, as in domain.State.
// The approval's row in approvals stays: the approval is still in the log,
// and a view before its reversal still has it.
func unfoldApproval(ctx context.Context, a *applier, e events.Event, _ *events.EventReversed, what string, rseq int64) error {
	return a.execOne(ctx, what, `UPDATE allocations SET status = 'proposed', approved_by = '', approved_on = '', approved_seq = 0
		WHERE fund = ? AND approved_seq = ? AND status = 'approved'`, e.Fund, rseq)
}
