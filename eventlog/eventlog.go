// Package eventlog keeps the ledger's events in a NATS JetStream stream: the
// embedded server, the stream's configuration, atomic appends that expect a
// fund's last sequence, and reads.
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// Limits of the log.
const (
	DefaultStream = "MDFM"
	DefaultFund   = "mdfm"
	// SubjectRoot is the first token of every event subject: mdfm.<fund>.<type>.
	SubjectRoot = "mdfm"
	// MaxBatchEvents is the server's limit on the messages of one atomic batch.
	MaxBatchEvents = 1000
	// MaxFundIDLen bounds a fund id, which is a subject token.
	MaxFundIDLen = 32
	// MaxReadBatchBytes bounds the bytes of one direct-get batch of a read.
	MaxReadBatchBytes = 8 << 20
	// MaxLaggingReads bounds how often a read asks again when a batch
	// brings nothing short of the last sequence wanted (a lagging replica).
	MaxLaggingReads = 10
)

var fundPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidFund reports whether id can name a fund: lower-case letters, digits,
// '_' and '-', so that it is one subject token.
func ValidFund(id string) bool { return len(id) <= MaxFundIDLen && fundPattern.MatchString(id) }

// Subject is the subject of an event of a fund.
func Subject(fund, typ string) string { return SubjectRoot + "." + fund + "." + typ }

// FundFilter is the subject filter of all events of a fund.
func FundFilter(fund string) string { return SubjectRoot + "." + fund + ".>" }

// AllFilter is the subject filter of every fund's events.
const AllFilter = SubjectRoot + ".>"

var (
	// ErrConflict: another writer appended to the fund since the expected
	// sequence. Nothing was appended; reload and decide again.
	ErrConflict = errors.New("fund changed since it was read")
	// ErrUnknownOutcome: the append may or may not have landed (timeout, lost
	// ack). Never resend blindly: compare the fund's last event with the
	// batch's last event first (see Log.LastEvent).
	ErrUnknownOutcome = errors.New("append outcome unknown")
	// ErrUnavailable: the log cannot be written or read now (the server
	// unreachable, the stream without a leader, the server out of storage).
	// Nothing was appended; retry later.
	ErrUnavailable = errors.New("event log unavailable")
)

// JetStream's API errors that mean the server has no room left: its disk
// (or its JetStream storage limit) is full.
const (
	errCodeInsufficientResources    = 10023
	errCodeStorageResourcesExceeded = 10047
)

// Config returns the stream configuration of the design: file storage, no
// deletes, no purges, no rollups, no limits, discard new, atomic batches.
// replicas is 1 on one server and 3 on a cluster.
func Config(name string, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               name,
		Description:        "mdfm-ledger events: append-only, hash-chained per fund",
		Subjects:           []string{AllFilter},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardNew,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxAge:             0,
		MaxMsgSize:         events.MaxEventBytes,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowRollup:        false,
		AllowAtomicPublish: true,
		AllowDirect:        true,
		Replicas:           replicas,
	}
}

// Log is the stream seen through one connection.
type Log struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	name   string
	bulk   bool // bounded reads through a consumer (BulkReads)
}

// Open creates the stream if it does not exist, or checks that an existing one
// keeps the guards the ledger relies on, and returns the log.
func Open(ctx context.Context, nc *nats.Conn, name string, replicas int) (*Log, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream context: %w", err)
	}
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, Config(name, replicas))
	}
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", name, err)
	}
	cfg := s.CachedInfo().Config
	if !cfg.DenyDelete || !cfg.DenyPurge || cfg.AllowRollup || !cfg.AllowAtomicPublish || cfg.Storage != jetstream.FileStorage {
		return nil, fmt.Errorf("open stream %s: it allows deletes, purges or rollups, or lacks atomic batches or file storage", name)
	}
	return &Log{js: js, stream: s, name: name}, nil
}

// Ready reports why the log cannot be used now: the NATS connection is not
// connected, or the stream does not answer within ctx. Nil means it can.
func (l *Log) Ready(ctx context.Context) error {
	if err := l.Connected(); err != nil {
		return err
	}
	if _, err := l.stream.Info(ctx); err != nil {
		return fmt.Errorf("stream %s does not answer: %w", l.name, err)
	}
	return nil
}

// Connected says, without a round trip, whether the NATS connection is up:
// nil, or an error wrapping ErrUnavailable that names its state. Writes
// check it first so that they answer at once while the server is away
// instead of waiting for a timeout.
func (l *Log) Connected() error {
	if st := l.js.Conn().Status(); st != nats.CONNECTED {
		return fmt.Errorf("the NATS connection is %s: %w", st, ErrUnavailable)
	}
	return nil
}

