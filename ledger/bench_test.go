package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// BenchmarkWriterGroupCommit measures commands per second through the
// writer with many concurrent callers, and prints the ratio to a baseline
// measured in the same run on the same server: one synchronous JetStream
// publish per message, which is what a writer without group commit could
// at best do. The machines are shared and noisy; the ratio is what to read.
func BenchmarkWriterGroupCommit(b *testing.B) {
	const callers = 64
	ns := testnats.Start(b)
	nc := testnats.Connect(b, ns)

	// Baseline: raw synchronous publishes to a plain stream with fsync.
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage}); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 600) // about the size of a contribution event
	const baseN = 2000
	t0 := time.Now()
	for i := 0; i < baseN; i++ {
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: "raw.x", Data: payload}); err != nil {
			b.Fatal(err)
		}
	}
	basePerSec := float64(baseN) / time.Since(t0).Seconds()

	_, log := testnats.Log(b)
	w, err := ledger.Open(ctx, log, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	send := func(id string, c domain.Command) {
		domain.SetMeta(c, domain.Meta{Actor: "olu", Today: w.Today()})
		if _, err := w.Submit(ctx, ledger.Request{CommandID: id, CommandHash: id, Command: c}); err != nil {
			b.Fatal(err)
		}
	}
	send("term", &domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	send("donor", &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP"})

	b.ResetTimer()
	t1 := time.Now()
	var wg sync.WaitGroup
	next := make(chan int, callers)
	go func() {
		for i := 0; i < b.N; i++ {
			next <- i
		}
		close(next)
	}()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id := fmt.Sprintf("c-%d", i)
				send(id, &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: "2020-2021", Amount: usd("100.00"), ReceivedOn: "2021-01-15"})
			}
		}()
	}
	wg.Wait()
	perSec := float64(b.N) / time.Since(t1).Seconds()
	b.ReportMetric(perSec, "commands/s")
	b.ReportMetric(basePerSec, "raw-publish/s")
	b.ReportMetric(2*perSec/basePerSec, "events-ratio-to-raw")
}
