package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// TestIATIOverLimitIsRefused: an IATI file over a limit of the format (a
// term with more than iati.MaxTransactions transactions) is a refusal that
// names the limit, report_too_large (422), not a 500 (issue 10); other
// render errors stay faults of the server.
func TestIATIOverLimitIsRefused(t *testing.T) {
	_, err := iati.RenderActivities(make([]iati.Activity, iati.MaxActivities+1), "2021-12-31T00:00:00Z")
	if !errors.Is(err, iati.ErrOverLimit) {
		t.Fatalf("render of %d activities: %v, want ErrOverLimit", iati.MaxActivities+1, err)
	}
	var e *errs.Error
	if got := iatiRenderError("iati activities", err); !errors.As(got, &e) || e.Code != CodeReportTooLarge || Status(e.Kind) != 422 ||
		!strings.Contains(e.Message, "limit of 1000") {
		t.Errorf("over the limit: %v, want %s (422) naming the limit", got, CodeReportTooLarge)
	}
	// A term refused by the build, before its rows are read.
	built := fmt.Errorf("iati activity of fund mdfm term 2020-2021: %w",
		&iati.InputError{Field: "activities[0].transactions", Message: "240000 receipts, each a transaction, exceed the limit of 100000", OverLimit: true})
	if got := iatiRenderError("iati activities", built); !errors.As(got, &e) || e.Code != CodeReportTooLarge || Status(e.Kind) != 422 ||
		!strings.Contains(e.Message, "240000 receipts") {
		t.Errorf("over the limit, refused by the build: %v, want %s (422) naming the receipts", got, CodeReportTooLarge)
	}
	other := &iati.InputError{Field: "activities[0].title", Message: "empty"}
	if got := iatiRenderError("iati activities", other); errors.As(got, &e) {
		t.Errorf("an input error that is not over a limit became a refusal: %v", got)
	}
}

// TestStatementOverLimitIsRefused: a statement with a list longer than
// statement.MaxRows is refused with report_too_large naming the limit, not
// answered 500; a statement invalid for another reason stays a fault.
func TestStatementOverLimitIsRefused(t *testing.T) {
	// statement's TestValidateOverLimit makes this error from 10001 receipts.
	err := fmt.Errorf("statement of donor x: %w", &statement.InvalidError{Field: "received.receipts", Message: "10001 rows, more than 10000", OverLimit: true})
	var e *errs.Error
	if got := statementError(err); !errors.As(got, &e) || e.Code != CodeReportTooLarge || Status(e.Kind) != 422 || !strings.Contains(e.Message, "more than 10000") {
		t.Errorf("%v: %v, want %s naming the limit", err, got, CodeReportTooLarge)
	}
	if got := statementError(&statement.InvalidError{Field: "fund", Message: "required"}); errors.As(got, &e) {
		t.Errorf("an invalid statement that is not over a limit became a refusal: %v", got)
	}
}
