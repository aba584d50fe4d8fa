package eventlog

import (
	"context"
	"fmt"
)

// Info is the state of the stream as its server reports it.
type Info struct {
	// Msgs is the number of messages the stream holds, of every fund.
	Msgs uint64
	// LastSeq is the stream sequence of the last message (0 when empty).
	LastSeq uint64
	// Consumers is the number of consumers on the stream: the ledger's
	// reads leave none (ReadRaw), Follow one while it runs.
	Consumers int
}

// Info asks the server for the stream's state (one round trip).
func (l *Log) Info(ctx context.Context) (Info, error) {
	si, err := l.stream.Info(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("stream %s info: %w", l.name, err)
	}
	return Info{Msgs: si.State.Msgs, LastSeq: si.State.LastSeq, Consumers: si.State.Consumers}, nil
}

// ReadMsg reads the message at stream sequence seq, unchecked: one get from
// the stream's leader, for a caller that knows the sequence of the event it
// wants (the answer to a term's close reads back its term_closed event).
func (l *Log) ReadMsg(ctx context.Context, seq uint64) (RawMsg, error) {
	m, err := l.stream.GetMsg(ctx, seq)
	if err != nil {
		return RawMsg{}, fmt.Errorf("read stream %s at seq %d: %w", l.name, seq, err)
	}
	return RawMsg{Seq: m.Sequence, Subject: m.Subject, Data: m.Data}, nil
}
