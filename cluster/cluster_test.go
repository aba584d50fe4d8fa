// Package cluster_test runs the ledger's writers against a three-server
// NATS cluster in one process, with the stream replicated three times (R3):
// two writers of one fund on different servers, and a stream leader shut
// down while a writer keeps submitting.
package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

var fixedNow = func() time.Time { return time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) }

func usd(s string) domain.MoneyInput { return domain.MoneyInput{Amount: s, Currency: "USD"} }

func request(t *testing.T, w *ledger.Writer, id, actor string, c domain.Command) ledger.Request {
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
	return ledger.Request{CommandID: id, CommandHash: h, Command: c}
}

func submit(ctx context.Context, t *testing.T, w *ledger.Writer, id, actor string, c domain.Command) (ledger.Result, error) {
	t.Helper()
	return w.Submit(ctx, request(t, w, id, actor, c))
}

func mustSubmit(t *testing.T, w *ledger.Writer, id, actor string, c domain.Command) ledger.Result {
	t.Helper()
	r, err := submit(t.Context(), t, w, id, actor, c)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r
}

func setUp(t *testing.T, w *ledger.Writer) {
	t.Helper()
	mustSubmit(t, w, "term", "ana", &domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usd("1000000.00"), FeeRate: "0.01"})
	mustSubmit(t, w, "donor", "olu", &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP", City: "Osaka"})
}

func contribution(id string) *domain.RecordContribution {
	return &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: "2020-2021", Amount: usd("100.00"), ReceivedOn: "2021-01-15"}
}

