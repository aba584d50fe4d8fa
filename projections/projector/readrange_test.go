package projector

import (
	"fmt"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// TestReadRangeReplayBatches: a bounded read hands apply batches of
// readmodel.ReplayBatchEvents, larger than the server's reads of 1,000,
// then what is left, every event once and in order, through direct gets
// and through a consumer (BulkReads) alike; a read that starts inside the
// log and ends before its last event is bounded the same.
func TestReadRangeReplayBatches(t *testing.T) {
	_, log := testnats.Log(t)
	const n = readmodel.ReplayBatchEvents + 7
	chain := events.NewChain("f")
	for appended := 0; appended < n; {
		batch := make([]events.Event, 0, eventlog.MaxBatchEvents)
		for len(batch) < eventlog.MaxBatchEvents && appended+len(batch) < n {
			e, err := events.New("2021-01-01", &events.DonorRegistered{DonorID: fmt.Sprintf("d%d", chain.FundSeq), Name: "x", Kind: "other", Country: "DE"})
			if err != nil {
				t.Fatal(err)
			}
			e.ID, e.Fund, e.FundSeq = fmt.Sprintf("f-%d", chain.FundSeq+1), "f", chain.FundSeq+1
			e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2021-01-01T00:00:00Z", "t", "c", "h"
			if err := e.Seal(chain.Head); err != nil {
				t.Fatal(err)
			}
			if err := chain.Check(e); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, e)
		}
		if _, err := log.Append(t.Context(), "f", uint64(appended), batch); err != nil {
			t.Fatal(err)
		}
		appended += len(batch)
	}
	for _, c := range []struct {
		name         string
		log          *eventlog.Log
		after, until uint64
		sizes        []int
	}{
		{"direct gets", log, 0, n, []int{readmodel.ReplayBatchEvents, 7}},
		{"a consumer", log.BulkReads(), 0, n, []int{readmodel.ReplayBatchEvents, 7}},
		{"a consumer, inside the log", log.BulkReads(), 5, n - 3, []int{n - 8}},
	} {
		var sizes []int
		next := c.after + 1
		err := ReadRange(t.Context(), c.log, c.after, c.until, nil, func(evs []events.Event) error {
			sizes = append(sizes, len(evs))
			for _, e := range evs {
				if e.StreamSeq != next {
					return fmt.Errorf("stream seq %d where %d was next", e.StreamSeq, next)
				}
				next++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if fmt.Sprint(sizes) != fmt.Sprint(c.sizes) || next != c.until+1 {
			t.Errorf("%s: batches of %v up to seq %d, want %v up to %d", c.name, sizes, next-1, c.sizes, c.until)
		}
	}
}
