// Package ledger is the writer of one fund: it queues commands, decides each
// against the state left by the ones before it, appends the events of many
// commands in one atomic batch (group commit) and answers each caller.
package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// Limits of the writer.
const (
	// MaxQueue is how many commands may wait for the writer; more are
	// refused with ErrBusy rather than queued without bound.
	MaxQueue = 10_000
	// MaxGroup bounds the commands taken from the queue for one group
	// commit; those whose events do not fit one append wait for the next.
	MaxGroup = eventlog.MaxBatchEvents / 2
	// MaxAppendRetries bounds how often one batch is decided again after a
	// conflict with another writer or an append that did not land.
	MaxAppendRetries = 20
	// MaxCommandIDLen bounds an Idempotency-Key.
	MaxCommandIDLen = 128
	// AppendTimeout bounds one atomic append; past it the outcome is
	// unknown and found out by reading the fund's last event.
	AppendTimeout = 5 * time.Second
	// BatchTimeout bounds deciding, appending and retrying one batch.
	BatchTimeout = 25 * time.Second
)

var (
	// ErrIdempotencyKeyReused: the command id was used before with another body.
	ErrIdempotencyKeyReused = errors.New("idempotency key used before with a different command")
	// ErrBusy: the queue is full.
	ErrBusy = errors.New("writer queue full")
	// ErrClosed: the writer has stopped.
	ErrClosed = errors.New("writer closed")
	// ErrLogUnavailable: the writer could not read the fund's new events
	// from the log before deciding (NATS down, the stream unreachable, an
	// event that does not verify). Nothing was appended; retry later.
	ErrLogUnavailable = errors.New("event log cannot be read")
)

// Request is one command to decide and append.
type Request struct {
	CommandID   string // idempotency key
	CommandHash string // SHA-256 of the canonical command (hex)
	Command     domain.Command
}

// Result is the answer to an accepted command.
type Result struct {
	CommandID string       `json:"command_id"`
	Events    []events.Ref `json:"events"`
	// Replayed is true when the command id was seen before with the same
	// hash and the original result is answered again.
	Replayed bool `json:"-"`
	// StreamSeq is the stream sequence of the command's last event.
	StreamSeq uint64 `json:"-"`
}

type seen struct {
	hash      string
	refs      []events.Ref
	streamSeq uint64
}

type pending struct {
	req  Request
	ctx  context.Context
	done chan answer // never changes: Submit waits on it
	// The fields below are owned by the writer goroutine.

	// answered is set once the answer is sent.
	answered bool
	// decided holds the events of a command that was decided but did not
	// fit the append it was decided for, and decidedOn the state version
	// they were decided against: while the state has not changed they
	// stand, so the command is not decided again for nothing.
	decided   []events.Event
	decidedOn uint64
}

// answer sends the command's answer once.
func (p *pending) answer(a answer) {
	if p.answered {
		panic("ledger: a command answered twice")
	}
	p.answered = true
	p.decided = nil
	p.done <- a
}

type refusal struct {
	p   *pending
	err error
}

type answer struct {
	res Result
	err error
}

// Log is what the writer needs of the event log: *eventlog.Log in the
// daemon. It is the boundary where the metrics measure appends and where
// the seeded simulation (ledger/sim_test.go) injects faults.
type Log interface {
	Append(ctx context.Context, fund string, expectLast uint64, evs []events.Event) (uint64, error)
	LastEvent(ctx context.Context, fund string) (events.Event, bool, error)
	LastSeq(ctx context.Context, fund string) (uint64, error)
	ReadFund(ctx context.Context, fund string, after uint64, fn func(events.Event) error) error
}

