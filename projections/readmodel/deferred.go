package readmodel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/internal/progress"
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
	n := len(s.deferred)
	for len(s.deferred) > 0 {
		d := s.deferred[0]
		progress.Step(ctx, "making index %s (%d of %d)", d.name, n-len(s.deferred)+1, n)
		if _, err := s.write.ExecContext(ctx, d.sql); err != nil {
			return fmt.Errorf("make index %s: %w", d.name, err)
		}
		s.deferred = s.deferred[1:]
	}
	return nil
}

// makeDeferredTotals writes the running totals a rebuild or a replay held
// (s.totals, deferredTotals.write) in one transaction; the store then
// folds them batch by batch again. The caller holds applyMu.
func (s *Store) makeDeferredTotals(ctx context.Context) error {
	if s.totals == nil {
		return nil
	}
	if s.totals.broken != nil {
		return fmt.Errorf("make totals: a batch failed after the totals held took its sums: %w", s.totals.broken)
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
