package ledger

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// TestOldCommandIDsFromTheStore: with a command store, the writer keeps in
// memory only the command ids the store has not folded, so that its memory
// does not grow with the log (issue 10), and still answers a replay of any
// command ever made, before and after a restart.
func TestOldCommandIDsFromTheStore(t *testing.T) {
	log := fundWithDonor(t)
	store, err := projections.Open(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	receipt := func(i int, amount string) *domain.RecordContribution {
		return &domain.RecordContribution{ID: fmt.Sprintf("r-%d", i), DonorID: "osaka", TermID: "2020-2021",
			Amount: domain.MoneyInput{Amount: amount, Currency: "USD"}, ReceivedOn: "2021-01-15"}
	}
	w, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow, Commands: store})
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]Result{}
	for i := range 5 {
		r := request(w, fmt.Sprintf("k-%d", i), receipt(i, "10.00"))
		if first[r.CommandID], err = w.Submit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	// The read model folds all that; the next command lets the writer
	// forget what it folded.
	var evs []events.Event
	if err := log.ReadAll(t.Context(), 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := store.ApplyBatch(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Submit(t.Context(), request(w, "k-5", receipt(5, "10.00"))); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if len(w.ids) != 1 || len(w.idOrder) != 1 {
		t.Errorf("the writer keeps %d command ids (%d in order); want 1: k-5, the one the store has not folded", len(w.ids), len(w.idOrder))
	}

	// A new writer on the same log and store: the same, and every old id
	// answers as it did.
	w2, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow, Commands: store})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	last, err := log.LastSeq(t.Context(), "mdfm")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id := fmt.Sprintf("k-%d", i)
		got, err := w2.Submit(t.Context(), request(w2, id, receipt(i, "10.00")))
		want := first[id]
		want.Replayed = true
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("replay of %s = %+v, %v; want %+v", id, got, err, want)
		}
		other := request(w2, id, receipt(i, "99.00"))
		other.CommandHash = "another body"
		if _, err := w2.Submit(t.Context(), other); !errors.Is(err, ErrIdempotencyKeyReused) {
			t.Errorf("%s with another body: %v, want ErrIdempotencyKeyReused", id, err)
		}
	}
	if now, err := log.LastSeq(t.Context(), "mdfm"); err != nil || now != last {
		t.Errorf("replays appended: last seq %d, %v; want %d", now, err, last)
	}
}