// Writer is the one writer of a fund in this process. Other processes may
// write the same fund: the stream's expected-sequence check serialises them
// and a conflict makes this writer read what is new and decide again.
type Writer struct {
	log   Log
	fund  string
	queue chan *pending
	now   func() time.Time
	newID func() string
	// batchTimeout is BatchTimeout; tests that run many slow tries (the
	// race detector on a busy machine) give it more room.
	batchTimeout time.Duration

	// owned by the run goroutine
	state   *domain.State
	chain   events.Chain
	lastSeq uint64 // stream seq of the fund's last event applied to state
	// ids holds the command ids of the events the command store (if any)
	// has not folded yet, idOrder the same ids in stream order, so that
	// forget drops those it has folded: memory stays bounded as the log
	// grows, and an old id is asked of the store (issue 10).
	ids      map[string]seen
	idOrder  []string
	commands CommandStore
	// version changes whenever state does (an event applied, a reload):
	// a decision made at the same version is still right.
	version uint64

	// snapshotPath is Options.SnapshotPath; snapFundSeq the fund_seq of
	// the last snapshot loaded or written (snapshot.go).
	snapshotPath string
	snapFundSeq  uint64
	snapOnce     sync.Once
	// snapshotDue is set by a start-up that folded many events: the run
	// goroutine writes the snapshot before it takes the first command.
	snapshotDue bool

	// decisions counts calls of domain.Decide, so that a test can check
	// that commands are not decided again needlessly.
	decisions atomic.Uint64
	// appends and appended count atomic appends and their events (Stats).
	appends, appended atomic.Uint64
	// others is how many commands were queued when the last group's
	// answers went out: callers other than the group's, since the group's
	// were all waiting for those answers (see collect).
	others int

	mu        sync.Mutex
	committed uint64 // lastSeq, readable by other goroutines

	// closeMu orders Submit's enqueue before Close's stop: once stop is
	// closed nothing more is queued, so the writer answers all that was.
	closeMu sync.RWMutex
	closed  bool
	stop    chan struct{}
	stopped chan struct{}
}

// Options tune a writer; the zero value is fine.
type Options struct {
	Now func() time.Time // the clock of recorded_at and of Meta.Today; time.Now by default
	// NewEventID makes the id of each new event; a random UUIDv7 by
	// default. Tests pin it, with Now, so that a history written twice has
	// the same bytes and hashes (golden files). It is called from the
	// writer's one goroutine, and must never return the same id twice:
	// the unknown-outcome check compares event ids.
	NewEventID func() string
	// Commands, if set, holds the command ids of the fund's older events
	// (a read model folding the same log): the writer then keeps in memory
	// only the ids of events the store has not folded yet, and asks it
	// about any other id. Nil: every id is kept in memory.
	Commands CommandStore
	// SnapshotPath, if set with Commands, is the file of the state
	// snapshot: Open starts from it when it matches the log and folds only
	// the events after it; Open after a long fold and Close write it
	// (snapshot.go). Empty: Open folds the whole log.
	SnapshotPath string
	// StartUpLog, if set, is the log Open reads the fund through (the
	// snapshot's check and the fold after it, or the whole log): the same
	// log read another way, e.g. eventlog's BulkReads, whose one consumer
	// per read costs the server a fraction of direct gets, and the garbage
	// of their headers, on a long log (docs/performance.md, "Start-up and
	// verify at 1,000,000 events"). The writer's catch-ups after Open, one
	// per conflict however many, keep the writer's log. Nil: Open reads the
	// writer's log.
	StartUpLog Log
}

// CommandStore answers for command ids the writer no longer keeps in
// memory. projections.Store is one.
type CommandStore interface {
	// Checkpoint is the stream sequence up to which the store holds every
	// event of the log.
	Checkpoint(ctx context.Context) (uint64, error)
	// Commands calls fn, for each command of ids that the store holds
	// events of, with its hash, its events in order and the stream
	// sequence of its last event. One call answers a whole group: a
	// query per command made the writer five times slower (issue 10).
	Commands(ctx context.Context, fund string, ids []string, fn func(id, hash string, refs []events.Ref, streamSeq uint64)) error
}

