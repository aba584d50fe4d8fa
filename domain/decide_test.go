package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// tb is what the helpers need of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// given returns the state of a fund "mdfm" after cmds, each decided and its
// events applied as the writer would. A refused command fails the test.
func given(t tb, cmds ...domain.Command) *domain.State {
	t.Helper()
	s := domain.NewState("mdfm")
	for i, c := range cmds {
		evs, err := domain.Decide(s, c)
		if err != nil {
			t.Fatalf("given command %d (%T): %v", i, c, err)
		}
		applyAll(t, s, evs)
	}
	return s
}

// applyAll stamps events with their fund, position and id, as the writer
// does before it appends them, and applies them to s.
func applyAll(t tb, s *domain.State, evs []events.Event) []events.Event {
	t.Helper()
	out := make([]events.Event, 0, len(evs))
	for _, e := range evs {
		e.Fund = s.Fund
		e.FundSeq = s.FundSeq + 1
		e.ID = fmt.Sprintf("ev-%d", e.FundSeq)
		if err := domain.Apply(s, e); err != nil {
			t.Fatalf("apply %s: %v", e.Type, err)
		}
		out = append(out, e)
	}
	return out
}

// Users and the server's date of the tests.
var (
	alice = domain.Meta{Actor: "alice", Today: "2021-12-31"}
	bob   = domain.Meta{Actor: "bob", Today: "2021-12-31"}
	carol = domain.Meta{Actor: "carol", Today: "2021-12-31"}
)

func usdIn(amount string) domain.MoneyInput {
	return domain.MoneyInput{Amount: amount, Currency: "USD"}
}

func eurIn(amount string) domain.MoneyInput {
	return domain.MoneyInput{Amount: amount, Currency: "EUR"}
}

// The fixtures: each call returns a new command that a test may change.

func openTerm() *domain.OpenTerm {
	return &domain.OpenTerm{Meta: alice, ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31",
		Target: usdIn("1000000.00"), FeeRate: "0.01"}
}

func registerDonor() *domain.RegisterDonor {
	return &domain.RegisterDonor{Meta: alice, ID: "DE", Name: "Germany", Kind: "country", Country: "DE"}
}

// eurReceipt is EUR 50000.00 at 1.1: US$55000.00, a fee of US$550.00 at 1 %.
func eurReceipt() *domain.RecordContribution {
	return &domain.RecordContribution{Meta: alice, ID: "C-1", DonorID: "DE", TermID: "2020-2021",
		Amount: eurIn("50000.00"), USDRate: "1.1", ReceivedOn: "2021-03-15", BankRef: "REF-1"}
}

// addLine adds a budget line of US$30000.00.
func addLine() *domain.AddBudgetLine {
	return &domain.AddBudgetLine{Meta: alice, ID: "MDFM-1.1", TermID: "2020-2021", Title: "Network coordination",
		Amount: usdIn("30000.00")}
}

// propose proposes US$20000.00 on MDFM-1.1, as alice.
func propose() *domain.ProposeAllocation {
	return &domain.ProposeAllocation{Meta: alice, ID: "A-1", LineID: "MDFM-1.1", Amount: usdIn("20000.00"),
		Note: "coordination 2021", ProposedOn: "2021-04-01"}
}

// approve approves A-1, as bob.
func approve() *domain.ApproveAllocation {
	return &domain.ApproveAllocation{Meta: bob, ID: "A-1", ApprovedOn: "2021-04-02"}
}

// spend spends US$5000.00 against A-1.
func spend() *domain.RecordExpenditure {
	return &domain.RecordExpenditure{Meta: alice, ID: "E-1", AllocationID: "A-1", Amount: usdIn("5000.00"),
		SpentOn: "2021-05-01", Payee: "City of Cork", Country: "IE", City: "Cork"}
}

// with returns c after f has changed it, so that a table row can say how it
// differs from a fixture.
func with[C domain.Command](c C, f func(C)) C {
	f(c)
	return c
}

// funded is a term with a donor, a receipt (US$54450.00 unallocated after the
// fee) and a budget line.
func funded() []domain.Command {
	return []domain.Command{openTerm(), registerDonor(), eurReceipt(), addLine()}
}

// refundedInFull is a term where FR put US$10000.00 (ev-4, its fee ev-5)
// and DE US$100.00 (ev-6, its fee ev-7) into the unearmarked pot, and DE
// was then refunded its whole attributable US$99.00 (ev-8): DE's net in the
// pot is exactly zero.
func refundedInFull() []domain.Command {
	return []domain.Command{openTerm(), registerDonor(), registerDonorFR(),
		with(eurReceipt(), func(c *domain.RecordContribution) {
			c.ID, c.DonorID, c.Amount, c.USDRate = "C-FR", "FR", usdIn("10000.00"), ""
		}),
		with(eurReceipt(), func(c *domain.RecordContribution) {
			c.ID, c.Amount, c.USDRate, c.BankRef = "C-DE", usdIn("100.00"), "", "REF-2"
		}),
		with(refund(), func(c *domain.RecordRefund) { c.Amount = usdIn("99.00") })}
}

func plus(cmds []domain.Command, more ...domain.Command) []domain.Command {
	return append(cmds, more...)
}

