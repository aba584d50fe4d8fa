package tlog

import (
	"fmt"
	"math/bits"
	"path/filepath"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// TestProofCostIsLogarithmic: a root, an inclusion proof and a consistency
// proof read at most a few times log2(n) node hashes, never the leaves,
// whatever the length of the history.
func TestProofCostIsLogarithmic(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const fund, n = "mdfm", 3000
	chain := events.NewChain(fund)
	var leaves []Leaf
	for i := range uint64(n) {
		e, err := events.New("2020-06-01", &events.InterestEarned{InterestID: fmt.Sprintf("i-%d", i), TermID: "2020-2021", Amount: money.USDAmount(int64(i + 1)), EarnedOn: "2020-06-01"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.Fund, e.FundSeq = fmt.Sprintf("01900000-0000-7000-8000-%012d", i+1), fund, i+1
		e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2020-06-01T00:00:00Z", "olu", e.ID, events.ZeroHash
		if err := e.Seal(chain.Head); err != nil {
			t.Fatal(err)
		}
		chain.Check(e)
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, Leaf{FundSeq: i + 1, StreamSeq: i + 1, Bytes: b})
	}
	for i := 0; i < n; i += MaxAppendLeaves {
		if err := st.Append(t.Context(), fund, leaves[i:min(i+MaxAppendLeaves, n)]); err != nil {
			t.Fatal(err)
		}
	}
	logN := uint64(bits.Len64(n)) // 12 for 3000
	cost := func(what string, bound uint64, f func() error) {
		t.Helper()
		before := st.nodeReads.Load()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		if got := st.nodeReads.Load() - before; got > bound {
			t.Errorf("%s read %d node hashes, more than %d", what, got, bound)
		}
	}
	for _, size := range []uint64{1, 2, 1000, 2047, 2048, 2999, n} {
		cost(fmt.Sprintf("root of %d", size), logN, func() error { _, err := st.Root(t.Context(), fund, size); return err })
		for _, seq := range []uint64{1, size / 2, size} {
			if seq == 0 {
				continue
			}
			cost(fmt.Sprintf("inclusion of %d in %d", seq, size), 2*logN, func() error {
				_, err := st.InclusionProof(t.Context(), fund, seq, size)
				return err
			})
			cost(fmt.Sprintf("consistency %d → %d", seq, size), 2*logN, func() error {
				_, err := st.ConsistencyProof(t.Context(), fund, seq, size)
				return err
			})
		}
	}
}
