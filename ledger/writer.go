// Package ledger is the writer of one fund: it queues commands, decides each
// against the state left by the ones before it, appends the events of many
// commands in one atomic batch (group commit) and answers each caller.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// answered is set by the writer goroutine once it has sent the answer;
	// only that goroutine reads or writes it.
	answered bool
}

// answer sends the command's answer once.
func (p *pending) answer(a answer) {
	if p.answered {
		panic("ledger: a command answered twice")
	}
	p.answered = true
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

// Writer is the one writer of a fund in this process. Other processes may
// write the same fund: the stream's expected-sequence check serialises them
// and a conflict makes this writer read what is new and decide again.
type Writer struct {
	log   *eventlog.Log
	fund  string
	queue chan *pending
	now   func() time.Time
	newID func() string

	// owned by the run goroutine
	state   *domain.State
	chain   events.Chain
	lastSeq uint64 // stream seq of the fund's last event applied to state
	ids     map[string]seen

	mu        sync.Mutex
	committed uint64 // lastSeq, readable by other goroutines

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
}

// Open rebuilds the fund's state and idempotency memory from the log and
// starts the writer.
func Open(ctx context.Context, log *eventlog.Log, fund string, o Options) (*Writer, error) {
	if !eventlog.ValidFund(fund) {
		return nil, fmt.Errorf("open writer: invalid fund id %q", fund)
	}
	w := &Writer{
		log:     log,
		fund:    fund,
		queue:   make(chan *pending, MaxQueue),
		now:     o.Now,
		newID:   o.NewEventID,
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.newID == nil {
		w.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if err := w.reload(ctx); err != nil {
		return nil, err
	}
	go w.run()
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

// Close stops the writer; queued commands are answered ErrClosed.
func (w *Writer) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.stopped
}

// Submit queues a command and waits for its answer: a Result, a
// *domain.Error (nothing appended), ErrIdempotencyKeyReused, ErrBusy, or an
// infrastructure error. If ctx ends first the command may still be
// appended; asking again with the same command id tells.
func (w *Writer) Submit(ctx context.Context, r Request) (Result, error) {
	if r.CommandID == "" || len(r.CommandID) > MaxCommandIDLen || r.CommandHash == "" {
		return Result{}, fmt.Errorf("submit: command id must be 1 to %d characters and the hash set", MaxCommandIDLen)
	}
	p := &pending{req: r, ctx: ctx, done: make(chan answer, 1)}
	select {
	case <-w.stop:
		return Result{}, ErrClosed
	default:
	}
	select {
	case w.queue <- p:
	default:
		return Result{}, ErrBusy
	}
	select {
	case a := <-p.done:
		return a.res, a.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// NewCommandID returns a fresh command id for a request without an
// Idempotency-Key.
func NewCommandID() string { return uuid.NewString() }

func (w *Writer) run() {
	defer close(w.stopped)
	for {
		var first *pending
		select {
		case <-w.stop:
			w.drain()
			return
		case first = <-w.queue:
		}
		batch := []*pending{first}
		// Group commit: take whatever else is already waiting.
	more:
		for len(batch) < eventlog.MaxBatchEvents/2 {
			select {
			case p := <-w.queue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		w.process(batch)
	}
}

func (w *Writer) drain() {
	for {
		select {
		case p := <-w.queue:
			p.answer(answer{err: ErrClosed})
		default:
			return
		}
	}
}

// process decides and appends one batch of commands, retrying after
// conflicts, and answers every command of it.
func (w *Writer) process(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), BatchTimeout)
	defer cancel()
	var err error
	for attempt := 0; attempt < MaxAppendRetries; attempt++ {
		// Another process may have written the fund: catch up first, so that
		// commands about ids it created are judged against them.
		if err = w.catchUp(ctx); err != nil {
			err = fmt.Errorf("catch up fund %s: %w: %w", w.fund, ErrLogUnavailable, err)
			break
		}
		var retry bool
		retry, err = w.attempt(ctx, batch)
		if !retry {
			break
		}
		if err != nil {
			slog.Info("append conflict, deciding again", "fund", w.fund, "attempt", attempt+1, "err", err)
		}
	}
	if err != nil {
		for _, p := range batch {
			if !p.answered {
				p.answer(answer{err: err})
			}
		}
	}
}

// attempt decides every command of the batch still unanswered against the
// current state, appends their events and answers them. retry is true when
// the append did not land and the batch should be decided again.
func (w *Writer) attempt(ctx context.Context, batch []*pending) (retry bool, err error) {
	type decided struct {
		p     *pending
		first int // index of its first event in evs
		n     int
	}
	var (
		evs     []events.Event
		accept  []decided
		inBatch = map[string]string{} // command id → hash, for duplicates inside the batch
		chain   = w.chain
		dirty   bool
		refused []refusal
	)
	now := w.now().UTC()
	recordedAt := now.Format(time.RFC3339Nano)
	for _, p := range batch {
		if p.answered {
			continue
		}
		if p.ctx.Err() != nil {
			p.answer(answer{err: p.ctx.Err()})
			continue
		}
		id, hash := p.req.CommandID, p.req.CommandHash
		if s, ok := w.ids[id]; ok {
			p.answer(w.replay(id, hash, s))
			continue
		}
		if h, ok := inBatch[id]; ok {
			// The same key twice in one batch: the second waits for the next
			// batch, where the first one's result will be known.
			if h != hash {
				p.answer(answer{err: ErrIdempotencyKeyReused})
			}
			continue
		}
		out, derr := domain.Decide(w.state, p.req.Command)
		if derr != nil {
			// Answered only once the commands before it have landed: if they
			// do not, it is decided again against the state without them.
			refused = append(refused, refusal{p, derr})
			continue
		}
		if len(evs)+len(out) > eventlog.MaxBatchEvents {
			if len(evs) == 0 {
				p.answer(answer{err: fmt.Errorf("command makes %d events, more than one batch holds", len(out))})
			}
			continue // waits for the next batch
		}
		meta := domain.MetaOf(p.req.Command)
		first := len(evs)
		for _, e := range out {
			e.ID = w.newID()
			e.Fund = w.fund
			e.FundSeq = chain.FundSeq + 1
			e.RecordedAt = recordedAt
			e.Actor = meta.Actor
			e.CommandID = id
			e.CommandHash = hash
			if err := e.Seal(chain.Head); err != nil {
				return false, err
			}
			if err := chain.Check(e); err != nil {
				panic(err) // the writer built the chain itself
			}
			if err := domain.Apply(w.state, e); err != nil {
				panic(fmt.Sprintf("apply an event Decide just made: %v", err))
			}
			dirty = true
			evs = append(evs, e)
		}
		inBatch[id] = hash
		accept = append(accept, decided{p, first, len(out)})
	}
	answerRefused := func() {
		for _, r := range refused {
			r.p.answer(answer{err: r.err})
		}
	}
	if len(evs) == 0 {
		answerRefused()
		return w.pendingLeft(batch), nil
	}
	// Each append has its own deadline, so that a server lost mid-append
	// (a stream leader shut down) costs one AppendTimeout, not the whole
	// batch's time; the outcome is then found out, never assumed.
	actx, cancel := context.WithTimeout(ctx, AppendTimeout)
	last, err := w.log.Append(actx, w.fund, w.lastSeq, evs)
	cancel()
	if errors.Is(err, eventlog.ErrUnknownOutcome) {
		// The batch's own context may be spent: ask with a fresh one.
		rctx, cancel := context.WithTimeout(context.Background(), eventlog.DefaultTimeout)
		last, err = w.resolveUnknown(rctx, evs[len(evs)-1])
		cancel()
	}
	if err != nil {
		// Nothing landed (or we cannot tell): the in-memory state holds
		// events that are not in the log. Rebuild it from the log.
		if dirty {
			if rerr := w.reload(ctx); rerr != nil {
				return false, errors.Join(err, rerr)
			}
		}
		return errors.Is(err, eventlog.ErrConflict), err
	}
	w.chain = chain
	w.setLastSeq(last)
	firstSeq := last - uint64(len(evs)) + 1
	for _, d := range accept {
		refs := make([]events.Ref, d.n)
		for i := range refs {
			refs[i] = evs[d.first+i].Ref()
		}
		seq := firstSeq + uint64(d.first+d.n-1)
		w.ids[d.p.req.CommandID] = seen{hash: d.p.req.CommandHash, refs: refs, streamSeq: seq}
		d.p.answer(answer{res: Result{CommandID: d.p.req.CommandID, Events: refs, StreamSeq: seq}})
	}
	answerRefused()
	return w.pendingLeft(batch), nil
}

// pendingLeft reports whether some command of the batch still waits (a
// duplicate key inside the batch, or events beyond one batch).
func (w *Writer) pendingLeft(batch []*pending) bool {
	for _, p := range batch {
		if !p.answered {
			return true
		}
	}
	return false
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
			return 0, errors.Join(lastErr, ctx.Err())
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	return 0, lastErr
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
	w.chain = events.NewChain(w.fund)
	w.ids = map[string]seen{}
	w.setLastSeq(0)
	return w.catchUp(ctx)
}

// catchUp applies the events appended to the fund since lastSeq, by this
// process before a restart or by another process.
func (w *Writer) catchUp(ctx context.Context) error {
	last, err := w.log.LastSeq(ctx, w.fund)
	if err != nil {
		return err
	}
	if last == w.lastSeq {
		return nil
	}
	return w.log.ReadFund(ctx, w.fund, w.lastSeq, func(e events.Event) error {
		if err := w.chain.Check(e); err != nil {
			return err
		}
		if err := domain.Apply(w.state, e); err != nil {
			return err
		}
		s := w.ids[e.CommandID]
		s.hash = e.CommandHash
		s.refs = append(s.refs, e.Ref())
		s.streamSeq = e.StreamSeq
		w.ids[e.CommandID] = s
		w.setLastSeq(e.StreamSeq)
		return nil
	})
}

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
