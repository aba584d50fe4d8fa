package projections_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// TestRebuildEqualsLiveFold writes random histories of two funds whose
// commands interleave (back-dated entries, reversals, closes: genCommand),
// with a checkpoint by position every K events, K drawn from 1 to 6, and
// folds them twice, in batches of random sizes each: as the live projector
// does, the running totals written batch by batch through the tables, and
// as a rebuild (readmodel.RebuildAt), which holds the monthly checkpoints
// in memory and writes the checkpoints by position from them. The two read
// models must be equal table by table.
func TestRebuildEqualsLiveFold(t *testing.T) {
	_, log := testnats.Log(t)
	n, snapshots := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		defer seqtotals.SetEvery(int64(rapid.IntRange(1, 6).Draw(rt, "K")))()
		n++
		today, _ := time.Parse(time.DateOnly, genToday)
		info, err := log.Info(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		var (
			ws     [2]*ledger.Writer
			states [2]*domain.State
		)
		for i := range ws {
			fund := fmt.Sprintf("r%d-%d", n, i)
			if ws[i], err = ledger.Open(t.Context(), log, fund, ledger.Options{Now: func() time.Time { return today.Add(12 * time.Hour) }}); err != nil {
				rt.Fatal(err)
			}
			defer ws[i].Close()
			states[i] = domain.NewState(fund)
		}
		last := info.LastSeq
		var evs []events.Event // both funds', in stream order
		prelude := historyPrelude(rt)
		var done [2]int // commands given to each fund
		for i := range 2*len(prelude) + rapid.IntRange(30, 100).Draw(rt, "commands") {
			f := rapid.IntRange(0, 1).Draw(rt, "fund")
			c, actor, role := domain.Command(nil), "bob", domain.RoleApprover
			if done[f] < len(prelude) {
				c = prelude[done[f]]
			} else {
				c, actor, role = genCommand(rt, states[f])
			}
			done[f]++
			r, err := trySubmit(t, ws[f], fmt.Sprintf("cmd-%d", i), actor, role, c)
			var de *errs.Error
			if errors.As(err, &de) {
				continue
			}
			if err != nil {
				rt.Fatalf("command %d %T: %v", i, c, err)
			}
			for ; last < r.StreamSeq; last++ { // the writers append one after the other
				m, err := log.ReadMsg(t.Context(), last+1)
				if err != nil {
					rt.Fatal(err)
				}
				e, err := events.Decode(m.Data)
				if err != nil || e.Fund != states[f].Fund {
					rt.Fatalf("stream seq %d: event of fund %q, want %q (%v)", last+1, e.Fund, states[f].Fund, err)
				}
				e.StreamSeq = last + 1
				if err := domain.Apply(states[f], e); err != nil {
					rt.Fatal(err)
				}
				evs = append(evs, e)
			}
		}
		dir := t.TempDir()
		live, err := readmodel.Open(filepath.Join(dir, fmt.Sprintf("live-%d.db", n)))
		if err != nil {
			rt.Fatal(err)
		}
		defer live.Close()
		foldInBatches(rt, live, evs, "live batch")
		path := filepath.Join(dir, fmt.Sprintf("rebuilt-%d.db", n))
		if err := readmodel.RebuildAt(t.Context(), path, func(s *readmodel.Store) error {
			foldInBatches(rt, s, evs, "rebuild batch")
			return nil
		}); err != nil {
			rt.Fatal(err)
		}
		rebuilt, err := readmodel.Open(path)
		if err != nil {
			rt.Fatal(err)
		}
		defer rebuilt.Close()
		tx, err := live.Snapshot(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		var rows int
		err = tx.QueryRowContext(t.Context(), `SELECT count(*) FROM posting_seq_checkpoints`).Scan(&rows)
		tx.Rollback()
		if err != nil {
			rt.Fatal(err)
		}
		if rows > 0 {
			snapshots++
		}
		if d, err := readmodel.CompareStores(t.Context(), rebuilt, live); err != nil || d != nil {
			rt.Fatalf("K %d, %d events: the rebuilt read model (a) and the live fold's (b) differ: %+v (%v)", seqtotals.Every(), len(evs), d, err)
		}
	})
	if snapshots < n/2 {
		t.Fatalf("%d of %d histories have checkpoints by position: the test checks too few", snapshots, n)
	}
}

// foldInBatches applies evs to s in batches of sizes drawn from 1 to 9.
func foldInBatches(rt *rapid.T, s *readmodel.Store, evs []events.Event, label string) {
	for rest := evs; len(rest) > 0; {
		k := min(len(rest), rapid.IntRange(1, 9).Draw(rt, label))
		if err := s.ApplyBatch(rt.Context(), rest[:k]); err != nil {
			rt.Fatal(err)
		}
		rest = rest[k:]
	}
}
