package eventlog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// readAll returns what ReadRaw delivers, one line a message, and whether
// the last message delivered had End set.
func readAll(t *testing.T, log *eventlog.Log, filter string, after, last uint64) ([]string, bool) {
	t.Helper()
	var (
		got []string
		end bool
	)
	err := log.ReadRaw(t.Context(), filter, after, last, func(m eventlog.RawMsg) error {
		got = append(got, fmt.Sprintf("%d %s %s", m.Seq, m.Subject, m.Data))
		end = m.End
		return nil
	})
	if err != nil {
		t.Fatalf("ReadRaw(%s, %d, %d): %v", filter, after, last, err)
	}
	return got, end
}

// TestBulkReadsMatchDirectGets: a log of BulkReads delivers exactly what
// direct gets deliver, for every fund, from anywhere, up to anywhere (a
// fund whose last event comes before last included), ends each read on a
// message marked End, and leaves no consumer on the stream, whether the
// read ran to its end or its caller stopped it.
func TestBulkReadsMatchDirectGets(t *testing.T) {
	ns, log := testnats.Log(t)
	ctx := t.Context()
	a, b := events.NewChain("a"), events.NewChain("b")
	var lastA, last uint64
	for _, n := range []int{eventlog.MaxBatchEvents, 3, 700, 1} {
		var err error
		if lastA, err = log.Append(ctx, "a", lastA, sealed(t, &a, n)); err != nil {
			t.Fatal(err)
		}
		lastB, _ := log.LastSeq(ctx, "b")
		if last, err = log.Append(ctx, "b", lastB, sealed(t, &b, 2)); err != nil {
			t.Fatal(err)
		}
	}
	lastA, _ = log.LastSeq(ctx, "a")
	bulk := log.BulkReads()
	// wantLast is where the direct read stops: it wants a message at its
	// last sequence, and asks again when the filter has none there.
	for _, r := range []struct {
		filter                string
		after, last, wantLast uint64
	}{
		{eventlog.AllFilter, 0, last, last},
		{eventlog.AllFilter, 5, 1003, 1003},
		{eventlog.FundFilter("a"), 0, lastA, lastA},
		{eventlog.FundFilter("a"), 2, last, lastA}, // a's last event comes before last
		{eventlog.FundFilter("b"), 1001, last, last},
		{eventlog.FundFilter("a"), lastA, last, lastA}, // nothing of a after lastA
		{eventlog.AllFilter, last, last, last},
		{eventlog.FundFilter("c"), 0, last, 0}, // no such fund
	} {
		want, _ := readAll(t, log, r.filter, r.after, r.wantLast)
		got, end := readAll(t, bulk, r.filter, r.after, r.last)
		if len(want) == 0 && r.wantLast > r.after {
			t.Fatalf("ReadRaw(%s, %d, %d) by direct gets reads nothing: the case tests nothing", r.filter, r.after, r.wantLast)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ReadRaw(%s, %d, %d): bulk read delivered %d messages, direct gets %d, or others", r.filter, r.after, r.last, len(got), len(want))
		}
		if len(got) > 0 && !end {
			t.Errorf("ReadRaw(%s, %d, %d): the last message of a bulk read is not marked End", r.filter, r.after, r.last)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := bulk.ReadRaw(ctx, eventlog.AllFilter, 0, last, func(eventlog.RawMsg) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("a bulk read whose caller stops at the 10th message: %v after %d messages", err, n)
	}
	js := testnats.Connect(t, ns)
	info, err := js.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.StreamInfo(eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if si.State.Consumers != 0 {
		t.Errorf("the stream holds %d consumers after the bulk reads, want 0", si.State.Consumers)
	}
}