// Open rebuilds the fund's state and idempotency memory from the log and
// starts the writer.
func Open(ctx context.Context, log Log, fund string, o Options) (*Writer, error) {
	w, err := open(ctx, log, fund, o)
	if err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

// open is Open without starting the writer goroutine: tests queue
// commands first so that they form one group.
func open(ctx context.Context, log Log, fund string, o Options) (*Writer, error) {
	if !eventlog.ValidFund(fund) {
		return nil, fmt.Errorf("open writer: invalid fund id %q", fund)
	}
	w := &Writer{
		log:          log,
		fund:         fund,
		queue:        make(chan *pending, MaxQueue),
		now:          o.Now,
		newID:        o.NewEventID,
		commands:     o.Commands,
		snapshotPath: o.SnapshotPath,
		batchTimeout: BatchTimeout,
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.newID == nil {
		w.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if o.StartUpLog != nil {
		// start only reads; no command is taken before it returns.
		w.log = o.StartUpLog
	}
	err := w.start(ctx)
	w.log = log
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Fund returns the fund the writer writes.
func (w *Writer) Fund() string { return w.fund }

// Today returns the writer's date (UTC), which commands are judged against.
func (w *Writer) Today() string { return w.now().UTC().Format(time.DateOnly) }

// LastSeq returns the stream sequence of the last event this writer knows to
// be in the log: a reader that has projected up to it sees every command
// this writer acknowledged.
func (w *Writer) LastSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.committed
}

// QueueLen returns how many commands wait for the writer.
func (w *Writer) QueueLen() int { return len(w.queue) }

// Close stops the writer: the group being appended is finished and answered,
// every other queued command is answered ErrClosed, and so is every later
// Submit. It may be called more than once and from several goroutines;
// each call returns once the writer has stopped.
func (w *Writer) Close() {
	w.closeMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.closeMu.Unlock()
	<-w.stopped
	// The writer goroutine, which owns the state, has stopped.
	w.snapOnce.Do(w.saveSnapshot)
}

// Submit queues a command and waits for its answer: a Result, a
// *errs.Error (nothing appended), ErrIdempotencyKeyReused, ErrBusy,
// ErrClosed (nothing appended), or an infrastructure error. If ctx ends
// first the command may still be appended; asking again with the same
// command id tells.
func (w *Writer) Submit(ctx context.Context, r Request) (Result, error) {
	if r.CommandID == "" || len(r.CommandID) > MaxCommandIDLen || r.CommandHash == "" {
		return Result{}, fmt.Errorf("submit: command id must be 1 to %d characters and the hash set", MaxCommandIDLen)
	}
	p := &pending{req: r, ctx: ctx, done: make(chan answer, 1)}
	if err := w.enqueue(p); err != nil {
		return Result{}, err
	}
	select {
	case a := <-p.done:
		return a.res, a.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// enqueue queues p unless the writer is closed or the queue is full. Close
// waits for it to finish, so a command queued here is always answered.
func (w *Writer) enqueue(p *pending) error {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.queue <- p:
		return nil
	default:
		return ErrBusy
	}
}

// NewCommandID returns a fresh command id for a request without an
// Idempotency-Key.
func NewCommandID() string { return uuid.NewString() }

func (w *Writer) run() {
	defer close(w.stopped)
	if w.snapshotDue {
		w.writeStartUpSnapshot()
	}
	var (
		carried []*pending
		// The callers the last group answered and those already waiting
		// then, and how long to wait for them: see collect.
		answered int
		linger   time.Duration
	)
	for {
		select {
		case <-w.stop:
			w.drain(carried)
			return
		default:
		}
		group, ok := w.collect(carried, answered, linger)
		if !ok {
			return
		}
		t0 := time.Now()
		w.others = 0
		carried = w.process(group)
		answered = w.expected(group, carried)
		linger = min(MaxLinger, time.Since(t0))
	}
}

// expected is how many callers the group after this one can expect:
// those this one answered, who come back, and those that were already
// waiting when it answered them.
func (w *Writer) expected(group, carried []*pending) int {
	return len(group) - len(carried) + w.others
}

// MaxLinger bounds how long the writer waits for more commands before it
// appends a group smaller than the callers it expects (see collect).
const MaxLinger = 20 * time.Millisecond

// collect forms the next group (group commit): the carried commands and
// whatever is queued. Callers answered by the last group come back with
// their next command a moment later; appending without them would split
// them into two groups that take turns, each paying a whole append (half
// the throughput with 64 callers, issue 10). So while the group is smaller
// than answered (the callers the last group answered, and those who were
// already waiting when it answered them), it waits for more, at most
// linger (the last group's time, at most MaxLinger: under load a caller's
// round trip takes several milliseconds, and a quarter of the group's time,
// at most 5 ms, formed groups of 45 where 60 came within 20 ms). Counting
// only the last group's callers kept two half groups taking turns once
// they had formed: each was as large as the one before it (groups of 34
// commands under 64 HTTP clients, 60 once the waiting callers counted). A
// lone caller never waits: its group of one is as large as the last.
// false: the writer is stopping and every command is answered ErrClosed.
func (w *Writer) collect(group []*pending, answered int, linger time.Duration) ([]*pending, bool) {
	if len(group) == 0 {
		select {
		case <-w.stop:
			w.drain(nil)
			return nil, false
		case p := <-w.queue:
			group = []*pending{p}
		}
	}
more:
	for len(group) < MaxGroup {
		select {
		case p := <-w.queue:
			group = append(group, p)
		default:
			break more
		}
	}
	want := min(answered, MaxGroup)
	if len(group) >= want || linger <= 0 {
		return group, true
	}
	timer := time.NewTimer(linger)
	defer timer.Stop()
	for len(group) < want {
		select {
		case p := <-w.queue:
			group = append(group, p)
		case <-timer.C:
			return group, true
		case <-w.stop:
			w.drain(group)
			return nil, false
		}
	}
	return group, true
}

// drain answers ErrClosed to the carried commands and to every queued one.
func (w *Writer) drain(carried []*pending) {
	for _, p := range carried {
		p.answer(answer{err: ErrClosed})
	}
	for {
		select {
		case p := <-w.queue:
			p.answer(answer{err: ErrClosed})
		default:
			return
		}
	}
}

// process appends, as one atomic append, the events of the first commands
// of the group that fit in one, deciding them again after a conflict, and
// answers them. It returns the commands left for the next group: those
// that did not fit and repeats of a command id already in the append. If
// the group cannot be appended (the log fails, or conflicts outlast
// MaxAppendRetries), every command of it is answered with the error.
func (w *Writer) process(group []*pending) (carried []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), w.batchTimeout)
	defer cancel()
	var err error
	for try := 1; try <= MaxAppendRetries; try++ {
		// Another process may have written the fund: catch up first, so that
		// commands about ids it created are judged against them.
		if err = w.catchUp(ctx); err != nil {
			err = fmt.Errorf("catch up fund %s: %w: %w", w.fund, ErrLogUnavailable, err)
			break
		}
		carried, err = w.attempt(ctx, group)
		if err == nil {
			return carried
		}
		if !errors.Is(err, eventlog.ErrConflict) {
			break
		}
		if try == MaxAppendRetries {
			err = fmt.Errorf("gave up after %d conflicts: %w", try, err)
			break
		}
		slog.Info("append conflict, deciding again", "fund", w.fund, "try", try, "err", err)
		if err = pauseAfterConflict(ctx, try); err != nil {
			break
		}
	}
	for _, p := range group {
		if !p.answered {
			p.answer(answer{err: err})
		}
	}
	return nil
}

// pauseAfterConflict waits a moment, longer at each try, before a batch is
// decided again. Without it a writer retried at once and, against another
// writer appending a burst on a cluster, spent its MaxAppendRetries within
// the burst (TestClusterTwoWritersRace failed so on a loaded machine: the
// leader still refused the expected sequence while the other writer's
// batches were in flight). The random part keeps two writers out of step.
// 20 tries wait about 0.4 s at most in all.
func pauseAfterConflict(ctx context.Context, try int) error {
	d := time.Duration(try)*time.Millisecond + rand.N(time.Duration(try)*time.Millisecond)
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrLogUnavailable, ctx.Err())
	case <-time.After(d):
		return nil
	}
}