// TestDecideRefusals walks every error code of the domain, in the order of
// domain.Codes: given these commands, when this command, then this code and
// no event.
func TestDecideRefusals(t *testing.T) {
	tests := []struct {
		code  string
		field string
		given []domain.Command
		when  domain.Command
	}{
		{domain.CodeMissingField, "name", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Name = "" })},
		{domain.CodeInvalidID, "id", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.ID = "DE 1" })},
		{domain.CodeInvalidAmount, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "50,000.00" })},
		{domain.CodeAmountNotPositive, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "0.00" })},
		{domain.CodeAmountTooLarge, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) {
				c.ID = "C-2"
				c.Amount = usdIn("10000000000000.01")
				c.USDRate = ""
			})},
		{domain.CodeTooManyDecimals, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "50000.005" })},
		{domain.CodeUnknownCurrency, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Currency = "XEU" })},
		{domain.CodeUSDRequired, "amount", funded(),
			with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2"; c.Amount = eurIn("1000.00") })},
		{domain.CodeMissingRate, "usd_rate", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.USDRate = "" })},
		{domain.CodeInvalidRate, "usd_rate", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.USDRate = "1,1" })},
		{domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "0.5" })},
		{domain.CodeInvalidDate, "received_on", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.ReceivedOn = "2021-02-30" })},
		{domain.CodeDateInFuture, "received_on", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.ReceivedOn = "2022-01-01" })},
		{domain.CodeDateOutsideTerm, "proposed_on", funded(),
			with(propose(), func(c *domain.ProposeAllocation) { c.ProposedOn = "2019-12-31" })},
		{domain.CodeDateOutOfRange, "received_on", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.ReceivedOn = "1899-12-31" })},
		{domain.CodeInvalidTermPeriod, "ends_on", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.EndsOn = "2019-12-31" })},
		{domain.CodeInvalidDonorKind, "kind", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Kind = "government" })},
		{domain.CodeUnknownCountry, "country", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Country = "ZZ" })},
		{domain.CodeTextTooLong, "name", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Name = strings.Repeat("x", domain.MaxTextLen+1) })},
		{domain.CodeInvalidText, "name", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Name = "Germany\x1b[2J" })},
		{domain.CodeBlankText, "name", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Name = "\u00a0" })},
		{domain.CodeInvalidEarmark, "earmark", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{} })},
		{domain.CodeInvalidDisposition, "disposition.kind", funded(),
			with(closeRefund(), func(c *domain.CloseTerm) { c.Disposition.Kind = "donate" })},
		{domain.CodeBatchTooLarge, "commands", nil,
			&domain.Batch{Meta: alice, Commands: func() []domain.Command {
				cmds := make([]domain.Command, domain.MaxBatchCommands+1)
				for i := range cmds {
					cmds[i] = with(registerDonor(), func(c *domain.RegisterDonor) { c.ID = fmt.Sprintf("D-%d", i) })
				}
				return cmds
			}()}},
		{domain.CodeUnknownTerm, "term_id", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.TermID = "2022-2023" })},
		{domain.CodeUnknownDonor, "donor_id", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.DonorID = "FR" })},
		{domain.CodeUnknownPledge, "pledge_id", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.PledgeID = "P-1" })},
		{domain.CodeUnknownLine, "line_id", funded(),
			with(propose(), func(c *domain.ProposeAllocation) { c.LineID = "MDFM-9.9" })},
		{domain.CodeUnknownAllocation, "id", funded(),
			with(approve(), func(c *domain.ApproveAllocation) { c.ID = "A-404" })},
		{domain.CodeUnknownCity, "city_id", plus(funded(), registerCluster("ESD")),
			join("ESD", "hamburg")},
		// A line may name a cluster only once the cluster is registered.
		{domain.CodeUnknownCluster, "cluster_id", funded(),
			clusterLine()},
		{domain.CodeUnknownEvent, "event_id", funded(),
			reverse("ev-404")},
		{domain.CodeDuplicateID, "id", funded(),
			eurReceipt()},
		{domain.CodeAmendmentChangesNothing, "", funded(),
			with(amendDonor(), func(c *domain.AmendDonor) { c.Name = ptr("Germany") })},
		{domain.CodeTermOverlaps, "starts_on", []domain.Command{openTerm()},
			with(openTerm(), func(c *domain.OpenTerm) { c.ID = "2021-2022"; c.StartsOn = "2021-12-31"; c.EndsOn = "2022-12-31" })},
		// US$54450.00 is unallocated; the line could take US$30000.00.
		{domain.CodeInsufficientUnallocated, "amount", funded(),
			with(propose(), func(c *domain.ProposeAllocation) { c.Amount = usdIn("54450.01") })},
		// All US$54450.00 unallocated came from a pledge earmarked to MDFM-1.2.
		{domain.CodeFundsEarmarkedElsewhere, "amount",
			[]domain.Command{openTerm(), registerDonor(), addLine(),
				with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2" }),
				with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{LineID: "MDFM-1.2"} }),
				paying()},
			propose()},
		// US$20000.00 is pending on the line, so US$10000.00 is left of its US$30000.00.
		{domain.CodeExceedsBudgetLine, "amount", plus(funded(), propose()),
			with(propose(), func(c *domain.ProposeAllocation) { c.ID = "A-2"; c.Amount = usdIn("10000.01") })},
		{domain.CodeSameUserApproval, "", plus(funded(), propose()),
			with(approve(), func(c *domain.ApproveAllocation) { c.Meta = alice })},
		{domain.CodeAllocationAlreadyApproved, "id", plus(funded(), propose(), approve()),
			with(approve(), func(c *domain.ApproveAllocation) { c.Meta = carol })},
		{domain.CodeAllocationNotApproved, "allocation_id", plus(funded(), propose()),
			spend()},
		{domain.CodeDateBeforeApproval, "spent_on", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.SpentOn = "2021-04-01" })},
		{domain.CodeInsufficientAllocationBalance, "amount", plus(funded(), propose(), approve(), spend()),
			with(spend(), func(c *domain.RecordExpenditure) { c.ID = "E-2"; c.Amount = usdIn("15000.01") })},
		{domain.CodePledgeDonorMismatch, "pledge_id", plus(funded(), pledge(), registerDonorFR()),
			with(paying(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.DonorID = "FR" })},
		{domain.CodePledgeTermMismatch, "pledge_id", plus(funded(), pledge(), openNextTerm()),
			with(paying(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.TermID = "2022-2023" })},
		{domain.CodePledgeCurrencyMismatch, "amount", plus(funded(), pledge()),
			with(paying(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount = usdIn("55000.00"); c.USDRate = "" })},
		{domain.CodePledgeCancelled, "pledge_id", plus(funded(), pledge(), cancel()),
			with(paying(), func(c *domain.RecordContribution) { c.ID = "C-2" })},
		{domain.CodePledgeFullyPaid, "id",
			[]domain.Command{openTerm(), registerDonor(), with(pledge(), func(c *domain.RecordPledge) { c.Amount = eurIn("50000.00") }), paying()},
			cancel()},
		{domain.CodeReceiptExceedsPledge, "amount",
			[]domain.Command{openTerm(), registerDonor(), with(pledge(), func(c *domain.RecordPledge) { c.Amount = eurIn("49999.99") })},
			paying()},
		{domain.CodePledgeBelowPaid, "amount", []domain.Command{openTerm(), registerDonor(), pledge(), paying()},
			with(amend(), func(c *domain.AmendPledge) { c.Amount = eurIn("49999.99") })},
		{domain.CodeEarmarkOutsideTerm, "earmark.line_id",
			plus(funded(), openNextTerm(), with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-22"; c.TermID = "2022-2023" })),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{LineID: "MDFM-22"} })},
		{domain.CodeCityCountryMismatch, "country", plus(funded(), propose(), approve(), registerCity("cork", "IE")),
			with(spend(), func(c *domain.RecordExpenditure) { c.CityID = "cork"; c.Country = "DE" })},
		// DE's share of the US$54450.00 unallocated is all of it, and no more.
		{domain.CodeRefundExceedsAttributable, "amount", funded(),
			with(refund(), func(c *domain.RecordRefund) { c.Amount = usdIn("54450.01") })},
		{domain.CodeAlreadyReversed, "event_id", plus(funded(), reverse("ev-3")),
			with(reverse("ev-3"), func(c *domain.ReverseEvent) { c.ID = "X-2" })},
		{domain.CodeNotReversible, "event_id", funded(),
			reverse("ev-1")},
		// US$20000.00 of the receipt's US$54450.00 net is allocated.
		{domain.CodeReversalOverdrawsUnallocated, "event_id", plus(funded(), propose(), approve()),
			reverse("ev-3")},
		// ev-7 is A-1's approval; E-1 spent against it.
		{domain.CodeReversalOverdrawsAllocation, "event_id", plus(funded(), propose(), approve(), spend()),
			reverse("ev-7")},
		// FR's receipt would cover the pot, but DE was refunded US$1000.00
		// out of the receipt (ev-3) being reversed.
		{domain.CodeReversalOverdrawsDonor, "event_id",
			plus(funded(), registerDonorFR(),
				with(eurReceipt(), func(c *domain.RecordContribution) {
					c.ID = "C-2"
					c.DonorID = "FR"
					c.Amount = usdIn("10000.00")
					c.USDRate = ""
				}),
				refund()),
			reverse("ev-3")},
		{domain.CodeTermClosed, "received_on", plus(funded(), closeRefund()),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2" })},
		{domain.CodeTermNotEnded, "closed_on", funded(),
			with(closeRefund(), func(c *domain.CloseTerm) { c.ClosedOn = "2021-06-30" })},
		// Interest no donor put money beside cannot be refunded to anyone.
		{domain.CodeNoDonorToRefund, "disposition.kind", []domain.Command{openTerm(), interest()},
			closeRefund()},
		{domain.CodeClusterHasTwoCoordinators, "cluster_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCity("cork", "IE"), registerCity("suwon", "KR"),
				registerCity("lagos", "NG"), appoint("ESD", "cork"), appoint("ESD", "suwon")},
			appoint("ESD", "lagos")},
		{domain.CodeCityAlreadyCoordinates, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCluster("EQI"), registerCity("cork", "IE"), appoint("ESD", "cork")},
			appoint("EQI", "cork")},
		{domain.CodeCityInThreeClusters, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCluster("EQI"), registerCluster("LIT"), registerCluster("HWB"),
				registerCity("cork", "IE"), join("ESD", "cork"), join("EQI", "cork"), appoint("LIT", "cork")},
			join("HWB", "cork")},
		{domain.CodeAlreadyMember, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCity("cork", "IE"), join("ESD", "cork")},
			join("ESD", "cork")},
	}

	// One row for each code, in the order of domain.Codes: a new code fails
	// here until it has its row.
	for i, c := range domain.Codes {
		if i >= len(tests) {
			t.Errorf("code %s (domain.Codes[%d]) has no row", c.Code, i)
			continue
		}
		if tests[i].code != c.Code {
			t.Errorf("row %d is for code %s, want %s (one row per code, in the order of domain.Codes)", i, tests[i].code, c.Code)
		}
	}
	if len(tests) > len(domain.Codes) {
		t.Errorf("%d rows for %d codes", len(tests), len(domain.Codes))
	}

	for i, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			s := given(t, tc.given...)
			before := given(t, tc.given...)
			evs, err := domain.Decide(s, tc.when)
			if len(evs) != 0 {
				t.Errorf("Decide returned %d events with its refusal, want none", len(evs))
			}
			var de *errs.Error
			if !errors.As(err, &de) {
				t.Fatalf("Decide(%T) error = %v, want a *errs.Error %s", tc.when, err, tc.code)
			}
			if de.Code != tc.code || de.Field != tc.field {
				t.Errorf("Decide(%T) = code %s field %q (%v), want code %s field %q", tc.when, de.Code, de.Field, de, tc.code, tc.field)
			}
			if i < len(domain.Codes) && de.Kind != domain.Codes[i].Kind {
				t.Errorf("kind %d, want %d", de.Kind, domain.Codes[i].Kind)
			}
			if de.Message == "" {
				t.Error("refusal without a message for the finance officer")
			}
			if diff := cmp.Diff(before, s); diff != "" {
				t.Errorf("a refused command changed the state (-before +after):\n%s", diff)
			}
		})
	}
}