// JetStreamForTests returns the log's JetStream context, for tests that do
// what the ledger never does: publish a forged or junk message without the
// append's expectation (internal/ledgertest's forger), close the log's
// connection, ask a cluster which server leads the stream. The ledger's own
// code reads and writes the stream through Log's methods (Append, the reads,
// Info, ReadMsg) only; TestJetStreamForTestsOnly holds it to that.
func (l *Log) JetStreamForTests() jetstream.JetStream { return l.js }

// Stream returns the stream's name.
func (l *Log) Stream() string { return l.name }

// Append writes sealed events of one fund as one atomic batch: all land or
// none. The batch lands only if the fund's last message has stream sequence
// expectLast (0 when the fund has none). It returns the stream sequence of
// the last event. Errors wrap ErrConflict or ErrUnknownOutcome, or are
// definite refusals (nothing appended).
func (l *Log) Append(ctx context.Context, fund string, expectLast uint64, evs []events.Event) (uint64, error) {
	if len(evs) == 0 || len(evs) > MaxBatchEvents {
		return 0, fmt.Errorf("append %d events: a batch holds 1 to %d", len(evs), MaxBatchEvents)
	}
	if err := l.Connected(); err != nil {
		return 0, fmt.Errorf("append to fund %s: %w", fund, err)
	}
	msgs := make([]*nats.Msg, len(evs))
	for i, e := range evs {
		if e.Fund != fund {
			return 0, fmt.Errorf("append: event %s of fund %s in a batch of fund %s", e.ID, e.Fund, fund)
		}
		b, err := e.Encode()
		if err != nil {
			return 0, err
		}
		m := nats.NewMsg(Subject(fund, e.Type))
		m.Data = b
		if i == 0 {
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expectLast, 10))
			m.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, FundFilter(fund))
		}
		msgs[i] = m
	}
	ack, err := jetstreamext.PublishMsgBatch(ctx, l.js, msgs)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode {
			case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
				return 0, fmt.Errorf("append to fund %s after stream seq %d: %w", fund, expectLast, ErrConflict)
			}
			if c := apiErr.ErrorCode; c == errCodeInsufficientResources || c == errCodeStorageResourcesExceeded {
				return 0, fmt.Errorf("append to fund %s: the NATS server is out of storage (disk full, or its JetStream max_file_store reached): %v: %w", fund, err, ErrUnavailable)
			}
			return 0, fmt.Errorf("append to fund %s: %v: %w", fund, err, ErrUnavailable)
		}
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrConnectionClosed) {
			// Nobody took the batch: it was not committed.
			return 0, fmt.Errorf("append to fund %s: %v: %w", fund, err, ErrUnavailable)
		}
		// A timeout, a closed connection, a garbled ack: the batch may have
		// been committed.
		return 0, fmt.Errorf("append to fund %s: %v: %w", fund, err, ErrUnknownOutcome)
	}
	return ack.Sequence, nil
}

// LastEvent returns the last event of a fund, or found false when it has none.
func (l *Log) LastEvent(ctx context.Context, fund string) (e events.Event, found bool, err error) {
	if err := l.Connected(); err != nil {
		return events.Event{}, false, fmt.Errorf("read last event of fund %s: %w", fund, err)
	}
	m, err := l.stream.GetLastMsgForSubject(ctx, FundFilter(fund))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return events.Event{}, false, nil
	}
	if err != nil {
		return events.Event{}, false, fmt.Errorf("read last event of fund %s: %v: %w", fund, err, ErrUnavailable)
	}
	e, err = events.Decode(m.Data)
	if err != nil {
		return e, false, fmt.Errorf("last event of fund %s at stream seq %d: %w", fund, m.Sequence, err)
	}
	e.StreamSeq = m.Sequence
	return e, true, nil
}

// LastSeq returns the stream sequence of the fund's last event (0 for none).
func (l *Log) LastSeq(ctx context.Context, fund string) (uint64, error) {
	e, found, err := l.LastEvent(ctx, fund)
	if err != nil || !found {
		return 0, err
	}
	return e.StreamSeq, nil
}

// ReadFund calls fn for each event of a fund with stream sequence above
// after, in order, up to the fund's last event when the call began. Each
// event's bytes and hash are checked (events.Decode); the chain is the
// caller's to follow.
func (l *Log) ReadFund(ctx context.Context, fund string, after uint64, fn func(events.Event) error) error {
	last, err := l.LastSeq(ctx, fund)
	if err != nil {
		return err
	}
	return l.read(ctx, FundFilter(fund), after, last, fn)
}

// ReadAll calls fn for every event of every fund with stream sequence above
// after, up to the stream's last sequence when the call began.
func (l *Log) ReadAll(ctx context.Context, after uint64, fn func(events.Event) error) error {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %v: %w", err, ErrUnavailable)
	}
	return l.read(ctx, AllFilter, after, info.State.LastSeq, fn)
}

