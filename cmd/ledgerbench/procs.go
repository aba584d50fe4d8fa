package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// users of the benchmark's ledgerd: user → role and token.
var users = map[string][2]string{
	"ana": {"approver", "bench-ana-0123456789abcdef"},
	"olu": {"officer", "bench-olu-0123456789abcdef"},
	"kim": {"auditor", "bench-kim-0123456789abcdef"},
}

func writeTokens(dir string) (string, error) {
	var b strings.Builder
	for u, rt := range users {
		sum := sha256.Sum256([]byte(rt[1]))
		fmt.Fprintf(&b, "%s %s %s\n", u, rt[0], hex.EncodeToString(sum[:]))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "tokens.txt")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

var client = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

// request sends one request as user and returns the status and body.
func request(ctx context.Context, method, url, user, key string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+users[user][1])
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// daemon is a ledgerd process.
type daemon struct {
	cmd     *exec.Cmd
	rss     *rssWatch
	url     string
	started time.Time
	logs    bytes.Buffer
	mu      sync.Mutex
	done    chan struct{}
}

var listening = regexp.MustCompile(`ledgerd listening on (http://\S+)`)

// startLedgerd runs ledgerd on dir and waits until it listens.
func startLedgerd(ctx context.Context, bin, dir, tokens string, extra ...string) (*daemon, error) {
	d := &daemon{done: make(chan struct{})}
	d.cmd = exec.Command(filepath.Join(bin, "ledgerd"), append([]string{"--http", "127.0.0.1:0", "--data", dir, "--tokens", tokens}, extra...)...)
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d.cmd.Stderr = d
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	d.rss = watchPeakRSS(d.cmd.Process.Pid)
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.Write([]byte(sc.Text() + "\n"))
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	go func() { d.cmd.Wait(); close(d.done) }()
	select {
	case d.url = <-urlc:
		return d, nil
	case <-d.done:
		return nil, fmt.Errorf("ledgerd exited before listening:\n%s", d.output())
	case <-ctx.Done():
		d.stop()
		return nil, ctx.Err()
	}
}

func (d *daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.Write(p)
}

func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// waitReady polls /readyz until it answers 200.
func (d *daemon) waitReady(ctx context.Context) error {
	for {
		resp, err := http.Get(d.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.done:
			return fmt.Errorf("ledgerd exited:\n%s", d.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, waits, and returns the process's peak memory in MB.
func (d *daemon) stop() float64 {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(3 * time.Minute): // Close may write a state snapshot
		d.cmd.Process.Kill()
		<-d.done
	}
	return d.rss.MB()
}

// runTool runs a binary to the end and returns its time and peak memory.
func runTool(ctx context.Context, bin string, args ...string) (time.Duration, float64, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("%s %v: %w", filepath.Base(bin), args, err)
	}
	rss := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	elapsed, peak := time.Since(t0), rss.MB()
	if err != nil {
		return 0, 0, fmt.Errorf("%s %v: %w\n%s", filepath.Base(bin), args, err, out.String())
	}
	return elapsed, peak, nil
}

// benchHTTP is workload 2: a ledgerd on an empty log, receipts posted one
// a request by 1, 16 and 64 clients.
func benchHTTP(ctx context.Context, c config, bin, dir string, r *Results) error {
	tokens, err := writeTokens(dir)
	if err != nil {
		return err
	}
	var extra []string
	if c.ledgerdPprof != "" {
		extra = []string{"--pprof", c.ledgerdPprof}
	}
	d, err := startLedgerd(ctx, bin, filepath.Join(dir, "data"), tokens, extra...)
	if err != nil {
		return err
	}
	defer d.stop()
	post := func(path, user, key string, body any) (time.Duration, error) {
		t0 := time.Now()
		status, b, err := request(ctx, http.MethodPost, d.url+path, user, key, body)
		if err != nil {
			return 0, err
		}
		if status >= 300 {
			return 0, fmt.Errorf("POST %s: %d %s", path, status, b)
		}
		return time.Since(t0), nil
	}
	if _, err := post("/v1/terms", "ana", "term", map[string]any{"id": genTerm, "starts_on": "2020-01-01", "ends_on": "2021-12-31",
		"target": map[string]string{"amount": "1000000.00", "currency": "USD"}, "fee_rate": "0.01"}); err != nil {
		return err
	}
	if _, err := post("/v1/donors", "olu", "donor", map[string]any{"id": "d-0", "name": "Donor 0", "kind": "member_city", "country": "DE"}); err != nil {
		return err
	}
	seq := 0
	for _, clients := range c.httpClients {
		lat := make([]time.Duration, c.httpCommands)
		next := make(chan int)
		go func() {
			defer close(next)
			for i := range c.httpCommands {
				next <- i
			}
		}()
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			firstErr error
		)
		base := seq
		seq += c.httpCommands
		t0 := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					id := "h-" + strconv.Itoa(base+i)
					dt, err := post("/v1/contributions", "olu", id, map[string]any{"id": id, "donor_id": "d-0", "term_id": genTerm,
						"amount": map[string]string{"amount": "100.00", "currency": "USD"}, "received_on": day(i)})
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					lat[i] = dt
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(t0)
		if firstErr != nil {
			return firstErr
		}
		r.HTTP = append(r.HTTP, HTTPLevel{Clients: clients, CommandsPerS: float64(c.httpCommands) / elapsed.Seconds(),
			P50MS: percentile(lat, 0.5), P99MS: percentile(lat, 0.99), P999MS: percentile(lat, 0.999)})
	}
	last := r.HTTP[len(r.HTTP)-1]
	r.HTTP64CommandsPerS, r.HTTP64P99MS = last.CommandsPerS, last.P99MS
	return nil
}

// generateLog writes the synthetic history of about n events into the
// JetStream store of dir, as a stopped ledgerd would leave it. A folder
// that already holds a log of n events (see --keep) is reused.
func generateLog(ctx context.Context, c config, dir string) (bool, error) {
	marker := filepath.Join(dir, "ledgerbench-events")
	want := fmt.Sprintf("%d %d\n", c.events, c.donors)
	if b, err := os.ReadFile(marker); err == nil && string(b) == want {
		return false, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, err
	}
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		return false, err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := eventlog.ConnectEmbedded(ns)
	if err != nil {
		return false, err
	}
	defer nc.Close()
	log, err := eventlog.Open(ctx, nc, eventlog.DefaultStream, 1)
	if err != nil {
		return false, err
	}
	var last uint64
	if _, err := newGenerator(c.donors).batches(c.events, eventlog.MaxBatchEvents, func(evs []events.Event) error {
		last, err = appendSure(ctx, log, last, evs)
		return err
	}); err != nil {
		return false, err
	}
	return true, os.WriteFile(marker, []byte(want), 0o600)
}

// appendSure appends a batch of the generated log, finding out whether an
// append whose acknowledgement was lost (a busy machine) landed, and trying
// again if it did not.
func appendSure(ctx context.Context, log *eventlog.Log, expectLast uint64, evs []events.Event) (uint64, error) {
	for try := 1; ; try++ {
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		last, err := log.Append(actx, genFund, expectLast, evs)
		cancel()
		if !errors.Is(err, eventlog.ErrUnknownOutcome) || try == 5 {
			return last, err
		}
		actx, cancel = context.WithTimeout(ctx, time.Minute)
		e, found, lerr := log.LastEvent(actx, genFund)
		cancel()
		if lerr != nil {
			return 0, errors.Join(err, lerr)
		}
		if found && e.ID == evs[len(evs)-1].ID {
			return e.StreamSeq, nil
		}
	}
}

// benchLargeLog is workloads 4 and 5.
func benchLargeLog(ctx context.Context, c config, bin, dir string, r *Results, say func(string, ...any)) error {
	t0 := time.Now()
	made, err := generateLog(ctx, c, dir)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if made {
		r.GenerateS = time.Since(t0).Seconds()
	}
	r.Events = c.events
	db := filepath.Join(dir, "ledger.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(f)
	}
	say("4/5 projector rebuild")
	dt, rss, err := runTool(ctx, filepath.Join(bin, "projector"), "rebuild", "--data", dir, "--db", db)
	if err != nil {
		return err
	}
	r.Rebuild1mS, r.RebuildRSSMB = dt.Seconds(), rss
	say("4/5 projector verify")
	dt, rss, err = runTool(ctx, filepath.Join(bin, "projector"), "verify", "--data", dir, "--db", db)
	if err != nil {
		return err
	}
	r.Verify1mS, r.VerifyRSSMB = dt.Seconds(), rss
	say("4/5 projector verify --chain")
	dt, rss, err = runTool(ctx, filepath.Join(bin, "projector"), "verify", "--chain", "--data", dir)
	if err != nil {
		return err
	}
	r.VerifyChain1mS, r.VerifyChainRSSMB = dt.Seconds(), rss
	// A state snapshot left by an earlier run would make the first start a
	// restart.
	snaps, _ := filepath.Glob(filepath.Join(dir, "state-*.snapshot"))
	for _, f := range snaps {
		os.Remove(f)
	}
	say("4/5 ledgerd start-up")
	tokens, err := writeTokens(filepath.Join(dir, "bench"))
	if err != nil {
		return err
	}
	d, err := startLedgerd(ctx, bin, dir, tokens)
	if err != nil {
		return err
	}
	if err := d.waitReady(ctx); err != nil {
		d.stop()
		return err
	}
	r.Ready1mS = time.Since(d.started).Seconds()
	r.ReadyRSSMB = d.rss.peekMB()
	say("5/5 reports")
	err = benchReports(ctx, c, d, r)
	r.ServingRSSMB = d.stop()
	if err != nil {
		return err
	}
	say("4/5 ledgerd restart")
	if d, err = startLedgerd(ctx, bin, dir, tokens); err != nil {
		return err
	}
	err = d.waitReady(ctx)
	r.Restart1mS = time.Since(d.started).Seconds()
	r.RestartRSSMB = d.stop()
	r.PeakRSSMB = max(r.ReadyRSSMB, r.ServingRSSMB, r.RestartRSSMB, r.RebuildRSSMB, r.VerifyRSSMB, r.VerifyChainRSSMB)
	return err
}

// reportBudget bounds the time spent on one report: at least one request
// is made, then requests until --reports or this budget.
const reportBudget = 20 * time.Second

func benchReports(ctx context.Context, c config, d *daemon, r *Results) error {
	mid := strconv.Itoa(c.events / 2)
	reports := []struct{ name, path string }{
		{"balance", "/v1/funds/mdfm/balance?as_of=" + genToday},
		{"donor statement (the donor with half the receipts)", "/v1/donors/d-0/statement?term=" + genTerm + "&as_of=" + genToday},
		{"donor statement (a donor with 1 % of the receipts)", "/v1/donors/d-1/statement?term=" + genTerm + "&as_of=" + genToday},
		{"donor statement PDF (the donor with half the receipts)", "/v1/donors/d-0/statement?format=pdf&term=" + genTerm + "&as_of=" + genToday},
		{"budget", "/v1/reports/budget?term=" + genTerm + "&as_of=" + genToday},
		{"trial balance", "/v1/reports/trial-balance?as_of=" + genToday},
		// As of a date in the middle of the history: the running totals
		// are read from a monthly checkpoint (issue 10).
		{"balance as of " + genMiddle, "/v1/funds/mdfm/balance?as_of=" + genMiddle},
		{"budget as of " + genMiddle, "/v1/reports/budget?term=" + genTerm + "&as_of=" + genMiddle},
		{"trial balance as of " + genMiddle, "/v1/reports/trial-balance?as_of=" + genMiddle},
		// What the ledger knew after the middle event of the log (the
		// fund is alone in its stream): the running totals are read from
		// a checkpoint by position (issue 10), as of the last day and as
		// of the middle date.
		{"balance at_seq " + mid, "/v1/funds/mdfm/balance?as_of=" + genToday + "&at_seq=" + mid},
		{"budget at_seq " + mid, "/v1/reports/budget?term=" + genTerm + "&as_of=" + genToday + "&at_seq=" + mid},
		{"trial balance at_seq " + mid, "/v1/reports/trial-balance?as_of=" + genToday + "&at_seq=" + mid},
		{"trial balance at_seq " + mid + " as of " + genMiddle, "/v1/reports/trial-balance?as_of=" + genMiddle + "&at_seq=" + mid},
		// A donor's statement as the ledger stood then (an auditor's
		// question): the first request computes that view's attribution.
		{"donor statement at_seq " + mid + " (the donor with half the receipts)", "/v1/donors/d-0/statement?term=" + genTerm + "&as_of=" + genToday + "&at_seq=" + mid},
		{"donor statement at_seq " + mid + " (a donor with 1 % of the receipts)", "/v1/donors/d-1/statement?term=" + genTerm + "&as_of=" + genToday + "&at_seq=" + mid},
	}
	for _, rep := range reports {
		var lat []time.Duration
		timedOut, refused := false, ""
		t0 := time.Now()
		for len(lat) < c.reports && (len(lat) == 0 || time.Since(t0) < reportBudget) {
			t1 := time.Now()
			rctx, cancel := context.WithTimeout(ctx, c.reportTimeout)
			status, b, err := request(rctx, http.MethodGet, d.url+rep.path, "kim", "", nil)
			cancel()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				// No answer in time is a figure too, not a failed run.
				lat = append(lat, c.reportTimeout)
				timedOut = true
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", rep.name, err)
			}
			lat = append(lat, time.Since(t1))
			if status != http.StatusOK {
				// A refusal (report_too_large) is an answer too: say which.
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				json.Unmarshal(b, &e)
				if status >= 500 || e.Error.Code == "" {
					return fmt.Errorf("%s: %d %s", rep.name, status, b)
				}
				refused = fmt.Sprintf("%d %s", status, e.Error.Code)
			}
		}
		rl := ReportLatency{Name: rep.name, P50MS: percentile(lat, 0.5), P99MS: percentile(lat, 0.99), TimedOut: timedOut, Refused: refused}
		r.Reports = append(r.Reports, rl)
		r.ReportP99MS = max(r.ReportP99MS, rl.P99MS)
	}
	return nil
}
