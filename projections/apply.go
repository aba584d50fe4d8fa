package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
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
	if len(evs) > MaxBatchEvents {
		return fmt.Errorf("apply batch of %d events: the limit is %d", len(evs), MaxBatchEvents)
	}
	if len(evs) == 0 {
		return nil
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply batch: begin: %w", err)
	}
	defer tx.Rollback()
	cp, err := s.readCheckpoint(ctx, tx)
	if err != nil {
		return err
	}
	a := &applier{tx: tx, stmts: map[string]*sql.Stmt{}, chains: map[string]*events.Chain{}, streamSeqs: map[string]uint64{}}
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
		if err := a.apply(ctx, e); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return eventError(e, err)
		}
		last = e.StreamSeq
	}
	if last == cp {
		return nil
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
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply batch: commit: %w", err)
	}
	s.advance(last)
	return nil
}

// applier writes the rows of one batch inside its transaction.
type applier struct {
	tx         *sql.Tx
	stmts      map[string]*sql.Stmt
	chains     map[string]*events.Chain // funds touched by the batch
	streamSeqs map[string]uint64        // their last stream seq
}

// exec runs a statement prepared once per batch: the same few inserts run
// for every event.
func (a *applier) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := a.stmts[query]
	if !ok {
		var err error
		if st, err = a.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		a.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
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
	// The caller may have built the event in memory rather than decoded it
	// from stored bytes: recompute the hash here too.
	h, err := e.ComputeHash()
	if err != nil {
		return fmt.Errorf("%w: fund %s fund_seq %d: %v", events.ErrTampered, e.Fund, e.FundSeq, err)
	}
	if h != e.Hash {
		return fmt.Errorf("%w: fund %s fund_seq %d: hash %s does not match content (%s)", events.ErrTampered, e.Fund, e.FundSeq, e.Hash, h)
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
	if err := a.applyPayload(ctx, e, p); err != nil {
		return err
	}
	ps, err := domain.Postings(e)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInconsistent, err)
	}
	var sum int64
	for i, x := range ps {
		sum += x.Minor
		if _, err := a.exec(ctx, `INSERT INTO postings (fund, fund_seq, leg, event_type, term_id, account, line_id, donor_id, amount_minor, effective_on)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, int64(e.FundSeq), i, e.Type, x.TermID, x.Account, x.LineID, x.DonorID, x.Minor, e.EffectiveOn); err != nil {
			return fmt.Errorf("write posting %d: %w", i, err)
		}
	}
	if sum != 0 {
		return fmt.Errorf("%w: postings sum to %d, not zero", ErrInconsistent, sum)
	}
	return nil
}

// applyPayload writes the entity rows of one event. An insert that hits an
// existing key or an update that finds no row means the log contradicts
// itself: the domain would never have decided such an event.
func (a *applier) applyPayload(ctx context.Context, e events.Event, p events.Payload) error {
	seq := int64(e.FundSeq)
	var err error
	switch p := p.(type) {
	case *events.TermOpened:
		_, err = a.exec(ctx, `INSERT INTO terms (fund, term_id, starts_on, ends_on, target_minor, fee_rate, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, p.TermID, p.StartsOn, p.EndsOn, p.Target.Minor, p.FeeRate, seq)
	case *events.DonorRegistered:
		_, err = a.exec(ctx, `INSERT INTO donors (fund, donor_id, name, kind, country, city, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, p.DonorID, p.Name, p.Kind, p.Country, p.City, seq)
	case *events.ContributionReceived:
		_, err = a.exec(ctx, `INSERT INTO contributions (fund, contribution_id, donor_id, term_id, pledge_id, amount_minor, currency, usd_rate, usd_minor, received_on, bank_ref, fund_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, p.ContributionID, p.DonorID, p.TermID, p.PledgeID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.ReceivedOn, p.BankRef, seq)
	case *events.FeeCharged:
		_, err = a.exec(ctx, `INSERT INTO fees (fund, fund_seq, contribution_id, donor_id, term_id, fee_rate, amount_minor, effective_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, seq, p.ContributionID, p.DonorID, p.TermID, p.FeeRate, p.Amount.Minor, e.EffectiveOn)
	case *events.BudgetLineAdded:
		_, err = a.exec(ctx, `INSERT INTO budget_lines (fund, line_id, term_id, title, amount_minor, cluster_id, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, p.LineID, p.TermID, p.Title, p.Amount.Minor, p.ClusterID, seq)
	case *events.AllocationProposed:
		_, err = a.exec(ctx, `INSERT INTO allocations (fund, allocation_id, line_id, term_id, amount_minor, note, status, proposed_by, proposed_on, proposed_seq)
			VALUES (?, ?, ?, ?, ?, ?, 'proposed', ?, ?, ?)`,
			e.Fund, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Note, p.ProposedBy, e.EffectiveOn, seq)
	case *events.AllocationApproved:
		return a.execOne(ctx, "approve allocation "+p.AllocationID,
			`UPDATE allocations SET status = 'approved', approved_by = ?, approved_on = ?, approved_seq = ?
			 WHERE fund = ? AND allocation_id = ? AND status = 'proposed' AND amount_minor = ?`,
			p.ApprovedBy, e.EffectiveOn, seq, e.Fund, p.AllocationID, p.Amount.Minor)
	case *events.ExpenditureRecorded:
		_, err = a.exec(ctx, `INSERT INTO expenditures (fund, expenditure_id, allocation_id, line_id, term_id, amount_minor, currency, usd_rate, usd_minor, spent_on, payee, description, country, city, fund_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, p.ExpenditureID, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.SpentOn, p.Payee, p.Description, p.Country, p.City, seq)
	default:
		return fmt.Errorf("%w: %s (upgrade the projector and rebuild the read model)", ErrUnknownEventType, e.Type)
	}
	if err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrInconsistent, e.Type, err)
	}
	return nil
}