// attempt decides, in order and against the current state, the commands of
// the group still unanswered until their events would not fit one append,
// appends those events and answers the commands decided. It returns the
// commands left for the next group. An error means nothing was appended
// (ErrConflict: decide again) or the outcome is unknown; the state is then
// rebuilt from the log.
func (w *Writer) attempt(ctx context.Context, group []*pending) (left []*pending, err error) {
	old, err := w.lookUp(ctx, group)
	if err != nil {
		for _, p := range group {
			if !p.answered {
				p.answer(answer{err: err})
			}
		}
		return nil, nil
	}
	b := &batch{chain: w.chain, inBatch: map[string]bool{}, recordedAt: w.now().UTC().Format(time.RFC3339Nano)}
	left, err = w.decideGroup(ctx, b, group, old)
	if err != nil {
		return nil, err
	}
	if len(b.evs) == 0 {
		b.answerRefused()
		return left, nil
	}
	if err := w.commit(ctx, b); err != nil {
		return nil, err
	}
	w.forget(ctx, "")
	return left, nil
}

// batch is one atomic append as the writer forms it.
type batch struct {
	evs        []events.Event
	accept     []decided       // the commands whose events evs holds, in order
	inBatch    map[string]bool // their command ids
	refused    []refusal       // answered once the append lands
	chain      events.Chain    // the fund's chain with evs
	recordedAt string
}

