package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// answerWait bounds how long a test waits for one answer. It is far above
// what any answer takes, so that reaching it means the command was never
// answered.
const answerWait = 90 * time.Second

var overflowNow = func() time.Time { return time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) }

// request makes a Request whose hash is derived from its id.
func request(w *Writer, id string, c domain.Command) Request {
	domain.SetMeta(c, domain.Meta{Actor: "olu", Today: w.Today()})
	return Request{CommandID: id, CommandHash: "hash-of-" + id, Command: c}
}

// bigBatch is one command of 200 contributions: 400 events (a receipt and
// a fee each), so that two fit one atomic append and a third does not.
func bigBatch(id, donor string) *domain.Batch {
	b := &domain.Batch{}
	for i := range domain.MaxBatchCommands {
		b.Commands = append(b.Commands, &domain.RecordContribution{
			ID: fmt.Sprintf("%s-%d", id, i), DonorID: donor, TermID: "2020-2021",
			Amount: domain.MoneyInput{Amount: "1.00", Currency: "USD"}, ReceivedOn: "2021-01-15"})
	}
	return b
}

// fundWithDonor writes a term and a donor to a new log and returns it.
func fundWithDonor(t *testing.T) *eventlog.Log {
	t.Helper()
	_, log := testnats.Log(t)
	w, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	term := &domain.OpenTerm{ID: "2020-2021", StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: domain.MoneyInput{Amount: "1000000.00", Currency: "USD"}, FeeRate: "0.01"}
	donor := &domain.RegisterDonor{ID: "osaka", Name: "City of Osaka", Kind: "member_city", Country: "JP", City: "Osaka"}
	for _, r := range []Request{request(w, "term", term), request(w, "donor", donor)} {
		if _, err := w.Submit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return log
}

type outcome struct {
	req Request
	res Result
	err error
}

// submitAsOneGroup submits every request at once to a writer that is not
// running yet, waits until all are queued, then starts it: the requests
// form one group. It returns each request's outcome, in order.
func submitAsOneGroup(t *testing.T, w *Writer, reqs []Request) []outcome {
	t.Helper()
	out := make([]outcome, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), answerWait)
			defer cancel()
			res, err := w.Submit(ctx, r)
			out[i] = outcome{r, res, err}
		}()
	}
	testwait.For(t, answerWait, fmt.Sprintf("%d requests queued", len(reqs)), func() bool { return len(w.queue) >= len(reqs) })
	go w.run()
	wg.Wait()
	return out
}

