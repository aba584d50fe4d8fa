package readmodel

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
)

// totalKey is the key of a row of posting_days; posting_totals has the
// same without the date.
type totalKey struct {
	fund, effectiveOn, term, account, eventType, line, donor, earmark string
}

// totalSum is what a batch adds to one key: its positive legs, its other
// legs and their number.
type totalSum struct{ debit, credit, legs int64 }

// addTotals adds one posting to the batch's running totals. They are
// written once per key at the end of the batch (flushTotals) rather than
// per posting: a batch of receipts touches the same few keys again and
// again. typ is the posting's event_type column (a reversal's legs carry
// the reversed event's type).
func (a *applier) addTotals(fund, effectiveOn, typ string, p domain.Posting) {
	if a.totals == nil {
		a.totals = map[totalKey]*totalSum{}
	}
	k := totalKey{fund, effectiveOn, p.TermID, p.Account, typ, p.LineID, p.DonorID, p.Earmark}
	t := a.totals[k]
	if t == nil {
		t = &totalSum{}
		a.totals[k] = t
	}
	if p.Minor > 0 {
		t.debit += p.Minor
	} else {
		t.credit += p.Minor
	}
	t.legs++
}

// flushTotals adds the batch's totals to posting_days and posting_totals.
// The sums are the same whatever the batches were, so a rebuild writes the
// rows the live projector wrote.
func (a *applier) flushTotals(ctx context.Context) error {
	for k, t := range a.totals {
		if _, err := a.exec(ctx, `INSERT INTO posting_days (fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark) DO UPDATE SET
				debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
			k.fund, k.effectiveOn, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, t.debit, t.credit, t.legs); err != nil {
			return fmt.Errorf("write day totals of fund %s: %w", k.fund, err)
		}
		if _, err := a.exec(ctx, `INSERT INTO posting_totals (fund, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (fund, term_id, account, event_type, line_id, donor_id, earmark) DO UPDATE SET
				debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
			k.fund, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, t.debit, t.credit, t.legs); err != nil {
			return fmt.Errorf("write totals of fund %s: %w", k.fund, err)
		}
	}
	a.totals = nil
	return nil
}
