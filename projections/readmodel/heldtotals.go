package readmodel

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// deferredTotals are the running totals of a rebuild or a replay
// (RebuildAt, DeferForReplay), held in memory as the fold goes and written
// once, when it is done (write), into empty tables: posting_days,
// posting_totals, receipt_days and the monthly checkpoints. Written batch by
// batch they were most of a rebuild's cost (issue 10): a history whose
// entries are back-dated across its months adds each batch's keys to every
// later month's checkpoint, many times over the same rows.
//
// A checkpoint by position (seqtotals.AtBoundary) copies the monthly
// checkpoints as they stand at its event; the fold writes that copy
// (posting_seq_snapshots, posting_seq_checkpoints) from the checkpoints it
// holds (snapshot), and the totals of the days the bucket it ends changed,
// as they stand at its end (posting_day_seq), which no later event changes. The live fold
// writes the same rows through the tables (flushTotals, AtBoundary);
// the sums are those of the events, not of how they were cut into batches.
//
// What is held is bounded by the read model's own tables: the days × keys
// of posting_days, the months × keys of posting_checkpoints, and one
// bucket's day totals a fund.
type deferredTotals struct {
	days     map[totalKey]*totalSum // posting_days
	receipts map[receiptKey]*receiptSum
	funds    map[string]*heldFund
	// dirty: a batch not yet committed added its sums; broken: one such
	// batch failed, so the sums held are not those of the rows committed.
	dirty  bool
	broken error
}

// heldFund is what a deferred fold holds of one fund beyond its days.
type heldFund struct {
	months  []string                          // the months with a checkpoint, in order
	buckets map[string]int64                  // each month's first bucket (posting_checkpoint_months)
	sums    map[string]map[totalKey]*totalSum // month → key (no date) → its totals up to the month's end
	keys    []totalKey                        // every key in sums, in order (compareTotalKeys) when !newKeys
	newKeys bool
	known   map[totalKey]bool
	// The bucket of fund_seq being folded: its day totals and the month of
	// its earliest-dated posting ("" while it has none).
	bucket     int64
	bucketDays map[totalKey]*totalSum
	fromMonth  string
}

func (d *deferredTotals) fund(name string) *heldFund {
	f := d.funds[name]
	if f == nil {
		f = &heldFund{buckets: map[string]int64{}, sums: map[string]map[totalKey]*totalSum{}, known: map[totalKey]bool{}, bucketDays: map[totalKey]*totalSum{}}
		d.funds[name] = f
	}
	return f
}

// fold takes the totals a flush of a (flushTotals) would write: into the
// days, the current bucket of each fund and the monthly checkpoints.
func (d *deferredTotals) fold(a *applier) error {
	if d.days == nil {
		d.days, d.receipts, d.funds = map[totalKey]*totalSum{}, map[receiptKey]*receiptSum{}, map[string]*heldFund{}
	}
	d.dirty = true
	months := map[string]map[totalKey]*totalSum{} // by fund: the flush's totals by month (as effectiveOn)
	for k, t := range a.totals {
		d.days[k] = d.days[k].plus(t)
		f := d.fund(k.fund)
		// A fund's events in one flush are in one bucket (seqtotals.AtBoundary).
		b := seqtotals.Bucket(a.chains[k.fund].FundSeq)
		if f.bucket != b && len(f.bucketDays) > 0 {
			return fmt.Errorf("fund %s: day totals of bucket %d held into bucket %d", k.fund, f.bucket, b)
		}
		f.bucket = b
		f.bucketDays[k] = f.bucketDays[k].plus(t)
		mk := k
		mk.effectiveOn = k.effectiveOn[:7] // YYYY-MM
		if f.fromMonth == "" || mk.effectiveOn < f.fromMonth {
			f.fromMonth = mk.effectiveOn
		}
		if months[k.fund] == nil {
			months[k.fund] = map[totalKey]*totalSum{}
		}
		months[k.fund][mk] = months[k.fund][mk].plus(t)
	}
	for fund, ms := range months {
		f := d.funds[fund]
		f.addMonths(ms)
	}
	for k, r := range a.receipts {
		s := d.receipts[k]
		if s == nil {
			s = &receiptSum{}
			d.receipts[k] = s
		}
		s.amount, s.usd, s.receipts = s.amount+r.amount, s.usd+r.usd, s.receipts+r.receipts
	}
	a.totals, a.receipts = nil, nil
	return nil
}

// addMonths adds a flush's totals by month (ms, the month as effectiveOn)
// to the checkpoints, as flushCheckpoints does to posting_checkpoints: a
// month the fund had no postings in gets its checkpoint first, a copy of
// the one before it, all of them before any sum is added; then each key's
// sums go to the checkpoint of its month and of every later month.
func (f *heldFund) addMonths(ms map[totalKey]*totalSum) {
	type monthSum struct {
		month string
		sum   *totalSum
	}
	byKey := map[totalKey][]monthSum{} // the key without its month
	for k, t := range ms {
		if _, ok := f.buckets[k.effectiveOn]; !ok {
			f.newMonth(k.effectiveOn)
		}
		kk := k
		kk.effectiveOn = ""
		byKey[kk] = append(byKey[kk], monthSum{k.effectiveOn, t})
	}
	for k, ms := range byKey {
		slices.SortFunc(ms, func(x, y monthSum) int { return cmp.Compare(x.month, y.month) })
		i, _ := slices.BinarySearch(f.months, ms[0].month)
		var sum totalSum
		next := 0
		for _, month := range f.months[i:] {
			for next < len(ms) && ms[next].month <= month {
				sum.plus(ms[next].sum)
				next++
			}
			row := f.sums[month][k]
			if row == nil {
				row = &totalSum{}
				f.sums[month][k] = row
			}
			row.plus(&sum)
		}
		if !f.known[k] {
			f.known[k], f.newKeys = true, true
			f.keys = append(f.keys, k)
		}
	}
}

