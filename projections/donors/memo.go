package donors

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// DefaultMemoSize is how many attributions a Memo made by ledgerd keeps:
// a few terms and dates of each fund. An attribution kept is small (each
// participant's figures, and its spending by line and place), not the
// term's expenditures.
const DefaultMemoSize = 32

// Memo keeps the last attributions statements were drawn from, so that the
// statements of a term's donors at one position of the ledger compute the
// term's attribution once (issue 10: it is most of a statement's cost,
// and the same for every donor). An attribution is kept under what
// determines it: the read model, the fund, the term, the date, and the
// view's fund_seq with the hash of the event there, which chains every
// event before it. Any new event of the fund moves the head's fund_seq,
// so a statement at the head after it computes the attribution afresh:
// the memo is never stale, and the first statement after a change costs
// the full computation, unless Warm computed it ahead. Refusals are not
// kept. A nil *Memo keeps nothing.
// It is safe for concurrent use.
type Memo struct {
	mu      sync.Mutex
	size    int
	entries map[memoKey]*attribution
	// computing holds the keys being computed, each with a channel closed
	// once it is done: a statement that misses waits for that computation
	// (the warm-up's, or another statement's) rather than making a second
	// one beside it on the same cores.
	computing map[memoKey]chan struct{}
	order     []memoKey // least recently used first
	stats     MemoStats
	// heads are the terms and dates last asked for at their fund's head,
	// least recently first, at most WarmTerms: what Warm computes again
	// at the new head.
	heads []headKey
}

// WarmTerms is how many of the terms and dates last asked for at a fund's
// head Memo.Warm computes again.
const WarmTerms = 4

// MemoStats counts a Memo's answers: attributions found, and computed;
// and those Warm computed before they were asked for.
type MemoStats struct{ Hits, Misses, Warmed int64 }

// headKey is a term and date asked for at its fund's head.
type headKey struct {
	store            *projections.Store
	fund, term, asOf string
}

// memoKey is what determines an attribution (see Memo).
type memoKey struct {
	store            *projections.Store
	fund, term, asOf string
	fundSeq          uint64
	chainHead        string
}

// NewMemo returns a memo of at most size attributions (at least one).
func NewMemo(size int) *Memo {
	return &Memo{size: max(size, 1), entries: map[memoKey]*attribution{}, computing: map[memoKey]chan struct{}{}}
}

// Stats returns the memo's counts so far.
func (m *Memo) Stats() MemoStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Statement is the package's Statement, with the term's attribution taken
// from the memo when it has it.
func (m *Memo) Statement(ctx context.Context, s *projections.Store, q StatementQuery) (statement.Statement, error) {
	return drawStatement(ctx, s, q, m)
}

