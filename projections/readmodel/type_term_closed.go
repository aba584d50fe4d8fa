package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for term_closed events (see readFold).
var _ = addFold(events.TypeTermClosed, foldOf(foldTermClosed, nil))

func foldTermClosed(ctx context.Context, a *applier, e events.Event, p *events.TermClosed) error {
	if p.CarriedOver.Minor+p.Refunded.Minor != p.Unallocated.Minor {
		return fmt.Errorf("%w: close of term %s disposes of %d + %d of an unallocated %d", ErrInconsistent, p.TermID,
			p.CarriedOver.Minor, p.Refunded.Minor, p.Unallocated.Minor)
	}
	_, err := a.exec(ctx, `INSERT INTO term_closes (fund, term_id, closed_on, disposition, to_term_id, unallocated_minor, carried_over_minor, refunded_minor, fund_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.TermID, p.ClosedOn, p.Disposition.Kind, p.Disposition.ToTermID, p.Unallocated.Minor, p.CarriedOver.Minor, p.Refunded.Minor, int64(e.FundSeq))
	for _, k := range p.AllocationsKept {
		if err != nil {
			break
		}
		_, err = a.exec(ctx, `INSERT INTO term_close_allocations (fund, term_id, allocation_id, line_id, amount_minor) VALUES (?, ?, ?, ?, ?)`,
			e.Fund, p.TermID, k.AllocationID, k.LineID, k.Amount.Minor)
	}
	return written(e, err)
}
