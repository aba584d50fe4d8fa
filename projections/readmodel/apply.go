package readmodel

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
	a := &applier{tx: tx, rehash: rehash, stmts: map[string]*sql.Stmt{}, chains: map[string]*events.Chain{}, streamSeqs: map[string]uint64{}}
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
	if err := a.flushTotals(ctx); err != nil {
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
	rehash     bool // recompute each event's hash (ApplyBatch, not ApplyDecoded)
	stmts      map[string]*sql.Stmt
	chains     map[string]*events.Chain // funds touched by the batch
	streamSeqs map[string]uint64        // their last stream seq
	totals     map[totalKey]*totalSum   // the batch's postings added up (addTotals)
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
	a.streamSeqs[e.Fund] = e.StreamSeq
	if _, err := a.exec(ctx, `INSERT INTO events (fund, fund_seq, stream_seq, id, type, v, effective_on, recorded_at, actor, command_id, command_hash, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), int64(e.StreamSeq), e.ID, e.Type, e.V, e.EffectiveOn, e.RecordedAt, e.Actor, e.CommandID, e.CommandHash, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("%w: index event: %v", ErrInconsistent, err)
	}
	if err := a.indexSubject(ctx, e); err != nil {
		return err
	}
	p, err := e.Payload()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInconsistent, err)
	}
	if err := a.applyPayload(ctx, e, p); err != nil {
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

// readFold is how one event type folds into the read model. fold writes
// the event's rows; unfold, for a type a reversal undoes, marks them
// reversed. Every entry of events.Types has one (TestReadFoldsComplete); see
// docs/DESIGN.md, "How to add an event type and a command". An insert that
// hits an existing key or an update that finds no row means the log
// contradicts itself: the domain would never have decided such an event.
type readFold struct {
	payload func(p events.Payload) bool // whether p is the type's payload
	fold    func(ctx context.Context, a *applier, e events.Event, p events.Payload) error
	// unfold marks the rows of the event at fund_seq rseq reversed by r;
	// what names the change in errors.
	unfold func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error
}

// unfoldFunc is readFold.unfold.
type unfoldFunc = func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error

// foldOf makes the readFold of payload type P; the payload it receives was
// made by events.Types for the fold's name, so the conversion cannot fail.
func foldOf[P events.Payload](fold func(context.Context, *applier, events.Event, P) error, unfold unfoldFunc) readFold {
	return readFold{
		payload: func(p events.Payload) bool { _, ok := p.(P); return ok },
		fold: func(ctx context.Context, a *applier, e events.Event, p events.Payload) error {
			return fold(ctx, a, e, p.(P))
		},
		unfold: unfold,
	}
}

// readFolds holds a readFold per event type name. It is set in init because
// the fold of a reversal uses it.
var readFolds map[string]readFold

func init() {
	readFolds = map[string]readFold{
		events.TypeTermOpened:           foldOf(foldTermOpened, nil),
		events.TypeDonorRegistered:      foldOf(foldDonorRegistered, nil),
		events.TypeDonorAmended:         foldOf(foldDonorAmended, nil),
		events.TypeContributionReceived: foldOf(foldContribution, unfoldContribution),
		events.TypeFeeCharged:           foldOf(foldFee, unfoldRow("fees")),
		events.TypeBudgetLineAdded:      foldOf(foldBudgetLine, nil),
		events.TypeAllocationProposed:   foldOf(foldProposal, nil),
		events.TypeAllocationApproved:   foldOf(foldApproval, unfoldApproval),
		events.TypeExpenditureRecorded:  foldOf(foldExpenditure, unfoldRow("expenditures")),
		events.TypePledgeRecorded:       foldOf(foldPledgeRecorded, nil),
		events.TypePledgeAmended:        foldOf(foldPledgeAmended, nil),
		events.TypePledgeCancelled:      foldOf(foldPledgeCancelled, nil),
		events.TypeInterestEarned:       foldOf(foldInterest, unfoldRow("interest")),
		events.TypeRefundPaid:           foldOf(foldRefund, unfoldRow("refunds")),
		events.TypeEventReversed:        foldOf(foldReversal, nil),
		events.TypeBalanceCarriedOver:   foldOf(foldCarryOver, nil),
		events.TypeTermClosed:           foldOf(foldTermClosed, nil),
		events.TypeCityRegistered:       foldOf(foldCity, nil),
		events.TypeClusterRegistered:    foldOf(foldCluster, nil),
		events.TypeCoordinatorAppointed: foldOf(foldCoordinator, nil),
		events.TypeMemberJoined:         foldOf(foldMember, nil),
	}
}

// applyPayload writes the entity rows of one event by its type's readFold.
func (a *applier) applyPayload(ctx context.Context, e events.Event, p events.Payload) error {
	f, ok := readFolds[e.Type]
	if !ok {
		return fmt.Errorf("%w: %s (upgrade the projector and rebuild the read model)", ErrUnknownEventType, e.Type)
	}
	return f.fold(ctx, a, e, p)
}

// written wraps the error of writing an event's rows: the log contradicts
// itself (a key used before, a row missing).
func written(e events.Event, err error) error {
	if err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrInconsistent, e.Type, err)
	}
	return nil
}

func foldTermOpened(ctx context.Context, a *applier, e events.Event, p *events.TermOpened) error {
	_, err := a.exec(ctx, `INSERT INTO terms (fund, term_id, starts_on, ends_on, target_minor, fee_rate, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.TermID, p.StartsOn, p.EndsOn, p.Target.Minor, p.FeeRate, int64(e.FundSeq))
	return written(e, err)
}

func foldDonorRegistered(ctx context.Context, a *applier, e events.Event, p *events.DonorRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO donors (fund, donor_id, name, kind, country, city, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.DonorID, p.Name, p.Kind, p.Country, p.City, int64(e.FundSeq))
	return written(e, err)
}

func foldDonorAmended(ctx context.Context, a *applier, e events.Event, p *events.DonorAmended) error {
	// The donor must be registered before: the select inserts nothing
	// otherwise, which execOne reports.
	return a.execOne(ctx, "amend donor "+p.DonorID,
		`INSERT INTO donor_amendments (fund, fund_seq, donor_id, effective_on, name, kind, country, city, reason)
		 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM donors WHERE fund = ?1 AND donor_id = ?3)`,
		e.Fund, int64(e.FundSeq), p.DonorID, e.EffectiveOn, p.Name, p.Kind, p.Country, p.City, p.Reason)
}

func foldContribution(ctx context.Context, a *applier, e events.Event, p *events.ContributionReceived) error {
	var settled int64
	if p.PledgeSettledUSD != nil {
		settled = p.PledgeSettledUSD.Minor
	}
	_, err := a.exec(ctx, `INSERT INTO contributions (fund, contribution_id, donor_id, term_id, pledge_id, amount_minor, currency, usd_rate, usd_minor, received_on, bank_ref, fund_seq, earmark, pledge_settled_usd_minor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.ContributionID, p.DonorID, p.TermID, p.PledgeID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.ReceivedOn, p.BankRef, int64(e.FundSeq), p.Earmark, settled)
	if err != nil || p.PledgeID == "" {
		return written(e, err)
	}
	return a.execOne(ctx, "pay pledge "+p.PledgeID,
		`UPDATE pledges SET paid_minor = paid_minor + ?, paid_usd_minor = paid_usd_minor + ?, outstanding_usd_minor = outstanding_usd_minor - ?
		 WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'`,
		p.Amount.Minor, p.USDAmount.Minor, settled, e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Earmark)
}

// unfoldContribution marks a receipt reversed; one that paid a pledge no
// longer counts as paid (and its memo postings give back what it settled).
func unfoldContribution(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error {
	var (
		pledge             string
		amount, usd, settl int64
	)
	err := a.tx.QueryRowContext(ctx, `UPDATE contributions SET reversed_by = ? WHERE fund = ? AND fund_seq = ? AND reversed_by = ''
		RETURNING pledge_id, amount_minor, usd_minor, pledge_settled_usd_minor`, r.ReversalID, e.Fund, rseq).Scan(&pledge, &amount, &usd, &settl)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s: no such receipt standing", ErrInconsistent, what)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if pledge == "" {
		return nil
	}
	return a.execOne(ctx, what+": pledge "+pledge,
		`UPDATE pledges SET paid_minor = paid_minor - ?, paid_usd_minor = paid_usd_minor - ?, outstanding_usd_minor = outstanding_usd_minor + ?
		 WHERE fund = ? AND pledge_id = ? AND status != 'cancelled'`, amount, usd, settl, e.Fund, pledge)
}

// unfoldRow returns the unfold of an event with a row of its own in table,
// keyed by fund_seq: the row gets reversed_by.
func unfoldRow(table string) unfoldFunc {
	query := `UPDATE ` + table + ` SET reversed_by = ? WHERE fund = ? AND fund_seq = ? AND reversed_by = ''`
	return func(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error {
		return a.execOne(ctx, what, query, r.ReversalID, e.Fund, rseq)
	}
}

func foldFee(ctx context.Context, a *applier, e events.Event, p *events.FeeCharged) error {
	_, err := a.exec(ctx, `INSERT INTO fees (fund, fund_seq, contribution_id, donor_id, term_id, fee_rate, amount_minor, effective_on, earmark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.ContributionID, p.DonorID, p.TermID, p.FeeRate, p.Amount.Minor, e.EffectiveOn, p.Earmark)
	return written(e, err)
}

func foldBudgetLine(ctx context.Context, a *applier, e events.Event, p *events.BudgetLineAdded) error {
	_, err := a.exec(ctx, `INSERT INTO budget_lines (fund, line_id, term_id, title, amount_minor, cluster_id, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.LineID, p.TermID, p.Title, p.Amount.Minor, p.ClusterID, int64(e.FundSeq))
	return written(e, err)
}

func foldProposal(ctx context.Context, a *applier, e events.Event, p *events.AllocationProposed) error {
	_, err := a.exec(ctx, `INSERT INTO allocations (fund, allocation_id, line_id, term_id, amount_minor, note, status, proposed_by, proposed_on, proposed_seq)
		VALUES (?, ?, ?, ?, ?, ?, 'proposed', ?, ?, ?)`,
		e.Fund, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Note, p.ProposedBy, e.EffectiveOn, int64(e.FundSeq))
	return written(e, err)
}

func foldApproval(ctx context.Context, a *applier, e events.Event, p *events.AllocationApproved) error {
	return a.execOne(ctx, "approve allocation "+p.AllocationID,
		`UPDATE allocations SET status = 'approved', approved_by = ?, approved_on = ?, approved_seq = ?
		 WHERE fund = ? AND allocation_id = ? AND status = 'proposed' AND amount_minor = ?`,
		p.ApprovedBy, e.EffectiveOn, int64(e.FundSeq), e.Fund, p.AllocationID, p.Amount.Minor)
}

// unfoldApproval makes the allocation proposed again, as in domain.State.
func unfoldApproval(ctx context.Context, a *applier, e events.Event, _ *events.EventReversed, what string, rseq int64) error {
	return a.execOne(ctx, what, `UPDATE allocations SET status = 'proposed', approved_by = '', approved_on = '', approved_seq = 0
		WHERE fund = ? AND approved_seq = ? AND status = 'approved'`, e.Fund, rseq)
}

func foldExpenditure(ctx context.Context, a *applier, e events.Event, p *events.ExpenditureRecorded) error {
	_, err := a.exec(ctx, `INSERT INTO expenditures (fund, expenditure_id, allocation_id, line_id, term_id, amount_minor, currency, usd_rate, usd_minor, spent_on, payee, description, country, city, fund_seq, city_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.ExpenditureID, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.SpentOn, p.Payee, p.Description, p.Country, p.City, int64(e.FundSeq), p.CityID)
	return written(e, err)
}

func foldPledgeRecorded(ctx context.Context, a *applier, e events.Event, p *events.PledgeRecorded) error {
	_, err := a.exec(ctx, `INSERT INTO pledges (fund, pledge_id, donor_id, term_id, currency, amount_minor, usd_rate, usd_minor,
		signed_amount_minor, signed_usd_rate, signed_usd_minor, earmark, signed_on, due_on, status, outstanding_usd_minor, created_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recorded', ?, ?)`,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Amount.Minor, p.USDRate, p.USDAmount.Minor,
		p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.Earmark.Key(), p.SignedOn, p.DueOn, p.USDAmount.Minor, int64(e.FundSeq))
	return written(e, err)
}

func foldPledgeAmended(ctx context.Context, a *applier, e events.Event, p *events.PledgeAmended) error {
	var (
		amount, usd int64
		rate, due   string
	)
	err := a.tx.QueryRowContext(ctx, `SELECT amount_minor, usd_rate, usd_minor, due_on FROM pledges
		WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'`,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Earmark).Scan(&amount, &rate, &usd, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: amend pledge %s: no such pledge open", ErrInconsistent, p.PledgeID)
	}
	if err != nil {
		return fmt.Errorf("amend pledge %s: %w", p.PledgeID, err)
	}
	// A revaluation after a reversal changes none of them: the pledge
	// keeps its status.
	changed := amount != p.Amount.Minor || rate != p.USDRate || usd != p.USDAmount.Minor || due != p.DueOn
	if err := a.execOne(ctx, "amend pledge "+p.PledgeID,
		`UPDATE pledges SET amount_minor = ?, usd_rate = ?, usd_minor = ?, due_on = ?,
			status = CASE WHEN ? THEN 'amended' ELSE status END, outstanding_usd_minor = outstanding_usd_minor + ?
		 WHERE fund = ? AND pledge_id = ?`,
		p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.DueOn, changed, p.OutstandingUSDChange.Minor, e.Fund, p.PledgeID); err != nil {
		return err
	}
	_, err = a.exec(ctx, `INSERT INTO pledge_changes (fund, fund_seq, pledge_id, kind, terms_changed, effective_on, amount_minor, usd_rate, usd_minor, due_on, reason,
		outstanding_usd_change_minor, written_off_minor, written_off_usd_minor) VALUES (?, ?, ?, 'amended', ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
		e.Fund, int64(e.FundSeq), p.PledgeID, changed, e.EffectiveOn, p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.DueOn, p.Reason, p.OutstandingUSDChange.Minor)
	return written(e, err)
}

func foldPledgeCancelled(ctx context.Context, a *applier, e events.Event, p *events.PledgeCancelled) error {
	var (
		amount, usd int64
		rate, due   string
	)
	err := a.tx.QueryRowContext(ctx, `UPDATE pledges SET status = 'cancelled', cancelled_on = ?, written_off_minor = ?, written_off_usd_minor = ?,
			outstanding_usd_minor = outstanding_usd_minor - ?
		 WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'
		 RETURNING amount_minor, usd_rate, usd_minor, due_on`,
		e.EffectiveOn, p.WrittenOff.Minor, p.WrittenOffUSD.Minor, p.WrittenOffUSD.Minor,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.WrittenOff.Currency, p.Earmark).Scan(&amount, &rate, &usd, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: cancel pledge %s: no such pledge open", ErrInconsistent, p.PledgeID)
	}
	if err == nil {
		_, err = a.exec(ctx, `INSERT INTO pledge_changes (fund, fund_seq, pledge_id, kind, terms_changed, effective_on, amount_minor, usd_rate, usd_minor, due_on, reason,
			outstanding_usd_change_minor, written_off_minor, written_off_usd_minor) VALUES (?, ?, ?, 'cancelled', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Fund, int64(e.FundSeq), p.PledgeID, e.EffectiveOn, amount, rate, usd, due, p.Reason, -p.WrittenOffUSD.Minor, p.WrittenOff.Minor, p.WrittenOffUSD.Minor)
	}
	return written(e, err)
}

func foldInterest(ctx context.Context, a *applier, e events.Event, p *events.InterestEarned) error {
	_, err := a.exec(ctx, `INSERT INTO interest (fund, interest_id, term_id, amount_minor, earned_on, fund_seq) VALUES (?, ?, ?, ?, ?, ?)`,
		e.Fund, p.InterestID, p.TermID, p.Amount.Minor, p.EarnedOn, int64(e.FundSeq))
	return written(e, err)
}

func foldRefund(ctx context.Context, a *applier, e events.Event, p *events.RefundPaid) error {
	_, err := a.exec(ctx, `INSERT INTO refunds (fund, refund_id, donor_id, term_id, amount_minor, paid_on, reason, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.RefundID, p.DonorID, p.TermID, p.Amount.Minor, p.PaidOn, p.Reason, int64(e.FundSeq))
	var sum int64
	for i, d := range p.Funding {
		if err != nil {
			break
		}
		sum += d.Amount.Minor
		_, err = a.exec(ctx, `INSERT INTO refund_funding (fund, refund_id, leg, earmark, amount_minor) VALUES (?, ?, ?, ?, ?)`,
			e.Fund, p.RefundID, i, d.Earmark, d.Amount.Minor)
	}
	if err == nil && sum != p.Amount.Minor {
		return fmt.Errorf("%w: refund %s of %d draws %d from its pots", ErrInconsistent, p.RefundID, p.Amount.Minor, sum)
	}
	return written(e, err)
}

func foldCarryOver(ctx context.Context, a *applier, e events.Event, p *events.BalanceCarriedOver) error {
	seq := int64(e.FundSeq)
	_, err := a.exec(ctx, `INSERT INTO carry_overs (fund, fund_seq, from_term_id, to_term_id, earmark, to_earmark, amount_minor, effective_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, seq, p.FromTermID, p.ToTermID, p.Earmark, p.ToEarmark, p.Amount.Minor, e.EffectiveOn)
	var sum int64
	for _, sh := range p.Shares {
		if err != nil {
			break
		}
		sum += sh.Amount.Minor
		_, err = a.exec(ctx, `INSERT INTO carry_over_shares (fund, fund_seq, donor_id, amount_minor) VALUES (?, ?, ?, ?)`,
			e.Fund, seq, sh.DonorID, sh.Amount.Minor)
	}
	if err == nil && len(p.Shares) > 0 && sum != p.Amount.Minor {
		return fmt.Errorf("%w: carry-over of %d has shares summing to %d", ErrInconsistent, p.Amount.Minor, sum)
	}
	return written(e, err)
}

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

func foldCity(ctx context.Context, a *applier, e events.Event, p *events.CityRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO cities (fund, city_id, name, country, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.CityID, p.Name, p.Country, int64(e.FundSeq))
	return written(e, err)
}

func foldCluster(ctx context.Context, a *applier, e events.Event, p *events.ClusterRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO clusters (fund, cluster_id, name, technical_partner, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.Name, p.TechnicalPartner, int64(e.FundSeq))
	return written(e, err)
}

func foldCoordinator(ctx context.Context, a *applier, e events.Event, p *events.CoordinatorAppointed) error {
	if err := a.checkParticipation(ctx, e.Fund, p.ClusterID, p.CityID, p.TermID); err != nil {
		return err
	}
	_, err := a.exec(ctx, `INSERT INTO coordinators (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	if err == nil {
		// A coordinator is a member too; it may have joined before.
		_, err = a.exec(ctx, `INSERT INTO members (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (fund, cluster_id, term_id, city_id) DO NOTHING`,
			e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	}
	return written(e, err)
}

func foldMember(ctx context.Context, a *applier, e events.Event, p *events.MemberJoined) error {
	if err := a.checkParticipation(ctx, e.Fund, p.ClusterID, p.CityID, p.TermID); err != nil {
		return err
	}
	_, err := a.exec(ctx, `INSERT INTO members (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	return written(e, err)
}

// checkParticipation checks that the cluster, city and term of an
// appointment or membership are known.
func (a *applier) checkParticipation(ctx context.Context, fund, cluster, city, term string) error {
	var n int64
	err := a.tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM clusters WHERE fund = ?1 AND cluster_id = ?2) +
		(SELECT count(*) FROM cities WHERE fund = ?1 AND city_id = ?3) +
		(SELECT count(*) FROM terms WHERE fund = ?1 AND term_id = ?4)`, fund, cluster, city, term).Scan(&n)
	if err != nil {
		return fmt.Errorf("read registry: %w", err)
	}
	if n != 3 {
		return fmt.Errorf("%w: cluster %s, city %s or term %s unknown", ErrInconsistent, cluster, city, term)
	}
	return nil
}

// foldReversal records a reversal and marks what it reversed by the
// reversed type's unfold: the row of the reversed receipt, fee,
// expenditure, interest or refund gets reversed_by; an allocation whose
// approval is reversed is proposed again. The reversed event must be the
// one the reversal names, at the fund_seq and of the type it says.
func foldReversal(ctx context.Context, a *applier, e events.Event, p *events.EventReversed) error {
	var id, typ string
	err := a.tx.QueryRowContext(ctx, `SELECT id, type FROM events WHERE fund = ? AND fund_seq = ?`, e.Fund, int64(p.ReversedFundSeq)).Scan(&id, &typ)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (id != p.EventID || typ != p.ReversedType)) {
		return fmt.Errorf("%w: reversal %s names event %s (%s) at fund_seq %d, which is not there", ErrInconsistent, p.ReversalID, p.EventID, p.ReversedType, p.ReversedFundSeq)
	}
	if err != nil {
		return fmt.Errorf("read reversed event: %w", err)
	}
	if _, err := a.exec(ctx, `INSERT INTO reversals (fund, fund_seq, reversal_id, event_id, reversed_fund_seq, reversed_type, reason, effective_on)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, int64(e.FundSeq), p.ReversalID, p.EventID, int64(p.ReversedFundSeq), p.ReversedType, p.Reason, e.EffectiveOn); err != nil {
		return fmt.Errorf("%w: write reversal %s of event %s (reversed before?): %v", ErrInconsistent, p.ReversalID, p.EventID, err)
	}
	unfold := readFolds[p.ReversedType].unfold
	if unfold == nil {
		return fmt.Errorf("%w: reversal %s of a %s event, which is not reversible", ErrInconsistent, p.ReversalID, p.ReversedType)
	}
	what := fmt.Sprintf("reverse %s at fund_seq %d", p.ReversedType, p.ReversedFundSeq)
	return unfold(ctx, a, e, p, what, int64(p.ReversedFundSeq))
}