// decided is a command of a batch: its events are evs[first:first+n].
type decided struct {
	p     *pending
	first int
	n     int
}

func (b *batch) answerRefused() {
	for _, r := range b.refused {
		r.p.answer(answer{err: r.err})
	}
}

// decideGroup decides the group's unanswered commands into b, in order,
// applying their events to the state, until one does not fit the append:
// it and those after it are returned, as are repeats of a command id
// already in b. Replays and expired callers are answered at once; refusals
// wait in b for the append. An error (an event that cannot be sealed) has
// rebuilt the state.
func (w *Writer) decideGroup(ctx context.Context, b *batch, group []*pending, old map[string]seen) (left []*pending, err error) {
	for i, p := range group {
		if p.answered {
			continue
		}
		if p.ctx.Err() != nil {
			p.answer(answer{err: p.ctx.Err()})
			continue
		}
		id, hash := p.req.CommandID, p.req.CommandHash
		s, ok := w.ids[id]
		if !ok {
			s, ok = old[id]
		}
		if ok {
			p.answer(w.replay(id, hash, s))
			continue
		}
		if b.inBatch[id] {
			// The same key twice in one append: the second waits for the
			// next group, where the first one's outcome is known.
			left = append(left, p)
			continue
		}
		out, derr := w.decide(p)
		if derr != nil {
			// Answered only once the commands before it have landed: if they
			// do not, it is decided again against the state without them.
			b.refused = append(b.refused, refusal{p, derr})
			continue
		}
		if len(b.evs)+len(out) > eventlog.MaxBatchEvents {
			if len(b.evs) == 0 {
				p.answer(answer{err: fmt.Errorf("command makes %d events, more than one batch holds", len(out))})
				continue
			}
			// It and all after it wait for the next group, unanswered and
			// undecided: deciding them now would be undone by the append.
			// Its own decision stands if nothing changes the state meanwhile.
			p.decided, p.decidedOn = out, w.version
			return appendUnanswered(left, group[i:]), nil
		}
		if err := w.add(b, p, out); err != nil {
			return nil, w.discard(ctx, err)
		}
	}
	return left, nil
}

