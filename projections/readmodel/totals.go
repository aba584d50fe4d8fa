package readmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
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

// flushTotals adds the batch's totals to posting_days, posting_totals,
// posting_day_seq and the monthly checkpoints (flushCheckpoints), and
// its receipts to receipt_days; a rebuild or a replay adds them to the
// totals it holds instead (deferredTotals.fold). The sums are the same whatever the batches were, so a
// rebuild writes the rows the live projector wrote. Each row is written
// once per batch, in the order of its table's key (so that the upserts
// walk the b-tree forward rather than jump about it), many rows to a
// statement (sqlstmt.Cache.ExecRows).
func (a *applier) flushTotals(ctx context.Context) error {
	if a.noTotals {
		return a.held.fold(a) // added up in memory (deferredTotals)
	}
	if err := a.flushCheckpoints(ctx); err != nil {
		return err
	}
	days := a.totals
	if err := a.writeDays(ctx); err != nil {
		return err
	}
	// A fund's events in one flush are in one bucket (seqtotals.AtBoundary),
	// its last: the days' totals at its end are posting_days' rows now.
	args := make([]any, 0, len(days)*9)
	for _, k := range sortedKeys(days) {
		args = append(args, k.fund, k.effectiveOn, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, seqtotals.Bucket(a.chains[k.fund].FundSeq))
	}
	if err := a.cache.ExecRows(ctx, a.exec, seqtotals.DaySeqFromDays, args); err != nil {
		return fmt.Errorf("write day totals by bucket: %w", err)
	}
	return nil
}

// writeDays adds the totals and receipts the applier holds to
// posting_days, posting_totals and receipt_days.
func (a *applier) writeDays(ctx context.Context) error {
	if err := a.flushReceipts(ctx); err != nil {
		return err
	}
	days := sortedKeys(a.totals)
	all := map[totalKey]*totalSum{} // the totals over every day
	args := make([]any, 0, len(days)*11)
	for _, k := range days {
		t := a.totals[k]
		args = append(args, k.fund, k.effectiveOn, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, t.debit, t.credit, t.legs)
		k.effectiveOn = ""
		all[k] = all[k].plus(t)
	}
	if err := a.cache.ExecRows(ctx, a.exec, postingDaysUpsert, args); err != nil {
		return fmt.Errorf("write day totals: %w", err)
	}
	args = args[:0]
	for _, k := range sortedKeys(all) {
		t := all[k]
		args = append(args, k.fund, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, t.debit, t.credit, t.legs)
	}
	if err := a.cache.ExecRows(ctx, a.exec, postingTotalsUpsert, args); err != nil {
		return fmt.Errorf("write totals: %w", err)
	}
	a.totals = nil
	return nil
}

// writeDaySeq writes the totals of the days of bucket (days' keys) at its
// end, from sums (a deferred fold's posting_days), to posting_day_seq.
func (a *applier) writeDaySeq(ctx context.Context, days, sums map[totalKey]*totalSum, bucket int64) error {
	args := make([]any, 0, len(days)*12)
	for _, k := range sortedKeys(days) {
		t := sums[k]
		args = append(args, k.fund, k.effectiveOn, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, bucket, t.debit, t.credit, t.legs)
	}
	if err := a.cache.ExecRows(ctx, a.exec, seqtotals.DaySeqUpsert, args); err != nil {
		return fmt.Errorf("write day totals by bucket: %w", err)
	}
	return nil
}

// plus adds u to t (nil: a new zero) and returns t.
func (t *totalSum) plus(u *totalSum) *totalSum {
	if t == nil {
		t = &totalSum{}
	}
	t.debit, t.credit, t.legs = t.debit+u.debit, t.credit+u.credit, t.legs+u.legs
	return t
}

// compareTotalKeys orders keys as posting_days' primary key does (and
// posting_totals', whose keys have no date).
func compareTotalKeys(x, y totalKey) int {
	return cmp.Or(cmp.Compare(x.fund, y.fund), cmp.Compare(x.effectiveOn, y.effectiveOn), cmp.Compare(x.term, y.term),
		cmp.Compare(x.account, y.account), cmp.Compare(x.eventType, y.eventType), cmp.Compare(x.line, y.line),
		cmp.Compare(x.donor, y.donor), cmp.Compare(x.earmark, y.earmark))
}

// sortedKeys returns the keys of m in the order of compareTotalKeys.
func sortedKeys(m map[totalKey]*totalSum) []totalKey {
	ks := make([]totalKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, compareTotalKeys)
	return ks
}

