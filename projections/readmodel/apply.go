package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// EventError is an event the read model refused: altered bytes, a broken
// hash chain, or content that contradicts the events before it. It names
// where the event sits in the stream and in its fund. Err wraps
// events.ErrTampered or events.ErrBrokenChain where those are the cause.
type EventError struct {
	StreamSeq uint64
	Fund      string
	FundSeq   uint64
	EventID   string
	Err       error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event at stream seq %d (fund %s fund_seq %d, id %s): %v", e.StreamSeq, e.Fund, e.FundSeq, e.EventID, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

func eventError(e events.Event, err error) *EventError {
	return &EventError{StreamSeq: e.StreamSeq, Fund: e.Fund, FundSeq: e.FundSeq, EventID: e.ID, Err: err}
}

// ErrInconsistent is wrapped when an event contradicts the read model (an
// unknown id, a duplicate, postings that do not balance): the log is corrupt
// or was written by another program. The projector stops on it.
var ErrInconsistent = errors.New("event contradicts the read model")

// ErrUnknownEventType is wrapped when the log holds an event type this
// read model has no rule for: the projector is older than the writer. It
// stops rather than skip the event; upgrade it and rebuild.
var ErrUnknownEventType = errors.New("event type unknown to this read model")

// ApplyBatch applies events in one transaction together with the checkpoint
// (the last stream sequence applied) and the head of each fund's hash chain.
// Events must carry their StreamSeq and come in stream order; those at or
// below the checkpoint are skipped, so applying a batch twice changes
// nothing. Each event's hash is recomputed and must link to the stored head
// of its fund (events.Chain). On any error nothing of the batch is committed
// and the error is an *EventError naming the fund and fund_seq.
func (s *Store) ApplyBatch(ctx context.Context, evs []events.Event) error {
	return s.applyBatch(ctx, evs, true)
}

// ApplyDecoded is ApplyBatch for events exactly as events.Decode returned
// them (with their StreamSeq set): Decode has checked that their bytes are
// canonical and that their hash matches, so their hash is not computed a
// second time, which was a third of the cost of a replay. The link to each
// fund's chain is checked as in ApplyBatch. The projector and the audit
// replays use it; a caller holding events built or changed in memory uses
// ApplyBatch.
func (s *Store) ApplyDecoded(ctx context.Context, evs []events.Event) error {
	return s.applyBatch(ctx, evs, false)
}

// applyBatch is ApplyBatch; rehash says whether to recompute each hash.
func (s *Store) applyBatch(ctx context.Context, evs []events.Event, rehash bool) error {
	if len(evs) > ReplayBatchEvents {
		return fmt.Errorf("apply batch of %d events: the limit is %d", len(evs), ReplayBatchEvents)
	}
	if len(evs) == 0 {
		return nil
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.totals != nil && s.totals.broken != nil {
		return fmt.Errorf("apply batch: an earlier batch failed after the totals held took its sums: %w", s.totals.broken)
	}
	err := s.applyLocked(ctx, evs, rehash)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// database/sql rolls the transaction back when ctx ends, and the
		// next statement fails with sql.ErrTxDone: the cause is the end
		// of ctx, which a projector told to stop must see as such.
		err = fmt.Errorf("apply batch: %w (%v)", ctx.Err(), err)
	}
	if err != nil && s.totals != nil && s.totals.dirty {
		// The totals held took sums of rows rolled back; nothing folds on.
		s.totals.broken = err
	}
	return err
}

// applyLocked is applyBatch once the store is locked.
func (s *Store) applyLocked(ctx context.Context, evs []events.Event, rehash bool) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply batch: begin: %w", err)
	}
	defer func() {
		tx.Rollback() // after Commit, a no-op
		// The statements first seen in this batch, for the next ones: on
		// the writer, which the transaction no longer holds.
		s.stmts.PrepareNew(ctx, s.write)
	}()
	cp, err := s.readCheckpoint(ctx, tx)
	if err != nil {
		return err
	}
	a := &applier{tx: tx, rehash: rehash, noTotals: s.totals != nil, held: s.totals, cache: &s.stmts, stmts: map[string]*sql.Stmt{}, chains: map[string]*events.Chain{}, streamSeqs: map[string]uint64{}}
	last := cp
	for _, e := range evs {
		if e.StreamSeq == 0 {
			return eventError(e, errors.New("event without a stream sequence"))
		}
		if e.StreamSeq <= cp {
			continue
		}
		if e.StreamSeq <= last {
			return eventError(e, fmt.Errorf("%w: stream seq %d after %d in one batch", ErrInconsistent, e.StreamSeq, last))
		}
		if err := ctx.Err(); err != nil {
			return err // the statements do not see ctx end (exec)
		}
		if err := a.apply(ctx, e); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return eventError(e, err)
		}
		if err := a.atBoundary(ctx, e.Fund, e.FundSeq); err != nil {
			return fmt.Errorf("apply batch: %w", err)
		}
		last = e.StreamSeq
	}
	if last == cp {
		return nil
	}
	if err := a.flushTotals(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // as for an event: a cancelled batch, not a failed one
		}
		return fmt.Errorf("apply batch: %w", err)
	}
	for fund, c := range a.chains {
		if _, err := a.exec(ctx, `INSERT INTO fund_heads (fund, fund_seq, chain_head, stream_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (fund) DO UPDATE SET fund_seq = excluded.fund_seq, chain_head = excluded.chain_head, stream_seq = excluded.stream_seq`,
			fund, int64(c.FundSeq), c.Head, int64(a.streamSeqs[fund])); err != nil {
			return fmt.Errorf("apply batch: write head of fund %s: %w", fund, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE checkpoint SET stream_seq = ? WHERE id = 1`, int64(last)); err != nil {
		return fmt.Errorf("apply batch: write checkpoint: %w", err)
	}
	if s.beforeCommit != nil {
		s.beforeCommit(last)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply batch: commit: %w", err)
	}
	if a.noTotals {
		s.totals.dirty = false // the sums held are those of the rows committed
	}
	s.advance(last)
	return nil
}

// HaltBeforeCommit makes the store call halt, instead of committing, the
// first batch that ends at or beyond stream sequence at, once its rows are
// written: the state a crash in the middle of a batch leaves. halt is
// expected not to return (it blocks until the process is killed); if it
// does, the batch commits. For crash tests of the projector.
func (s *Store) HaltBeforeCommit(at uint64, halt func(last uint64)) {
	s.beforeCommit = func(last uint64) {
		if last >= at {
			halt(last)
		}
	}
}

// applier writes the rows of one batch inside its transaction.
type applier struct {
	tx         *sql.Tx
	rehash     bool            // recompute each event's hash (ApplyBatch, not ApplyDecoded)
	noTotals   bool            // hold the batch's totals in memory (a rebuild, a replay: Store.totals)
	held       *deferredTotals // the store's totals held (noTotals)
	cache      *sqlstmt.Cache  // the store's statements, prepared once
	stmts      map[string]*sql.Stmt
	args       []any                      // an event's postings, reused
	chains     map[string]*events.Chain   // funds touched by the batch
	streamSeqs map[string]uint64          // their last stream seq
	totals     map[totalKey]*totalSum     // the batch's postings added up (addTotals)
	receipts   map[receiptKey]*receiptSum // the batch's receipts added up (addReceipt)
}

// atBoundary is called after each event, fund_seq seq of fund: at the end
// of a bucket it writes the checkpoint by position (seqtotals.AtBoundary),
// from the totals held in memory when the store holds them.
func (a *applier) atBoundary(ctx context.Context, fund string, seq uint64) error {
	if !a.noTotals {
		return seqtotals.AtBoundary(ctx, fund, seq, a.flushTotals, a.exec)
	}
	if !seqtotals.Boundary(seq) {
		return nil
	}
	return a.held.atBoundary(ctx, a, fund, seq)
}

// exec runs a statement prepared once per store (sqlstmt.Cache): the same
// few inserts run for every event, and the live projector's batches are
// small. It runs under a context that is never done: for a statement whose
// context can end, the driver (modernc.org/sqlite) starts a goroutine that
// would interrupt it, which cost 6 % of a rebuild's CPU (and as much again
// in the scheduler) for statements of microseconds. A cancelled batch
// still stops within an event: applyBatch checks ctx before each, and
// database/sql rolls the transaction back once ctx is done, which fails
// the statements after it.
func (a *applier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := a.stmts[query]
	if !ok {
		var err error
		if st, err = a.cache.InTx(ctx, a.tx, query); err != nil {
			return nil, err
		}
		a.stmts[query] = st
	}
	return st.ExecContext(context.WithoutCancel(ctx), args...)
}

// execOne runs an UPDATE that must change exactly one row.
func (a *applier) execOne(ctx context.Context, what, query string, args ...any) error {
	r, err := a.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: %s changed %d rows, want 1", ErrInconsistent, what, n)
	}
	return nil
}

// checkHash recomputes the hash of an event the caller may have built in
// memory rather than decoded from stored bytes.
func (a *applier) checkHash(e events.Event) error {
	if !a.rehash {
		return nil
	}
	h, err := e.ComputeHash()
	if err != nil {
		return fmt.Errorf("%w: fund %s fund_seq %d: %v", events.ErrTampered, e.Fund, e.FundSeq, err)
	}
	if h != e.Hash {
		return fmt.Errorf("%w: fund %s fund_seq %d: hash %s does not match content (%s)", events.ErrTampered, e.Fund, e.FundSeq, e.Hash, h)
	}
	return nil
}

func (a *applier) chain(ctx context.Context, fund string) (*events.Chain, error) {
	if c, ok := a.chains[fund]; ok {
		return c, nil
	}
	c := events.NewChain(fund)
	var (
		seq  int64
		head string
	)
	err := a.tx.QueryRowContext(ctx, `SELECT fund_seq, chain_head FROM fund_heads WHERE fund = ?`, fund).Scan(&seq, &head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("read head of fund %s: %w", fund, err)
	default:
		c.FundSeq, c.Head = uint64(seq), head
	}
	a.chains[fund] = &c
	return &c, nil
}

// apply checks one event against its fund's chain and writes its rows.
func (a *applier) apply(ctx context.Context, e events.Event) error {
	if err := a.checkHash(e); err != nil {
		return err
	}
	c, err := a.chain(ctx, e.Fund)
	if err != nil {
		return err
	}
	// Check advances the chain only on success; a failed batch is rolled
	// back as a whole and the chains are dropped with it.
	if err := c.Check(e); err != nil {
		return err
	}
	// The running totals are kept by date and month: an event dated
	// otherwise than YYYY-MM-DD has no place in them (only a forged log
	// holds one; the writer dates every event).
	if !domain.IsDate(e.EffectiveOn) {
		return fmt.Errorf("%w: effective_on %q is not a date written YYYY-MM-DD", ErrInconsistent, e.EffectiveOn)
	}
	a.streamSeqs[e.Fund] = e.StreamSeq
	if _, err := a.exec(ctx, `INSERT INTO events (fund, fund_seq, stream_seq, id, type, v, effective_on, recorded_at, actor, command_id, command_hash, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), int64(e.StreamSeq), e.ID, e.Type, e.V, e.EffectiveOn, e.RecordedAt, e.Actor, e.CommandID, e.CommandHash, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("%w: index event: %v", ErrInconsistent, err)
	}
	p, err := e.Payload()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInconsistent, err)
	}
	if err := a.indexSubject(ctx, e, p); err != nil {
		return err
	}
	if err := a.applyPayload(ctx, e, p); err != nil {
		return err
	}
	if err := a.addReceipt(ctx, e, p); err != nil {
		return err
	}
	ps, err := domain.PayloadPostings(e, p)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	// A reversal's legs are booked under the reversed event's type, so that
	// sums by type net out what was reversed.
	typ, reversalOf := e.Type, ""
	if r, ok := p.(*events.EventReversed); ok {
		typ, reversalOf = r.ReversedType, r.EventID
		if err := a.checkNegates(ctx, e.Fund, r, ps); err != nil {
			return err
		}
	}
	var sum int64
	for i, x := range ps {
		sum += x.Minor
		// One statement a leg: a statement of many rows costs more here,
		// as SQLite copies each page it changes to a statement journal
		// first (to undo the rows before a failing one).
		if _, err := a.exec(ctx, `INSERT INTO postings (fund, fund_seq, leg, event_type, term_id, account, line_id, donor_id, amount_minor, effective_on, earmark, pledge_id, reversal_of)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, int64(e.FundSeq), i, typ, x.TermID, x.Account, x.LineID, x.DonorID, x.Minor, e.EffectiveOn, x.Earmark, x.PledgeID, reversalOf); err != nil {
			return fmt.Errorf("write posting %d: %w", i, err)
		}
		a.addTotals(e.Fund, e.EffectiveOn, typ, x)
	}
	if sum != 0 {
		return fmt.Errorf("%w: postings sum to %d, not zero", ErrInconsistent, sum)
	}
	return nil
}

// leg is a posting without its amount: the account it moves.
type leg struct{ account, term, line, donor, earmark, pledge string }

// checkNegates checks that a reversal's postings are exactly the reversed
// event's, negated: what the reversal carries is what the reversed event
// booked, not a copy that could have drifted from it.
func (a *applier) checkNegates(ctx context.Context, fund string, r *events.EventReversed, ps []domain.Posting) error {
	rows, err := a.tx.QueryContext(ctx, `SELECT account, term_id, line_id, donor_id, earmark, pledge_id, amount_minor
		FROM postings WHERE fund = ? AND fund_seq = ?`, fund, int64(r.ReversedFundSeq))
	if err != nil {
		return fmt.Errorf("read postings of fund_seq %d: %w", r.ReversedFundSeq, err)
	}
	defer rows.Close()
	net := map[leg]int64{}
	for rows.Next() {
		var (
			l leg
			x int64
		)
		if err := rows.Scan(&l.account, &l.term, &l.line, &l.donor, &l.earmark, &l.pledge, &x); err != nil {
			return fmt.Errorf("read postings of fund_seq %d: %w", r.ReversedFundSeq, err)
		}
		net[l] += x
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read postings of fund_seq %d: %w", r.ReversedFundSeq, err)
	}
	for _, x := range ps {
		net[leg{x.Account, x.TermID, x.LineID, x.DonorID, x.Earmark, x.PledgeID}] += x.Minor
	}
	for l, x := range net {
		if x != 0 {
			return fmt.Errorf("%w: reversal %s of fund_seq %d leaves %d on %+v: its postings do not negate the reversed event's",
				ErrInconsistent, r.ReversalID, r.ReversedFundSeq, x, l)
		}
	}
	return nil
}
