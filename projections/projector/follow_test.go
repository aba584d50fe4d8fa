package projector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// TestLiveQueueFoldsAGroupAsOneBatch: events that came one by one, each
// with nothing pending after it (how the server delivers a writer's atomic
// batch), are folded as one batch, not one transaction each (issue 10:
// batches of 5 events under 64 HTTP clients).
func TestLiveQueueFoldsAGroupAsOneBatch(t *testing.T) {
	q := newLiveQueue()
	for seq := uint64(1); seq <= 5; seq++ {
		if err := q.put(events.Event{StreamSeq: seq}, true); err != nil {
			t.Fatal(err)
		}
	}
	var batches [][]uint64
	b := newBatcher(nil, func(evs []events.Event) error {
		var seqs []uint64
		for _, e := range evs {
			seqs = append(seqs, e.StreamSeq)
		}
		batches = append(batches, seqs)
		if len(batches) == 1 {
			q.stop(errReaderDone) // the folder then returns the reader's error
		}
		return nil
	})
	err := q.fold(t.Context(), b)
	if !errors.Is(err, errReaderDone) {
		t.Fatalf("fold returned %v, want the reader's error", err)
	}
	if len(batches) != 1 || len(batches[0]) != 5 {
		t.Fatalf("folded %v, want one batch of the 5 events", batches)
	}
}

var errReaderDone = errors.New("reader done")

// TestLiveQueueFullBatch: the reader waits while a whole batch is queued,
// and goes on once the folder has taken it; each batch holds at most
// readmodel.MaxBatchEvents, in stream order; when the reader stops, what
// it queued is folded and its error returned.
func TestLiveQueueFullBatch(t *testing.T) {
	q := newLiveQueue()
	const n = 2*readmodel.MaxBatchEvents + 7
	put := make(chan error, 1)
	go func() {
		for seq := uint64(1); seq <= n; seq++ {
			if err := q.put(events.Event{StreamSeq: seq}, false); err != nil {
				put <- err
				return
			}
		}
		q.stop(errReaderDone)
		put <- nil
	}()
	var next uint64 = 1
	err := q.fold(t.Context(), newBatcher(nil, func(evs []events.Event) error {
		if len(evs) > readmodel.MaxBatchEvents {
			t.Errorf("a batch of %d events, above %d", len(evs), readmodel.MaxBatchEvents)
		}
		for _, e := range evs {
			if e.StreamSeq != next {
				t.Fatalf("event %d folded where %d was next", e.StreamSeq, next)
			}
			next++
		}
		return nil
	}))
	if !errors.Is(err, errReaderDone) {
		t.Fatalf("fold returned %v, want the reader's error", err)
	}
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	// What the reader queued before it stopped is folded too: those events
	// come before its error (a message that does not decode leaves the read
	// model with every event before it, as /readyz and the reads say).
	if next != n+1 {
		t.Fatalf("folded %d events of %d", next-1, n)
	}
}

// TestLiveQueueFolderStops: once the folder has stopped on an error, a
// reader waiting for room is told so rather than left waiting, and the
// folder's error is what fold returns.
func TestLiveQueueFolderStops(t *testing.T) {
	q := newLiveQueue()
	bad := errors.New("fold failed")
	folded := make(chan error, 1)
	go func() {
		err := q.fold(context.Background(), newBatcher(nil, func([]events.Event) error { return bad }))
		close(q.stopped)
		folded <- err
	}()
	var err error
	for seq := uint64(1); err == nil; seq++ {
		err = q.put(events.Event{StreamSeq: seq}, false)
	}
	if !errors.Is(err, errStopped) {
		t.Fatalf("put returned %v, want errStopped", err)
	}
	if err := <-folded; !errors.Is(err, bad) {
		t.Fatalf("fold returned %v, want the apply's error", err)
	}
}

// TestLiveQueueContextEnds: a folder waiting for events returns ctx's
// error when ctx ends.
func TestLiveQueueContextEnds(t *testing.T) {
	q := newLiveQueue()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := q.fold(ctx, newBatcher(nil, func([]events.Event) error {
		t.Error("nothing was queued, yet a batch was folded")
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fold returned %v, want context.Canceled", err)
	}
}

// TestLiveQueueDue: when the queue is folded. Events with nothing pending
// after the last wait LiveQuiet for more (a writer's group arrives message
// by message, each looking like the stream's end); with more pending, up
// to LiveMaxWait; a whole batch, or a stopped reader, at once.
func TestLiveQueueDue(t *testing.T) {
	check := func(q *liveQueue, at time.Time, wantNow bool, wantWait time.Duration) {
		t.Helper()
		now, wait := q.due(at)
		if now != wantNow || wait != wantWait {
			t.Errorf("due at %v: %v, %v; want %v, %v", at.Sub(q.first), now, wait, wantNow, wantWait)
		}
	}
	q := newLiveQueue()
	check(q, time.Now(), false, 0) // nothing queued: wait for an event
	for seq := uint64(1); seq <= 5; seq++ {
		q.put(events.Event{StreamSeq: seq}, true)
	}
	check(q, q.last, false, LiveQuiet)
	check(q, q.last.Add(LiveQuiet), true, 0)

	q = newLiveQueue()
	for seq := uint64(1); seq <= 5; seq++ {
		q.put(events.Event{StreamSeq: seq}, false)
	}
	check(q, q.last.Add(LiveQuiet), false, q.first.Add(LiveMaxWait).Sub(q.last.Add(LiveQuiet)))
	check(q, q.first.Add(LiveMaxWait), true, 0)
	q.stop(errReaderDone)
	check(q, q.first, true, 0)

	q = newLiveQueue()
	for seq := uint64(1); seq <= readmodel.MaxBatchEvents; seq++ {
		q.put(events.Event{StreamSeq: seq}, true)
	}
	check(q, q.first, true, 0)
}
