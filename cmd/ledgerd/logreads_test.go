package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// streamConsumers is how many consumers the server holds on the stream.
func (d *daemon) streamConsumers(t *testing.T) int {
	t.Helper()
	return d.streamState(t).Consumers
}

// TestLogReadsLeaveNoConsumer reads the log over HTTP more times than the
// server allows consumers on a stream (server.JSDefaultMaxConsumersPerStream,
// 1000, which applies since neither the stream nor the account sets a
// limit), and runs every other reader of the stream (verify, export's
// reader, the writer's catch-up): every read answers 200 and the stream
// holds no consumer but the projector's. Each GET /v1/events used to leave
// an ordered consumer behind for five minutes, and after about 1000 reads
// the log answered 500 (issue 8).
func TestLogReadsLeaveNoConsumer(t *testing.T) {
	d := startScenarioDaemon(t)
	setUpScenario(t, d)
	reads := server.JSDefaultMaxConsumersPerStream + 100
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		bad  []string
		jobs = make(chan int)
	)
	// Two readers at once, the cap of one user.
	for range 2 {
		wg.Go(func() {
			for i := range jobs {
				a := d.do(t, request{method: "GET", path: fmt.Sprintf("/v1/events?after=%d&limit=3", i%5), token: "tok-kim"})
				if a.status != http.StatusOK {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("read %d: %s", i, a))
					mu.Unlock()
				}
			}
		})
	}
	for i := range reads {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d of %d reads failed, first: %s", len(bad), reads, bad[0])
	}
	// A client that goes away mid-answer.
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, "GET", d.url+"/v1/events?limit=10000", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok-kim")
	if resp, err := httpClient.Do(req); err == nil {
		cancel()
		resp.Body.Close()
	}
	cancel()
	d.get(t, "/v1/audit/verify", "tok-kim", nil)
	d.get(t, "/v1/events?limit=10000", "tok-kim", nil)
	// The projector follows the stream with one consumer of its own.
	if n := d.streamConsumers(t); n > 1 {
		t.Errorf("the stream holds %d consumers after %d reads, want at most the projector's", n, reads)
	}
	// Stopping the projector deletes its consumer too.
	d.m.stopProj()
	<-d.m.projDone
	if n := d.streamConsumers(t); n != 0 {
		t.Errorf("the stream holds %d consumers with the projector stopped, want 0", n)
	}
	// A second writer of the fund catches up by reading the log, and
	// leaves nothing either.
	w, err := ledger.Open(t.Context(), d.m.log, "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n := d.streamConsumers(t); n != 0 {
		t.Errorf("the stream holds %d consumers after a writer caught up, want 0", n)
	}
}