func (l *Log) read(ctx context.Context, filter string, after, last uint64, fn func(events.Event) error) error {
	return l.ReadRaw(ctx, filter, after, last, func(m RawMsg) error {
		e, err := events.Decode(m.Data)
		if err != nil {
			return fmt.Errorf("stream seq %d: %w", m.Seq, err)
		}
		e.StreamSeq = m.Seq
		return fn(e)
	})
}

// RawMsg is one stored message as the stream holds it.
type RawMsg struct {
	Seq     uint64 // stream sequence
	Subject string
	Data    []byte
	// End is true on the last message of one direct-get batch (ReadRaw),
	// or on one the stream held nothing beyond (Follow): a reader that
	// groups messages may flush there.
	End bool
}

// ReadRaw calls fn, in stream order, for each message on a subject matching
// filter with stream sequence above after and at most last, unchecked.
//
// It reads with direct gets (jetstreamext.GetBatch) in batches of up to
// MaxBatchEvents: no consumer is made, so a read leaves no state on the
// server whether it ends, fails or its caller goes away (issue 8: one
// ephemeral consumer per GET /v1/events reached the server's limit of 1000
// consumers a stream and took reads offline for minutes). A direct get may
// be answered by a replica that lags (AllowDirect): a batch that ends before
// last is asked again from where it stopped, at most MaxLaggingReads times.
// A log of BulkReads reads through one consumer instead, deleted when the
// read returns.
func (l *Log) ReadRaw(ctx context.Context, filter string, after, last uint64, fn func(RawMsg) error) error {
	if l.bulk && after < last {
		return l.readConsumer(ctx, filter, after, last, fn)
	}
	report, _ := ctx.Value(progressKey{}).(func(done, last uint64))
	next, lagging := after+1, 0
	for next <= last {
		got, err := l.readBatch(ctx, filter, next, last, fn)
		if err != nil {
			return err
		}
		if got > next {
			next, lagging = got, 0
			if report != nil {
				report(got-1, last)
			}
			continue
		}
		if lagging++; lagging > MaxLaggingReads {
			return fmt.Errorf("read stream %s from seq %d: no message up to seq %d after %d tries", l.name, next, last, lagging)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read stream %s: %w", l.name, ctx.Err())
		case <-time.After(time.Duration(lagging) * 100 * time.Millisecond):
		}
	}
	return nil
}

// readBatch reads one direct-get batch from stream seq from, and returns
// the sequence to ask for next (from when it got nothing).
func (l *Log) readBatch(ctx context.Context, filter string, from, last uint64, fn func(RawMsg) error) (uint64, error) {
	if err := l.Connected(); err != nil {
		return from, fmt.Errorf("read stream %s from seq %d: %w", l.name, from, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	n := min(last-from+1, MaxBatchEvents)
	msgs, err := jetstreamext.GetBatch(ctx, l.js, l.name, int(n),
		jetstreamext.GetBatchSeq(from), jetstreamext.GetBatchSubject(filter), jetstreamext.GetBatchMaxBytes(MaxReadBatchBytes))
	if err != nil {
		return from, fmt.Errorf("read stream %s from seq %d: %v: %w", l.name, from, err, ErrUnavailable)
	}
	next := from
	var prev *RawMsg
	deliver := func(end bool) error {
		if prev == nil {
			return nil
		}
		prev.End = end
		return fn(*prev)
	}
	for m, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			break
		}
		if err != nil {
			return next, fmt.Errorf("read stream %s from seq %d: %w", l.name, next, err)
		}
		if m.Sequence < next || m.Sequence > last {
			// Nothing beyond last is wanted: it came after the read began.
			break
		}
		if err := deliver(false); err != nil {
			return next, err
		}
		prev = &RawMsg{Seq: m.Sequence, Subject: m.Subject, Data: m.Data}
		next = m.Sequence + 1
	}
	if prev != nil {
		// Whether the stream holds more past a batch is unknown; the end of a
		// batch, or last, is where a reader that groups messages flushes.
		if err := deliver(true); err != nil {
			return next, err
		}
	}
	return next, nil
}

// DefaultTimeout bounds one append or read round trip when the caller's
// context has no deadline.
const DefaultTimeout = 10 * time.Second

type progressKey struct{}

// WithProgress returns a context whose bounded reads (ReadRaw, ReadFund,
// ReadAll) call report after each batch they deliver, with the stream
// sequence read up to and the last one the read goes to: long work (a
// rebuild, a verify, an export, a writer's start-up) shows how far it is
// without every caller passing a hook down (issue 10).
func WithProgress(ctx context.Context, report func(done, last uint64)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}
