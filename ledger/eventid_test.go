package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// TestPinnedEventIDs writes the same commands to two logs with a pinned
// clock and pinned event ids: the events carry the ids given, and the two
// logs hold the same bytes, hashes included.
func TestPinnedEventIDs(t *testing.T) {
	write := func() [][]byte {
		_, log := testnats.Log(t)
		n := 0
		w, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: fixedNow, NewEventID: func() string {
			n++
			return fmt.Sprintf("01800000-0000-7000-8000-%012d", n)
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		setUp(t, w)
		var out [][]byte
		err = log.ReadFund(context.Background(), "mdfm", 0, func(e events.Event) error {
			if want := fmt.Sprintf("01800000-0000-7000-8000-%012d", e.FundSeq); e.ID != want {
				t.Errorf("event %d has id %s, want %s", e.FundSeq, e.ID, want)
			}
			b, err := e.Encode()
			out = append(out, b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := write(), write()
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("%d and %d events, want 2", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("event %d differs:\n%s\n%s", i+1, a[i], b[i])
		}
	}
}
