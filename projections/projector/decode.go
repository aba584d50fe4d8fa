package projector

import (
	"context"
	"errors"
	"runtime"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// decodeChunk is how many messages one decoding goroutine takes at a time:
// enough that handing them over costs little beside hashing them.
const decodeChunk = 256

// chunk is a run of messages decoded by one goroutine; done is closed once
// evs and errs are set.
type chunk struct {
	msgs []eventlog.RawMsg
	evs  []events.Event
	errs []error
	done chan struct{}
}

func (c *chunk) decode() {
	c.evs, c.errs = make([]events.Event, len(c.msgs)), make([]error, len(c.msgs))
	for i, m := range c.msgs {
		c.evs[i], c.errs[i] = decodeMsg(m.Subject, m.Data, m.Seq)
	}
	c.msgs = nil
	close(c.done)
}

// ReadDecoded calls fn, in stream order, for each event with stream seq above
// after and at most until, as ReadRange's check does, but decodes and hashes
// the events on every core (decoding is most of the work of reading the
// chain, and fn only follows it). A message that does not decode ends the
// read with its *readmodel.EventError, after fn has seen every event before
// it.
func ReadDecoded(ctx context.Context, log *eventlog.Log, after, until uint64, fn func(events.Event) error) error {
	if after >= until {
		return nil
	}
	workers := max(runtime.GOMAXPROCS(0), 1)
	work := make(chan *chunk, workers)
	ordered := make(chan *chunk, 2*workers) // in stream order, for fn
	stop := make(chan struct{})
	for range workers {
		go func() {
			for c := range work {
				c.decode()
			}
		}()
	}
	// fn runs in its own goroutine, taking the chunks in order as they are
	// decoded, while this one reads the next batches.
	fnDone := make(chan error, 1)
	go func() {
		var err error
		for c := range ordered {
			if err != nil {
				continue // drain: the reader is being stopped
			}
			<-c.done
			for i, e := range c.evs {
				if err = c.errs[i]; err == nil {
					err = fn(e)
				}
				if err != nil {
					close(stop)
					break
				}
			}
		}
		fnDone <- err
	}()
	cur := &chunk{done: make(chan struct{})}
	send := func() bool {
		select {
		case <-stop:
			return false
		case ordered <- cur:
		}
		select {
		case <-stop:
			close(cur.done) // never decoded; fn has stopped
			return false
		case work <- cur:
		}
		cur = &chunk{done: make(chan struct{})}
		return true
	}
	err := log.ReadRaw(ctx, eventlog.AllFilter, after, until, func(m eventlog.RawMsg) error {
		cur.msgs = append(cur.msgs, m)
		if len(cur.msgs) == decodeChunk || m.Seq >= until {
			if !send() {
				return errStopped
			}
		}
		return nil
	})
	if err == nil && len(cur.msgs) > 0 {
		send()
	}
	close(work)
	close(ordered)
	if ferr := <-fnDone; ferr != nil {
		return ferr // it comes before anything read after it
	}
	if errors.Is(err, errStopped) {
		return nil // unreachable: the read stops only when fn fails
	}
	return err
}
