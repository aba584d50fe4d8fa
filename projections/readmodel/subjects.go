package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// indexSubject writes the donor and budget line e concerns into
// event_subjects, for the event list's filters (issue 7). A reversal takes
// the row of the event it reverses, so that a donor's list shows the
// reversals of its receipts. An event naming neither gets no row. p is
// e's payload.
func (a *applier) indexSubject(ctx context.Context, e events.Event, p events.Payload) error {
	sub := events.SubjectOfPayload(p)
	if sub.Reverses != 0 {
		err := a.tx.QueryRowContext(ctx, `SELECT donor_id, line_id FROM event_subjects WHERE fund = ? AND fund_seq = ?`,
			e.Fund, int64(sub.Reverses)).Scan(&sub.DonorID, &sub.LineID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read subject of fund_seq %d: %w", sub.Reverses, err)
		}
	}
	if sub.DonorID == "" && sub.LineID == "" {
		return nil
	}
	if _, err := a.exec(ctx, `INSERT INTO event_subjects (fund, fund_seq, donor_id, line_id) VALUES (?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), sub.DonorID, sub.LineID); err != nil {
		return fmt.Errorf("%w: index subject: %v", ErrInconsistent, err)
	}
	return nil
}