// add seals the events of p's command onto b's chain, applies them to the
// state and adds them to b.
func (w *Writer) add(b *batch, p *pending, out []events.Event) error {
	meta := domain.MetaOf(p.req.Command)
	first := len(b.evs)
	for _, e := range out {
		e.ID = w.newID()
		e.Fund = w.fund
		e.FundSeq = b.chain.FundSeq + 1
		e.RecordedAt = b.recordedAt
		e.Actor = meta.Actor
		e.CommandID = p.req.CommandID
		e.CommandHash = p.req.CommandHash
		if err := e.Seal(b.chain.Head); err != nil {
			return err
		}
		if err := b.chain.Check(e); err != nil {
			panic(err) // the writer built the chain itself
		}
		if err := w.apply(e); err != nil {
			panic(fmt.Sprintf("apply an event Decide just made: %v", err))
		}
		b.evs = append(b.evs, e)
	}
	p.decided = nil
	b.inBatch[p.req.CommandID] = true
	b.accept = append(b.accept, decided{p, first, len(out)})
	return nil
}

// commit appends b as one atomic batch and answers its commands. An error
// means nothing was appended or the outcome stayed unknown; the state has
// been rebuilt from the log.
func (w *Writer) commit(ctx context.Context, b *batch) error {
	// Each append has its own deadline, so that a server lost mid-append
	// (a stream leader shut down) costs one AppendTimeout, not the whole
	// batch's time; the outcome is then found out, never assumed.
	actx, cancel := context.WithTimeout(ctx, AppendTimeout)
	last, err := w.log.Append(actx, w.fund, w.lastSeq, b.evs)
	cancel()
	if errors.Is(err, eventlog.ErrUnknownOutcome) {
		// The batch's own context may be spent: ask with a fresh one.
		rctx, cancel := context.WithTimeout(context.Background(), eventlog.DefaultTimeout)
		last, err = w.resolveUnknown(rctx, b.evs[len(b.evs)-1])
		cancel()
	}
	if err != nil {
		return w.discard(ctx, err)
	}
	w.chain = b.chain
	w.setLastSeq(last)
	w.appends.Add(1)
	w.appended.Add(uint64(len(b.evs)))
	w.others = len(w.queue) // before any answer: none of them is the group's
	firstSeq := last - uint64(len(b.evs)) + 1
	for _, d := range b.accept {
		refs := make([]events.Ref, d.n)
		for i := range refs {
			refs[i] = b.evs[d.first+i].Ref()
		}
		seq := firstSeq + uint64(d.first+d.n-1)
		w.remember(d.p.req.CommandID, seen{hash: d.p.req.CommandHash, refs: refs, streamSeq: seq})
		d.p.answer(answer{res: Result{CommandID: d.p.req.CommandID, Events: refs, StreamSeq: seq}})
	}
	b.answerRefused()
	return nil
}

// Stats returns how many atomic appends this writer made and the events
// they held: their ratio is the mean size of its groups (ledgerbench).
func (w *Writer) Stats() (appends, events uint64) {
	return w.appends.Load(), w.appended.Load()
}

