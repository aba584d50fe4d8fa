package eventlog

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// LastStreamSeq returns the stream's last sequence: 0 when it is empty.
func (l *Log) LastStreamSeq(ctx context.Context) (uint64, error) {
	st, err := l.js.Stream(ctx, l.name)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", l.name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", l.name, err)
	}
	return info.State.LastSeq, nil
}

// Follow calls fn, in stream order, for each message on a subject matching
// filter with stream sequence above after, as the stream receives them,
// until ctx ends (it returns ctx.Err()) or fn or the read fails. Messages
// are unchecked. End is set on a message beyond which the stream held
// nothing more when it was delivered: a reader that groups messages may
// flush there. Up to MaxBatchEvents messages are pulled at a time.
//
// It holds one ordered consumer while it runs (it recreates itself after a
// gap) and deletes it when it returns: the server would otherwise keep it
// for its inactivity threshold (minutes), and each restart of a follower
// would leave one more behind.
func (l *Log) Follow(ctx context.Context, filter string, after uint64, fn func(RawMsg) error) error {
	cons, err := l.js.OrderedConsumer(ctx, l.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		// OptStartSeq 0 is refused with this policy; after+1 is never 0.
		OptStartSeq: after + 1,
	})
	if err != nil {
		return fmt.Errorf("follow stream %s from seq %d: %w", l.name, after+1, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(MaxBatchEvents))
	if err != nil {
		return fmt.Errorf("follow stream %s from seq %d: %w", l.name, after+1, err)
	}
	defer func() {
		it.Stop()
		l.deleteConsumer(cons)
	}()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("follow stream %s: %w", l.name, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("follow stream %s: %w", l.name, err)
		}
		// NumPending is what the stream held beyond this message when it
		// was delivered: zero means the follower has caught up.
		if err := fn(RawMsg{Seq: md.Sequence.Stream, Subject: m.Subject(), Data: m.Data(), End: md.NumPending == 0}); err != nil {
			return err
		}
	}
}

// deleteConsumer deletes the ordered consumer's current server consumer,
// with a context of its own: the caller's has often ended. A failure is
// left to the server's inactivity threshold.
func (l *Log) deleteConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	_ = l.js.DeleteConsumer(ctx, l.name, info.Name)
}
