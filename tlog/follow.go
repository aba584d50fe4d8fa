package tlog

import (
	"context"
	"fmt"
	"time"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
)

// SignEvery is the least time between two checkpoints of one fund: a new
// one is signed after appends, at most once a second.
const SignEvery = time.Second

// MaxAppendLeaves bounds the leaves of one transaction of the tree store.
const MaxAppendLeaves = eventlog.MaxBatchEvents

// Follower keeps one fund's tree up with the log and signs a checkpoint
// whenever the tree grew.
type Follower struct {
	Log    *eventlog.Log
	Store  *Store
	Signer *Signer
	Fund   string
}

// Sync appends the fund's events the tree does not have yet, up to the
// fund's last event when it began, then signs and keeps a checkpoint of the
// new size if none is kept. It returns the tree's size.
func (f *Follower) Sync(ctx context.Context) (uint64, error) {
	h, err := f.Store.Head(ctx, f.Fund)
	if err != nil {
		return 0, err
	}
	last, err := f.Log.LastSeq(ctx, f.Fund)
	if err != nil {
		return 0, err
	}
	var batch []Leaf
	size := h.Size
	flush := func() error {
		if err := f.Store.Append(ctx, f.Fund, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	err = f.Log.ReadRaw(ctx, eventlog.FundFilter(f.Fund), h.StreamSeq, last, func(m eventlog.RawMsg) error {
		size++
		batch = append(batch, Leaf{FundSeq: size, StreamSeq: m.Seq, Bytes: m.Data})
		if len(batch) >= MaxAppendLeaves {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, fmt.Errorf("tree of fund %s: %w", f.Fund, err)
	}
	if size == 0 || f.Signer == nil {
		return size, nil
	}
	if _, _, err := f.Store.Checkpoint(ctx, f.Fund, size); err == nil {
		return size, nil
	}
	root, err := f.Store.Root(ctx, f.Fund, size)
	if err != nil {
		return 0, err
	}
	msg, err := f.Signer.Sign(size, root)
	if err != nil {
		return 0, fmt.Errorf("sign checkpoint of fund %s size %d: %w", f.Fund, size, err)
	}
	return size, f.Store.SaveCheckpoint(ctx, f.Fund, size, msg)
}

// Run syncs every SignEvery until ctx ends. An error is reported to onErr
// and the next tick tries again: the tree only trails the log.
func (f *Follower) Run(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(SignEvery)
	defer t.Stop()
	for {
		if _, err := f.Sync(ctx); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
