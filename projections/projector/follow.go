// Package projector follows the event log into a read model: from the
// checkpoint+1, in batches of one transaction each (Run, CatchUp), or into
// a new file from the first event (Rebuild). It reads the stream through
// eventlog's API (Follow, ReadRaw) and checks every event's bytes, hash and
// subject before the read model sees it.
package projector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// Run follows the stream from the store's checkpoint+1 for as long as ctx
// lasts: an ordered consumer over every fund's subjects, pulling up to
// readmodel.MaxBatchEvents messages at a time. Messages are grouped into batches of up
// to readmodel.MaxBatchEvents, or fewer once the stream has had nothing more pending
// for LiveQuiet (or an event has waited LiveMaxWait), and each batch is applied in
// one transaction (ApplyBatch) while the next is read and decoded.
//
// It returns ctx.Err() when ctx ends, or the first error: an event that does
// not decode, has been altered (events.ErrTampered) or does not link to its
// fund's chain (events.ErrBrokenChain) stops it with an *EventError naming
// the fund and fund_seq, and nothing of the batch that held it is committed.
// Run never skips an event.
func Run(ctx context.Context, log *eventlog.Log, s *readmodel.Store) error {
	return follow(ctx, log, s, 0)
}

// CatchUp applies every event up to the stream's last sequence at the time
// of the call, then returns. Its errors are those of Run.
func CatchUp(ctx context.Context, log *eventlog.Log, s *readmodel.Store) error {
	last, err := log.LastStreamSeq(ctx)
	if err != nil {
		return err
	}
	return CatchUpTo(ctx, log, s, last)
}

// CatchUpTo applies every event up to stream seq last, then returns. Its
// errors are those of Run.
func CatchUpTo(ctx context.Context, log *eventlog.Log, s *readmodel.Store, last uint64) error {
	if last == 0 {
		return nil
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil || cp >= last {
		return err
	}
	return follow(ctx, log, s, last)
}

// Rebuild replays the whole log into a new read model at path. It refuses a
// path that exists, and removes what it wrote when the replay fails, so that
// a half-built file is never mistaken for a read model: it builds in a
// scratch file beside path (readmodel.RebuildAt).
func Rebuild(ctx context.Context, log *eventlog.Log, path string) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("rebuild: %s exists; rebuild writes a new file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rebuild: %w", err)
	}
	if err := readmodel.RebuildAt(ctx, path, func(s *readmodel.Store) error { return CatchUp(ctx, log, s) }); err != nil {
		return fmt.Errorf("rebuild %s: %w", path, err)
	}
	return nil
}

// follow reads from checkpoint+1 and applies batches; with until > 0 it
// returns once the event at stream seq until is applied.
func follow(ctx context.Context, log *eventlog.Log, s *readmodel.Store, until uint64) error {
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return err
	}
	return ReadRange(ctx, log, cp, until, nil, func(batch []events.Event) error {
		return s.ApplyDecoded(ctx, batch)
	})
}

// ReadRange delivers the events with stream seq above after, up to until
// when it is not 0, to apply in batches of at most
// readmodel.ReplayBatchEvents (readmodel.MaxBatchEvents when it follows the
// stream). check, if
// not nil, sees each event as soon as it is decoded. A message that does not
// decode ends the read with an *EventError before the batch holding it
// reaches apply. A read up to until leaves no consumer on the server
// (direct gets); following the stream (until 0) holds one consumer while it
// runs and deletes it when it returns.
func ReadRange(ctx context.Context, log *eventlog.Log, after, until uint64, check func(events.Event) error, apply func([]events.Event) error) error {
	if until == 0 {
		return followLive(ctx, log, after, check, apply)
	}
	if after >= until {
		return nil
	}
	p := startPipeline(check, apply)
	batch := make([]events.Event, 0, readmodel.ReplayBatchEvents)
	err := log.ReadRaw(ctx, eventlog.AllFilter, after, until, func(m eventlog.RawMsg) error {
		e, err := decodeMsg(m.Subject, m.Data, m.Seq)
		if err != nil {
			p.send(batch, err)
			return err
		}
		batch = append(batch, e)
		if len(batch) == readmodel.ReplayBatchEvents || m.Seq >= until {
			if !p.send(batch, nil) {
				return errStopped
			}
			batch = make([]events.Event, 0, readmodel.ReplayBatchEvents) // the one sent is in use
		}
		return nil
	})
	// The read's batches (m.End) are the server's, of 1,000: a replay's
	// are larger, and what the read ended with is sent here.
	if err == nil && len(batch) > 0 && !p.send(batch, nil) {
		err = errStopped
	}
	if perr := p.wait(); perr != nil {
		return perr // it comes before anything read after it
	}
	if errors.Is(err, errStopped) {
		return nil // unreachable: the pipeline stops only on an error
	}
	return err
}

