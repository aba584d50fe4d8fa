package eventlog

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// BulkReads returns the log as an offline tool that reads it whole sees it
// (projector rebuild, verify and export; a restore): its bounded reads
// (ReadRaw, ReadAll, ReadFund) pull their range through one ordered
// consumer, deleted when the read returns, instead of direct gets. The
// server pushes a consumer the stored messages as they are, where it writes
// six headers into each message of a direct get and counts what is pending
// for each batch: on a log of a million events that was most of the
// read's CPU (docs/performance.md, "The bulk read"). A server answering
// requests keeps direct gets, which leave nothing behind however many
// requests come and go (issue 8: one consumer per request reached the
// server's limit of consumers and took reads offline).
func (l *Log) BulkReads() *Log {
	bulk := *l
	bulk.bulk = true
	return &bulk
}

// readConsumer is ReadRaw through one ordered consumer (BulkReads). The
// consumer starts at after+1; the read ends with the message at last, or
// with one the stream held nothing matching beyond when it was delivered.
// End is set every MaxBatchEvents messages and on the last one.
func (l *Log) readConsumer(ctx context.Context, filter string, after, last uint64, fn func(RawMsg) error) error {
	if err := l.Connected(); err != nil {
		return fmt.Errorf("read stream %s from seq %d: %w", l.name, after+1, err)
	}
	cons, err := l.js.OrderedConsumer(ctx, l.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return fmt.Errorf("read stream %s from seq %d: %v: %w", l.name, after+1, err, ErrUnavailable)
	}
	defer l.deleteConsumer(cons)
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		return nil // nothing matches beyond after
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(MaxBatchEvents))
	if err != nil {
		return fmt.Errorf("read stream %s from seq %d: %v: %w", l.name, after+1, err, ErrUnavailable)
	}
	defer it.Stop()
	report, _ := ctx.Value(progressKey{}).(func(done, last uint64))
	for n := 1; ; n++ {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("read stream %s: %w", l.name, ctx.Err())
			}
			return fmt.Errorf("read stream %s: %v: %w", l.name, err, ErrUnavailable)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("read stream %s: %w", l.name, err)
		}
		seq := md.Sequence.Stream
		if seq > last {
			return nil // it came after the read began
		}
		done := seq == last || md.NumPending == 0
		end := done || n%MaxBatchEvents == 0
		if err := fn(RawMsg{Seq: seq, Subject: m.Subject(), Data: m.Data(), End: end}); err != nil {
			return err
		}
		if end && report != nil {
			report(seq, last)
		}
		if done {
			return nil
		}
	}
}
