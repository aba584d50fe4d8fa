package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// foldIndexes are the secondary indexes the fold itself reads: a reversal
// finds the row it reverses by fund_seq (unfoldRow, unfoldContribution,
// addReceipt). A rebuild keeps them while it folds.
var foldIndexes = map[string]bool{
	"contributions_seq": true,
	"expenditures_seq":  true,
	"refunds_seq":       true,
	"interest_seq":      true,
}

// deferredIndex is a secondary index a rebuild drops before it folds and
// makes again, from its own statement, once the tables are full.
type deferredIndex struct{ name, sql string }

// deferIndexes drops the secondary indexes of a new store that the fold
// does not read, to be made again by makeDeferredIndexes (persist). A
// rebuild's inserts then write each row's table and keys only, rather than
// also the reports' indexes, whose rows land at random places in ever
// larger b-trees (issue 10: that was most of a rebuild's cost, and why it
// slowed down as the read model grew); an index made at the end is built
// from the sorted rows at once. Unique indexes and primary keys stay: the
// fold relies on them to refuse a duplicate.
func (s *Store) deferIndexes(ctx context.Context) error {
	rows, err := s.write.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return fmt.Errorf("defer indexes: %w", err)
	}
	var ds []deferredIndex
	for rows.Next() {
		var d deferredIndex
		if err := rows.Scan(&d.name, &d.sql); err != nil {
			rows.Close()
			return fmt.Errorf("defer indexes: %w", err)
		}
		if !foldIndexes[d.name] && !strings.HasPrefix(strings.ToUpper(d.sql), "CREATE UNIQUE") {
			ds = append(ds, d)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("defer indexes: %w", err)
	}
	for _, d := range ds {
		if _, err := s.write.ExecContext(ctx, `DROP INDEX `+d.name); err != nil {
			return fmt.Errorf("defer index %s: %w", d.name, err)
		}
		s.deferred = append(s.deferred, d)
	}
	return nil
}

// makeDeferredIndexes makes the indexes deferIndexes dropped, as before.
func (s *Store) makeDeferredIndexes(ctx context.Context) error {
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		if _, err := s.write.ExecContext(ctx, d.sql); err != nil {
			return fmt.Errorf("make index %s: %w", d.name, err)
		}
		s.deferred = s.deferred[1:]
	}
	return nil
}

// deferredTotals are a rebuild's running totals: every batch's sums,
// added up in memory and written once, when the fold is done, by the
// code that writes a batch's (applier.flushTotals), into empty tables.
// The sums are the same whatever the batches were. Written batch by batch,
// they were most of a rebuild's cost (issue 10): a history whose entries
// are back-dated across its months adds each batch's keys to every later
// month's checkpoint, many times over the same rows.
//
// They are held only from one checkpoint by position to the next
// (seqtotals.AtBoundary): a checkpoint copies the running totals as they
// stand at its event, so at each one the sums held so far are written
// (applier.flushAtBoundary), and what follows is held again. Every fund's
// sums held are then in its current bucket of fund_seq, the one its day
// totals by bucket are written under.
type deferredTotals struct {
	totals   map[totalKey]*totalSum
	receipts map[receiptKey]*receiptSum
	seqs     map[string]uint64 // each fund's last fund_seq whose sums are held
}

// add adds the sums of a committed batch; d nil (not a rebuild) is a no-op.
func (d *deferredTotals) add(a *applier) {
	if d == nil {
		return
	}
	if d.totals == nil {
		d.totals, d.receipts, d.seqs = map[totalKey]*totalSum{}, map[receiptKey]*receiptSum{}, map[string]uint64{}
	}
	for fund, c := range a.chains {
		d.seqs[fund] = c.FundSeq
	}
	for k, t := range a.totals {
		d.totals[k] = d.totals[k].plus(t)
	}
	for k, r := range a.receipts {
		s := d.receipts[k]
		if s == nil {
			s = &receiptSum{}
			d.receipts[k] = s
		}
		s.amount, s.usd, s.receipts = s.amount+r.amount, s.usd+r.usd, s.receipts+r.receipts
	}
}