// errStopped ends a read whose pipeline has stopped on an error.
var errStopped = errors.New("pipeline stopped")

// pipeline checks and applies batches in a goroutine of its own while the
// reader fetches and decodes the next batch (decoding and hashing are a
// third of a replay's work, and the machine has more than one core). It
// does, in the same order, what the batcher does in one goroutine: check
// each event of a batch, then apply it, and stop at the first error.
type pipeline struct {
	batches chan pipelineBatch
	stopped chan struct{} // closed when the goroutine returns
	err     error         // its error, read after stopped is closed
}

// pipelineBatch is a batch to check and apply, or, with err set, the events
// decoded before a message that did not decode: they are checked, not
// applied, and err ends the pipeline.
type pipelineBatch struct {
	evs []events.Event
	err error
}

func startPipeline(check func(events.Event) error, apply func([]events.Event) error) *pipeline {
	p := &pipeline{batches: make(chan pipelineBatch), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		b := newBatcher(check, apply)
		for pb := range p.batches {
			if p.err = b.checkAndApply(pb.evs, pb.err); p.err != nil {
				return
			}
		}
	}()
	return p
}

// send hands a batch to the goroutine; false when it has stopped.
func (p *pipeline) send(evs []events.Event, err error) bool {
	select {
	case p.batches <- pipelineBatch{evs, err}:
		return true
	case <-p.stopped:
		return false
	}
}

// wait ends the pipeline and returns its error.
func (p *pipeline) wait() error {
	close(p.batches)
	<-p.stopped
	return p.err
}

// checkAndApply checks each event, then applies them as one batch; with
// failed set it checks them and returns failed.
func (b *batcher) checkAndApply(evs []events.Event, failed error) error {
	if b.check != nil {
		for _, e := range evs {
			if err := b.check(e); err != nil {
				return err
			}
		}
	}
	if failed != nil || len(evs) == 0 {
		return failed
	}
	b.batch = evs
	if err := b.apply(evs); err != nil {
		return b.applyPrefix(err)
	}
	return nil
}

// batcher checks events and hands them to apply in batches.
type batcher struct {
	check func(events.Event) error
	apply func([]events.Event) error
	batch []events.Event // the batch being applied, for applyPrefix
}

func newBatcher(check func(events.Event) error, apply func([]events.Event) error) *batcher {
	return &batcher{check: check, apply: apply}
}

// applyPrefix applies the events of a failed batch that come before the
// event at fault, so that the read model reaches as far as the log can be
// trusted and reads answer up to there, then returns err.
func (b *batcher) applyPrefix(err error) error {
	var ee *readmodel.EventError
	if !errors.As(err, &ee) {
		return err
	}
	for i, e := range b.batch {
		if e.StreamSeq == ee.StreamSeq {
			if i > 0 {
				if perr := b.apply(b.batch[:i]); perr != nil {
					return errors.Join(err, perr)
				}
			}
			break
		}
	}
	return err
}

// followLive follows the stream from after+1 until ctx ends or an error
// (eventlog's Follow). The goroutine that reads decodes each message and
// queues it; another folds what the queue holds, as one batch (see
// liveQueue.take for when). Folding each run of messages that ended with
// nothing pending made batches of 5 events on average under 64 HTTP
// clients: the server delivers a writer's atomic batch message by message,
// so the stream looked caught up in the middle of each group, and the
// commits, checkpoints and totals of those small batches were most of
// ledgerd's CPU (issue 10, docs/performance.md).
func followLive(ctx context.Context, log *eventlog.Log, after uint64, check func(events.Event) error, apply func([]events.Event) error) error {
	q := newLiveQueue()
	// A folder that stops with an error ends the read, which may be
	// waiting for a message that is not coming.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	folded := make(chan error, 1)
	go func() {
		err := q.fold(ctx, newBatcher(check, apply))
		close(q.stopped)
		cancel()
		folded <- err
	}()
	err := log.Follow(rctx, eventlog.AllFilter, after, func(m eventlog.RawMsg) error {
		e, err := decodeMsg(m.Subject, m.Data, m.Seq)
		if err != nil {
			return err
		}
		return q.put(e, m.End)
	})
	// The folder folds what was queued and returns err; or it stopped
	// first, and its error comes before anything read after it.
	q.stop(err)
	return <-folded
}

// How long the live projector holds events before it folds them: see
// liveQueue.take.
const (
	// LiveQuiet is how long the folder waits for more events after the
	// stream had nothing more pending: a writer's group arrives message by
	// message within well under a millisecond of each other.
	LiveQuiet = 2 * time.Millisecond
	// LiveMaxWait bounds how long an event waits for its batch to be folded.
	LiveMaxWait = 20 * time.Millisecond
)