// The upserts of the running totals: a row adds its sums to the row of
// its key.
var (
	postingDaysUpsert = sqlstmt.Multi{
		Head: `INSERT INTO posting_days (fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs) VALUES `,
		Cols: 11,
		Tail: ` ON CONFLICT (fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark) DO UPDATE SET
			debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
	}
	postingTotalsUpsert = sqlstmt.Multi{
		Head: `INSERT INTO posting_totals (fund, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs) VALUES `,
		Cols: 10,
		Tail: ` ON CONFLICT (fund, term_id, account, event_type, line_id, donor_id, earmark) DO UPDATE SET
			debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
	}
	postingCheckpointsUpsert = sqlstmt.Multi{
		Head: `INSERT INTO posting_checkpoints (fund, month, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs) VALUES `,
		Cols: 11,
		Tail: ` ON CONFLICT (fund, month, term_id, account, event_type, line_id, donor_id, earmark) DO UPDATE SET
			debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
	}
	receiptDaysUpsert = sqlstmt.Multi{
		Head: `INSERT INTO receipt_days (fund, term_id, donor_id, received_on, currency, amount_minor, usd_minor, receipts) VALUES `,
		Cols: 8,
		Tail: ` ON CONFLICT (fund, term_id, donor_id, received_on, currency) DO UPDATE SET
			amount_minor = amount_minor + excluded.amount_minor, usd_minor = usd_minor + excluded.usd_minor, receipts = receipts + excluded.receipts`,
	}
)

// receiptKey is the key of a row of receipt_days.
type receiptKey struct{ fund, term, donor, receivedOn, currency string }

// receiptSum is what a batch adds to one row of receipt_days.
type receiptSum struct{ amount, usd, receipts int64 }

// reversedReceiptQuery reads, negated, the receipt at a fund_seq. It names
// its index: without statistics SQLite's
// planner preferred to read the columns from contributions_donor_date,
// which holds them all, by fund alone: every receipt of the fund, once a
// reversal (TestReversalLookupsSearch).
const reversedReceiptQuery = `SELECT term_id, donor_id, received_on, currency, -amount_minor, -usd_minor FROM contributions INDEXED BY contributions_seq
	WHERE fund = ? AND fund_seq = ?`

// addReceipt adds a receipt to the batch's receipt totals, or takes a
// reversed one out (on the receipt's own day). It is called for every
// event after its rows are written (apply), so that the reversed receipt's
// row can be read whichever batch wrote it.
func (a *applier) addReceipt(ctx context.Context, e events.Event, p events.Payload) error {
	k, s := receiptKey{fund: e.Fund}, receiptSum{receipts: 1}
	switch p := p.(type) {
	case *events.ContributionReceived:
		k.term, k.donor, k.receivedOn, k.currency = p.TermID, p.DonorID, p.ReceivedOn, p.Amount.Currency
		s.amount, s.usd = p.Amount.Minor, p.USDAmount.Minor
	case *events.EventReversed:
		if p.ReversedType != events.TypeContributionReceived {
			return nil
		}
		err := a.tx.QueryRowContext(ctx, reversedReceiptQuery, e.Fund, int64(p.ReversedFundSeq)).Scan(&k.term, &k.donor, &k.receivedOn, &k.currency, &s.amount, &s.usd)
		if err != nil {
			return fmt.Errorf("%w: read the reversed receipt at fund_seq %d: %v", ErrInconsistent, p.ReversedFundSeq, err)
		}
		s.receipts = -1
	default:
		return nil
	}
	if a.receipts == nil {
		a.receipts = map[receiptKey]*receiptSum{}
	}
	t := a.receipts[k]
	if t == nil {
		t = &receiptSum{}
		a.receipts[k] = t
	}
	t.amount, t.usd, t.receipts = t.amount+s.amount, t.usd+s.usd, t.receipts+s.receipts
	return nil
}

// flushReceipts adds the batch's receipt totals to receipt_days.
func (a *applier) flushReceipts(ctx context.Context) error {
	ks := make([]receiptKey, 0, len(a.receipts))
	for k := range a.receipts {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y receiptKey) int {
		return cmp.Or(cmp.Compare(x.fund, y.fund), cmp.Compare(x.term, y.term), cmp.Compare(x.donor, y.donor),
			cmp.Compare(x.receivedOn, y.receivedOn), cmp.Compare(x.currency, y.currency))
	})
	args := make([]any, 0, len(ks)*8)
	for _, k := range ks {
		t := a.receipts[k]
		args = append(args, k.fund, k.term, k.donor, k.receivedOn, k.currency, t.amount, t.usd, t.receipts)
	}
	if err := a.cache.ExecRows(ctx, a.exec, receiptDaysUpsert, args); err != nil {
		return fmt.Errorf("write receipt totals: %w", err)
	}
	a.receipts = nil
	return nil
}

// flushCheckpoints adds the batch's totals to posting_checkpoints: each
// key's sums to the checkpoint of its month and of every later month.
// A month the fund had no postings in gets its checkpoint first, a copy
// of the one before it; all months are made before any sum is added, so
// that a copy never holds the batch's sums twice.
func (a *applier) flushCheckpoints(ctx context.Context) error {
	months := map[totalKey]*totalSum{} // the batch's totals by month
	for k, t := range a.totals {
		mk := k
		mk.effectiveOn = k.effectiveOn[:7] // YYYY-MM
		m := months[mk]
		if m == nil {
			m = &totalSum{}
			months[mk] = m
		}
		m.debit, m.credit, m.legs = m.debit+t.debit, m.credit+t.credit, m.legs+t.legs
	}
	type fundMonth struct{ fund, month string }
	var fms []fundMonth
	seen := map[fundMonth]bool{}
	for k := range months {
		if fm := (fundMonth{k.fund, k.effectiveOn}); !seen[fm] {
			seen[fm] = true
			fms = append(fms, fm)
		}
	}
	slices.SortFunc(fms, func(x, y fundMonth) int { return cmp.Or(cmp.Compare(x.fund, y.fund), cmp.Compare(x.month, y.month)) })
	for _, fm := range fms {
		r, err := a.exec(ctx, `INSERT INTO posting_checkpoint_months (fund, month, bucket) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, fm.fund, fm.month, seqtotals.Bucket(a.chains[fm.fund].FundSeq))
		if err != nil {
			return fmt.Errorf("write checkpoint month %s of fund %s: %w", fm.month, fm.fund, err)
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			continue // the month has its checkpoint
		}
		if _, err := a.exec(ctx, `INSERT INTO posting_checkpoints
			SELECT fund, ?2, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs
			FROM posting_checkpoints WHERE fund = ?1 AND month = (SELECT MAX(month) FROM posting_checkpoint_months WHERE fund = ?1 AND month < ?2)`,
			fm.fund, fm.month); err != nil {
			return fmt.Errorf("copy checkpoint to month %s of fund %s: %w", fm.month, fm.fund, err)
		}
	}
	return a.addToCheckpoints(ctx, months)
}

