package readmodel

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// TestApplyCanceledSaysSo: a batch whose context ends while it applies
// either commits or fails with the context's error, wherever the end
// falls; database/sql's rollback of the transaction under it, and the
// sql.ErrTxDone of the statement after, are not what the caller is told
// (a projector told to stop reported "transaction has already been
// committed or rolled back" as its failure: TestVerifyUnderLoad, 1 run in 4).
func TestApplyCanceledSaysSo(t *testing.T) {
	_, log := testnats.Log(t)
	ledgertest.Scenario(t, ledgertest.Writer(t, log, "mdfm"))
	var evs []events.Event
	if err := log.ReadAll(t.Context(), 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	open := func(i int) *Store {
		s, err := Open(filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	const tries = 40
	// The first batch of the process prepares what the next ones reuse:
	// the time of the second is what the cancels are spread over.
	var whole time.Duration
	for i := range 2 {
		t0 := time.Now()
		if err := open(tries+1+i).ApplyBatch(t.Context(), evs); err != nil {
			t.Fatal(err)
		}
		whole = time.Since(t0)
	}
	canceled := 0
	for i := 1; i <= tries; i++ {
		s := open(i)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(whole*time.Duration(i)/tries, cancel)
		err := s.ApplyBatch(ctx, evs)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled++
		default:
			t.Errorf("canceled after %d/%d of a batch's time: %v, want nil or context.Canceled", i, tries, err)
		}
	}
	t.Logf("%d events, %v a batch; %d of %d tries canceled", len(evs), whole, canceled, tries)
	if canceled == 0 {
		t.Errorf("no try was canceled: the test checked nothing")
	}
}