// TestDecideMoreRefusals holds refusals beyond the one row per code: inputs
// that a careless parser would let through.
func TestDecideMoreRefusals(t *testing.T) {
	tests := []refusal{
		// Pledges, receipts and expenditures share their ids: IATI
		// publishes them as the refs of one activity's transactions.
		{"a pledge with a receipt's id", domain.CodeDuplicateID, "id", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.ID = "C-1" })},
		{"a receipt with a pledge's id", domain.CodeDuplicateID, "id", plus(funded(), pledge()),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "P-1" })},
		{"an expenditure with a receipt's id", domain.CodeDuplicateID, "id", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.ID = "C-1" })},
		// A fee rate is recorded as written, so only the plain decimal form
		// is accepted: no exponent, sign or bare point.
		{"fee rate with an exponent", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "1e-2" })},
		{"fee rate with a plus sign", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "+0.01" })},
		{"fee rate without a whole part", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = ".01" })},
		{"negative zero fee rate", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "-0" })},
		{"negative fee rate", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "-0.01" })},
		{"fee rate of 100 %", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "1" })},
		{"fee rate with 7 decimals", domain.CodeInvalidFeeRate, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "0.0100001" })},
		{"no fee rate", domain.CodeMissingField, "fee_rate", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "" })},
		{"term ending the day it starts", domain.CodeInvalidTermPeriod, "ends_on", nil,
			with(openTerm(), func(c *domain.OpenTerm) { c.EndsOn = c.StartsOn })},
		{"negative amount", domain.CodeAmountNotPositive, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "-50000.00" })},
		{"amount with an exponent", domain.CodeInvalidAmount, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "5e4" })},
		{"amount with a space", domain.CodeInvalidAmount, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "50 000.00" })},
		{"JPY with decimals", domain.CodeTooManyDecimals, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) {
				c.ID = "C-2"
				c.Amount = domain.MoneyInput{Amount: "1000.5", Currency: "JPY"}
				c.USDRate = "0.0091"
			})},
		{"receipt worth less than a cent", domain.CodeAmountNotPositive, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) {
				c.ID = "C-2"
				c.Amount = domain.MoneyInput{Amount: "1", Currency: "KRW"}
				c.USDRate = "0.0007"
			})},
		{"rate other than 1 on USD", domain.CodeInvalidRate, "usd_rate", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount = usdIn("10.00"); c.USDRate = "1.1" })},
		{"rate with an exponent", domain.CodeInvalidRate, "usd_rate", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.USDRate = "11e-1" })},
		{"converted amount too large", domain.CodeAmountTooLarge, "amount", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.Amount.Amount = "10000000000000.00" })},
		{"receipt after the term", domain.CodeDateOutsideTerm, "received_on", funded(),
			with(eurReceipt(), func(c *domain.RecordContribution) {
				c.ID = "C-2"
				c.Meta.Today = "2022-06-30"
				c.ReceivedOn = "2022-01-15"
			})},
		{"approval before the proposal", domain.CodeInvalidDate, "approved_on", plus(funded(), propose()),
			with(approve(), func(c *domain.ApproveAllocation) { c.ApprovedOn = "2021-03-31" })},
		{"approval after the money went elsewhere", domain.CodeInsufficientUnallocated, "amount",
			plus(funded(),
				with(propose(), func(c *domain.ProposeAllocation) { c.Amount = usdIn("30000.00") }),
				with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2" }),
				with(propose(), func(c *domain.ProposeAllocation) { c.ID = "A-2"; c.LineID = "MDFM-1.2"; c.Amount = usdIn("30000.00") }),
				approve()),
			with(approve(), func(c *domain.ApproveAllocation) { c.ID = "A-2" })},
		{"spending outside the term", domain.CodeDateOutsideTerm, "spent_on", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.Meta.Today = "2022-06-30"; c.SpentOn = "2022-01-01" })},
		{"spending in EUR beyond the allocation", domain.CodeInsufficientAllocationBalance, "amount", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.Amount = eurIn("16666.68"); c.USDRate = "1.2" })},
		{"expenditure without a payee", domain.CodeMissingField, "payee", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.Payee = "" })},
		{"country in lower case", domain.CodeUnknownCountry, "country", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.Country = "de" })},
		{"id too long", domain.CodeInvalidID, "id", nil,
			with(registerDonor(), func(c *domain.RegisterDonor) { c.ID = strings.Repeat("D", domain.MaxIDLen+1) })},
		// Pledges and earmarks.
		{"earmark naming a line and a cluster", domain.CodeInvalidEarmark, "earmark", plus(funded(), registerCluster("ESD")),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{LineID: "MDFM-1.1", ClusterID: "ESD"} })},
		{"earmark to an unknown line", domain.CodeUnknownLine, "earmark.line_id", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{LineID: "MDFM-9.9"} })},
		{"earmark to an unknown cluster", domain.CodeUnknownCluster, "earmark.cluster_id", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{ClusterID: "ESD"} })},
		{"pledge due before it is signed", domain.CodeInvalidDate, "due_on", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.DueOn = "2020-01-31" })},
		{"pledge in another currency without its rate", domain.CodeMissingRate, "usd_rate", funded(),
			with(pledge(), func(c *domain.RecordPledge) { c.USDRate = "" })},
		{"pledge to a closed term", domain.CodeTermClosed, "term_id", plus(funded(), closeRefund()),
			pledge()},
		{"amendment that changes nothing", domain.CodeMissingField, "amount", plus(funded(), pledge()),
			&domain.AmendPledge{Meta: alice, ID: "P-1", Reason: "none"}},
		{"amendment without a reason", domain.CodeMissingField, "reason", plus(funded(), pledge()),
			with(amend(), func(c *domain.AmendPledge) { c.Reason = "" })},
		{"amendment in another currency", domain.CodePledgeCurrencyMismatch, "amount", plus(funded(), pledge()),
			with(amend(), func(c *domain.AmendPledge) { c.Amount = usdIn("120000.00"); c.USDRate = "" })},
		{"amendment of a cancelled pledge", domain.CodePledgeCancelled, "id", plus(funded(), pledge(), cancel()),
			amend()},
		{"amendment of an unknown pledge", domain.CodeUnknownPledge, "id", funded(),
			amend()},
		{"second cancellation", domain.CodePledgeCancelled, "id", plus(funded(), pledge(), cancel()),
			cancel()},
		// Refunds.
		{"refund to a donor with no money in the term", domain.CodeRefundExceedsAttributable, "amount", plus(funded(), registerDonorFR()),
			with(refund(), func(c *domain.RecordRefund) { c.DonorID = "FR"; c.Amount = usdIn("0.01") })},
		// Issue 8: the refund is within DE's balance today, but dated
		// before the receipt it returns; with FR's money and interest in
		// the pool, a statement as of that day credited DE with FR's
		// interest to pay for it.
		{"refund dated before the receipt it returns", domain.CodeRefundExceedsAttributable, "paid_on", funded(),
			with(refund(), func(c *domain.RecordRefund) { c.PaidOn = "2021-03-14" })},
		{"refund dated before the receipt, others' money and interest in the pool", domain.CodeRefundExceedsAttributable, "paid_on",
			plus(funded(), registerDonorFR(), frReceipt("2020-06-01"), with(interest(), func(c *domain.RecordInterest) { c.EarnedOn = "2020-12-31" })),
			with(refund(), func(c *domain.RecordRefund) { c.Amount = usdIn("10.00"); c.PaidOn = "2021-01-15" })},
		// On 2021-04-02 an allocation took US$20000.00 of DE's US$54450.00.
		{"refund dated after an allocation took the money", domain.CodeRefundExceedsAttributable, "paid_on",
			plus(funded(), propose(), approve(), with(eurReceipt(), func(c *domain.RecordContribution) { c.ID = "C-2"; c.ReceivedOn = "2021-06-01" })),
			with(refund(), func(c *domain.RecordRefund) { c.Amount = usdIn("34450.01"); c.PaidOn = "2021-05-01" })},
		{"refund in EUR", domain.CodeUSDRequired, "amount", funded(),
			with(refund(), func(c *domain.RecordRefund) { c.Amount = eurIn("10.00") })},
		// Reversals.
		{"reversal without a reason", domain.CodeMissingField, "reason", funded(),
			with(reverse("ev-3"), func(c *domain.ReverseEvent) { c.Reason = "" })},
		{"a fee is reversed with its receipt only", domain.CodeNotReversible, "event_id", funded(),
			reverse("ev-4")},
		{"a reversal is not reversed", domain.CodeNotReversible, "event_id", plus(funded(), reverse("ev-3")),
			with(reverse("ev-6"), func(c *domain.ReverseEvent) { c.ID = "X-2" })},
		{"a pledge is amended or cancelled, not reversed", domain.CodeNotReversible, "event_id", plus(funded(), pledge()),
			reverse("ev-6")},
		{"a receipt paying a cancelled pledge stays", domain.CodePledgeCancelled, "event_id",
			[]domain.Command{openTerm(), registerDonor(), pledge(), paying(), cancel()},
			reverse("ev-4")},
		// DE's US$100.00 (ev-6, US$99.00 net of its fee) was refunded in
		// full: its net in the pot is zero, so reversing the receipt would
		// take it to −US$99.00 although FR's money covers the pot.
		{"reversal of a receipt refunded in full", domain.CodeReversalOverdrawsDonor, "event_id", refundedInFull(),
			reverse("ev-6")},
		{"an officer reverses nothing dated inside a closed term", domain.CodeTermClosed, "event_id", plus(funded(), closeRefund()),
			reverse("ev-3")},
		{"an approver's reversal is still refused if it overdraws", domain.CodeReversalOverdrawsUnallocated, "event_id", plus(funded(), closeRefund()),
			with(reverse("ev-3"), func(c *domain.ReverseEvent) { c.Meta = approver })},
		// The close of a term and what it leaves closed.
		{"interest on a closed term", domain.CodeTermClosed, "term_id", plus(funded(), closeRefund()),
			interest()},
		{"refund from a closed term", domain.CodeTermClosed, "term_id", plus(funded(), closeRefund()),
			refund()},
		{"budget line in a closed term", domain.CodeTermClosed, "term_id", plus(funded(), closeRefund()),
			with(addLine(), func(c *domain.AddBudgetLine) { c.ID = "MDFM-1.2" })},
		{"approval dated inside a closed term", domain.CodeTermClosed, "approved_on", plus(funded(), propose(), closeRefund()),
			approve()},
		{"spending dated inside a closed term", domain.CodeTermClosed, "spent_on", plus(funded(), propose(), approve(), closeRefund()),
			spend()},
		{"closing twice", domain.CodeTermClosed, "id", plus(funded(), closeRefund()),
			closeRefund()},
		{"close without a disposition", domain.CodeMissingField, "disposition.kind", funded(),
			with(closeRefund(), func(c *domain.CloseTerm) { c.Disposition.Kind = "" })},
		{"refund naming a term", domain.CodeInvalidDisposition, "disposition.to_term_id", plus(funded(), openNextTerm()),
			with(closeRefund(), func(c *domain.CloseTerm) { c.Disposition.ToTermID = "2022-2023" })},
		{"carry-over without a term", domain.CodeMissingField, "disposition.to_term_id", funded(),
			with(closeCarry(), func(c *domain.CloseTerm) { c.Disposition.ToTermID = "" })},
		{"carry-over to an unknown term", domain.CodeUnknownTerm, "disposition.to_term_id", funded(),
			closeCarry()},
		{"carry-over to the term itself", domain.CodeInvalidDisposition, "disposition.to_term_id", funded(),
			with(closeCarry(), func(c *domain.CloseTerm) { c.Disposition.ToTermID = "2020-2021" })},
		{"carry-over to an earlier term", domain.CodeInvalidDisposition, "disposition.to_term_id",
			plus(funded(), with(openTerm(), func(c *domain.OpenTerm) { c.ID = "2018-2019"; c.StartsOn = "2018-01-01"; c.EndsOn = "2019-12-31" })),
			with(closeCarry(), func(c *domain.CloseTerm) { c.Disposition.ToTermID = "2018-2019" })},
		{"close dated in the future", domain.CodeDateInFuture, "closed_on", funded(),
			with(closeRefund(), func(c *domain.CloseTerm) { c.ClosedOn = "2022-01-31" })},
		// The registry.
		{"expenditure in an unknown city", domain.CodeUnknownCity, "city_id", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.CityID = "atlantis" })},
		{"member of an unknown cluster", domain.CodeUnknownCluster, "cluster_id", plus(funded(), registerCity("cork", "IE")),
			join("ESD", "cork")},
		{"membership of an unknown term", domain.CodeUnknownTerm, "term_id", []domain.Command{registerCluster("ESD"), registerCity("cork", "IE")},
			join("ESD", "cork")},
		{"coordinating the same cluster twice", domain.CodeCityAlreadyCoordinates, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCity("cork", "IE"), appoint("ESD", "cork")},
			appoint("ESD", "cork")},
		{"a member of three clusters coordinates none of a fourth", domain.CodeCityInThreeClusters, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCluster("EQI"), registerCluster("LIT"), registerCluster("HWB"),
				registerCity("cork", "IE"), join("ESD", "cork"), join("EQI", "cork"), join("LIT", "cork")},
			appoint("HWB", "cork")},
		{"a coordinator is a member already", domain.CodeAlreadyMember, "city_id",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCity("cork", "IE"), appoint("ESD", "cork")},
			join("ESD", "cork")},
		{"city in a lower-case country", domain.CodeUnknownCountry, "country", nil,
			registerCity("cork", "ie")},
		// Batches: the refusal names the command of the batch at fault.
		{"a batch refused by its second command", domain.CodeDuplicateID, "commands[1].id", nil,
			&domain.Batch{Meta: alice, Commands: []domain.Command{registerDonor(), registerDonor()}}},
		{"an empty batch", domain.CodeMissingField, "commands", nil,
			&domain.Batch{Meta: alice}},
		{"a batch in a batch", domain.CodeBatchTooLarge, "commands[0]", nil,
			&domain.Batch{Meta: alice, Commands: []domain.Command{&domain.Batch{}}}},
	}
	checkRefusals(t, tests)
}

