package ledger

import (
	"errors"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
)

// TestCatchUpFailureIsUnavailable: a writer that cannot read the log to
// catch up before deciding answers ErrLogUnavailable (503 over HTTP), not
// an error the API takes for its own fault (500 internal, issue 8).
func TestCatchUpFailureIsUnavailable(t *testing.T) {
	_, log := testnats.Log(t)
	w, err := Open(t.Context(), log, "mdfm", Options{Now: func() time.Time { return time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	log.JetStreamForTests().Conn().Close()
	c := &domain.RegisterDonor{ID: "d-1", Name: "Donor", Kind: "other", Country: "DE"}
	domain.SetMeta(c, domain.Meta{Actor: "olu", Today: "2021-06-01"})
	_, err = w.Submit(t.Context(), Request{CommandID: "k-1", CommandHash: "h", Command: c})
	if !errors.Is(err, ErrLogUnavailable) {
		t.Fatalf("submit with the log unreadable: %v, want ErrLogUnavailable", err)
	}
}
