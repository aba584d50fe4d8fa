package readmodel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"
)

// TestRebuildAt checks that a rebuild never shows a file at its path before
// it is complete, leaves nothing behind when it fails, and ends with an
// ordinary WAL read model that refuses to be overwritten.
func TestRebuildAt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rebuilt.db")
	boom := errors.New("boom")
	err := RebuildAt(t.Context(), path, func(s *Store) error {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("during the rebuild %s exists (%v)", path, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed rebuild: %v, want boom", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a failed rebuild left %d files, first %s", len(left), left[0].Name())
	}

	var during []string
	if err := RebuildAt(t.Context(), path, func(s *Store) error { during = indexes(t, s); return nil }); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh, err := Open(filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	// The reports' indexes are made when the rebuild is complete, the same
	// as Open makes them; while it folds, only those the fold reads.
	if got, want := indexes(t, s), indexes(t, fresh); !slices.Equal(got, want) {
		t.Errorf("indexes after a rebuild:\n%q\nwant those of a new read model:\n%q", got, want)
	}
	for _, ix := range during {
		name, _, _ := strings.Cut(ix, " ")
		if !foldIndexes[name] && !strings.HasPrefix(name, "sqlite_autoindex_") {
			t.Errorf("index %s while the rebuild folds; the fold does not read it", name)
		}
	}
	if len(during) == 0 {
		t.Error("no index while the rebuild folds")
	}
	var mode string
	if err := s.read.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 3 { // the file, its -wal and -shm while open
		var names []string
		for _, f := range left {
			names = append(names, f.Name())
		}
		t.Fatalf("after a rebuild the folder holds %v", names)
	}
	if err := RebuildAt(t.Context(), path, func(s *Store) error { return nil }); err == nil {
		t.Fatal("a rebuild over an existing read model succeeded")
	}
}

// indexes lists the indexes of s, "name sql", sorted.
func indexes(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.write.QueryContext(t.Context(), `SELECT name, COALESCE(sql, '') FROM sqlite_schema WHERE type = 'index' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		out = append(out, name+" "+sql)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRebuildDefersTotals checks that a rebuild folds without the running
// totals (they stay empty while it folds when no checkpoint by position
// falls in the history) and then holds exactly the totals the live fold
// wrote batch by batch, receipts, reversals and back-dated entries
// included (ledgertest.Scenario), folded two events a batch; and the same
// with a checkpoint by position every 4 events, each of which the rebuild
// writes from the monthly checkpoints it holds (deferredTotals.atBoundary),
// with the bucket's day totals, while the other totals stay held.
func TestRebuildDefersTotals(t *testing.T) {
	t.Run("held to the end", func(t *testing.T) {
		defer seqtotals.SetEvery(1 << 40)()
		rebuildDefersTotals(t, true)
	})
	t.Run("written at each checkpoint by position", func(t *testing.T) {
		defer seqtotals.SetEvery(4)()
		rebuildDefersTotals(t, false)
	})
}

func rebuildDefersTotals(t *testing.T, heldToTheEnd bool) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	// The same donor's receipts on one day: one key of each total, from
	// several batches.
	for i := range 3 {
		id := fmt.Sprintf("again-%d", i)
		ledgertest.MustSubmit(t, w, id, "olu", &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: ledgertest.Term,
			Amount: ledgertest.USD("10.00"), ReceivedOn: "2021-01-15"})
	}
	live, err := Open(filepath.Join(t.TempDir(), "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := catchUp(t, log, live); err != nil {
		t.Fatal(err)
	}
	totals := []string{"posting_days", "posting_totals", "posting_checkpoint_months", "posting_checkpoints", "receipt_days"}
	for _, table := range totals {
		if n := rowCount(t, live, table); n == 0 {
			t.Fatalf("the live read model has no rows in %s: the scenario checks nothing", table)
		}
	}
	path := filepath.Join(t.TempDir(), "rebuilt.db")
	var evs []events.Event
	if err := log.ReadAll(t.Context(), 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	err = RebuildAt(t.Context(), path, func(s *Store) error {
		// Batches of 2 events: a key's sums come from many batches.
		for i := 0; i < len(evs); i += 2 {
			if err := s.ApplyBatch(t.Context(), evs[i:min(i+2, len(evs))]); err != nil {
				return err
			}
		}
		for _, table := range totals {
			if n := rowCount(t, s, table); n != 0 {
				t.Errorf("%d rows in %s while the rebuild folds", n, table)
			}
		}
		// The checkpoints by position are written at their events, from
		// the checkpoints held.
		for _, table := range []string{"posting_seq_snapshots", "posting_seq_checkpoints", "posting_day_seq"} {
			if n := rowCount(t, s, table); heldToTheEnd && n != 0 {
				t.Errorf("%d rows in %s while the rebuild folds a history without checkpoints by position", n, table)
			} else if !heldToTheEnd && n == 0 {
				t.Errorf("no rows in %s while the rebuild folds past checkpoints by position", table)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	compare(t, rebuilt, live)
}

func rowCount(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.write.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeferForReplay checks that only a scratch store that has folded
// nothing defers its indexes and totals, that the others are refused
// unchanged, and that MakeTotals then writes the totals the live fold
// writes.
func TestDeferForReplay(t *testing.T) {
	defer seqtotals.SetEvery(1 << 40)() // totals held to MakeTotals (TestRebuildDefersTotals has both)
	_, log := testnats.Log(t)
	ledgertest.Scenario(t, ledgertest.Writer(t, log, "mdfm"))
	live, err := Open(filepath.Join(t.TempDir(), "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	before := indexes(t, live)
	if err := live.DeferForReplay(t.Context()); err == nil || !strings.Contains(err.Error(), "not a scratch store") {
		t.Errorf("DeferForReplay of a live read model: %v", err)
	}
	if err := catchUp(t, log, live); err != nil {
		t.Fatal(err)
	}
	full, err := OpenScratch(filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if err := catchUp(t, log, full); err != nil {
		t.Fatal(err)
	}
	if err := full.DeferForReplay(t.Context()); err == nil || !strings.Contains(err.Error(), "has folded events") {
		t.Errorf("DeferForReplay of a scratch store with events: %v", err)
	}
	for _, s := range []*Store{live, full} {
		if got := indexes(t, s); !slices.Equal(got, before) {
			t.Errorf("%s: indexes after a refused DeferForReplay:\n%q\nwant\n%q", s.Path(), got, before)
		}
	}

	replay, err := OpenScratch(filepath.Join(t.TempDir(), "replay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	if err := replay.DeferForReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := replay.DeferForReplay(t.Context()); err == nil || !strings.Contains(err.Error(), "already deferred") {
		t.Errorf("DeferForReplay twice: %v", err)
	}
	if got := indexes(t, replay); len(got) >= len(before) {
		t.Errorf("indexes of a deferred replay: %q; want fewer than a read model's %d", got, len(before))
	}
	if err := catchUp(t, log, replay); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, replay, "posting_days"); n != 0 {
		t.Errorf("%d rows of posting_days before MakeTotals", n)
	}
	if err := replay.MakeTotals(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f, err := CompareStores(t.Context(), replay, live); err != nil || f != nil {
		t.Fatalf("replay and live read model differ: %+v (%v)", f, err)
	}
}

// TestDeferredFailedBatch checks that a batch that fails before the totals
// held take any of its sums leaves a deferred store folding on to the
// live fold's rows, and that one that fails after a checkpoint by position
// had them take its sums (rolled back with the batch) makes the store
// refuse every later batch and MakeTotals, rather than write wrong totals.
func TestDeferredFailedBatch(t *testing.T) {
	defer seqtotals.SetEvery(2)()
	log, evs := scenarioEvents(t)
	if len(evs) < 4 {
		t.Fatalf("%d events: the scenario checks nothing", len(evs))
	}
	live, err := Open(filepath.Join(t.TempDir(), "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := catchUp(t, log, live); err != nil {
		t.Fatal(err)
	}
	unsequenced := func(e events.Event) events.Event { e.StreamSeq = 0; return e }
	replay := func(name string) *Store {
		s, err := OpenScratch(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.DeferForReplay(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}

	early := replay("early.db")
	if err := early.ApplyBatch(t.Context(), []events.Event{unsequenced(evs[0])}); err == nil {
		t.Fatal("a batch of an event without a stream sequence applied")
	}
	if err := catchUp(t, log, early); err != nil {
		t.Fatalf("after a batch that failed before any sum was held: %v", err)
	}
	if err := early.MakeTotals(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f, err := CompareStores(t.Context(), early, live); err != nil || f != nil {
		t.Fatalf("replay and live read model differ: %+v (%v)", f, err)
	}

	late := replay("late.db")
	// evs[1] is fund_seq 2, a checkpoint by position: the totals held take
	// the sums of evs[0:2] there, then evs[2] fails the batch.
	if err := late.ApplyBatch(t.Context(), []events.Event{evs[0], evs[1], unsequenced(evs[2])}); err == nil {
		t.Fatal("a batch of an event without a stream sequence applied")
	}
	for _, err := range []error{late.ApplyBatch(t.Context(), evs[:3]), late.MakeTotals(t.Context())} {
		if err == nil || !strings.Contains(err.Error(), "failed after the totals held took its sums") {
			t.Errorf("after a batch that failed past a checkpoint by position: %v", err)
		}
	}
	if cp, err := late.Checkpoint(t.Context()); err != nil || cp != 0 {
		t.Errorf("checkpoint %d (%v), want 0", cp, err)
	}
}