func TestDecideWithoutActorOrDate(t *testing.T) {
	for _, m := range []domain.Meta{{Today: "2021-12-31"}, {Actor: "alice"}, {Actor: "alice", Today: "31/12/2021"}} {
		c := with(registerDonor(), func(c *domain.RegisterDonor) { c.Meta = m })
		evs, err := domain.Decide(domain.NewState("mdfm"), c)
		if err == nil || len(evs) != 0 {
			t.Errorf("Decide with meta %+v = %d events, %v; want an error and none", m, len(evs), err)
		}
		var de *errs.Error
		if errors.As(err, &de) {
			t.Errorf("Decide with meta %+v = domain error %v: a missing actor or date is the caller's bug, not the user's", m, de)
		}
	}
}

// decided is an event as the tests compare it: its envelope fields that
// Decide sets and its decoded payload.
type decided struct {
	Type        string
	V           int
	EffectiveOn string
	Payload     events.Payload
}

func decode(t *testing.T, evs []events.Event) []decided {
	t.Helper()
	out := make([]decided, 0, len(evs))
	for _, e := range evs {
		p, err := e.Payload()
		if err != nil {
			t.Fatalf("decode %s: %v", e.Type, err)
		}
		if e.ID != "" || e.Fund != "" || e.FundSeq != 0 || e.Hash != "" || e.PrevHash != "" {
			t.Errorf("Decide set the writer's fields of %s: %+v", e.Type, e)
		}
		out = append(out, decided{e.Type, e.V, e.EffectiveOn, p})
	}
	return out
}