// makeDeferredTotals writes a rebuild's running totals (s.totals) in one
// transaction; the store then folds them batch by batch again. The
// caller holds applyMu.
func (s *Store) makeDeferredTotals(ctx context.Context) error {
	if s.totals == nil {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("make totals: %w", err)
	}
	defer tx.Rollback()
	if err := s.totals.write(ctx, &applier{tx: tx, cache: &s.stmts, stmts: map[string]*sql.Stmt{}}); err != nil {
		return fmt.Errorf("make totals: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("make totals: %w", err)
	}
	s.totals = nil
	return nil
}

// write writes the sums d holds through w, an applier of the transaction
// that writes them (applier.flushTotals), each fund's under the bucket of
// its last fund_seq held.
func (d *deferredTotals) write(ctx context.Context, w *applier) error {
	w.totals, w.receipts, w.chains = d.totals, d.receipts, map[string]*events.Chain{}
	for fund, seq := range d.seqs {
		w.chains[fund] = &events.Chain{Fund: fund, FundSeq: seq}
	}
	return w.flushTotals(ctx)
}

// flushAtBoundary writes the running totals before a checkpoint by
// position (seqtotals.AtBoundary) copies them. A store that defers its
// totals (a rebuild, a replay) writes what it held from earlier batches
// with what this batch added so far, into the batch's transaction; the
// store holds nothing from then on once the batch commits (applyBatch).
func (a *applier) flushAtBoundary(ctx context.Context) error {
	if !a.noTotals {
		return a.flushTotals(ctx)
	}
	held := &deferredTotals{}
	held.add(&applier{totals: a.held.totals, receipts: a.held.receipts, chains: heldChains(a.held.seqs)})
	held.add(a)
	if err := held.write(ctx, &applier{tx: a.tx, cache: a.cache, stmts: a.stmts}); err != nil {
		return err
	}
	a.held = &deferredTotals{}
	a.totals, a.receipts = nil, nil
	return nil
}

// heldChains gives seqs as chains, the shape deferredTotals.add reads.
func heldChains(seqs map[string]uint64) map[string]*events.Chain {
	cs := make(map[string]*events.Chain, len(seqs))
	for fund, seq := range seqs {
		cs[fund] = &events.Chain{Fund: fund, FundSeq: seq}
	}
	return cs
}

// DeferForReplay makes a scratch store (OpenScratch) that has folded
// nothing yet fold as a rebuild does: without the secondary indexes the
// fold does not read, its running totals added up in memory until
// MakeTotals writes them. The indexes are not made again: for a replay
// that is compared table by table and thrown away (the audit's). Any
// other store is refused, unchanged.
func (s *Store) DeferForReplay(ctx context.Context) error {
	if !s.scratch {
		return fmt.Errorf("defer the indexes of %s: not a scratch store", s.path)
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.totals != nil || len(s.deferred) > 0 {
		return fmt.Errorf("defer the indexes of %s: already deferred", s.path)
	}
	cp, err := s.readCheckpoint(ctx, s.write)
	if err != nil {
		return fmt.Errorf("defer the indexes of %s: %w", s.path, err)
	}
	if cp != 0 {
		return fmt.Errorf("defer the indexes of %s: it has folded events up to stream seq %d", s.path, cp)
	}
	if err := s.deferIndexes(ctx); err != nil {
		return err
	}
	s.totals = &deferredTotals{}
	return nil
}

// MakeTotals writes the running totals a store deferred (DeferForReplay)
// and folds them batch by batch from then on; for any other store it does
// nothing.
func (s *Store) MakeTotals(ctx context.Context) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.makeDeferredTotals(ctx); err != nil {
		return fmt.Errorf("read model %s: %w", s.path, err)
	}
	return nil
}
