package domain_test

import (
	"fmt"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
)

// benchState returns a fund with one term, one donor and n receipts, each
// applied as the writer would.
func benchState(b *testing.B, n int) *domain.State {
	b.Helper()
	s := domain.NewState("mdfm")
	meta := domain.Meta{Actor: "olu", Today: "2021-12-31", Role: domain.RoleApprover}
	do := func(c domain.Command) {
		domain.SetMeta(c, meta)
		evs, err := domain.Decide(s, c)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			e.Fund, e.FundSeq, e.ID = "mdfm", s.FundSeq+1, fmt.Sprintf("e-%d", s.FundSeq+1)
			if err := domain.Apply(s, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	do(&domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: domain.MoneyInput{Amount: "1000000.00", Currency: "USD"}, FeeRate: "0.01"})
	do(&domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP"})
	for i := range n {
		do(receipt(fmt.Sprintf("r-%d", i)))
	}
	return s
}

func receipt(id string) *domain.RecordContribution {
	return &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: "2020-2021", Amount: domain.MoneyInput{Amount: "100.00", Currency: "USD"}, ReceivedOn: "2021-01-15"}
}

// BenchmarkDecideReceipt decides one receipt against a fund of 10,000.
func BenchmarkDecideReceipt(b *testing.B) {
	s := benchState(b, 10_000)
	c := receipt("new")
	domain.SetMeta(c, domain.Meta{Actor: "olu", Today: "2021-12-31"})
	b.ResetTimer()
	for b.Loop() {
		if _, err := domain.Decide(s, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideBatch decides a batch of 100 receipts against funds of
// growing size: its cost should not grow with the fund (issue 10).
func BenchmarkDecideBatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("fund=%d", n), func(b *testing.B) {
			s := benchState(b, n)
			cmds := make([]domain.Command, 100)
			for i := range cmds {
				c := receipt(fmt.Sprintf("b-%d", i))
				domain.SetMeta(c, domain.Meta{Actor: "olu", Today: "2021-12-31"})
				cmds[i] = c
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := domain.DecideBatch(s, cmds); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