// fundEvents reads the fund's log, checking the chain, and counts the
// events of each command id.
func fundEvents(t *testing.T, log *eventlog.Log) (perCommand map[string]int, chain events.Chain) {
	t.Helper()
	perCommand = map[string]int{}
	chain = events.NewChain("mdfm")
	err := log.ReadFund(context.Background(), "mdfm", 0, func(e events.Event) error {
		perCommand[e.CommandID]++
		return chain.Check(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	return perCommand, chain
}

// TestOverflowingGroup queues 46 commands of 400 events each as one group
// (issue 8, item 7): two fit an atomic append, so the writer must carry the
// rest from append to append. Every command is answered, each lands once,
// and none is decided more than once: a command that did not fit keeps its
// decision while the state has not changed. A repeat of a command id and a
// refused command ride along.
func TestOverflowingGroup(t *testing.T) {
	log := fundWithDonor(t)
	w, err := open(t.Context(), log, "mdfm", Options{Now: overflowNow})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 46
	var reqs []Request
	for i := range n {
		id := fmt.Sprintf("b-%d", i)
		reqs = append(reqs, request(w, id, bigBatch(id, "osaka")))
	}
	reqs = append(reqs, request(w, "b-0", bigBatch("b-0", "osaka")))
	reqs = append(reqs, request(w, "refused", bigBatch("refused", "nobody")))

	out := submitAsOneGroup(t, w, reqs)

	firstOf := map[string]events.Ref{}
	replays := 0
	for _, o := range out {
		id := o.req.CommandID
		if id == "refused" {
			var de *errs.Error
			if !errors.As(o.err, &de) || de.Code != domain.CodeUnknownDonor {
				t.Errorf("refused: got %v, want %s", o.err, domain.CodeUnknownDonor)
			}
			continue
		}
		if o.err != nil {
			t.Errorf("%s: %v", id, o.err)
			continue
		}
		if len(o.res.Events) != 2*domain.MaxBatchCommands {
			t.Errorf("%s: %d events answered, want %d", id, len(o.res.Events), 2*domain.MaxBatchCommands)
			continue
		}
		if o.res.Replayed {
			replays++
		}
		if f, ok := firstOf[id]; ok && f != o.res.Events[0] {
			t.Errorf("%s answered twice with other events: %v and %v", id, f, o.res.Events[0])
		}
		firstOf[id] = o.res.Events[0]
	}
	if replays != 1 {
		t.Errorf("%d replayed answers, want 1 (the repeat of b-0)", replays)
	}

	perCommand, chain := fundEvents(t, log)
	for i := range n {
		id := fmt.Sprintf("b-%d", i)
		if got := perCommand[id]; got != 2*domain.MaxBatchCommands {
			t.Errorf("%s has %d events in the log, want %d", id, got, 2*domain.MaxBatchCommands)
		}
	}
	if got := perCommand["refused"]; got != 0 {
		t.Errorf("the refused command has %d events in the log", got)
	}
	if want := uint64(2 + n*2*domain.MaxBatchCommands); chain.FundSeq != want {
		t.Errorf("fund_seq %d, want %d", chain.FundSeq, want)
	}
	// One decision for each distinct command: the repeat is replayed, not
	// decided; a command carried to the next append keeps its decision.
	if got, want := w.decisions.Load(), uint64(n+1); got != want {
		t.Errorf("%d decisions for %d distinct commands", got, want)
	}
}

// conflictingWriter appends an event of its own to the fund, as another
// process writing the same fund would, each time the writer is about to
// append on a state it has just caught up to, as long as conflicts
// remain. It is called through Options.NewEventID, from the writer's
// goroutine, between the writer's catch-up and its append: each such
// append then meets a real expected-sequence conflict.
type conflictingWriter struct {
	t         *testing.T
	log       *eventlog.Log
	w         *Writer
	remaining atomic.Int64
	seenAt    uint64 // the writer's lastSeq when it last conflicted
	appended  int
}

func (c *conflictingWriter) newEventID() string {
	if c.remaining.Load() > 0 && c.w.lastSeq != c.seenAt {
		c.seenAt = c.w.lastSeq
		c.remaining.Add(-1)
		c.appendForeign()
	}
	return uuid.Must(uuid.NewV7()).String()
}

func (c *conflictingWriter) appendForeign() {
	ctx, cancel := context.WithTimeout(context.Background(), eventlog.DefaultTimeout)
	defer cancel()
	last, _, err := c.log.LastEvent(ctx, "mdfm")
	if err != nil {
		c.t.Errorf("other writer: %v", err)
		return
	}
	c.appended++
	e, err := events.New("2021-06-01", &events.DonorRegistered{DonorID: fmt.Sprintf("other-%d", c.appended), Name: "Other", Kind: "other", Country: "DE"})
	if err != nil {
		c.t.Errorf("other writer: %v", err)
		return
	}
	e.ID, e.Fund, e.FundSeq = uuid.Must(uuid.NewV7()).String(), "mdfm", last.FundSeq+1
	e.RecordedAt, e.Actor, e.CommandID, e.CommandHash = "2021-06-01T00:00:00Z", "other", fmt.Sprintf("other-%d", c.appended), "h"
	if err := e.Seal(last.Hash); err != nil {
		c.t.Errorf("other writer: %v", err)
		return
	}
	if _, err := c.log.Append(ctx, "mdfm", last.StreamSeq, []events.Event{e}); err != nil {
		c.t.Errorf("other writer: %v", err)
	}
}

// openWithConflicts opens a writer (not yet running) whose appends meet
// conflicts from another writer, the given number of times.
func openWithConflicts(t *testing.T, log *eventlog.Log, conflicts int64) (*Writer, *conflictingWriter) {
	t.Helper()
	c := &conflictingWriter{t: t, log: log, seenAt: ^uint64(0)}
	c.remaining.Store(conflicts)
	w, err := open(t.Context(), log, "mdfm", Options{Now: overflowNow, NewEventID: c.newEventID})
	if err != nil {
		t.Fatal(err)
	}
	c.w = w
	// Twenty tries of 800 events under the race detector on a busy
	// machine can outlast BatchTimeout; what is tested here is the count
	// of tries, not their speed.
	w.batchTimeout = answerWait
	return w, c
}

// TestRetriesRunOutWithOverflowWaiting: a group of five commands of 400
// events each meets another writer at every try. While it conflicts
// fewer times than MaxAppendRetries the first append lands at the last try,
// and the commands that did not fit it must still be carried and land; if
// the conflicts never end, every command is answered with the conflict,
// none landed, and each lands once when sent again.
func TestRetriesRunOutWithOverflowWaiting(t *testing.T) {
	const n = 5
	reqsOf := func(w *Writer) []Request {
		var reqs []Request
		for i := range n {
			id := fmt.Sprintf("b-%d", i)
			reqs = append(reqs, request(w, id, bigBatch(id, "osaka")))
		}
		return reqs
	}
	check := func(t *testing.T, log *eventlog.Log, wantOthers int) {
		t.Helper()
		perCommand, chain := fundEvents(t, log)
		for i := range n {
			id := fmt.Sprintf("b-%d", i)
			if got := perCommand[id]; got != 2*domain.MaxBatchCommands {
				t.Errorf("%s has %d events in the log, want %d", id, got, 2*domain.MaxBatchCommands)
			}
		}
		if want := uint64(2 + wantOthers + n*2*domain.MaxBatchCommands); chain.FundSeq != want {
			t.Errorf("fund_seq %d, want %d", chain.FundSeq, want)
		}
	}

	t.Run("last try lands", func(t *testing.T) {
		log := fundWithDonor(t)
		w, other := openWithConflicts(t, log, MaxAppendRetries-1)
		defer w.Close()
		for _, o := range submitAsOneGroup(t, w, reqsOf(w)) {
			if o.err != nil {
				t.Errorf("%s: %v", o.req.CommandID, o.err)
			}
		}
		if other.appended != MaxAppendRetries-1 {
			t.Fatalf("the other writer appended %d times, want %d", other.appended, MaxAppendRetries-1)
		}
		check(t, log, MaxAppendRetries-1)
	})

	t.Run("conflicts never end", func(t *testing.T) {
		log := fundWithDonor(t)
		w, other := openWithConflicts(t, log, 1<<40)
		defer w.Close()
		for _, o := range submitAsOneGroup(t, w, reqsOf(w)) {
			if !errors.Is(o.err, eventlog.ErrConflict) {
				t.Errorf("%s: got %v, want ErrConflict", o.req.CommandID, o.err)
			}
		}
		if other.appended != MaxAppendRetries {
			t.Fatalf("the other writer appended %d times, want %d", other.appended, MaxAppendRetries)
		}
		perCommand, _ := fundEvents(t, log)
		for i := range n {
			if got := perCommand[fmt.Sprintf("b-%d", i)]; got != 0 {
				t.Errorf("b-%d failed but has %d events in the log", i, got)
			}
		}

		// The other writer stops; sent again, each command lands once.
		other.remaining.Store(0)
		for _, r := range reqsOf(w) {
			ctx, cancel := context.WithTimeout(context.Background(), answerWait)
			_, err := w.Submit(ctx, r)
			cancel()
			if err != nil {
				t.Errorf("%s sent again: %v", r.CommandID, err)
			}
		}
		check(t, log, MaxAppendRetries)
	})
}

// TestSubmitRacingClose has many callers submit while the writer closes:
// every call returns, with a result (and the command is in the log once)
// or ErrClosed (and it is not in the log), and every caller, sending until
// refused, ends with ErrClosed. The race it guards against (a command
// queued after the writer's last look at the queue) is narrow: this test
// is a stress guard, not a proof.
func TestSubmitRacingClose(t *testing.T) {
	_, log := testnats.Log(t)
	const rounds, callers = 10, 32
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		closedID = map[string]bool{}
	)
	for round := range rounds {
		w, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		answered := make(chan struct{}, callers)
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					id := fmt.Sprintf("r%d-c%d-%d", round, c, i)
					ctx, cancel := context.WithTimeout(context.Background(), answerWait)
					_, err := w.Submit(ctx, request(w, id, &domain.RegisterDonor{ID: id, Name: "Donor " + id, Kind: "other", Country: "DE"}))
					cancel()
					if i == 0 {
						answered <- struct{}{}
					}
					mu.Lock()
					switch {
					case err == nil:
						accepted[id] = true
					case errors.Is(err, ErrClosed):
						closedID[id] = true
					default:
						t.Errorf("%s: %v", id, err)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		// Close once every caller has had an answer, while they keep sending.
		for range callers {
			<-answered
		}
		w.Close()
		wg.Wait()
	}
	if len(closedID) != rounds*callers {
		t.Errorf("%d calls answered ErrClosed, want one for each caller of each round: %d", len(closedID), rounds*callers)
	}
	perCommand, _ := fundEvents(t, log)
	for id := range accepted {
		if perCommand[id] != 1 {
			t.Errorf("%s accepted, %d events in the log", id, perCommand[id])
		}
	}
	for id := range closedID {
		if perCommand[id] != 0 {
			t.Errorf("%s answered ErrClosed, %d events in the log", id, perCommand[id])
		}
	}
	t.Logf("%d commands accepted, %d refused with ErrClosed", len(accepted), len(closedID))
}

// TestConcurrentClose closes a writer from many goroutines at once, and
// again after: no call panics and every call returns.
func TestConcurrentClose(t *testing.T) {
	_, log := testnats.Log(t)
	for range 2000 {
		w, err := Open(t.Context(), log, "mdfm", Options{Now: overflowNow})
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				w.Close()
			}()
		}
		close(start)
		wg.Wait()
		w.Close()
		if _, err := w.Submit(t.Context(), request(w, "late", &domain.RegisterDonor{ID: "late", Name: "Late", Kind: "other", Country: "DE"})); !errors.Is(err, ErrClosed) {
			t.Errorf("submit after close: got %v, want ErrClosed", err)
		}
	}
}
