package ledger

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// TestResolveUnknownOutcome checks the rule for a lost ack: the writer
// reads the fund's last event and compares ids instead of resending. A
// batch that landed is reported at its sequence; one that did not is a
// conflict, to be decided again.
func TestResolveUnknownOutcome(t *testing.T) {
	_, log := testnats.Log(t)
	w, err := Open(t.Context(), log, "mdfm", Options{Now: func() time.Time { return time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	batch := func(prev events.Chain) []events.Event {
		e, err := events.New("2021-06-01", &events.DonorRegistered{DonorID: uuid.NewString()[:8], Name: "x", Kind: "other", Country: "DE"})
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.Fund, e.FundSeq = uuid.Must(uuid.NewV7()).String(), "mdfm", prev.FundSeq+1
		e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2021-06-01T00:00:00Z", "olu", "k", "h"
		if err := e.Seal(prev.Head); err != nil {
			t.Fatal(err)
		}
		return []events.Event{e}
	}

	// The writer's view: nothing appended yet. A batch that did not land
	// is a conflict (decide again), never a success.
	notLanded := batch(w.chain)
	if _, err := w.resolveUnknown(t.Context(), notLanded[0]); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("batch not in the log: got %v, want ErrConflict", err)
	}

	// The batch landed but its ack was lost: resolveUnknown finds it.
	landed := batch(w.chain)
	seq, err := log.Append(t.Context(), "mdfm", w.lastSeq, landed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.resolveUnknown(t.Context(), landed[0])
	if err != nil || got != seq {
		t.Fatalf("landed batch: got seq %d, %v; want %d", got, err, seq)
	}

	// Another writer's batch landed instead of ours: a conflict.
	ours := batch(w.chain)
	if _, err := w.resolveUnknown(t.Context(), ours[0]); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("someone else's batch is last: got %v, want ErrConflict", err)
	}

	// After all this the writer still decides against the log as it is.
	c := &domain.RegisterDonor{ID: "after", Name: "After", Kind: "other", Country: "DE"}
	domain.SetMeta(c, domain.Meta{Actor: "olu", Today: w.Today()})
	res, err := w.Submit(t.Context(), Request{CommandID: "after", CommandHash: "h-after", Command: c})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events[0].FundSeq != 2 {
		t.Errorf("next event fund_seq %d, want 2", res.Events[0].FundSeq)
	}
}
