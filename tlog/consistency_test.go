package tlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// genEvents makes n sealed events of fund after the chain c, with amounts
// drawn by rapid so that every history has its own roots.
func genEvents(t *rapid.T, c *events.Chain, n int) ([]tlog.Leaf, [][]byte) {
	var leaves []tlog.Leaf
	var raw [][]byte
	for range n {
		amt := rapid.Int64Range(1, 1_000_000_00).Draw(t, "cents")
		e, err := events.New("2020-06-01", &events.InterestEarned{InterestID: fmt.Sprintf("i-%d", c.FundSeq+1), TermID: "2020-2021", Amount: money.USDAmount(amt), EarnedOn: "2020-06-01"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = fmt.Sprintf("01900000-0000-7000-8000-%012d", c.FundSeq+1)
		e.Fund, e.FundSeq = c.Fund, c.FundSeq+1
		e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2020-06-01T00:00:00Z", "olu", e.ID, events.ZeroHash
		if err := e.Seal(c.Head); err != nil {
			t.Fatal(err)
		}
		if err := c.Check(e); err != nil {
			t.Fatal(err)
		}
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, tlog.Leaf{FundSeq: e.FundSeq, StreamSeq: e.FundSeq, Bytes: b})
		raw = append(raw, b)
	}
	return leaves, raw
}

// TestConsistencyEveryPair: in a generated history appended in chunks,
// with a checkpoint signed after each chunk, the tree of every checkpoint
// extends the tree of every earlier one (the consistency proof verifies
// against both signed roots), every root is the one a fold of the leaves
// in memory gives, and an inclusion proof of a drawn leaf verifies.
func TestConsistencyEveryPair(t *testing.T) {
	dir := t.TempDir()
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		st, err := tlog.Open(filepath.Join(dir, fmt.Sprintf("tlog-%d.db", runs)))
		if err != nil {
			rt.Fatal(err)
		}
		defer st.Close()
		signer, vkey := newKey(t)
		const fund = "mdfm"
		chain := events.NewChain(fund)
		var all [][]byte
		var notes [][]byte
		for range rapid.IntRange(1, 8).Draw(rt, "chunks") {
			leaves, raw := genEvents(rt, &chain, rapid.IntRange(1, 40).Draw(rt, "events"))
			if err := st.Append(t.Context(), fund, leaves); err != nil {
				rt.Fatal(err)
			}
			all = append(all, raw...)
			size := uint64(len(all))
			root, err := st.Root(t.Context(), fund, size)
			if err != nil {
				rt.Fatal(err)
			}
			want, _ := tlog.RootOf(all)
			if !bytes.Equal(root, want) {
				rt.Fatalf("size %d: stored root %x, fold of the leaves %x", size, root, want)
			}
			msg, err := signer.Sign(size, root)
			if err != nil {
				rt.Fatal(err)
			}
			if err := st.SaveCheckpoint(t.Context(), fund, size, msg); err != nil {
				rt.Fatal(err)
			}
			notes = append(notes, msg)
		}
		for i := range notes {
			for j := i; j < len(notes); j++ {
				a, _ := tlog.OpenCheckpoint(notes[i], vkey)
				b, _ := tlog.OpenCheckpoint(notes[j], vkey)
				p, err := st.ConsistencyProof(t.Context(), fund, a.Size, b.Size)
				if err != nil {
					rt.Fatal(err)
				}
				if _, _, err := tlog.VerifyConsistency(vkey, vkey, notes[i], notes[j], p); err != nil {
					rt.Fatalf("checkpoints %d → %d: %v", a.Size, b.Size, err)
				}
			}
		}
		size := uint64(len(all))
		idx := rapid.Uint64Range(0, size-1).Draw(rt, "leaf")
		p, err := st.InclusionProof(t.Context(), fund, idx+1, size)
		if err != nil {
			rt.Fatal(err)
		}
		root, _ := tlog.RootOf(all)
		if err := proof.VerifyInclusion(tlog.Hasher, idx, size, tlog.LeafHash(all[idx]), p, root); err != nil {
			rt.Fatalf("leaf %d of %d: %v", idx, size, err)
		}
	})
}

// TestForkIsCaught: two checkpoints of one key and size with different
// roots are a fork; a later tree that does not extend an earlier one has no
// consistency proof that verifies.
func TestForkIsCaught(t *testing.T) {
	signer, vkey := newKey(t)
	leaves := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	forged := [][]byte{[]byte("a"), []byte("B"), []byte("c"), []byte("d")}
	r3, _ := tlog.RootOf(leaves)
	f3, _ := tlog.RootOf(forged[:3])
	f4, _ := tlog.RootOf(forged)
	n3, _ := signer.Sign(3, r3)
	m3, _ := signer.Sign(3, f3)
	m4, _ := signer.Sign(4, f4)
	if _, _, err := tlog.VerifyConsistency(vkey, vkey, n3, m3, nil); !errors.Is(err, tlog.ErrFork) {
		t.Errorf("same size, other root: %v, want ErrFork", err)
	}
	// The honest proof from 3 to 4 of the rewritten tree does not link the
	// original checkpoint of size 3.
	p, err := proofOver(forged, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tlog.VerifyConsistency(vkey, vkey, m3, m4, p); err != nil {
		t.Fatalf("the forged history is consistent with itself: %v", err)
	}
	if _, _, err := tlog.VerifyConsistency(vkey, vkey, n3, m4, p); err == nil {
		t.Error("a rewritten history verified as an extension of the original")
	}
}

// proofOver builds a consistency proof over leaves in memory, from every
// node a compact range visits: the tree a forger would serve.
func proofOver(leaves [][]byte, from, to uint64) ([][]byte, error) {
	nodes := map[compact.NodeID][]byte{}
	rng := (&compact.RangeFactory{Hash: tlog.Hasher.HashChildren}).NewEmptyRange(0)
	for _, l := range leaves[:to] {
		if err := rng.Append(tlog.LeafHash(l), func(id compact.NodeID, h []byte) { nodes[id] = h }); err != nil {
			return nil, err
		}
	}
	p, err := proof.Consistency(from, to)
	if err != nil {
		return nil, err
	}
	hs := make([][]byte, len(p.IDs))
	for i, id := range p.IDs {
		hs[i] = nodes[id]
	}
	return p.Rehash(hs, tlog.Hasher.HashChildren)
}
