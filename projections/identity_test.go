package projections_test

import (
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// cents parses a balance figure ("-12.34") into minor units.
func cents(t interface{ Fatalf(string, ...any) }, s string) int64 {
	n, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil || !strings.Contains(s, ".") || len(s)-strings.Index(s, ".") != 3 {
		t.Fatalf("figure %q is not a USD decimal string", s)
	}
	return n
}

// openRaw opens a read-only connection of our own to a read model's file.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var day0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// later returns the date days after on, at most the term's last day; an
// empty on stays empty (the command then takes today).
func later(on string, days int) string {
	if on == "" {
		return ""
	}
	d, _ := time.Parse(time.DateOnly, on)
	if s := d.AddDate(0, 0, days).Format(time.DateOnly); s < "2021-12-31" {
		return s
	}
	return "2021-12-31"
}

func drawDate(t *rapid.T, label string) string {
	return day0.AddDate(0, 0, rapid.IntRange(0, 730).Draw(t, label)).Format(time.DateOnly)
}

// TestMain makes the property tests cheaper by default: each check writes a
// fund through a writer whose appends are fsynced. -rapid.checks overrides.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "30")
	}
	os.Exit(m.Run())
}

// TestIdentityAfterEveryEvent writes random histories (receipts in several
// currencies, lines, proposals, approvals, expenditures; the domain refuses
// what breaks its rules) and applies them one event per batch. After every
// event the balance must satisfy
// trust cash = received + interest − fees − spent − refunded = unallocated + allocated-unspent
// at several dates and fund_seqs, agree with the domain's own totals, and
// the postings of the fund must sum to zero, event by event and in all.
func TestIdentityAfterEveryEvent(t *testing.T) {
	_, log := testnats.Log(t)
	s := openStore(t, "read.db")
	raw := openRaw(t, s.Path())
	n := 0
	seen := map[string]int{}
	defer func() { t.Logf("events applied by type, and refusals by code: %v", seen) }()
	rapid.Check(t, func(rt *rapid.T) {
		n++
		fund := fmt.Sprintf("f%d", n)
		w, err := ledger.Open(t.Context(), log, fund, ledger.Options{Now: ledgertest.Now})
		if err != nil {
			rt.Fatal(err)
		}
		defer w.Close()
		submit := func(id, actor string, c domain.Command) bool {
			_, err := ledgertest.Submit(t, w, id, actor, c)
			var de *domain.Error
			if err != nil && !errors.As(err, &de) {
				rt.Fatalf("%s: %v", id, err)
			}
			if de != nil {
				seen["refused "+de.Code]++
			}
			return err == nil
		}
		submit("term", "ana", &domain.OpenTerm{ID: ledgertest.Term, StartsOn: "2020-01-01", EndsOn: "2021-12-31",
			Target: ledgertest.USD("1000000.00"), FeeRate: rapid.SampledFrom([]string{"0.01", "0.07", "0.015"}).Draw(rt, "fee_rate")})
		submit("d1", "olu", &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP"})
		submit("d2", "olu", &domain.RegisterDonor{ID: "hamburg", Name: "City of Hamburg", Kind: "member_city", Country: "DE"})
		submit("line", "ana", &domain.AddBudgetLine{ID: "L1", TermID: ledgertest.Term, Title: "line one", Amount: ledgertest.USD("500000.00")})
		submit("line2", "ana", &domain.AddBudgetLine{ID: "L2", TermID: ledgertest.Term, Title: "line two", Amount: ledgertest.USD("500000.00")})
		steps := rapid.IntRange(1, 30).Draw(rt, "steps")
		// The dates of each allocation, so that most approvals and
		// expenditures come after what they need and pass.
		proposedOn := map[string]string{}
		approvedOn := map[string]string{}
		var proposed, approved []string
		allocs := 0
		// pick mostly returns one of ids, and sometimes any allocation id:
		// refusals are part of the history too.
		pick := func(ids []string) string {
			if len(ids) > 0 && rapid.IntRange(0, 9).Draw(rt, "any allocation") > 0 {
				return rapid.SampledFrom(ids).Draw(rt, "allocation")
			}
			return fmt.Sprintf("a%d", rapid.IntRange(1, allocs).Draw(rt, "allocation"))
		}
		for i := range steps {
			id := fmt.Sprintf("s%d", i)
			// An approval needs a proposal and an expenditure an approval:
			// draw one of the steps that can pass, mostly.
			k := rapid.IntRange(0, 9).Draw(rt, "kind")
			if k >= 8 && len(approved) == 0 {
				k = 5
			}
			if k >= 5 && k < 8 && len(proposed) == 0 {
				k = 3
			}
			switch {
			case k < 3:
				cur, _ := money.LookupCurrency(rapid.SampledFrom([]string{"USD", "EUR", "JPY", "KWD"}).Draw(rt, "currency"))
				rate := ""
				if cur.Code != "USD" {
					rate = rapid.SampledFrom([]string{"1.1", "0.0091", "3.3", "1.08325"}).Draw(rt, "rate")
				}
				submit(id, "olu", &domain.RecordContribution{ID: id, DonorID: rapid.SampledFrom([]string{"osaka", "hamburg"}).Draw(rt, "donor"),
					TermID: ledgertest.Term, Amount: ledgertest.Money(money.Format(rapid.Int64Range(1, 100_000_000).Draw(rt, "amount"), cur), cur.Code),
					USDRate: rate, ReceivedOn: drawDate(rt, "received_on")})
			case k < 5:
				allocs++
				a := fmt.Sprintf("a%d", allocs)
				proposedOn[a] = drawDate(rt, "proposed_on")
				if submit(id, "olu", &domain.ProposeAllocation{ID: a, LineID: rapid.SampledFrom([]string{"L1", "L2"}).Draw(rt, "line"),
					Amount: ledgertest.USD(money.FormatUSD(rapid.Int64Range(1, 5_000_000).Draw(rt, "amount"))), ProposedOn: proposedOn[a]}) {
					proposed = append(proposed, a)
				}
			case k < 8:
				if allocs == 0 {
					continue
				}
				a := pick(proposed)
				approvedOn[a] = later(proposedOn[a], rapid.IntRange(0, 60).Draw(rt, "approval delay"))
				// One approval in ten is by the proposer, which rule 3 refuses.
				approver := "ana"
				if rapid.IntRange(0, 9).Draw(rt, "approver") == 0 {
					approver = "olu"
				}
				if submit(id, approver, &domain.ApproveAllocation{ID: a, ApprovedOn: approvedOn[a]}) {
					approved = append(approved, a)
					proposed = slices.DeleteFunc(proposed, func(p string) bool { return p == a })
				}
			default:
				if allocs == 0 {
					continue
				}
				a := pick(approved)
				spentOn := later(approvedOn[a], rapid.IntRange(0, 90).Draw(rt, "spending delay"))
				submit(id, "olu", &domain.RecordExpenditure{ID: id, AllocationID: a,
					Amount: ledgertest.USD(money.FormatUSD(rapid.Int64Range(1, 500_000).Draw(rt, "amount"))), SpentOn: spentOn, Payee: "payee"})
			}
		}

		cp, err := s.Checkpoint(t.Context())
		if err != nil {
			rt.Fatal(err)
		}
		var evs []events.Event
		if err := log.ReadFund(t.Context(), fund, cp, func(e events.Event) error {
			evs = append(evs, e)
			return nil
		}); err != nil {
			rt.Fatal(err)
		}
		state := domain.NewState(fund)
		for _, e := range evs {
			seen[e.Type]++
			if err := s.ApplyBatch(t.Context(), []events.Event{e}); err != nil {
				rt.Fatalf("apply %s fund_seq %d: %v", e.Type, e.FundSeq, err)
			}
			if err := domain.Apply(state, e); err != nil {
				rt.Fatal(err)
			}
			checkIdentity(rt, s, fund, e.EffectiveOn, 0)
			checkIdentity(rt, s, fund, drawDate(rt, "as_of"), 0)
			if e.FundSeq > 1 {
				checkIdentity(rt, s, fund, e.EffectiveOn, e.FundSeq-1)
			}
			// The read model's totals at the end of time are the domain's.
			got := checkIdentity(rt, s, fund, "9999-12-31", 0)
			tt := state.Terms[ledgertest.Term].Totals
			want := [6]int64{tt.Received, tt.Fees, tt.Spent, tt.Unallocated, tt.AllocatedUnspent, tt.UILRevenue}
			if got != want {
				rt.Fatalf("after fund_seq %d: read model received, fees, spent, unallocated, allocated_unspent, uil_revenue %v; domain %v", e.FundSeq, got, want)
			}
			checkTrialBalance(rt, raw, fund, e.FundSeq)
		}
	})
}

// checkIdentity asks for a balance and checks the accounting identity; it
// returns received, fees, spent, unallocated, allocated_unspent, uil_revenue.
func checkIdentity(t *rapid.T, s *projections.Store, fund, asOf string, atSeq uint64) [6]int64 {
	b, err := s.Balance(t.Context(), projections.BalanceQuery{Fund: fund, Term: ledgertest.Term, AsOf: asOf, AtSeq: atSeq})
	if err != nil {
		t.Fatalf("balance of %s as of %s at %d: %v", fund, asOf, atSeq, err)
	}
	c := func(s string) int64 { return cents(t, s) }
	cash, flows := c(b.TrustBalance), c(b.Received)+c(b.Interest)-c(b.Fees)-c(b.Spent)-c(b.Refunded)
	parts := c(b.Unallocated) + c(b.AllocatedUnspent)
	if cash != flows || cash != parts {
		t.Fatalf("identity broken for %s as of %s at %d: trust %d, received+interest-fees-spent-refunded %d, unallocated+allocated_unspent %d (%+v)",
			fund, asOf, atSeq, cash, flows, parts, b)
	}
	if c(b.UILRevenue) != c(b.Fees) {
		t.Fatalf("UIL revenue %s differs from fees %s", b.UILRevenue, b.Fees)
	}
	return [6]int64{c(b.Received), c(b.Fees), c(b.Spent), c(b.Unallocated), c(b.AllocatedUnspent), c(b.UILRevenue)}
}

// checkTrialBalance checks that every event's postings, and so all of the
// fund's, sum to zero, that each book balances on its own, and that UIL's
// cash is exactly the fees charged.
func checkTrialBalance(t *rapid.T, db *sql.DB, fund string, fundSeq uint64) {
	var total, trust, uil, uilCashLessFees int64
	var unbalanced int
	err := db.QueryRowContext(t.Context(), `SELECT
		COALESCE(SUM(amount_minor), 0),
		COALESCE(SUM(CASE WHEN account LIKE 'trust:%' THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account LIKE 'uil:%' THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN account = 'uil:cash' THEN amount_minor END), 0)
			- (SELECT COALESCE(SUM(amount_minor), 0) FROM fees WHERE fund = ?1 AND fund_seq <= ?2),
		(SELECT count(*) FROM (SELECT 1 FROM postings WHERE fund = ?1 GROUP BY fund_seq HAVING SUM(amount_minor) != 0))
		FROM postings WHERE fund = ?1 AND fund_seq <= ?2`, fund, int64(fundSeq)).Scan(&total, &trust, &uil, &uilCashLessFees, &unbalanced)
	if err != nil {
		t.Fatal(err)
	}
	if total != 0 || unbalanced != 0 || trust != 0 || uil != 0 || uilCashLessFees != 0 {
		t.Fatalf("trial balance of %s at fund_seq %d: total %d, %d unbalanced events, trust book %d, uil book %d, uil cash less the fees table %d",
			fund, fundSeq, total, unbalanced, trust, uil, uilCashLessFees)
	}
}