// lookUp asks the command store, in one call, about the command ids of
// the group's unanswered commands that are not in memory, and returns
// those it holds.
func (w *Writer) lookUp(ctx context.Context, group []*pending) (map[string]seen, error) {
	if w.commands == nil {
		return nil, nil
	}
	var ids []string
	for _, p := range group {
		if _, ok := w.ids[p.req.CommandID]; !ok && !p.answered {
			ids = append(ids, p.req.CommandID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	old := map[string]seen{}
	err := w.commands.Commands(ctx, w.fund, ids, func(id, hash string, refs []events.Ref, seq uint64) {
		old[id] = seen{hash: hash, refs: refs, streamSeq: seq}
	})
	if err != nil {
		return nil, fmt.Errorf("look up command ids: %w", err)
	}
	return old, nil
}

// remember keeps a command id in memory until the store has folded it.
func (w *Writer) remember(id string, s seen) {
	if _, ok := w.ids[id]; !ok {
		w.idOrder = append(w.idOrder, id)
	}
	w.ids[id] = s
}

// forget drops from memory the command ids whose last event the command
// store has folded, but not keep (the command being read, whose events may
// go on). A store that cannot be read keeps them all.
func (w *Writer) forget(ctx context.Context, keep string) {
	if w.commands == nil || len(w.idOrder) == 0 {
		return
	}
	cp, err := w.commands.Checkpoint(ctx)
	if err != nil {
		return
	}
	n := 0
	for _, id := range w.idOrder {
		if id == keep || w.ids[id].streamSeq > cp {
			break
		}
		delete(w.ids, id)
		n++
	}
	w.idOrder = w.idOrder[n:]
	if n > 0 && len(w.idOrder) < cap(w.idOrder)/4 {
		// Let the dropped part of the array go.
		w.idOrder = append([]string(nil), w.idOrder...)
	}
}

func appendUnanswered(dst, ps []*pending) []*pending {
	for _, p := range ps {
		if !p.answered {
			dst = append(dst, p)
		}
	}
	return dst
}

// decide returns the events of p's command against the current state,
// reusing the ones it was decided to before if the state has not changed.
func (w *Writer) decide(p *pending) ([]events.Event, error) {
	if p.decided != nil && p.decidedOn == w.version {
		return p.decided, nil
	}
	p.decided = nil
	w.decisions.Add(1)
	return domain.Decide(w.state, p.req.Command)
}

// discard drops the events applied to the state but not appended, by
// rebuilding the state from the log, and returns err (joined with the
// reload's error if that fails too).
func (w *Writer) discard(ctx context.Context, err error) error {
	if rerr := w.reload(ctx); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// apply applies an event to the state and moves the state's version on.
func (w *Writer) apply(e events.Event) error {
	w.version++
	return domain.Apply(w.state, e)
}

func (w *Writer) replay(id, hash string, s seen) answer {
	if s.hash != hash {
		return answer{err: ErrIdempotencyKeyReused}
	}
	return answer{res: Result{CommandID: id, Events: s.refs, Replayed: true, StreamSeq: s.streamSeq}}
}

// resolveUnknown finds out whether a batch whose ack was lost landed, by
// reading the fund's last event: the design forbids resending blindly.
func (w *Writer) resolveUnknown(ctx context.Context, lastOfBatch events.Event) (uint64, error) {
	var lastErr error
	for i := 0; i < 5; i++ {
		e, found, err := w.log.LastEvent(ctx, w.fund)
		if err == nil {
			switch {
			case found && e.ID == lastOfBatch.ID:
				return e.StreamSeq, nil
			case !found || e.StreamSeq == w.lastSeq:
				return 0, fmt.Errorf("append to fund %s did not land: %w", w.fund, eventlog.ErrConflict)
			default:
				return 0, fmt.Errorf("fund %s moved on without this batch: %w", w.fund, eventlog.ErrConflict)
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %w", eventlog.ErrUnknownOutcome, errors.Join(lastErr, ctx.Err()))
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	// Still unknown: the caller must not be told it was not recorded.
	return 0, fmt.Errorf("%w: %w", eventlog.ErrUnknownOutcome, lastErr)
}

func (w *Writer) setLastSeq(seq uint64) {
	w.lastSeq = seq
	w.mu.Lock()
	w.committed = seq
	w.mu.Unlock()
}

// reload rebuilds state, chain and idempotency memory from the whole log.
func (w *Writer) reload(ctx context.Context) error {
	w.state = domain.NewState(w.fund)
	w.version++
	w.chain = events.NewChain(w.fund)
	w.ids = map[string]seen{}
	w.idOrder = nil
	w.setLastSeq(0)
	return w.catchUp(ctx)
}

// catchUp applies the events appended to the fund since lastSeq, by this
// process before a restart or by another process. The events are read and
// checked (envelope, hash) on one goroutine and their payloads decoded on
// another while this one folds them: on a long log each of the three is
// about a third of the work (docs/performance.md, "Start-up decodes while
// it folds").
func (w *Writer) catchUp(ctx context.Context) error {
	last, err := w.log.LastSeq(ctx, w.fund)
	if err != nil {
		return err
	}
	if last == w.lastSeq {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	read, decoded := make(chan []decodedEvent, 4), make(chan []decodedEvent, 4)
	// Batches the fold is done with go back to the reader.
	free := make(chan []decodedEvent, 10)
	var (
		readErr, decodeErr error
		wg                 sync.WaitGroup
	)
	after := w.lastSeq
	wg.Go(func() {
		defer close(read)
		readErr = w.readEvents(ctx, after, free, read)
	})
	wg.Go(func() {
		defer close(decoded)
		if decodeErr = decodePayloads(ctx, read, decoded); decodeErr != nil {
			cancel()
		}
	})
	// However the fold ends, the reading has stopped when catchUp returns.
	defer func() {
		cancel()
		for range decoded {
		}
		wg.Wait()
	}()
	n := 0
	for b := range decoded {
		for _, d := range b {
			e := d.event
			if err := w.chain.Check(e); err != nil {
				return err
			}
			w.version++
			if err := domain.ApplyDecoded(w.state, e, d.payload); err != nil {
				return err
			}
			s := w.ids[e.CommandID]
			s.hash = e.CommandHash
			s.refs = append(s.refs, e.Ref())
			s.streamSeq = e.StreamSeq
			w.remember(e.CommandID, s)
			w.setLastSeq(e.StreamSeq)
			if n++; n%forgetEvery == 0 {
				// A command's events are contiguous: all but the last id read
				// are whole.
				w.forget(ctx, e.CommandID)
			}
		}
		clear(b)
		select {
		case free <- b[:0]:
		default:
		}
	}
	wg.Wait()
	// A payload that does not decode stops the reading: its error comes
	// first.
	if err := cmp.Or(decodeErr, readErr); err != nil {
		return err
	}
	w.forget(ctx, "")
	return nil
}

// decodedEvent is an event read by catchUp with its payload decoded.
type decodedEvent struct {
	event   events.Event
	payload events.Payload
}

// decodeBatch is how many events catchUp's goroutines hand over at once:
// few enough to keep memory flat, enough that the hand-over costs nothing.
const decodeBatch = 256

// readEvents reads the fund's events after stream seq after and sends them
// in order on out, in batches of decodeBatch, taken from free when it has
// one.
func (w *Writer) readEvents(ctx context.Context, after uint64, free <-chan []decodedEvent, out chan<- []decodedEvent) error {
	next := func() []decodedEvent {
		select {
		case b := <-free:
			return b
		default:
			return make([]decodedEvent, 0, decodeBatch)
		}
	}
	b := next()
	err := w.log.ReadFund(ctx, w.fund, after, func(e events.Event) error {
		if b = append(b, decodedEvent{event: e}); len(b) < decodeBatch {
			return nil
		}
		err := send(ctx, out, b)
		b = next()
		return err
	})
	if err == nil && len(b) > 0 {
		err = send(ctx, out, b)
	}
	return err
}

// decodePayloads decodes the payloads of the events it receives on in and
// sends them on to out, in order.
func decodePayloads(ctx context.Context, in <-chan []decodedEvent, out chan<- []decodedEvent) error {
	for b := range in {
		for i := range b {
			p, err := b[i].event.Payload()
			if err != nil {
				return err
			}
			b[i].payload = p
		}
		if err := send(ctx, out, b); err != nil {
			return err
		}
	}
	return nil
}

// send sends b on out unless ctx ends first.
func send(ctx context.Context, out chan<- []decodedEvent, b []decodedEvent) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forgetEvery is how many events catch-up reads between two forgets, so
// that start-up on a long log does not hold every command id at once.
const forgetEvery = 10_000

// CommandHash is the SHA-256 (hex) of a command: its endpoint path and the
// canonical form of its JSON body, so that the same body sent with other key
// order or spacing hashes the same.
func CommandHash(path string, body []byte) (string, error) {
	canon, err := events.Canonical(body)
	if err != nil {
		return "", fmt.Errorf("hash command: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil)), nil
}
