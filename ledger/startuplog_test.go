package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestStartUpLogBulkReads: a writer whose start-up reads the log through
// its bulk reads (Options.StartUpLog, one consumer per read, as ledgerd
// does) starts with exactly the state, chain, last sequence and command ids
// of one that reads it by direct gets, from nothing and from a snapshot
// behind the log; the start-up log is the one read, no consumer is left on
// the stream, and a catch-up after Open (a conflict) reads the writer's own
// log again.
func TestStartUpLogBulkReads(t *testing.T) {
	ctx := t.Context()
	log := fundWithDonor(t)
	dir := t.TempDir()
	snap := filepath.Join(dir, "state.snapshot")
	store, err := projections.Open(filepath.Join(dir, "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	appendBatches := func(from, to int) {
		w, err := Open(ctx, log, "mdfm", Options{Now: overflowNow})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i := from; i < to; i++ {
			if _, err := w.Submit(ctx, request(w, fmt.Sprintf("big-%d", i), bigBatch(fmt.Sprintf("r%d", i), "osaka"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 1,202 events: more than one pull of the consumer (MaxBatchEvents).
	appendBatches(0, 3)
	// The read model folds the first 500: the writers keep the command ids
	// of the others in memory, read at start-up.
	var evs []events.Event
	if err := log.ReadAll(ctx, 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyBatch(ctx, evs[:500]); err != nil {
		t.Fatal(err)
	}
	type opened struct {
		w           *Writer
		own, bulk   *countingLog
		description string
	}
	open := func(snapshot string, startUp bool) opened {
		t.Helper()
		o := opened{own: &countingLog{Log: log}, bulk: &countingLog{Log: log.BulkReads()}, description: "direct gets"}
		opts := Options{Now: overflowNow, Commands: store, SnapshotPath: snapshot}
		if startUp {
			opts.StartUpLog, o.description = o.bulk, "bulk reads"
		}
		w, err := Open(ctx, o.own, "mdfm", opts)
		if err != nil {
			t.Fatal(err)
		}
		o.w = w
		return o
	}
	same := func(when string, direct, bulk opened) {
		t.Helper()
		if diff := cmp.Diff(direct.w.state, bulk.w.state); diff != "" {
			t.Errorf("%s: state after a start-up through bulk reads differs (-direct +bulk):\n%s", when, diff)
		}
		if direct.w.chain != bulk.w.chain || direct.w.lastSeq != bulk.w.lastSeq {
			t.Errorf("%s: chain %+v at stream seq %d through bulk reads, want %+v at %d", when, bulk.w.chain, bulk.w.lastSeq, direct.w.chain, direct.w.lastSeq)
		}
		if diff := cmp.Diff(direct.w.ids, bulk.w.ids, cmp.AllowUnexported(seen{})); diff != "" || !cmp.Equal(direct.w.idOrder, bulk.w.idOrder) {
			t.Errorf("%s: command ids kept after a start-up through bulk reads differ (-direct +bulk):\n%s", when, diff)
		}
		if len(direct.w.ids) == 0 {
			t.Errorf("%s: no command id kept: the read model's lag is not exercised", when)
		}
		if direct.own.read == 0 || bulk.own.read != 0 || bulk.bulk.read != direct.own.read {
			t.Errorf("%s: start-up read %d events through the writer's log and %d through the start-up log; want 0 and the %d of a start-up by direct gets",
				when, bulk.own.read, bulk.bulk.read, direct.own.read)
		}
	}
	noConsumers := func(when string) {
		t.Helper()
		si, err := log.JetStreamForTests().Stream(ctx, eventlog.DefaultStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := si.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := info.State.Consumers; n != 0 {
			t.Errorf("%s: the stream holds %d consumers after start-up, want 0", when, n)
		}
	}

	direct, bulk := open(snap, false), open("", true)
	same("from nothing", direct, bulk)
	noConsumers("from nothing")
	bulk.w.Close()
	direct.w.Close() // writes the snapshot
	appendBatches(3, 4)
	direct, bulk = open(snap, false), open(snap, true)
	if direct.w.snapFundSeq == 0 || direct.w.snapFundSeq >= direct.w.state.FundSeq {
		t.Fatalf("the writers did not start from a snapshot behind the log (snapshot at fund_seq %d, state at %d)", direct.w.snapFundSeq, direct.w.state.FundSeq)
	}
	same("from a snapshot", direct, bulk)
	noConsumers("from a snapshot")
	direct.w.Close()

	// Another writer moves the fund on: the bulk writer's next command
	// conflicts, and its catch-up reads its own log, not the start-up one.
	appendBatches(4, 5)
	before := bulk.bulk.read
	if _, err := bulk.w.Submit(ctx, request(bulk.w, "after", receiptCommand(1))); err != nil {
		t.Fatal(err)
	}
	if bulk.own.read == 0 || bulk.bulk.read != before {
		t.Errorf("catch-up after Open read %d events through the writer's log and %d through the start-up log, want some and none", bulk.own.read, bulk.bulk.read-before)
	}
	bulk.w.Close()
}

// receiptCommand is one contribution of osaka's.
func receiptCommand(i int) domain.Command {
	return &domain.RecordContribution{ID: fmt.Sprintf("one-%d", i), DonorID: "osaka", TermID: "2020-2021",
		Amount: domain.MoneyInput{Amount: "10.00", Currency: "USD"}, ReceivedOn: "2021-01-15"}
}

// TestStartUpLogTampered: an altered event inside the log stops a start-up
// through bulk reads as it stops one by direct gets, naming the event.
func TestStartUpLogTampered(t *testing.T) {
	ctx := t.Context()
	log := fundWithDonor(t)
	var last events.Event
	if err := log.ReadAll(ctx, 0, func(e events.Event) error { last = e; return nil }); err != nil {
		t.Fatal(err)
	}
	// The next event of the chain with a hash that is not its own, then a
	// sound one after it: the log's last event reads well, the fold must
	// find the altered one.
	forged := last
	forged.ID, forged.FundSeq, forged.PrevHash = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", last.FundSeq+1, last.Hash
	after := last
	after.ID, after.FundSeq = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", last.FundSeq+2
	if err := after.Seal(forged.Hash); err != nil {
		t.Fatal(err)
	}
	for _, e := range []events.Event{forged, after} {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := log.JetStreamForTests().Publish(ctx, eventlog.Subject("mdfm", e.Type), b); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, err := log.LastEvent(ctx, "mdfm"); err != nil || !found {
		t.Fatalf("the log's last event: found %v, %v", found, err)
	}
	_, direct := Open(ctx, log, "mdfm", Options{Now: overflowNow})
	_, bulk := Open(ctx, log, "mdfm", Options{Now: overflowNow, StartUpLog: log.BulkReads()})
	if !errors.Is(bulk, events.ErrTampered) || fmt.Sprint(bulk) != fmt.Sprint(direct) {
		t.Errorf("start-up through bulk reads over an altered event: %v; by direct gets: %v", bulk, direct)
	}
}

// TestStartUpDecodesWhileItFolds: start-up reads, decodes and folds on
// three goroutines (catchUp). Over 801 events (batches of decodeBatch, and
// one left over) it ends with the state of a fold one event at a time. An
// event whose payload does not decode, or that does not follow the one
// before it, followed by more sound events than the reading runs ahead,
// stops the start-up with that event's error, not with the reading's
// cancellation, and leaves none of catchUp's goroutines running.
func TestStartUpDecodesWhileItFolds(t *testing.T) {
	for _, tc := range []struct {
		name string
		// spoil changes the first appended event, sealed after it.
		spoil func(e *events.Event)
		want  func(e events.Event) string
	}{
		{"undecodable payload", func(e *events.Event) { e.Data = []byte(`{"no_such_field":1}`) },
			func(e events.Event) string {
				return fmt.Sprintf("decode %s data of fund mdfm fund_seq %d", e.Type, e.FundSeq)
			}},
		{"broken chain", func(e *events.Event) { e.FundSeq++ },
			func(e events.Event) string {
				return fmt.Sprintf("fund mdfm fund_seq %d follows fund_seq %d", e.FundSeq, e.FundSeq-2)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, last := startUpLog(t)
			bad := last
			bad.ID, bad.FundSeq = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", last.FundSeq+1
			tc.spoil(&bad)
			if err := bad.Seal(last.Hash); err != nil {
				t.Fatal(err)
			}
			// More sound events than the reading goroutine runs ahead of
			// the fold (two channels of 4 batches): it is still reading
			// when the fold stops.
			forged := []events.Event{bad}
			for i := range 12 * decodeBatch {
				e, prev := last, forged[len(forged)-1]
				e.ID, e.FundSeq = fmt.Sprintf("0190a1b2-c3d4-7e5f-8a9b-%012d", i), prev.FundSeq+1
				if err := e.Seal(prev.Hash); err != nil {
					t.Fatal(err)
				}
				forged = append(forged, e)
			}
			publishAll(t, log, forged)
			want := tc.want(bad)
			for _, startUp := range []Log{nil, log.BulkReads()} {
				_, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow, StartUpLog: startUp})
				if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, context.Canceled) {
					t.Errorf("start-up (bulk reads %v): %v, want an error saying %q", startUp != nil, err, want)
				}
				buf := make([]byte, 1<<20)
				if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "ledger.(*Writer).readEvents") || strings.Contains(stacks, "ledger.decodePayloads") {
					t.Errorf("start-up (bulk reads %v) returned with its reading goroutines still running", startUp != nil)
				}
			}
		})
	}
}

// startUpLog returns a log of 801 events, checked to start up to the state
// of a fold one event at a time, and its last event.
func startUpLog(t *testing.T) (*eventlog.Log, events.Event) {
	t.Helper()
	ctx := t.Context()
	log := fundWithDonor(t)
	w, err := Open(ctx, log, "mdfm", Options{Now: overflowNow})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := w.Submit(ctx, request(w, fmt.Sprintf("big-%d", i), bigBatch(fmt.Sprintf("r%d", i), "osaka"))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	one := domain.NewState("mdfm")
	var last events.Event
	if err := log.ReadAll(ctx, 0, func(e events.Event) error { last = e; return domain.Apply(one, e) }); err != nil {
		t.Fatal(err)
	}
	if n := one.FundSeq; n < 3*decodeBatch || n%decodeBatch == 0 {
		t.Fatalf("the log holds %d events: want several batches of %d and one part-filled", n, decodeBatch)
	}
	for _, startUp := range []Log{nil, log.BulkReads()} {
		w, err := Open(ctx, log, "mdfm", Options{Now: overflowNow, StartUpLog: startUp})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(one, w.state); diff != "" {
			t.Errorf("state after start-up (bulk reads %v) differs from a fold one event at a time (-want +got):\n%s", startUp != nil, diff)
		}
		w.Close()
	}
	return log, last
}

// publishAll appends evs to the log as they are, unchecked.
func publishAll(t *testing.T, log *eventlog.Log, evs []events.Event) {
	t.Helper()
	js := log.JetStreamForTests()
	for _, e := range evs {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishAsync(eventlog.Subject("mdfm", e.Type), b); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
}
