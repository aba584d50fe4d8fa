package readmodel

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// endingCtx is a context that ends when its Err has been asked n times:
// in the middle of a batch, whatever the machine's speed (database/sql
// asks it a few times a batch, applyBatch once an event).
type endingCtx struct {
	context.Context
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func (c *endingCtx) Done() <-chan struct{} { return c.done }

func (c *endingCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n > 0 {
		if c.n--; c.n == 0 {
			close(c.done)
		}
	}
	if c.n == 0 {
		return context.Canceled
	}
	return nil
}

// TestApplyBatchCancelled checks that a batch whose context ends while it
// folds stops with the context's error and commits nothing, although its
// statements run under a context that never ends (applier.exec), and that
// the same batch then applies whole.
func TestApplyBatchCancelled(t *testing.T) {
	_, evs := scenarioEvents(t)
	if len(evs) < 6 {
		t.Fatalf("%d events: too few to end a batch in its middle", len(evs))
	}
	s, err := Open(filepath.Join(t.TempDir(), "rm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := &endingCtx{Context: context.Background(), n: 6, done: make(chan struct{})}
	if err := s.ApplyBatch(ctx, evs); !errors.Is(err, context.Canceled) {
		t.Fatalf("batch whose context ended: %v, want context.Canceled", err)
	}
	if cp, err := s.Checkpoint(t.Context()); err != nil || cp != 0 {
		t.Fatalf("checkpoint %d (%v) after a cancelled batch, want 0", cp, err)
	}
	if n := rowCount(t, s, "events"); n != 0 {
		t.Fatalf("%d events in the read model after a cancelled batch", n)
	}
	if err := s.ApplyBatch(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "events"); n != len(evs) {
		t.Fatalf("%d events in the read model, want %d", n, len(evs))
	}
}

// TestApplyCanceledSaysSo: a batch whose context ends while it applies
// either commits or fails with the context's error, wherever the end
// falls; database/sql's rollback of the transaction under it, and the
// sql.ErrTxDone of the statement after, are not what the caller is told
// (a projector told to stop reported "transaction has already been
// committed or rolled back" as its failure: TestVerifyUnderLoad, 1 run in 4).
func TestApplyCanceledSaysSo(t *testing.T) {
	_, evs := scenarioEvents(t)
	open := func(i int) *Store {
		s, err := Open(filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	const tries = 60
	// The first batch of the process prepares what the next ones reuse:
	// the time of the second is what the cancels are spread over, and half
	// as much again, as a batch on a fresh file may take longer.
	var whole time.Duration
	for i := range 2 {
		s := open(tries + 1 + i)
		t0 := time.Now()
		if err := s.ApplyBatch(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		whole = time.Since(t0)
	}
	canceled := 0
	for i := 1; i <= tries; i++ {
		s := open(i)
		ctx, cancel := context.WithCancel(t.Context())
		after := whole * time.Duration(3*i) / (2 * tries)
		time.AfterFunc(after, cancel)
		err := s.ApplyBatch(ctx, evs)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled++
		default:
			t.Errorf("canceled after %v of a %v batch: %v, want nil or context.Canceled", after, whole, err)
		}
	}
	t.Logf("%d events, %v a batch; %d of %d tries canceled", len(evs), whole, canceled, tries)
	if canceled == 0 {
		t.Errorf("no try was canceled: the test checked nothing")
	}
}
