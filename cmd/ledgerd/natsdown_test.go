package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// natsAt runs a NATS server with JetStream in dir on a fixed loopback port,
// so that it can be stopped and started again where the ledger looks.
type natsAt struct {
	dir  string
	port int
	ns   *server.Server
}

func (n *natsAt) start(t *testing.T) {
	t.Helper()
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: n.dir, Listen: fmt.Sprintf("127.0.0.1:%d", n.port)})
	if err != nil {
		t.Fatal(err)
	}
	n.ns = ns
}

func (n *natsAt) stop() {
	n.ns.Shutdown()
	n.ns.WaitForShutdown()
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// postKeyed posts a JSON body with an Idempotency-Key, for goroutines (no
// t.Fatal): it returns the status and the error code of the answer.
func postKeyed(url, path, token, key, body string) (int, string, error) {
	req, err := http.NewRequest("POST", url+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error.Code + " " + e.Error.Message, nil
}

// TestNATSGoesAwayUnderLoad: writers send commands while the NATS server
// is stopped and started again. While it is away a write answers 503
// unavailable at once, reads of the read model answer 200 and /readyz says
// why; once it is back the ledger recovers without a restart, and every
// command that was acknowledged (each sent again with its key until it
// was) is in the log exactly once, in an unbroken chain.
func TestNATSGoesAwayUnderLoad(t *testing.T) {
	n := &natsAt{dir: t.TempDir(), port: freeLoopbackPort(t)}
	n.start(t)
	t.Cleanup(func() { n.ns.Shutdown() })
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", n.ns.ClientURL())
	setUpScenario(t, d)

	const workers, perWorker = 4, 30
	var (
		acked, refused503 atomic.Int64
		wg                sync.WaitGroup
		errs              = make(chan error, workers)
	)
	deadline := time.Now().Add(3 * time.Minute)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				key := fmt.Sprintf("load-%d-%d", w, i)
				body := fmt.Sprintf(`{"id":"d-%s","name":"Donor %s","kind":"country","country":"DE"}`, key, key)
				for {
					st, code, err := postKeyed(d.url, "/v1/donors", "tok-olu", key, body)
					if err != nil {
						errs <- err
						return
					}
					if st == 201 || st == 200 {
						acked.Add(1)
						break
					}
					if st != 503 {
						errs <- fmt.Errorf("%s: %d %s", key, st, code)
						return
					}
					refused503.Add(1)
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("%s: still 503 after 3 minutes: %s", key, code)
						return
					}
					time.Sleep(50 * time.Millisecond) // a client's pause before it retries, not an assertion
				}
			}
		}()
	}

	testwait.For(t, time.Minute, "a quarter of the commands acknowledged", func() bool { return acked.Load() >= workers*perWorker/4 })
	n.stop()
	testwait.For(t, 30*time.Second, "the client to see the server gone", func() bool { return d.m.log.Connected() != nil })

	start := time.Now()
	st, code, err := postKeyed(d.url, "/v1/donors", "tok-olu", "while-down", `{"id":"d-down","name":"Down","kind":"country","country":"DE"}`)
	took := time.Since(start)
	if err != nil || st != 503 || !strings.HasPrefix(code, "unavailable") {
		t.Errorf("a write while NATS is away: %d %q %v, want 503 unavailable", st, code, err)
	}
	if took > 5*time.Second {
		t.Errorf("a write while NATS is away took %v to be refused, want at once", took)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/funds/mdfm/balance?term=2020-2021", token: "tok-kim"}); a.status != 200 {
		t.Errorf("a read while NATS is away: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/readyz"}); a.status != 503 || !strings.Contains(string(a.body), "NATS connection") {
		t.Errorf("/readyz while NATS is away: %s", a)
	}

	n.start(t)
	testwait.For(t, time.Minute, "/readyz ready again", func() bool {
		return d.do(t, request{method: "GET", path: "/readyz"}).status == 200
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Every acknowledged command once, in an unbroken chain, and nothing of
	// the refused one.
	lines := d.eventLines(t, "?fund=mdfm&limit=10000", "tok-kim")
	seen := map[string]int{}
	for i, l := range lines {
		var e struct {
			FundSeq   uint64 `json:"fund_seq"`
			CommandID string `json:"command_id"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		if e.FundSeq != uint64(i+1) {
			t.Fatalf("line %d has fund_seq %d", i+1, e.FundSeq)
		}
		seen[e.CommandID]++
	}
	for w := range workers {
		for i := range perWorker {
			if k := fmt.Sprintf("load-%d-%d", w, i); seen[k] != 1 {
				t.Errorf("command %s is in the log %d times, want once", k, seen[k])
			}
		}
	}
	if seen["while-down"] != 0 {
		t.Error("the write refused while NATS was away is in the log")
	}
	var rep struct{ OK bool }
	d.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if !rep.OK {
		t.Error("verify after NATS came back is not ok")
	}
	t.Logf("NATS stopped and started under load: %d commands acknowledged (each once in the log), %d answers 503 while it was away, a write refused in %v", acked.Load(), refused503.Load(), took.Round(time.Millisecond))
}

// TestNATSOutOfStorage: when the NATS server has no room left (here its
// JetStream storage limit, as a full disk answers), a write answers 503
// unavailable naming the cause and appends nothing, /readyz says so, reads
// answer; once the server has room again (restarted with more), writes go
// through without restarting the ledger.
func TestNATSOutOfStorage(t *testing.T) {
	n := &natsAt{dir: t.TempDir(), port: freeLoopbackPort(t)}
	limit := int64(64 << 10)
	startLimited := func() {
		ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: n.dir, Listen: fmt.Sprintf("127.0.0.1:%d", n.port),
			Configure: func(o *server.Options) error { o.JetStreamMaxStore = limit; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		n.ns = ns
	}
	startLimited()
	t.Cleanup(func() { n.ns.Shutdown() })
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--nats", n.ns.ClientURL())
	setUpScenario(t, d)

	var st int
	var code string
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("fill-%d", i)
		var err error
		st, code, err = postKeyed(d.url, "/v1/donors", "tok-olu", key, fmt.Sprintf(`{"id":"d-%s","name":"Donor %s","kind":"country","country":"DE"}`, key, key))
		if err != nil {
			t.Fatal(err)
		}
		if st != 201 {
			break
		}
	}
	if st != 503 || !strings.HasPrefix(code, "unavailable") || !strings.Contains(code, "out of storage") {
		t.Fatalf("a write with the server out of storage: %d %q, want 503 unavailable naming the cause", st, code)
	}
	before := d.streamLastSeq(t)
	if st, _, _ := postKeyed(d.url, "/v1/donors", "tok-olu", "one-more", `{"id":"d-one-more","name":"One more","kind":"country","country":"DE"}`); st != 503 {
		t.Errorf("another write: %d, want 503", st)
	}
	if d.streamLastSeq(t) != before {
		t.Error("a refused write appended")
	}
	if a := d.do(t, request{method: "GET", path: "/readyz"}); a.status != 503 || !strings.Contains(string(a.body), "out of storage") {
		t.Errorf("/readyz out of storage: %s", a)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/funds/mdfm/balance?term=2020-2021", token: "tok-kim"}); a.status != 200 {
		t.Errorf("a read out of storage: %s", a)
	}

	n.stop()
	limit = 64 << 20
	startLimited()
	testwait.For(t, time.Minute, "a write to go through once the server has room", func() bool {
		st, _, err := postKeyed(d.url, "/v1/donors", "tok-olu", "one-more", `{"id":"d-one-more","name":"One more","kind":"country","country":"DE"}`)
		return err == nil && st == 201
	})
	if a := d.do(t, request{method: "GET", path: "/readyz"}); a.status != 200 {
		t.Errorf("/readyz after a write went through: %s", a)
	}
}

// TestReadWhileNATSAwayAnswersWhatItHas: a command acknowledged just before
// the NATS server goes away may never reach the projector (the server can
// stop before it delivers the message). A read then answers 200 at once
// with what the read model holds, its fund_seq saying how far that is,
// instead of waiting ReadYourWritesTimeout for an event that cannot come
// and answering 503. Once the server is back the read model catches up.
// The projector is held behind a write lock on the read model's file, so
// that the acknowledged event is certainly not folded when NATS stops.
func TestReadWhileNATSAwayAnswersWhatItHas(t *testing.T) {
	n := &natsAt{dir: t.TempDir(), port: freeLoopbackPort(t)}
	n.start(t)
	t.Cleanup(func() { n.ns.Shutdown() })
	data := t.TempDir()
	d := startDaemon(t, fixedNow, "--data", data, "--tokens", writeTestTokens(t), "--nats", n.ns.ClientURL())
	setUpScenario(t, d)
	const balance = "/v1/funds/mdfm/balance?term=2020-2021"
	var before struct {
		FundSeq  uint64 `json:"fund_seq"`
		Received string `json:"received"`
	}
	d.get(t, balance, "tok-kim", &before)

	db, err := sql.Open("sqlite", filepath.Join(data, ReadModelFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	unlock := func() {
		if locked {
			locked = false
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Error(err)
			}
		}
	}
	defer unlock()

	d.post(t, 201, "/v1/contributions", "tok-olu", "", map[string]any{
		"id": "r-late", "donor_id": "d-usd", "term_id": "2020-2021", "amount": usdMoney("1000.00"),
		"received_on": "2021-05-01", "bank_ref": "USD-2"})
	n.stop()
	testwait.For(t, 30*time.Second, "the client to see the server gone", func() bool { return d.m.log.Connected() != nil })

	start := time.Now()
	var during struct {
		FundSeq  uint64 `json:"fund_seq"`
		Received string `json:"received"`
	}
	if a := d.get(t, balance, "tok-kim", &during); a.status != 200 {
		t.Fatalf("a read while NATS is away: %s", a)
	}
	if took := time.Since(start); took >= httpapi.ReadYourWritesTimeout {
		t.Errorf("a read while NATS is away took %v: it waited for an event that cannot come", took)
	}
	if during != before {
		t.Errorf("while NATS is away and the projector held, the balance is %+v, want what the read model held: %+v", during, before)
	}

	unlock()
	n.start(t)
	testwait.For(t, time.Minute, "/readyz ready again", func() bool {
		return d.do(t, request{method: "GET", path: "/readyz"}).status == 200
	})
	var after struct {
		FundSeq  uint64 `json:"fund_seq"`
		Received string `json:"received"`
	}
	d.get(t, balance, "tok-kim", &after)
	if before.Received != "75000.00" || after.FundSeq <= before.FundSeq || after.Received != "76000.00" {
		t.Errorf("after NATS came back the balance is %+v, want received 76000.00 past fund_seq %d (was %+v)", after, before.FundSeq, before)
	}
}
