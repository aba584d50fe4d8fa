package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// TestLogReadsCappedPerCaller: a user with MaxLogReadsPerCaller reads of
// the log running gets 429 too_many_requests for one more, before anything
// is read; another user is not held back, and a slot given back is free.
func TestLogReadsCappedPerCaller(t *testing.T) {
	s := &Server{logReads: newCallerLimit(MaxLogReadsPerCaller)}
	var releases []func()
	for range MaxLogReadsPerCaller {
		rel, ok := s.logReads.acquire("kim")
		if !ok {
			t.Fatal("a slot below the cap was refused")
		}
		releases = append(releases, rel)
	}
	err := s.events(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/events", nil), access.Principal{User: "kim"})
	var he *errs.Error
	if !errors.As(err, &he) || Status(he.Kind) != http.StatusTooManyRequests || he.Code != CodeTooManyRequests {
		t.Fatalf("one read above the cap: %v, want 429 %s", err, CodeTooManyRequests)
	}
	if rel, ok := s.logReads.acquire("ana"); !ok {
		t.Error("another user was refused")
	} else {
		rel()
	}
	releases[0]()
	if _, ok := s.logReads.acquire("kim"); !ok {
		t.Error("a slot given back is still taken")
	}
	if n := len(s.logReads.running); n != 1 {
		t.Errorf("%d users counted, want 1", n)
	}
}

// TestSubmitErrorLogUnavailable: a writer that could not read the log to
// catch up answers 503 unavailable, even when the error it met carries a
// domain error of a stored event (issue 8: it answered 500 internal).
func TestSubmitErrorLogUnavailable(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("catch up fund mdfm: %w: %w", ledger.ErrLogUnavailable, errors.New("nats: connection closed")),
		fmt.Errorf("catch up fund mdfm: %w: %w", ledger.ErrLogUnavailable, domain.Codes.New(domain.CodeUnknownDonor, "donor_id", "no donor")),
	} {
		var he *errs.Error
		if got := submitError(err, "k"); !errors.As(got, &he) || Status(he.Kind) != http.StatusServiceUnavailable || he.Code != CodeUnavailable {
			t.Errorf("submitError(%v) = %v, want 503 %s", err, got, CodeUnavailable)
		}
	}
}
