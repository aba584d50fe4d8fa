package donors

import (
	"context"
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
// the full computation. Refusals are not kept. A nil *Memo keeps nothing.
// It is safe for concurrent use.
type Memo struct {
	mu      sync.Mutex
	size    int
	entries map[memoKey]*attribution
	order   []memoKey // least recently used first
	stats   MemoStats
}

// MemoStats counts a Memo's answers: attributions found, and computed.
type MemoStats struct{ Hits, Misses int64 }

// memoKey is what determines an attribution (see Memo).
type memoKey struct {
	store            *projections.Store
	fund, term, asOf string
	fundSeq          uint64
	chainHead        string
}

// NewMemo returns a memo of at most size attributions (at least one).
func NewMemo(size int) *Memo {
	return &Memo{size: max(size, 1), entries: map[memoKey]*attribution{}}
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
	if at := m.get(k); at != nil {
		return at, nil
	}
	// Two statements missing at once both compute it: the same
	// attribution, kept once.
	at, err := attributeTerm(ctx, v, term, asOf)
	if err != nil {
		return nil, err
	}
	m.put(k, at)
	return at, nil
}

func (m *Memo) get(k memoKey) *attribution {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := m.entries[k]
	if at == nil {
		m.stats.Misses++
		return nil
	}
	m.stats.Hits++
	m.touch(k)
	return at
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