func ev(on string, p events.Payload) decided { return decided{p.EventType(), 1, on, p} }

func ptr[T any](v T) *T { return &v }

// TestDecideEvents: given these commands, when this command, then exactly
// these events.
func TestDecideEvents(t *testing.T) {
	usd := money.USDAmount
	tests := []struct {
		name  string
		given []domain.Command
		when  domain.Command
		then  []decided
	}{
		{"open a term", nil, openTerm(), []decided{
			ev("2020-01-01", &events.TermOpened{TermID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31",
				Target: usd(100000000), FeeRate: "0.01"}),
		}},
		{"register a donor", nil, registerDonor(), []decided{
			ev("2021-12-31", &events.DonorRegistered{DonorID: "DE", Name: "Germany", Kind: "country", Country: "DE"}),
		}},
		{"EUR 50000.00 at 1.1 is US$55000.00, with a fee of US$550.00 at 1 %",
			[]domain.Command{openTerm(), registerDonor()}, eurReceipt(), []decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 5000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(5500000),
					ReceivedOn: "2021-03-15", BankRef: "REF-1"}),
				ev("2021-03-15", &events.FeeCharged{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					FeeRate: "0.01", Amount: usd(55000)}),
			}},
		{"USD is recorded at a rate of 1",
			[]domain.Command{openTerm(), registerDonor()},
			with(eurReceipt(), func(c *domain.RecordContribution) { c.Amount = usdIn("25000.00"); c.USDRate = ""; c.BankRef = "" }),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: usd(2500000), USDRate: "1", USDAmount: usd(2500000), ReceivedOn: "2021-03-15"}),
				ev("2021-03-15", &events.FeeCharged{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					FeeRate: "0.01", Amount: usd(25000)}),
			}},
		{"JPY 1000000 at 0.0091 is US$9100.00",
			[]domain.Command{openTerm(), registerDonor()},
			with(eurReceipt(), func(c *domain.RecordContribution) {
				c.Amount = domain.MoneyInput{Amount: "1000000", Currency: "JPY"}
				c.USDRate = "0.0091"
			}),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 1000000, Currency: "JPY"}, USDRate: "0.0091", USDAmount: usd(910000),
					ReceivedOn: "2021-03-15", BankRef: "REF-1"}),
				ev("2021-03-15", &events.FeeCharged{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					FeeRate: "0.01", Amount: usd(9100)}),
			}},
		{"a fee of half a cent rounds up to a cent",
			[]domain.Command{openTerm(), registerDonor()},
			with(eurReceipt(), func(c *domain.RecordContribution) { c.Amount = usdIn("0.50"); c.USDRate = "1" }),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: usd(50), USDRate: "1", USDAmount: usd(50), ReceivedOn: "2021-03-15", BankRef: "REF-1"}),
				ev("2021-03-15", &events.FeeCharged{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					FeeRate: "0.01", Amount: usd(1)}),
			}},
		{"a fee that rounds to zero is not charged",
			[]domain.Command{openTerm(), registerDonor()},
			with(eurReceipt(), func(c *domain.RecordContribution) { c.Amount = usdIn("0.49"); c.USDRate = "" }),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: usd(49), USDRate: "1", USDAmount: usd(49), ReceivedOn: "2021-03-15", BankRef: "REF-1"}),
			}},
		{"a term without fee charges none",
			[]domain.Command{with(openTerm(), func(c *domain.OpenTerm) { c.FeeRate = "0" }), registerDonor()},
			eurReceipt(),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 5000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(5500000),
					ReceivedOn: "2021-03-15", BankRef: "REF-1"}),
			}},
		{"a budget line is dated on the term's first day",
			[]domain.Command{openTerm(), registerCluster("ESD")},
			with(addLine(), func(c *domain.AddBudgetLine) { c.ClusterID = "ESD" }),
			[]decided{
				ev("2020-01-01", &events.BudgetLineAdded{LineID: "MDFM-1.1", TermID: "2020-2021", Title: "Network coordination",
					Amount: usd(3000000), ClusterID: "ESD"}),
			}},
		{"propose an allocation", funded(), propose(), []decided{
			ev("2021-04-01", &events.AllocationProposed{AllocationID: "A-1", LineID: "MDFM-1.1", TermID: "2020-2021",
				Amount: usd(2000000), Note: "coordination 2021", ProposedBy: "alice"}),
		}},
		{"a proposal without a date is dated today", funded(),
			with(propose(), func(c *domain.ProposeAllocation) { c.ProposedOn = "" }),
			[]decided{
				ev("2021-12-31", &events.AllocationProposed{AllocationID: "A-1", LineID: "MDFM-1.1", TermID: "2020-2021",
					Amount: usd(2000000), Note: "coordination 2021", ProposedBy: "alice"}),
			}},
		{"another user approves", plus(funded(), propose()), approve(), []decided{
			ev("2021-04-02", &events.AllocationApproved{AllocationID: "A-1", LineID: "MDFM-1.1", TermID: "2020-2021",
				Amount: usd(2000000), ProposedBy: "alice", ApprovedBy: "bob", Funding: []events.Draw{{Amount: usd(2000000)}}}),
		}},
		{"allocate all that is unallocated", funded(),
			with(propose(), func(c *domain.ProposeAllocation) { c.Amount = usdIn("30000.00") }),
			[]decided{
				ev("2021-04-01", &events.AllocationProposed{AllocationID: "A-1", LineID: "MDFM-1.1", TermID: "2020-2021",
					Amount: usd(3000000), Note: "coordination 2021", ProposedBy: "alice"}),
			}},
		{"spend in USD", plus(funded(), propose(), approve()), spend(), []decided{
			ev("2021-05-01", &events.ExpenditureRecorded{ExpenditureID: "E-1", AllocationID: "A-1", LineID: "MDFM-1.1",
				TermID: "2020-2021", Amount: usd(500000), USDRate: "1", USDAmount: usd(500000), SpentOn: "2021-05-01",
				Payee: "City of Cork", Country: "IE", City: "Cork"}),
		}},
		{"spend in EUR, up to the last cent of the allocation", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.Amount = eurIn("16666.67"); c.USDRate = "1.19999976" }),
			[]decided{
				ev("2021-05-01", &events.ExpenditureRecorded{ExpenditureID: "E-1", AllocationID: "A-1", LineID: "MDFM-1.1",
					TermID: "2020-2021", Amount: money.Amount{Minor: 1666667, Currency: "EUR"}, USDRate: "1.19999976",
					USDAmount: usd(2000000), SpentOn: "2021-05-01", Payee: "City of Cork", Country: "IE", City: "Cork"}),
			}},
		{"spend on the day of approval", plus(funded(), propose(), approve()),
			with(spend(), func(c *domain.RecordExpenditure) { c.SpentOn = "2021-04-02" }),
			[]decided{
				ev("2021-04-02", &events.ExpenditureRecorded{ExpenditureID: "E-1", AllocationID: "A-1", LineID: "MDFM-1.1",
					TermID: "2020-2021", Amount: usd(500000), USDRate: "1", USDAmount: usd(500000), SpentOn: "2021-04-02",
					Payee: "City of Cork", Country: "IE", City: "Cork"}),
			}},
		{"a pledge earmarked to a cluster is a memo entry dated when signed",
			[]domain.Command{openTerm(), registerDonor(), registerCluster("ESD")},
			with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{ClusterID: "ESD"} }),
			[]decided{
				ev("2020-02-01", &events.PledgeRecorded{PledgeID: "P-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 10000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(11000000),
					Earmark: &events.Earmark{ClusterID: "ESD"}, SignedOn: "2020-02-01", DueOn: "2021-06-30"}),
			}},
		{"a receipt paying half an earmarked pledge goes into its pot and settles half its US dollar value",
			[]domain.Command{openTerm(), registerDonor(), registerCluster("ESD"),
				with(pledge(), func(c *domain.RecordPledge) { c.Earmark = &domain.EarmarkInput{ClusterID: "ESD"} })},
			paying(),
			[]decided{
				ev("2021-03-15", &events.ContributionReceived{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021", PledgeID: "P-1",
					Amount: money.Amount{Minor: 5000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(5500000),
					ReceivedOn: "2021-03-15", BankRef: "REF-1", Earmark: "cluster:ESD", PledgeSettledUSD: ptr(usd(5500000))}),
				ev("2021-03-15", &events.FeeCharged{ContributionID: "C-1", DonorID: "DE", TermID: "2020-2021",
					FeeRate: "0.01", Amount: usd(55000), Earmark: "cluster:ESD"}),
			}},
		// EUR 70000.00 of EUR 120000.00 worth US$132000.00 is US$77000.00
		// outstanding, US$22000.00 more than the US$55000.00 before.
		{"an amendment records the new values and the change of what is outstanding",
			[]domain.Command{openTerm(), registerDonor(), pledge(), paying()},
			amend(),
			[]decided{
				ev("2021-01-10", &events.PledgeAmended{PledgeID: "P-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 12000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(13200000), DueOn: "2021-06-30",
					Reason: "addendum signed", OutstandingUSDChange: usd(2200000)}),
			}},
		{"a new due date alone keeps the amount",
			[]domain.Command{openTerm(), registerDonor(), pledge()},
			&domain.AmendPledge{Meta: alice, ID: "P-1", DueOn: "2021-09-30", Reason: "donor asked", AmendedOn: "2021-06-01"},
			[]decided{
				ev("2021-06-01", &events.PledgeAmended{PledgeID: "P-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 10000000, Currency: "EUR"}, USDRate: "1.1", USDAmount: usd(11000000), DueOn: "2021-09-30",
					Reason: "donor asked", OutstandingUSDChange: usd(0)}),
			}},
		{"a cancellation writes off what the pledge still expects",
			[]domain.Command{openTerm(), registerDonor(), pledge(), paying()},
			cancel(),
			[]decided{
				ev("2021-10-01", &events.PledgeCancelled{PledgeID: "P-1", DonorID: "DE", TermID: "2020-2021", Reason: "donor withdrew",
					WrittenOff: money.Amount{Minor: 5000000, Currency: "EUR"}, WrittenOffUSD: usd(5500000)}),
			}},
		{"interest", funded(), interest(), []decided{
			ev("2021-06-30", &events.InterestEarned{InterestID: "I-1", TermID: "2020-2021", Amount: usd(10000), EarnedOn: "2021-06-30"}),
		}},
		{"a refund names the pots it comes from", funded(), refund(), []decided{
			ev("2021-07-01", &events.RefundPaid{RefundID: "R-1", DonorID: "DE", TermID: "2020-2021", Amount: usd(100000),
				PaidOn: "2021-07-01", Funding: []events.Draw{{Amount: usd(100000)}}}),
		}},
		{"reversing a receipt reverses its fee first, each dated as the event it reverses", funded(), reverse("ev-3"), []decided{
			ev("2021-03-15", &events.EventReversed{ReversalID: "X-1", EventID: "ev-4", ReversedFundSeq: 4, ReversedType: "fee_charged",
				Reason: "entered twice", Postings: []events.Posting{
					{Account: "trust:unallocated", TermID: "2020-2021", DonorID: "DE", Amount: usd(-55000)},
					{Account: "trust:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(55000)},
					{Account: "uil:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(-55000)},
					{Account: "uil:fee_revenue", TermID: "2020-2021", DonorID: "DE", Amount: usd(55000)},
				}}),
			ev("2021-03-15", &events.EventReversed{ReversalID: "X-1", EventID: "ev-3", ReversedFundSeq: 3, ReversedType: "contribution_received",
				Reason: "entered twice", Postings: []events.Posting{
					{Account: "trust:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(-5500000)},
					{Account: "trust:unallocated", TermID: "2020-2021", DonorID: "DE", Amount: usd(5500000)},
				}}),
		}},
		// The receipt settled US$55000.00 at 1.1; at the amended 1.2 the
		// EUR 100000.00 it leaves unpaid is worth US$120000.00, not the
		// US$115000.00 that giving back the US$55000.00 makes.
		{"reversing a receipt made before its pledge was revalued revalues what the pledge expects",
			[]domain.Command{openTerm(), registerDonor(), pledge(), paying(),
				with(amend(), func(c *domain.AmendPledge) { c.Amount = eurIn("100000.00"); c.USDRate = "1.2" })},
			reverse("ev-4"),
			[]decided{
				ev("2021-03-15", &events.EventReversed{ReversalID: "X-1", EventID: "ev-5", ReversedFundSeq: 5, ReversedType: "fee_charged",
					Reason: "entered twice", Postings: []events.Posting{
						{Account: "trust:unallocated", TermID: "2020-2021", DonorID: "DE", Amount: usd(-55000)},
						{Account: "trust:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(55000)},
						{Account: "uil:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(-55000)},
						{Account: "uil:fee_revenue", TermID: "2020-2021", DonorID: "DE", Amount: usd(55000)},
					}}),
				ev("2021-03-15", &events.EventReversed{ReversalID: "X-1", EventID: "ev-4", ReversedFundSeq: 4, ReversedType: "contribution_received",
					Reason: "entered twice", Postings: []events.Posting{
						{Account: "trust:cash", TermID: "2020-2021", DonorID: "DE", Amount: usd(-5500000)},
						{Account: "trust:unallocated", TermID: "2020-2021", DonorID: "DE", Amount: usd(5500000)},
						{Account: "memo:pledges", TermID: "2020-2021", DonorID: "DE", PledgeID: "P-1", Amount: usd(5500000)},
						{Account: "memo:pledges_contra", TermID: "2020-2021", DonorID: "DE", PledgeID: "P-1", Amount: usd(-5500000)},
					}}),
				ev("2021-03-15", &events.PledgeAmended{PledgeID: "P-1", DonorID: "DE", TermID: "2020-2021",
					Amount: money.Amount{Minor: 10000000, Currency: "EUR"}, USDRate: "1.2", USDAmount: usd(12000000), DueOn: "2021-06-30",
					Reason:               "revalued after reversal X-1 of receipt C-1, made before the pledge was amended",
					OutstandingUSDChange: usd(500000)}),
			}},
		{"an expenditure in a city of the registry takes its country and name",
			plus(funded(), propose(), approve(), registerCity("cork", "IE")),
			with(spend(), func(c *domain.RecordExpenditure) { c.CityID = "cork"; c.Country = ""; c.City = "" }),
			[]decided{
				ev("2021-05-01", &events.ExpenditureRecorded{ExpenditureID: "E-1", AllocationID: "A-1", LineID: "MDFM-1.1",
					TermID: "2020-2021", Amount: usd(500000), USDRate: "1", USDAmount: usd(500000), SpentOn: "2021-05-01",
					Payee: "City of Cork", Country: "IE", City: "City of cork", CityID: "cork"}),
			}},
		{"register a city", nil, registerCity("cork", "IE"), []decided{
			ev("2021-12-31", &events.CityRegistered{CityID: "cork", Name: "City of cork", Country: "IE"}),
		}},
		{"register a cluster with its technical partner", nil,
			with(registerCluster("ESD"), func(c *domain.RegisterCluster) { c.TechnicalPartner = "UNESCO ESD section" }),
			[]decided{
				ev("2021-12-31", &events.ClusterRegistered{ClusterID: "ESD", Name: "Cluster ESD", TechnicalPartner: "UNESCO ESD section"}),
			}},
		{"appoint a coordinator", []domain.Command{openTerm(), registerCluster("ESD"), registerCity("cork", "IE")},
			appoint("ESD", "cork"), []decided{
				ev("2021-12-31", &events.CoordinatorAppointed{ClusterID: "ESD", CityID: "cork", TermID: "2020-2021"}),
			}},
		{"a member of two clusters may coordinate a third",
			[]domain.Command{openTerm(), registerCluster("ESD"), registerCluster("EQI"), registerCluster("LIT"),
				registerCity("cork", "IE"), join("ESD", "cork"), join("EQI", "cork")},
			appoint("LIT", "cork"), []decided{
				ev("2021-12-31", &events.CoordinatorAppointed{ClusterID: "LIT", CityID: "cork", TermID: "2020-2021"}),
			}},
		// DE's net US$99.00 and FR's US$198.00 share US$297.01: FR's share
		// has the larger remainder and takes the odd cent.
		{"a close refunds the unallocated balance pro rata, to the cent",
			[]domain.Command{openTerm(), registerDonor(), registerDonorFR(),
				with(eurReceipt(), func(c *domain.RecordContribution) { c.Amount = usdIn("100.00"); c.USDRate = "" }),
				with(eurReceipt(), func(c *domain.RecordContribution) {
					c.ID = "C-2"
					c.DonorID = "FR"
					c.Amount = usdIn("200.00")
					c.USDRate = ""
				}),
				with(interest(), func(c *domain.RecordInterest) { c.Amount = usdIn("0.01") })},
			closeRefund(),
			[]decided{
				ev("2021-12-31", &events.RefundPaid{RefundID: "close:2020-2021:DE", DonorID: "DE", TermID: "2020-2021", Amount: usd(9900),
					PaidOn: "2021-12-31", Reason: "term 2020-2021 closed: unallocated balance refunded", Funding: []events.Draw{{Amount: usd(9900)}}}),
				ev("2021-12-31", &events.RefundPaid{RefundID: "close:2020-2021:FR", DonorID: "FR", TermID: "2020-2021", Amount: usd(19801),
					PaidOn: "2021-12-31", Reason: "term 2020-2021 closed: unallocated balance refunded", Funding: []events.Draw{{Amount: usd(19801)}}}),
				ev("2021-12-31", &events.TermClosed{TermID: "2020-2021", ClosedOn: "2021-12-31", Disposition: events.Disposition{Kind: "refund"},
					Unallocated: usd(29701), CarriedOver: usd(0), Refunded: usd(29701), AllocationsKept: []events.KeptAllocation{}}),
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := given(t, tc.given...)
			before := given(t, tc.given...)
			evs, err := domain.Decide(s, tc.when)
			if err != nil {
				t.Fatalf("Decide(%T): %v", tc.when, err)
			}
			if diff := cmp.Diff(before, s); diff != "" {
				t.Errorf("Decide changed the state (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(tc.then, decode(t, evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			applyAll(t, s, evs)
		})
	}
}

// frReceipt is US$10000.00 from FR on the day given (a fee of US$100.00).
func frReceipt(on string) *domain.RecordContribution {
	return &domain.RecordContribution{Meta: alice, ID: "C-FR-" + on, DonorID: "FR", TermID: "2020-2021",
		Amount: usdIn("10000.00"), ReceivedOn: on}
}

// TestRefundWithinBalanceOnItsDay checks what a refund may be as of its
// paid_on (issue 8): all of the donor's share on the day of its receipt,
// interest included, the same refund a day earlier not at all; and money a
// close carried in from the previous term only from the day of the close.
func TestRefundWithinBalanceOnItsDay(t *testing.T) {
	// DE US$54450.00 net on 2021-03-15, FR US$9900.00 net on 2020-06-01,
	// US$100.00 of interest on 2021-06-30: DE's share of the pool is
	// 54450 + 100 × 54450 / 64350 = US$54534.62.
	base := plus(funded(), registerDonorFR(), frReceipt("2020-06-01"), interest())
	// field is the field of the refusal, "" for none.
	for _, tc := range []struct{ paidOn, amount, field string }{
		{"2021-03-14", "0.01", "paid_on"},
		{"2021-03-15", "54450.00", ""},
		{"2021-03-15", "54450.01", "paid_on"},
		{"2021-06-30", "54534.62", ""},
		{"2021-06-30", "54534.63", "amount"},
	} {
		s := given(t, base...)
		_, err := domain.Decide(s, with(refund(), func(c *domain.RecordRefund) { c.PaidOn = tc.paidOn; c.Amount = usdIn(tc.amount) }))
		var de *errs.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("refund of %s on %s: %v, want accepted", tc.amount, tc.paidOn, err)
		case tc.field != "" && (!errors.As(err, &de) || de.Code != domain.CodeRefundExceedsAttributable || de.Field != tc.field):
			t.Errorf("refund of %s on %s: %v, want %s on %s", tc.amount, tc.paidOn, err, domain.CodeRefundExceedsAttributable, tc.field)
		}
	}

	// 2020-2021 closes on 2022-02-01, carrying DE's US$54450.00 into
	// 2022-2023, which began on 2022-01-01.
	next := func(c *domain.Meta) { c.Today = "2022-06-30" }
	cl := closeCarry()
	cl.ClosedOn = "2022-02-01"
	next(&cl.Meta)
	carried := plus(funded(), openNextTerm(), cl)
	for _, tc := range []struct {
		paidOn string
		ok     bool
	}{{"2022-01-31", false}, {"2022-02-01", true}} {
		s := given(t, carried...)
		r := with(refund(), func(c *domain.RecordRefund) { c.TermID = "2022-2023"; c.PaidOn = tc.paidOn; next(&c.Meta) })
		_, err := domain.Decide(s, r)
		if (err == nil) != tc.ok {
			t.Errorf("refund of carried-in money on %s: %v, want accepted %v", tc.paidOn, err, tc.ok)
		}
	}
}

// refusal is a command that Decide must refuse with code, naming field,
// after the given commands.
type refusal struct {
	name  string
	code  string
	field string
	given []domain.Command
	when  domain.Command
}

// checkRefusals decides each case's command after its given ones and
// checks the code, the field, that no event came with the refusal and that
// the state did not change.
func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := given(t, tc.given...)
			before := given(t, tc.given...)
			evs, err := domain.Decide(s, tc.when)
			if len(evs) != 0 {
				t.Errorf("Decide returned %d events with its refusal, want none", len(evs))
			}
			var de *errs.Error
			if !errors.As(err, &de) {
				t.Fatalf("Decide(%T) error = %v, want a *errs.Error %s", tc.when, err, tc.code)
			}
			if de.Code != tc.code || de.Field != tc.field {
				t.Errorf("Decide(%T) = code %s field %q (%v), want code %s field %q", tc.when, de.Code, de.Field, de, tc.code, tc.field)
			}
			if diff := cmp.Diff(before, s); diff != "" {
				t.Errorf("a refused command changed the state (-before +after):\n%s", diff)
			}
		})
	}
}
