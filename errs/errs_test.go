package errs_test

import (
	"testing"

	"github.com/unesco-uil/mdfm-ledger/errs"
)

func TestSetNew(t *testing.T) {
	s := errs.Set{{Code: "unknown_term", Kind: errs.NotFound}, {Code: "invalid_date", Kind: errs.Invalid}}
	e := s.New("invalid_date", "as_of", "as_of is not a date")
	if e.Code != "invalid_date" || e.Kind != errs.Invalid || e.Field != "as_of" || e.Message != "as_of is not a date" {
		t.Errorf("New = %+v", e)
	}
	if got, want := e.Error(), "invalid_date: as_of is not a date (field as_of)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := s.New("unknown_term", "", "no such term").Error(), "unknown_term: no such term"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("New of a code not in the set did not panic")
		}
	}()
	s.New("unknown_donor", "", "m")
}
