package domain_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/google/uuid"
	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// BenchmarkStateMemory reports the live heap the state keeps per event
// (B/event) for a fund of receipts, each event sealed, encoded and decoded
// as the writer reads it from the log, with a UUIDv7 id as the writer
// gives it: what the writer holds at start-up on a long log (issue 10).
// With STATE_HEAP_PROFILE=FILE it writes a heap profile while the state
// is alive (go test's -memprofile is written once it is gone).
func BenchmarkStateMemory(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := memoryState(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(s.FundSeq), "B/event")
		if f := os.Getenv("STATE_HEAP_PROFILE"); f != "" {
			out, _ := os.Create(f)
			pprof.WriteHeapProfile(out)
			out.Close()
		}
		runtime.KeepAlive(s)
	}
}

func memoryState(b *testing.B, n int) *domain.State {
	b.Helper()
	s := domain.NewState("mdfm")
	chain := events.NewChain("mdfm")
	meta := domain.Meta{Actor: "olu", Today: "2021-12-31", Role: domain.RoleApprover}
	do := func(c domain.Command) {
		domain.SetMeta(c, meta)
		evs, err := domain.Decide(s, c)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			e.Fund, e.FundSeq, e.ID = "mdfm", s.FundSeq+1, uuid.Must(uuid.NewV7()).String()
			e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2021-12-31T00:00:00Z", "olu", uuid.NewString(), "h"
			if err := e.Seal(chain.Head); err != nil {
				b.Fatal(err)
			}
			chain.Head, chain.FundSeq = e.Hash, e.FundSeq
			raw, err := e.Encode()
			if err != nil {
				b.Fatal(err)
			}
			d, err := events.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			if err := domain.Apply(s, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	do(&domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: domain.MoneyInput{Amount: "1000000.00", Currency: "USD"}, FeeRate: "0.01"})
	for d := range 100 {
		do(&domain.RegisterDonor{ID: fmt.Sprintf("d-%d", d), Name: "Donor", Kind: "member_city", Country: "JP"})
	}
	for i := range n / 2 {
		do(&domain.RecordContribution{ID: fmt.Sprintf("c-%d", i), DonorID: fmt.Sprintf("d-%d", i%100), TermID: "2020-2021",
			Amount: domain.MoneyInput{Amount: "1000.00", Currency: "USD"}, ReceivedOn: fmt.Sprintf("2021-%02d-%02d", 1+i%12, 1+i%28), BankRef: fmt.Sprintf("B-%d", i)})
	}
	return s
}
