package eventlog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// sealed returns n sealed donor_registered events of a fund following chain.
func sealed(t *testing.T, chain *events.Chain, n int) []events.Event {
	t.Helper()
	out := make([]events.Event, n)
	for i := range out {
		e, err := events.New("2021-01-01", &events.DonorRegistered{DonorID: fmt.Sprintf("d%d-%d", chain.FundSeq, i), Name: "x", Kind: "other", Country: "DE"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID = fmt.Sprintf("%s-%d", chain.Fund, chain.FundSeq+1)
		e.Fund, e.FundSeq = chain.Fund, chain.FundSeq+1
		e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2021-01-01T00:00:00Z", "t", "c", "h"
		if err := e.Seal(chain.Head); err != nil {
			t.Fatal(err)
		}
		if err := chain.Check(e); err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

func TestAppendExpectsFundLastSequence(t *testing.T) {
	_, log := testnats.Log(t)
	ctx := t.Context()
	a, b := events.NewChain("a"), events.NewChain("b")

	seqA, err := log.Append(ctx, "a", 0, sealed(t, &a, 3))
	if err != nil {
		t.Fatal(err)
	}
	// Another fund's appends do not disturb fund a's expectation.
	if _, err := log.Append(ctx, "b", 0, sealed(t, &b, 2)); err != nil {
		t.Fatal(err)
	}
	before, _ := log.LastSeq(ctx, "a")
	stale := a
	if _, err := log.Append(ctx, "a", seqA-1, sealed(t, &stale, 2)); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("stale expectation: got %v, want ErrConflict", err)
	}
	if after, _ := log.LastSeq(ctx, "a"); after != before {
		t.Fatalf("a refused batch appended: last seq %d → %d", before, after)
	}
	if _, err := log.Append(ctx, "a", seqA, sealed(t, &a, 2)); err != nil {
		t.Fatalf("fresh expectation after another fund's writes: %v", err)
	}

	var got []uint64
	err = log.ReadFund(ctx, "a", 0, func(e events.Event) error {
		got = append(got, e.FundSeq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Errorf("fund a fund_seqs %v, want [1 2 3 4 5]", got)
	}
}

func TestAppendBatchLimit(t *testing.T) {
	_, log := testnats.Log(t)
	c := events.NewChain("a")
	evs := sealed(t, &c, eventlog.MaxBatchEvents+1)
	if _, err := log.Append(t.Context(), "a", 0, evs); err == nil {
		t.Fatal("a batch over the limit was accepted")
	}
	seq, err := log.Append(t.Context(), "a", 0, evs[:eventlog.MaxBatchEvents])
	if err != nil {
		t.Fatal(err)
	}
	if seq != eventlog.MaxBatchEvents {
		t.Errorf("last seq %d, want %d", seq, eventlog.MaxBatchEvents)
	}
}

func TestStreamGuards(t *testing.T) {
	ns, log := testnats.Log(t)
	js, err := jetstream.New(testnats.Connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	c := events.NewChain("a")
	if _, err := log.Append(t.Context(), "a", 0, sealed(t, &c, 2)); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(t.Context(), eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(t.Context(), 1); err == nil {
		t.Error("deleting an event was allowed")
	}
	if err := s.Purge(t.Context()); err == nil {
		t.Error("purging the stream was allowed")
	}
	cfg := eventlog.Config(eventlog.DefaultStream, 1)
	cfg.DenyDelete = false
	if _, err := js.UpdateStream(t.Context(), cfg); err == nil {
		t.Error("switching off DenyDelete was allowed")
	}
}
