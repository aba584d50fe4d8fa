package ledger

import (
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// TestNextGroupExpectsTheWaitingCallers: callers already queued while a
// group is appended count among those the next group waits for, with the
// callers the group answered. Counting only the latter kept two half
// groups taking turns under 64 HTTP clients (groups of 34 commands; 60
// with this count, issue 10).
func TestNextGroupExpectsTheWaitingCallers(t *testing.T) {
	_, log := testnats.Log(t)
	w, err := Open(t.Context(), log, "mdfm", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The test plays the writer's goroutine from here on, with a stop
	// channel of its own: collect would pick the closed one at random.
	w.Close()
	w.stop = make(chan struct{})

	donor := func(id string) *pending {
		r := request(w, id, &domain.RegisterDonor{ID: id, Name: "Donor " + id, Kind: "other", Country: "DE"})
		return &pending{req: r, ctx: t.Context(), done: make(chan answer, 1)}
	}
	// Two other callers wait while the group of one is appended.
	w.queue <- donor("waiting-1")
	w.queue <- donor("waiting-2")
	group := []*pending{donor("answered")}
	w.others = 0
	carried := w.process(group)
	if a := <-group[0].done; a.err != nil {
		t.Fatal(a.err)
	}
	want := w.expected(group, carried)
	if want != 3 {
		t.Fatalf("the next group expects %d callers, want 3: the one answered and the two waiting", want)
	}

	// The next group takes the two waiting at once, and waits for the
	// caller it answered to come back.
	got := make(chan []*pending, 1)
	go func() {
		g, _ := w.collect(nil, want, time.Hour)
		got <- g
	}()
	w.queue <- donor("came-back")
	if g := <-got; len(g) != 3 {
		t.Fatalf("group of %d commands, want 3", len(g))
	}
}