// liveQueue hands decoded events from the reader to the folder.
type liveQueue struct {
	mu     sync.Mutex
	evs    []events.Event // queued, in stream order
	spare  []events.Event // the last batch folded, to queue into next
	end    bool           // nothing was pending after the last event queued
	first  time.Time      // when the oldest queued event was queued
	last   time.Time      // when the newest was
	failed error          // set once the reader stops: no more events come
	done   bool           // the reader has stopped

	wake    chan struct{} // an event was queued, or the reader stopped
	room    chan struct{} // the folder took what was queued
	stopped chan struct{} // closed when the folder returns
}

func newLiveQueue() *liveQueue {
	return &liveQueue{
		evs:     make([]events.Event, 0, readmodel.MaxBatchEvents),
		spare:   make([]events.Event, 0, readmodel.MaxBatchEvents),
		wake:    make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
}

// put queues e (end: nothing was pending after it). It waits while the
// queue holds a whole batch, and returns errStopped once the folder has
// stopped.
func (q *liveQueue) put(e events.Event, end bool) error {
	for {
		q.mu.Lock()
		if len(q.evs) < readmodel.MaxBatchEvents {
			now := time.Now()
			if len(q.evs) == 0 {
				q.first = now
			}
			q.evs, q.end, q.last = append(q.evs, e), end, now
			q.mu.Unlock()
			signal(q.wake)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-q.stopped:
			return errStopped
		}
	}
}

// stop says the reader has stopped with err: no more events come.
func (q *liveQueue) stop(err error) {
	q.mu.Lock()
	q.failed, q.done = err, true
	q.mu.Unlock()
	signal(q.wake)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// fold folds batches until ctx ends, a batch fails, or the reader stops.
// What the reader queued before it stopped came before its error, and is
// folded (the read model reaches as far as the log can be trusted, as
// readers see it); then fold returns the reader's error.
func (q *liveQueue) fold(ctx context.Context, b *batcher) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		evs, failed, last, stop := q.take(ctx, timer)
		if stop || last && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := b.checkAndApply(evs, nil); err != nil || last {
			return cmp.Or(err, failed)
		}
		q.mu.Lock()
		q.spare = evs[:0] // folded: the reader may queue into it
		q.mu.Unlock()
		signal(q.room)
	}
}

// take waits for the next batch (see due) and takes it. last: the reader
// has stopped with failed, and evs is all it queued. stop: ctx has ended.
func (q *liveQueue) take(ctx context.Context, timer *time.Timer) (evs []events.Event, failed error, last, stop bool) {
	for {
		q.mu.Lock()
		now, wait := q.due(time.Now())
		if now {
			evs, q.evs, q.spare = q.evs, q.spare, nil
			failed, last = q.failed, q.done
			q.mu.Unlock()
			return evs, failed, last, false
		}
		q.mu.Unlock()
		var tc <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-q.wake:
		case <-tc:
		case <-ctx.Done():
			return nil, nil, false, true
		}
	}
}

// due says whether the queue is to be folded at time t, and if not, how
// long to wait (0: until an event is queued). It is folded at once when it
// holds a whole batch or the reader has stopped; otherwise once LiveQuiet
// has passed since the last event queued with nothing pending after it, or
// LiveMaxWait since the oldest was queued. Under load a batch is so a
// whole group of the writer, or more; alone, an event waits LiveQuiet.
// Called with q.mu held.
func (q *liveQueue) due(t time.Time) (bool, time.Duration) {
	n := len(q.evs)
	switch {
	case q.done || n >= readmodel.MaxBatchEvents:
		return true, 0
	case n == 0:
		return false, 0
	}
	at := q.first.Add(LiveMaxWait)
	if quiet := q.last.Add(LiveQuiet); q.end && quiet.Before(at) {
		at = quiet
	}
	if wait := at.Sub(t); wait > 0 {
		return false, wait
	}
	return true, 0
}

// decodeMsg checks and parses one stored event: canonical bytes, a hash that
// matches the content, and the subject the writer stores it under.
func decodeMsg(subject string, data []byte, streamSeq uint64) (events.Event, error) {
	e, err := events.Decode(data)
	e.StreamSeq = streamSeq
	if err != nil {
		return e, readmodel.NewEventError(e, err)
	}
	if want := eventlog.Subject(e.Fund, e.Type); subject != want {
		return e, readmodel.NewEventError(e, fmt.Errorf("%w: fund %s fund_seq %d stored on subject %s, not %s", events.ErrTampered, e.Fund, e.FundSeq, subject, want))
	}
	return e, nil
}