// attribute returns term's attribution at the view as of asOf: the memo's,
// else attributeTerm's, then kept. The attribution returned is shared:
// callers only read it.
func (m *Memo) attribute(ctx context.Context, s *projections.Store, v *projections.View, term, asOf string) (*attribution, error) {
	if m == nil {
		return attributeTerm(ctx, v, term, asOf)
	}
	k := memoKey{store: s, fund: v.Fund, term: term, asOf: asOf, fundSeq: v.FundSeq, chainHead: v.ChainHead}
	if v.Head != 0 && v.FundSeq == v.Head {
		m.askedAtHead(headKey{store: s, fund: v.Fund, term: term, asOf: asOf})
	}
	for {
		at, wait := m.getOrStart(k)
		if at != nil {
			return at, nil
		}
		if wait == nil {
			break // this statement computes it
		}
		// Another statement or the warm-up is computing it: wait for
		// theirs, then look again (it may have failed).
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return m.compute(k, func() (*attribution, error) { return attributeTerm(ctx, v, term, asOf) })
}

// compute runs attribute for k, which the caller marked as being
// computed, keeps what it returns and wakes those waiting for it, even
// when it panics (they then compute it themselves).
func (m *Memo) compute(k memoKey, attribute func() (*attribution, error)) (at *attribution, err error) {
	err = errAttributionPanicked
	defer func() { m.finish(k, at, err) }()
	return attribute()
}

// errAttributionPanicked is what finish is told of a computation that
// panicked: nothing is kept.
var errAttributionPanicked = errors.New("the attribution's computation panicked")

// getOrStart returns k's attribution when the memo holds it (a hit). Else,
// when it is being computed, a channel closed once that is done; else it
// counts a miss and marks k as being computed by the caller, who must call
// finish.
func (m *Memo) getOrStart(k memoKey) (*attribution, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at := m.entries[k]; at != nil {
		m.stats.Hits++
		m.touch(k)
		return at, nil
	}
	if wait := m.computing[k]; wait != nil {
		return nil, wait
	}
	m.stats.Misses++
	m.computing[k] = make(chan struct{})
	return nil, nil
}

// finish keeps the attribution computed for k, unless err, and wakes those
// waiting for it.
func (m *Memo) finish(k memoKey, at *attribution, err error) {
	if err == nil {
		m.put(k, at)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	close(m.computing[k])
	delete(m.computing, k)
}

func (m *Memo) put(k memoKey, at *attribution) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[k]; ok {
		m.touch(k)
		return
	}
	if len(m.order) >= m.size {
		delete(m.entries, m.order[0])
		m.order = slices.Delete(m.order, 0, 1)
	}
	m.entries[k] = at
	m.order = append(m.order, k)
}

// touch makes k the most recently used key.
func (m *Memo) touch(k memoKey) {
	if i := slices.Index(m.order, k); i >= 0 {
		m.order = append(slices.Delete(m.order, i, i+1), k)
	}
}

// askedAtHead makes h the term and date last asked for at a head.
func (m *Memo) askedAtHead(h headKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.Index(m.heads, h); i >= 0 {
		m.heads = slices.Delete(m.heads, i, i+1)
	} else if len(m.heads) >= WarmTerms {
		m.heads = slices.Delete(m.heads, 0, 1)
	}
	m.heads = append(m.heads, h)
}

// ExpectLatestTerm makes, while no statement of fund has been asked for
// at its head, the statements of its latest term started by today the
// ones Warm computes: as of today (a statement's default date) and, once
// the term has ended, as of its last day (its closing statement). After a
// start nothing has been asked yet, so without it the first statement of
// a term computed the term's attribution while its donor waited (88 ms at
// 1,000,000 events, issue 10). Statements asked for at the head replace
// these as they come (WarmTerms of them are kept). A fund with no term
// yet, or a view that cannot open, adds nothing.
func (m *Memo) ExpectLatestTerm(ctx context.Context, s *projections.Store, fund, today string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	asked := slices.ContainsFunc(m.heads, func(h headKey) bool { return h.store == s && h.fund == fund })
	m.mu.Unlock()
	if asked {
		return
	}
	v, err := s.OpenView(ctx, "statement", fund, 0)
	if err != nil {
		return
	}
	defer v.Tx.Rollback()
	spans, err := v.TermSpans(ctx)
	if err != nil {
		return
	}
	var latest *projections.TermSpan
	for i := range spans {
		if spans[i].StartsOn <= today {
			latest = &spans[i] // by start date
		}
	}
	if latest == nil {
		return
	}
	// The last made is the first Warm computes: an ended term's closing
	// statement before today's.
	m.askedAtHead(headKey{store: s, fund: fund, term: latest.ID, asOf: today})
	if latest.EndsOn < today {
		m.askedAtHead(headKey{store: s, fund: fund, term: latest.ID, asOf: latest.EndsOn})
	}
}

// Warm computes, at each fund's head, the attributions of the terms and
// dates last asked for at a head (WarmTerms of them, the latest first)
// that the memo does not hold, and keeps them: so that the first
// statement after an event finds its term's attribution, computed while
// nobody waited, rather than computing it (100–200 ms at 1,000,000
// events). ledgerd calls it once its read model has been quiet for a
// moment (httpapi). One that fails (a view that cannot open, a refusal)
// is left to the statement that asks for it. It returns how many it
// computed.
func (m *Memo) Warm(ctx context.Context) int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	heads := slices.Clone(m.heads)
	m.mu.Unlock()
	n := 0
	for i := len(heads) - 1; i >= 0 && ctx.Err() == nil; i-- {
		if m.warm(ctx, heads[i]) {
			n++
		}
	}
	return n
}

// warm computes h's attribution at its fund's head unless the memo holds
// it, and reports whether it did.
func (m *Memo) warm(ctx context.Context, h headKey) bool {
	v, err := h.store.OpenView(ctx, "statement", h.fund, 0)
	if err != nil {
		return false
	}
	defer v.Tx.Rollback()
	k := memoKey{store: h.store, fund: h.fund, term: h.term, asOf: h.asOf, fundSeq: v.FundSeq, chainHead: v.ChainHead}
	m.mu.Lock()
	_, held := m.entries[k]
	busy := m.computing[k] != nil
	if !held && !busy {
		m.computing[k] = make(chan struct{})
	}
	m.mu.Unlock()
	if held || busy {
		return false
	}
	if _, err := m.compute(k, func() (*attribution, error) { return attributeTerm(ctx, v, h.term, h.asOf) }); err != nil {
		return false
	}
	m.mu.Lock()
	m.stats.Warmed++
	m.mu.Unlock()
	return true
}