// newMonth makes the checkpoint of a month the fund had none of, a copy
// of the one before it, in the bucket being folded.
func (f *heldFund) newMonth(month string) {
	i, _ := slices.BinarySearch(f.months, month)
	sums := map[totalKey]*totalSum{}
	if i > 0 {
		for k, s := range f.sums[f.months[i-1]] {
			sums[k] = &totalSum{s.debit, s.credit, s.legs}
		}
	}
	f.months = slices.Insert(f.months, i, month)
	f.buckets[month], f.sums[month] = f.bucket, sums
}

// postingSeqCheckpointsInsert writes rows of a checkpoint by position of
// one month: its fund, upto_seq and month are ?1, ?2 and ?3, bound once a
// statement, and each row's key and sums follow (?4 on).
var postingSeqCheckpointsInsert = sqlstmt.Multi{
	Head: `INSERT INTO posting_seq_checkpoints (fund, upto_seq, month, term_id, account, event_type, line_id, donor_id, earmark, debit_minor, credit_minor, legs)
		SELECT ?1, ?2, ?3, column1, column2, column3, column4, column5, column6, column7, column8, column9 FROM (VALUES `,
	Cols: 9,
	Tail: `)`,
}

// seqCheckpoints writes the rows of args: ?1–?3 then rows of 9 values.
func (a *applier) seqCheckpoints(ctx context.Context, args []any) error {
	n := (len(args) - 3) / 9
	if n == 0 {
		return nil
	}
	_, err := a.exec(ctx, a.cache.Query(postingSeqCheckpointsInsert, n), args...)
	return err
}

// atBoundary ends the bucket of fund whose last event is fund_seq seq, as
// seqtotals.AtBoundary does for the live fold: the flush's totals taken,
// it writes the bucket's snapshot of the monthly checkpoints (if the bucket
// has postings: every key of from_month and of each later month, in the
// table's key order) and its day totals.
func (d *deferredTotals) atBoundary(ctx context.Context, a *applier, fund string, seq uint64) error {
	if err := d.fold(a); err != nil {
		return err
	}
	f := d.funds[fund]
	if f == nil || f.fromMonth == "" {
		return nil // the bucket posted nothing: no snapshot
	}
	if _, err := a.exec(ctx, `INSERT INTO posting_seq_snapshots (fund, upto_seq, from_month) VALUES (?, ?, ?)`, fund, int64(seq), f.fromMonth); err != nil {
		return fmt.Errorf("write the checkpoints of fund %s at fund_seq %d: %w", fund, seq, err)
	}
	if f.newKeys {
		slices.SortFunc(f.keys, compareTotalKeys)
		f.newKeys = false
	}
	i, _ := slices.BinarySearch(f.months, f.fromMonth)
	args := make([]any, 0, 3+9*sqlstmt.RowsPerStatement)
	for _, month := range f.months[i:] {
		sums := f.sums[month]
		args = append(args[:0], fund, int64(seq), month)
		for _, k := range f.keys {
			s := sums[k]
			if s == nil {
				continue
			}
			args = append(args, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, s.debit, s.credit, s.legs)
			if len(args) == cap(args) {
				if err := a.seqCheckpoints(ctx, args); err != nil {
					return fmt.Errorf("write the checkpoints of fund %s at fund_seq %d: %w", fund, seq, err)
				}
				args = args[:3]
			}
		}
		if err := a.seqCheckpoints(ctx, args); err != nil {
			return fmt.Errorf("write the checkpoints of fund %s at fund_seq %d: %w", fund, seq, err)
		}
	}
	if err := a.writeDaySeq(ctx, f.bucketDays, d.days, f.bucket); err != nil {
		return err
	}
	f.bucketDays, f.fromMonth = map[totalKey]*totalSum{}, ""
	return nil
}

// postingCheckpointMonthsInsert writes the months of the checkpoints.
var postingCheckpointMonthsInsert = sqlstmt.Multi{
	Head: `INSERT INTO posting_checkpoint_months (fund, month, bucket) VALUES `,
	Cols: 3,
}

// write writes what d holds through w, an applier of the transaction that
// writes it: the days, totals and receipts (writeDays), each fund's day
// totals of its last bucket, and the monthly checkpoints.
func (d *deferredTotals) write(ctx context.Context, w *applier) error {
	w.totals, w.receipts = d.days, d.receipts
	if err := w.writeDays(ctx); err != nil {
		return err
	}
	names := make([]string, 0, len(d.funds))
	for name := range d.funds {
		names = append(names, name)
	}
	slices.Sort(names)
	var margs, cargs []any
	for _, name := range names {
		f := d.funds[name]
		if err := w.writeDaySeq(ctx, f.bucketDays, d.days, f.bucket); err != nil {
			return err
		}
		if f.newKeys {
			slices.SortFunc(f.keys, compareTotalKeys)
			f.newKeys = false
		}
		for _, month := range f.months {
			margs = append(margs, name, month, f.buckets[month])
			for _, k := range f.keys {
				if s := f.sums[month][k]; s != nil {
					cargs = append(cargs, name, month, k.term, k.account, k.eventType, k.line, k.donor, k.earmark, s.debit, s.credit, s.legs)
				}
			}
		}
	}
	if err := w.cache.ExecRows(ctx, w.exec, postingCheckpointMonthsInsert, margs); err != nil {
		return fmt.Errorf("write checkpoint months: %w", err)
	}
	if err := w.cache.ExecRows(ctx, w.exec, postingCheckpointsUpsert, cargs); err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	return nil
}