// openLog opens the R3 stream through a connection to ns.
func openLog(t *testing.T, nc *nats.Conn) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(t.Context(), nc, eventlog.DefaultStream, 3)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// streamLeader polls the stream's info until it names a leader other than
// not (empty: any), with its replicas current, and returns the leader's name.
func streamLeader(t *testing.T, l *eventlog.Log, not string, deadline time.Time) string {
	t.Helper()
	var last string
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		s, err := l.JetStreamForTests().Stream(ctx, l.Stream())
		cancel()
		if err == nil {
			ci := s.CachedInfo().Cluster
			if ci != nil && ci.Leader != "" && ci.Leader != not {
				return ci.Leader
			}
			last = fmt.Sprintf("cluster info %+v", ci)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream leader (other than %q) by the deadline: %s", not, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readBack reads every event of the stream up to its last sequence (stream
// info comes from the leader, so it is not a stale replica's view), checks
// the fund's chain and state, and counts the events of each command id.
func readBack(t *testing.T, l *eventlog.Log) (map[string]int, *domain.State, events.Chain) {
	t.Helper()
	counts, state, chain, err := tryReadBack(t.Context(), l)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return counts, state, chain
}

// readBackBy retries readBack until the deadline: after a loss of quorum
// the meta leader, which creates the reading consumer, may still be elected.
func readBackBy(t *testing.T, l *eventlog.Log, deadline time.Time) (map[string]int, *domain.State, events.Chain) {
	t.Helper()
	t0 := time.Now()
	for tries := 1; ; tries++ {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		counts, state, chain, err := tryReadBack(ctx, l)
		cancel()
		if err == nil {
			if tries > 1 {
				t.Logf("read back on try %d, %v after the first", tries, time.Since(t0).Round(time.Millisecond))
			}
			return counts, state, chain
		}
		if errors.Is(err, errBadLog) || time.Now().After(deadline) {
			t.Fatalf("read back (try %d): %v", tries, err)
		}
		if tries == 1 {
			t.Logf("read back: %v; trying again until the deadline", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tryReadBack(ctx context.Context, l *eventlog.Log) (map[string]int, *domain.State, events.Chain, error) {
	counts := map[string]int{}
	state := domain.NewState("mdfm")
	chain := events.NewChain("mdfm")
	err := l.ReadAll(ctx, 0, func(e events.Event) error {
		if e.Fund != "mdfm" {
			return fmt.Errorf("event %s of fund %s: %w", e.ID, e.Fund, errBadLog)
		}
		counts[e.CommandID]++
		if err := chain.Check(e); err != nil {
			return fmt.Errorf("%w: %w", errBadLog, err)
		}
		if err := domain.Apply(state, e); err != nil {
			return fmt.Errorf("%w: %w", errBadLog, err)
		}
		return nil
	})
	return counts, state, chain, err
}

// errBadLog marks what the log holds, as opposed to failing to read it.
var errBadLog = errors.New("bad log")

// TestClusterTwoWritersRace: the stream is R3 and two writers of one fund
// sit on different servers (n2, n3). Their expected-sequence appends must be
// serialised by the stream exactly as on one server.
func TestClusterTwoWritersRace(t *testing.T) {
	start := time.Now()
	c := testnats.StartCluster(t, 3)
	t.Logf("cluster of 3 formed with a meta leader in %v", time.Since(start).Round(time.Millisecond))
	n1, n2, n3 := c.Servers[0], c.Servers[1], c.Servers[2]
	log1 := openLog(t, testnats.Connect(t, n1))
	info, err := log1.JetStreamForTests().Stream(t.Context(), log1.Stream())
	if err != nil {
		t.Fatal(err)
	}
	if r := info.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("stream has %d replicas, want 3", r)
	}
	leader := streamLeader(t, log1, "", time.Now().Add(60*time.Second))
	t.Logf("stream %s R3, leader %s", log1.Stream(), leader)

	a, err := ledger.Open(t.Context(), openLog(t, testnats.Connect(t, n2)), "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	setUp(t, a)
	mustSubmit(t, a, "line", "ana", &domain.AddBudgetLine{ID: "MDFM-1.1", TermID: "2020-2021", Title: "Training modules", Amount: usd("200000.00")})
	mustSubmit(t, a, "rcpt", "olu", &domain.RecordContribution{ID: "r1", DonorID: "osaka", TermID: "2020-2021", Amount: usd("10000.00"), ReceivedOn: "2021-01-15"})
	// 9,900.00 unallocated: at most nine allocations of 1,000.00 can pass.
	const n = 20
	for i := range n {
		mustSubmit(t, a, fmt.Sprintf("p-%d", i), "olu", &domain.ProposeAllocation{ID: fmt.Sprintf("al-%d", i), LineID: "MDFM-1.1", Amount: usd("1000.00")})
	}
	// Opened last, b starts from the same state as a: both race on equal terms.
	b, err := ledger.Open(t.Context(), openLog(t, testnats.Connect(t, n3)), "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted = map[string]int{} // command id → events answered
		byWriter [2]int
	)
	race := func(id string, wi int, cmd domain.Command, refusable bool) {
		defer wg.Done()
		w := [2]*ledger.Writer{a, b}[wi]
		r, err := submit(t.Context(), t, w, id, "ana", cmd)
		var de *errs.Error
		switch {
		case err == nil:
			mu.Lock()
			accepted[id] = len(r.Events)
			byWriter[wi]++
			mu.Unlock()
		case refusable && errors.As(err, &de) && de.Code == domain.CodeInsufficientUnallocated:
		default:
			t.Errorf("%s through writer %d: %v", id, wi, err)
		}
	}
	for i := range n {
		wg.Add(1)
		go race(fmt.Sprintf("ap-%d", i), i%2, &domain.ApproveAllocation{ID: fmt.Sprintf("al-%d", i)}, true)
	}
	wg.Wait()
	if len(accepted) != 9 {
		t.Errorf("%d approvals accepted, want 9", len(accepted))
	}
	t.Logf("approvals accepted: %d (writer on n2 %d, on n3 %d)", len(accepted), byWriter[0], byWriter[1])

	// Contributions never conflict in the domain: all must pass, through
	// either writer, however their appends interleave.
	const m = 40
	byWriter = [2]int{}
	for i := range m {
		wg.Add(1)
		go race(fmt.Sprintf("c-%d", i), i%2, contribution(fmt.Sprintf("c-%d", i)), false)
	}
	wg.Wait()
	t.Logf("contributions accepted: %d of %d (writer on n2 %d, on n3 %d)", len(accepted)-9, m, byWriter[0], byWriter[1])

	counts, state, chain := readBack(t, log1)
	for i := range n {
		id := fmt.Sprintf("ap-%d", i)
		if want, got := accepted[id], counts[id]; got != want {
			t.Errorf("%s: %d events in the log, answered %d", id, got, want)
		}
	}
	for i := range m {
		id := fmt.Sprintf("c-%d", i)
		if want, got := accepted[id], counts[id]; got != want || want != 2 {
			t.Errorf("%s: %d events in the log, answered %d, want 2 (receipt and fee)", id, got, want)
		}
	}
	// 10,000 − 1 % fee − 9 × 1,000, plus 40 × (100 − 1 %).
	if u, want := state.Terms["2020-2021"].Unallocated, int64(90000+m*9900); int64(u) != want {
		t.Errorf("unallocated %d cents, want %d", u, want)
	}
	t.Logf("chain unbroken: %d events, fund_seq %d", chain.FundSeq, chain.FundSeq)

	// A stale expectation on the R3 stream: the raw code, and eventlog's
	// mapping of it to ErrConflict (nothing appended).
	last, found, err := log1.LastEvent(t.Context(), "mdfm")
	if err != nil || !found {
		t.Fatalf("last event: %v (found %v)", err, found)
	}
	msg := nats.NewMsg(eventlog.Subject("mdfm", last.Type))
	msg.Data, _ = last.Encode()
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(last.StreamSeq-1, 10))
	msg.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, eventlog.FundFilter("mdfm"))
	_, err = jetstreamext.PublishMsgBatch(t.Context(), log1.JetStreamForTests(), []*nats.Msg{msg})
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence && apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		t.Errorf("stale expectation on R3: got %v, want error 10071 or 10164", err)
	} else {
		t.Logf("stale expectation on R3 answered error code %d: %v", apiErr.ErrorCode, apiErr)
	}
	if _, err := log1.Append(t.Context(), "mdfm", last.StreamSeq-1, []events.Event{last}); !errors.Is(err, eventlog.ErrConflict) {
		t.Errorf("eventlog.Append with a stale expectation on R3: got %v, want ErrConflict", err)
	}
	if again, _, _ := readBack(t, log1); len(again) != len(counts) {
		t.Errorf("refused appends changed the log")
	}
}

type outcome struct {
	res     ledger.Result
	err     error
	elapsed time.Duration
	phase   int32 // phase when it was submitted
}

// Phases of TestClusterLeaderFailover.
const (
	phaseR3        = iota // three servers
	phaseFailover         // the stream leader shut down, two of three left
	phaseNoQuorum         // a second server shut down, one of three left
	phaseRestarted        // the first one restarted on its store, two of three
	phases
)

var phaseNames = [phases]string{"three servers", "leader shut down", "no quorum", "restarted"}

// TestClusterLeaderFailover shuts the stream's leader down while a writer on
// a surviving server keeps submitting. Every acknowledged command must be in
// the log exactly once once a new leader is elected; commands that failed
// must have answered an error, and sending them again with the same command
// id must land them once. A graceful Shutdown hands the leadership over, so
// the test then also shuts the second replica down (no quorum: appends must
// fail, not vanish) and restarts the first on its store.
func TestClusterLeaderFailover(t *testing.T) {
	start := time.Now()
	// Generous: elections are slow on a loaded machine, and a slow
	// machine must not fail the test.
	deadline := start.Add(150 * time.Second)
	c := testnats.StartCluster(t, 3)
	t.Logf("cluster of 3 formed with a meta leader in %v", time.Since(start).Round(time.Millisecond))
	log1 := openLog(t, testnats.Connect(t, c.Servers[0]))
	oldLeader := streamLeader(t, log1, "", deadline)
	var survivor *server.Server
	for _, ns := range c.Servers {
		if ns.Name() != oldLeader {
			survivor = ns
			break
		}
	}
	t.Logf("stream leader %s; writer connects to %s first (all three URLs, unlimited reconnects)", oldLeader, survivor.Name())
	wnc := c.ConnectFailover(survivor)
	w, err := ledger.Open(t.Context(), openLog(t, wnc), "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	setUp(t, w)

	var (
		mu       sync.Mutex
		outcomes = map[string]outcome{}
		next     atomic.Int64
		phase    atomic.Int32
		acked    [phases]atomic.Int64
		failures [phases]atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	const submitters = 4
	for range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("c-%d", next.Add(1))
				ph := phase.Load()
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
				t0 := time.Now()
				r, err := submit(ctx, t, w, id, "olu", contribution(id))
				cancel()
				mu.Lock()
				outcomes[id] = outcome{res: r, err: err, elapsed: time.Since(t0), phase: ph}
				mu.Unlock()
				if err == nil {
					acked[ph].Add(1)
				} else {
					failures[ph].Add(1)
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("100 acknowledged commands on three servers", func() bool { return acked[phaseR3].Load() >= 100 })
	// The leader may have moved since the stream was created.
	oldLeader = streamLeader(t, log1, "", deadline)
	for oldLeader == survivor.Name() {
		// The leader moved to the writer's server (an election on a loaded
		// machine): ask it to step down, so that shutting the leader down
		// leaves the writer's server standing.
		nc := testnats.Connect(t, survivor)
		if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+eventlog.DefaultStream, nil, 5*time.Second); err != nil {
			t.Logf("stream leader step-down: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream leader stays on the writer's server %s", oldLeader)
		}
		oldLeader = streamLeader(t, log1, survivor.Name(), deadline)
	}
	// A connection to the other survivor, to watch the election.
	var second *server.Server
	for _, ns := range c.Servers {
		if ns.Name() != oldLeader && ns != survivor {
			second = ns
		}
	}
	watch := openLog(t, testnats.Connect(t, second))

	phase.Store(phaseFailover)
	tKill := time.Now()
	c.Server(oldLeader).Shutdown()
	t.Logf("shut down stream leader %s", oldLeader)
	newLeader := streamLeader(t, watch, oldLeader, deadline)
	t.Logf("new stream leader %s seen %v after the shutdown", newLeader, time.Since(tKill).Round(time.Millisecond))
	waitFor("100 acknowledged commands after the leader's shutdown", func() bool { return acked[phaseFailover].Load() >= 100 })
	t.Logf("100 commands acknowledged through the new leader %v after the shutdown", time.Since(tKill).Round(time.Millisecond))

	phase.Store(phaseNoQuorum)
	tLost := time.Now()
	second.Shutdown()
	t.Logf("shut down %s too: only %s is left, no quorum", second.Name(), survivor.Name())
	waitFor("commands failing without a quorum", func() bool { return failures[phaseNoQuorum].Load() >= 1 })
	c.Restart(oldLeader)
	phase.Store(phaseRestarted)
	t.Logf("restarted %s on its store %v after the quorum was lost", oldLeader, time.Since(tLost).Round(time.Millisecond))
	waitFor("50 acknowledged commands after the restart", func() bool { return acked[phaseRestarted].Load() >= 50 })
	t.Logf("50 commands acknowledged %v after the quorum was lost", time.Since(tLost).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	for ph := range phases {
		t.Logf("phase %-16s %5d acknowledged, %3d failed", phaseNames[ph]+":", acked[ph].Load(), failures[ph].Load())
	}

	// Outcomes: every command answered, either a result or an error.
	var failed []string
	var slowest time.Duration
	errs := map[string]int{}
	for id, o := range outcomes {
		slowest = max(slowest, o.elapsed)
		if o.err != nil {
			failed = append(failed, id)
			errs[fmt.Sprintf("%s: %v", phaseNames[o.phase], o.err)]++
			continue
		}
		if len(o.res.Events) != 2 || o.res.Replayed {
			t.Errorf("%s answered %+v, want two new events", id, o.res)
		}
	}
	for e, n := range errs {
		t.Logf("%3d × %s", n, e)
	}
	t.Logf("%d commands submitted, %d failed; slowest answer %v", len(outcomes), len(failed), slowest.Round(time.Millisecond))
	if failures[phaseR3].Load()+failures[phaseFailover].Load() > 0 {
		t.Logf("note: commands failed around the leader's shutdown (each answered an error)")
	}

	// Send each failed command again with the same id and body.
	replayed := 0
	for _, id := range failed {
		var r ledger.Result
		var err error
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			r, err = submit(ctx, t, w, id, "olu", contribution(id))
			cancel()
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("retry %s: %v", id, err)
			continue
		}
		if r.Replayed {
			replayed++
		}
		if len(r.Events) != 2 {
			t.Errorf("retry %s answered %d events, want 2", id, len(r.Events))
		}
	}
	t.Logf("retried %d failed commands with their ids: %d had landed after all (replayed), %d landed on the retry", len(failed), replayed, len(failed)-replayed)

	// Read the log from the writer's server: every command exactly once.
	final := openLog(t, testnats.Connect(t, survivor))
	counts, state, chain := readBackBy(t, final, deadline)
	for id := range outcomes {
		if counts[id] != 2 {
			t.Errorf("%s has %d events in the log, want 2 (exactly once)", id, counts[id])
		}
	}
	if len(counts) != len(outcomes)+2 {
		t.Errorf("log holds %d command ids, want %d submitted + 2 set-up", len(counts), len(outcomes))
	}
	if want := uint64(2 + 2*len(outcomes)); chain.FundSeq != want {
		t.Errorf("fund_seq %d, want %d", chain.FundSeq, want)
	}
	// 100.00 less the 1 % fee per contribution.
	if u, want := int64(state.Terms["2020-2021"].Unallocated), int64(9900*len(outcomes)); u != want {
		t.Errorf("unallocated %d cents, want %d", u, want)
	}
	t.Logf("log read back from %s: %d events, chain unbroken, every command once; total %v",
		survivor.Name(), chain.FundSeq, time.Since(start).Round(time.Millisecond))

	// A new writer on the restarted server rebuilds from the log and
	// replays an old id.
	w2, err := ledger.Open(t.Context(), openLog(t, testnats.Connect(t, c.Server(oldLeader))), "mdfm", ledger.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if r := mustSubmit(t, w2, "c-1", "olu", contribution("c-1")); !r.Replayed {
		t.Errorf("c-1 sent again to a new writer: %+v, want a replay", r)
	}
}
