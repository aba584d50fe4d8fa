// Package ledgertest writes events through a real ledger.Writer for tests:
// submitting commands the way the HTTP layer does, and a small scenario of
// the 2020–2021 term.
package ledgertest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// Now is the writers' clock: the last day of the 2020–2021 term.
func Now() time.Time { return time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) }

// Writer opens a writer of fund on log with the fixed clock and closes it
// when the test ends.
func Writer(t testing.TB, log *eventlog.Log, fund string) *ledger.Writer {
	t.Helper()
	w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// Submit sends a command as actor with command id id, and returns the
// writer's answer: a result, an *errs.Error or another error.
func Submit(t testing.TB, w *ledger.Writer, id, actor string, c domain.Command) (ledger.Result, error) {
	t.Helper()
	domain.SetMeta(c, domain.Meta{Actor: actor, Today: w.Today()})
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ledger.CommandHash(fmt.Sprintf("%T", c), body)
	if err != nil {
		t.Fatal(err)
	}
	return w.Submit(t.Context(), ledger.Request{CommandID: id, CommandHash: h, Command: c})
}

// MustSubmit is Submit that fails the test on any refusal or error. It is
// safe to call from several goroutines.
func MustSubmit(t testing.TB, w *ledger.Writer, id, actor string, c domain.Command) ledger.Result {
	t.Helper()
	r, err := Submit(t, w, id, actor, c)
	if err != nil {
		t.Errorf("%s: %v", id, err)
	}
	return r
}

// USD is an amount in US dollars as the API receives it.
func USD(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }

// Money is an amount in any currency as the API receives it.
func Money(s, cur string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: cur} }

// Term is the id of the scenario's term.
const Term = "2020-2021"

// OpenTerm opens the 2020–2021 term (target US$1,000,000, fee 1 %) and
// registers the donors osaka (JP) and hamburg (DE).
func OpenTerm(t testing.TB, w *ledger.Writer) {
	t.Helper()
	MustSubmit(t, w, "term", "ana", &domain.OpenTerm{ID: Term, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: USD("1000000.00"), FeeRate: "0.01"})
	MustSubmit(t, w, "donor-osaka", "olu", &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP", City: "Osaka"})
	MustSubmit(t, w, "donor-hamburg", "olu", &domain.RegisterDonor{ID: "hamburg", Name: "City of Hamburg", Kind: "member_city", Country: "DE", City: "Hamburg"})
}

// Scenario is the term of OpenTerm and then:
//
//	2020-03-15 EUR 50,000.00 from hamburg at 1.1 → US$55,000.00, fee 550.00
//	2020-06-01 US$20,000.00 from osaka, fee 200.00
//	line MDFM-1.1 (US$200,000.00); allocation al-1 of US$30,000.00
//	proposed by olu on 2020-07-01, approved by ana on 2020-07-02
//	2020-09-01 expenditure of US$12,345.67 against it
//
// It returns the result of each step by name: term, donor-osaka,
// donor-hamburg, eur, usd, line, propose, approve, spend.
func Scenario(t testing.TB, w *ledger.Writer) map[string]ledger.Result {
	t.Helper()
	OpenTerm(t, w)
	r := map[string]ledger.Result{}
	r["eur"] = MustSubmit(t, w, "eur", "olu", &domain.RecordContribution{ID: "c-eur", DonorID: "hamburg", TermID: Term,
		Amount: Money("50000.00", "EUR"), USDRate: "1.1", ReceivedOn: "2020-03-15", BankRef: "HH-1"})
	r["usd"] = MustSubmit(t, w, "usd", "olu", &domain.RecordContribution{ID: "c-usd", DonorID: "osaka", TermID: Term,
		Amount: USD("20000.00"), ReceivedOn: "2020-06-01"})
	r["line"] = MustSubmit(t, w, "line", "ana", &domain.AddBudgetLine{ID: "MDFM-1.1", TermID: Term, Title: "Training modules", Amount: USD("200000.00")})
	r["propose"] = MustSubmit(t, w, "propose", "olu", &domain.ProposeAllocation{ID: "al-1", LineID: "MDFM-1.1", Amount: USD("30000.00"), ProposedOn: "2020-07-01"})
	r["approve"] = MustSubmit(t, w, "approve", "ana", &domain.ApproveAllocation{ID: "al-1", ApprovedOn: "2020-07-02"})
	r["spend"] = MustSubmit(t, w, "spend", "olu", &domain.RecordExpenditure{ID: "x-1", AllocationID: "al-1", Amount: USD("12345.67"),
		SpentOn: "2020-09-01", Payee: "Learning City Lab", Country: "KE", City: "Nairobi"})
	return r
}
