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
// the full computation, unless Warm computed it ahead. Refusals are not
// kept. A nil *Memo keeps nothing.
// It is safe for concurrent use.
type Memo struct {
	mu      sync.Mutex
	size    int
	entries map[memoKey]*attribution
	order   []memoKey // least recently used first
	stats   MemoStats
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
	if v.Head != 0 && v.FundSeq == v.Head {
		m.askedAtHead(headKey{store: s, fund: v.Fund, term: term, asOf: asOf})
	}
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
	m.mu.Unlock()
	if held {
		return false
	}
	at, err := attributeTerm(ctx, v, h.term, h.asOf)
	if err != nil {
		return false
	}
	m.put(k, at)
	m.mu.Lock()
	m.stats.Warmed++
	m.mu.Unlock()
	return true
}