// addToCheckpoints adds the batch's totals by month to the checkpoints:
// each checkpoint month gets, per key, what the batch added in it and the
// months before it, in one row written once, rather than each month's sums
// written to every later checkpoint one after another (issue 10: that was
// most of the fold of a history of back-dated entries).
func (a *applier) addToCheckpoints(ctx context.Context, months map[totalKey]*totalSum) error {
	type monthSum struct {
		month string
		sum   *totalSum
	}
	byKey := map[totalKey][]monthSum{} // the key without its month
	first := map[string]string{}       // a fund's first month in the batch
	for k, t := range months {
		kk := k
		kk.effectiveOn = ""
		byKey[kk] = append(byKey[kk], monthSum{k.effectiveOn, t})
		if f, ok := first[k.fund]; !ok || k.effectiveOn < f {
			first[k.fund] = k.effectiveOn
		}
	}
	checkpoints := map[string][]string{} // a fund's checkpoint months, in order
	rows := map[totalKey]*totalSum{}     // what to add to each checkpoint row, its month as effectiveOn
	for k, ms := range byKey {
		slices.SortFunc(ms, func(x, y monthSum) int { return cmp.Compare(x.month, y.month) })
		cms, ok := checkpoints[k.fund]
		if !ok {
			var err error
			if cms, err = a.checkpointMonths(ctx, k.fund, first[k.fund]); err != nil {
				return err
			}
			checkpoints[k.fund] = cms
		}
		var sum totalSum
		next := 0
		for _, month := range cms {
			for next < len(ms) && ms[next].month <= month {
				sum.plus(ms[next].sum)
				next++
			}
			if next == 0 {
				continue // the key has nothing up to this month
			}
			ck := k
			ck.effectiveOn = month
			rows[ck] = &totalSum{sum.debit, sum.credit, sum.legs}
		}
	}
	args := make([]any, 0, len(rows)*11)
	for _, k := range sortedKeys(rows) { // the checkpoints' key order: month in place of the day
		t := rows[k]
		args = append(args, k.fund, k.effectiveOn, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, t.debit, t.credit, t.legs)
	}
	if err := a.cache.ExecRows(ctx, a.exec, postingCheckpointsUpsert, args); err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	return nil
}

// checkpointMonths returns the months with a checkpoint of fund from
// month on, in order.
func (a *applier) checkpointMonths(ctx context.Context, fund, month string) ([]string, error) {
	rows, err := a.tx.QueryContext(ctx, `SELECT month FROM posting_checkpoint_months WHERE fund = ? AND month >= ? ORDER BY month`, fund, month)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint months of fund %s: %w", fund, err)
	}
	defer rows.Close()
	var ms []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("read checkpoint months of fund %s: %w", fund, err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}
