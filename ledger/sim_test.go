package ledger

// The seeded simulation of the writer's faults (issue 12), in the spirit of
// TigerBeetle's VOPR: a client drives the writer, through a stand-in of the
// log boundary (ledger.Log) that wraps the real JetStream log and injects,
// from a seed, the faults the real tests cannot make happen on demand: a
// timeout before the append is sent, an ack lost after it landed, the log
// unavailable, a conflict with a second writer, reads that fail, and a crash
// of the writer between the append and its answer (the writer is then
// opened again from the log). The clock is the seed's too. After every step
// the invariants are checked against what really landed. A failing seed
// reproduces with
//
//	go test ./ledger -run TestSimulation -seed N -v

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

var (
	simSeed  = flag.Uint64("seed", 0, "run the writer simulation for this seed only (reproduces a failing seed)")
	simSeeds = flag.Int("sim.seeds", 300, "how many seeds the writer simulation runs (scripts/test.sh runs more)")
	simSteps = flag.Int("sim.steps", 16, "commands per seed of the writer simulation")
)

// faultRates are the chances, per call, of each fault.
type faultRates struct {
	timeoutBefore, unavailable, conflict, lostAck, crash, readFail float64
}

var simRates = faultRates{timeoutBefore: 0.08, unavailable: 0.06, conflict: 0.08, lostAck: 0.1, crash: 0.06, readFail: 0.05}

// shadow is what really landed in the fund, seen at the boundary, with the
// invariants that can be checked as events land.
type shadow struct {
	fund    string
	chain   events.Chain
	evs     []events.Event
	state   *domain.State
	books   map[string]int64 // sum of postings per book
	appends map[string]int   // command id → landed appends holding it
	err     error            // the first invariant broken as events landed
}

func (s *shadow) land(evs []events.Event) {
	seen := map[string]bool{}
	for _, e := range evs {
		if s.err != nil {
			return
		}
		if err := s.chain.Check(e); err != nil {
			s.err = fmt.Errorf("chain broken: %w", err)
			return
		}
		if err := domain.Apply(s.state, e); err != nil {
			s.err = fmt.Errorf("landed event %s does not apply: %w", e.Type, err)
			return
		}
		ps, err := domain.Postings(e)
		if err != nil {
			s.err = err
			return
		}
		for _, p := range ps {
			book, _, _ := strings.Cut(p.Account, ":")
			s.books[book] += p.Minor
		}
		if !seen[e.CommandID] {
			seen[e.CommandID] = true
			s.appends[e.CommandID]++
		}
		s.evs = append(s.evs, e)
	}
}

// faultyLog is the stand-in at the log boundary: the real log, with faults
// drawn from the seed when faults is on.
type faultyLog struct {
	inner  *eventlog.Log
	sh     *shadow
	rng    *rand.Rand
	faults bool
	// other is the second writer; a conflict fault makes it append first.
	other   func() error
	crashed bool // the last append landed and the writer "crashed"
	trace   []string
}

func (l *faultyLog) roll(p float64) bool { return l.faults && l.rng.Float64() < p }

func (l *faultyLog) note(format string, args ...any) {
	l.trace = append(l.trace, fmt.Sprintf(format, args...))
}

func (l *faultyLog) Append(ctx context.Context, fund string, expectLast uint64, evs []events.Event) (uint64, error) {
	switch {
	case l.roll(simRates.timeoutBefore):
		l.note("append of %d events: timeout before it was sent", len(evs))
		return 0, fmt.Errorf("sim: timeout: %w", eventlog.ErrUnknownOutcome)
	case l.roll(simRates.unavailable):
		l.note("append of %d events: log unavailable", len(evs))
		return 0, fmt.Errorf("sim: no stream leader: %w", eventlog.ErrUnavailable)
	case l.roll(simRates.conflict):
		l.note("append of %d events: a second writer appends first", len(evs))
		if err := l.other(); err != nil {
			return 0, fmt.Errorf("sim: second writer: %w", err)
		}
	}
	seq, err := l.inner.Append(ctx, fund, expectLast, evs)
	if err != nil {
		l.note("append of %d events: %v", len(evs), err)
		return seq, err
	}
	l.sh.land(evs)
	switch {
	case l.roll(simRates.lostAck):
		l.note("append of %d events landed at %d: ack lost", len(evs), seq)
		return 0, fmt.Errorf("sim: ack lost: %w", eventlog.ErrUnknownOutcome)
	case l.roll(simRates.crash):
		l.note("append of %d events landed at %d: the writer crashes before it answers", len(evs), seq)
		l.crashed = true
		return 0, errors.New("sim: writer crashed")
	}
	l.note("append of %d events landed at %d", len(evs), seq)
	return seq, nil
}

func (l *faultyLog) LastEvent(ctx context.Context, fund string) (events.Event, bool, error) {
	return l.inner.LastEvent(ctx, fund)
}

func (l *faultyLog) LastSeq(ctx context.Context, fund string) (uint64, error) {
	if l.roll(simRates.readFail) {
		l.note("read of the last sequence fails")
		return 0, fmt.Errorf("sim: read failed: %w", eventlog.ErrUnavailable)
	}
	return l.inner.LastSeq(ctx, fund)
}

func (l *faultyLog) ReadFund(ctx context.Context, fund string, after uint64, fn func(events.Event) error) error {
	if l.roll(simRates.readFail) {
		l.note("read of the fund fails")
		return fmt.Errorf("sim: read failed: %w", eventlog.ErrUnavailable)
	}
	return l.inner.ReadFund(ctx, fund, after, fn)
}

// simLog starts one NATS server with JetStream for every seed (each seed
// writes its own fund), on a memory-backed folder when there is one and
// without fsync: the simulation is about the writer, and thousands of
// seeds must run in about a minute.
func simLog(t *testing.T) *eventlog.Log {
	t.Helper()
	dir := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "ledger-sim-"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: dir, Configure: func(o *server.Options) error {
		o.SyncAlways = false
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := eventlog.ConnectEmbedded(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	l, err := eventlog.Open(t.Context(), nc, "SIM", 1)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSimulation runs the writer through -sim.seeds seeds of -sim.steps
// commands each (or the one -seed), checking the invariants after every
// step: every acknowledged command in the log once, every refused one
// absent, no command appended twice, the chain unbroken, each landed event
// applying, the books balancing; at the end, with faults off, every command
// left without an answer is sent again until it has one, and the writer's
// state equals a fresh replay of the log.
func TestSimulation(t *testing.T) {
	// The writer logs each conflict: thousands of seeds make many.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	log := simLog(t)
	seeds := make([]uint64, 0, *simSeeds)
	if *simSeed != 0 {
		seeds = append(seeds, *simSeed)
	} else {
		for i := range *simSeeds {
			seeds = append(seeds, uint64(i)+1)
		}
	}
	var stats simStats
	start := time.Now()
	// The projector follows every seed's fund into one read model; every
	// simProjectEvery seeds it stops and opens again from its checkpoint
	// (a restart), and at the end the read model must equal a fresh replay.
	dbPath := filepath.Join(t.TempDir(), "sim.db")
	store, err := readmodel.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { store.Close() }()
	for i, seed := range seeds {
		if err := runSeed(t.Context(), log, seed, *simSteps, &stats); err != nil {
			t.Fatalf("seed %d: %v\nreproduce: go test ./ledger -run TestSimulation -seed %d -v", seed, err, seed)
		}
		if (i+1)%simProjectEvery == 0 || i == len(seeds)-1 {
			if err := projector.CatchUp(t.Context(), log, store); err != nil {
				t.Fatalf("projector after seed %d: %v", seed, err)
			}
			store.Close()
			if store, err = readmodel.Open(dbPath); err != nil {
				t.Fatal(err)
			}
			stats.restarts++
		}
	}
	rep, err := audit.Verify(t.Context(), log, store, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("the read model differs from a fresh replay: %s", rep.Failure)
	}
	t.Logf("simulation: %d seeds, %d steps, %d commands acknowledged (lost 0, doubled 0), %d refused, %d faults injected, %d writer crashes, %d projector restarts, read model = fresh replay of %d events, in %v",
		len(seeds), stats.steps, stats.acked, stats.refused, stats.faults, stats.crashes, stats.restarts, rep.Events, time.Since(start).Round(time.Millisecond))
}

type simStats struct{ steps, acked, refused, faults, crashes, restarts int }

// simProjectEvery is how many seeds the projector lets pass before it
// catches up and is restarted from its checkpoint.
const simProjectEvery = 37

// simClient is the one client of a seed: its commands, their keys and what
// it was answered.
type simClient struct {
	rng     *rand.Rand
	term    string
	n       int
	pending []Request // sent, no answer yet: sent again with the same key
	acked   map[string]bool
	refused map[string]bool
}

func (c *simClient) next(w *Writer) Request {
	if len(c.pending) > 0 && c.rng.IntN(3) == 0 {
		i := c.rng.IntN(len(c.pending))
		r := c.pending[i]
		c.pending = append(c.pending[:i], c.pending[i+1:]...)
		return r
	}
	c.n++
	id := fmt.Sprintf("c%d", c.n)
	usd := func(max int) domain.MoneyInput {
		minor := c.rng.IntN(max) + 1
		return domain.MoneyInput{Amount: fmt.Sprintf("%d.%02d", minor/100, minor%100), Currency: "USD"}
	}
	donor := fmt.Sprintf("d%d", c.rng.IntN(5)) // d4 is never registered below
	var cmd domain.Command
	switch c.rng.IntN(5) {
	case 0:
		cmd = &domain.RegisterDonor{ID: fmt.Sprintf("d%d", c.rng.IntN(4)), Name: "Donor", Kind: "country", Country: "DE"}
	case 1, 2:
		cmd = &domain.RecordContribution{ID: id, DonorID: donor, TermID: c.term, Amount: usd(10_000_000), ReceivedOn: "2021-03-01", BankRef: "b-" + id}
	case 3:
		cmd = &domain.RecordInterest{ID: id, TermID: c.term, Amount: usd(100_000), EarnedOn: "2021-04-01"}
	default:
		cmd = &domain.RecordRefund{ID: id, DonorID: donor, TermID: c.term, Amount: usd(5_000_000), PaidOn: "2021-05-01"}
	}
	domain.SetMeta(cmd, domain.Meta{Actor: "olu", Today: w.Today()})
	return Request{CommandID: id, CommandHash: "hash-" + id, Command: cmd}
}

func runSeed(ctx context.Context, log *eventlog.Log, seed uint64, steps int, st *simStats) (err error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	fund := "sim" + strconv.FormatUint(seed, 10)
	clock := time.Date(2021, 6, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var idN uint64
	// Event ids are unique in the whole stream (the read model holds every
	// seed's fund): the seed is in them.
	newID := func() string {
		idN++
		return fmt.Sprintf("01900000-%04x-7%03x-8000-%012d", (seed>>12)&0xffff, seed&0xfff, idN)
	}
	sh := &shadow{fund: fund, chain: events.NewChain(fund), state: domain.NewState(fund), books: map[string]int64{}, appends: map[string]int{}}
	fl := &faultyLog{inner: log, sh: sh, rng: rng}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\ntrace:\n  %s", err, strings.Join(fl.trace, "\n  "))
		}
	}()

	// The second writer appends through the stand-in with faults off, so
	// that what it lands is in the shadow too.
	otherLog := &faultyLog{inner: log, sh: sh, rng: rng}
	var otherN int
	var other *Writer
	fl.other = func() error {
		if other == nil {
			var err error
			if other, err = Open(ctx, otherLog, fund, Options{Now: now, NewEventID: newID}); err != nil {
				return err
			}
		}
		otherN++
		c := &domain.RecordInterest{ID: fmt.Sprintf("o%d", otherN), TermID: "2021-2022", Amount: domain.MoneyInput{Amount: "1.00", Currency: "USD"}, EarnedOn: "2021-04-02"}
		domain.SetMeta(c, domain.Meta{Actor: "ana", Today: other.Today()})
		_, err := other.Submit(ctx, Request{CommandID: fmt.Sprintf("o%d", otherN), CommandHash: "o", Command: c})
		var de *errs.Error
		if errors.As(err, &de) {
			return nil // refused (no term yet): nothing appended, no conflict made
		}
		return err
	}
	defer func() {
		if other != nil {
			other.Close()
		}
	}()

	open := func() (*Writer, error) {
		var err error
		for range 50 {
			var w *Writer
			if w, err = Open(ctx, fl, fund, Options{Now: now, NewEventID: newID}); err == nil {
				return w, nil
			}
		}
		return nil, fmt.Errorf("open writer: %w", err)
	}
	w, err := open()
	if err != nil {
		return err
	}
	defer func() { w.Close() }()

	cl := &simClient{rng: rng, term: "2021-2022", acked: map[string]bool{}, refused: map[string]bool{}}
	send := func(r Request) error {
		st.steps++
		traced := len(fl.trace)
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		res, err := w.Submit(sctx, r)
		cancel()
		st.faults += countFaults(fl.trace[traced:])
		var de *errs.Error
		switch {
		case err == nil:
			cl.acked[r.CommandID] = true
			for _, ref := range res.Events {
				if !landedAs(sh, ref.ID, r.CommandID) {
					return fmt.Errorf("command %s acknowledged with event %s that is not in the log", r.CommandID, ref.ID)
				}
			}
			fl.note("%s: acknowledged (%d events)", r.CommandID, len(res.Events))
		case errors.As(err, &de):
			cl.refused[r.CommandID] = true
			fl.note("%s: refused %s", r.CommandID, de.Code)
		case errors.Is(err, ErrIdempotencyKeyReused):
			return fmt.Errorf("command %s: %v, though sent with the same body", r.CommandID, err)
		default:
			cl.pending = append(cl.pending, r)
			fl.note("%s: no answer (%v)", r.CommandID, err)
		}
		if fl.crashed {
			fl.crashed = false
			st.crashes++
			w.Close()
			if w, err = open(); err != nil {
				return err
			}
			fl.note("writer opened again from the log")
		}
		clock = clock.Add(time.Duration(rng.IntN(600)) * time.Second)
		return checkSim(sh, cl)
	}

	fl.faults = true
	term := &domain.OpenTerm{ID: "2021-2022", StartsOn: "2021-01-01", EndsOn: "2022-12-31", Target: domain.MoneyInput{Amount: "1000000.00", Currency: "USD"}, FeeRate: "0.07"}
	domain.SetMeta(term, domain.Meta{Actor: "ana", Today: w.Today()})
	if err := send(Request{CommandID: "term", CommandHash: "hash-term", Command: term}); err != nil {
		return err
	}
	for range steps {
		if err := send(cl.next(w)); err != nil {
			return err
		}
	}
	// Faults off: every command left without an answer gets one.
	fl.faults = false
	for len(cl.pending) > 0 {
		r := cl.pending[0]
		cl.pending = cl.pending[1:]
		if err := send(r); err != nil {
			return err
		}
		if len(cl.pending) > 0 && cl.pending[len(cl.pending)-1].CommandID == r.CommandID {
			return fmt.Errorf("command %s has no answer with faults off", r.CommandID)
		}
	}
	st.acked += len(cl.acked)
	st.refused += len(cl.refused)

	// The writer's state equals a fresh replay of the log, which holds
	// exactly what landed.
	w.Close()
	replay := domain.NewState(fund)
	var got []events.Event
	if err := log.ReadFund(ctx, fund, 0, func(e events.Event) error {
		got = append(got, e)
		return domain.Apply(replay, e)
	}); err != nil {
		return err
	}
	if len(got) != len(sh.evs) {
		return fmt.Errorf("the log holds %d events, %d landed", len(got), len(sh.evs))
	}
	for i := range got {
		if got[i].ID != sh.evs[i].ID || got[i].Hash != sh.evs[i].Hash {
			return fmt.Errorf("event %d of the log is %s, %s landed", i+1, got[i].ID, sh.evs[i].ID)
		}
	}
	if !reflect.DeepEqual(w.state, replay) {
		return errors.New("the writer's state differs from a fresh replay of the log")
	}
	return nil
}

// checkSim checks the invariants after a step.
func checkSim(sh *shadow, cl *simClient) error {
	if sh.err != nil {
		return sh.err
	}
	for book, sum := range sh.books {
		if sum != 0 {
			return fmt.Errorf("book %s does not balance: %d", book, sum)
		}
	}
	for id, n := range sh.appends {
		if n > 1 {
			return fmt.Errorf("command %s appended %d times", id, n)
		}
	}
	for id := range cl.acked {
		if sh.appends[id] != 1 {
			return fmt.Errorf("acknowledged command %s is in the log %d times", id, sh.appends[id])
		}
	}
	for id := range cl.refused {
		if sh.appends[id] != 0 {
			return fmt.Errorf("refused command %s is in the log", id)
		}
	}
	return nil
}

func landedAs(sh *shadow, eventID, commandID string) bool {
	for i := len(sh.evs) - 1; i >= 0; i-- {
		if sh.evs[i].ID == eventID {
			return sh.evs[i].CommandID == commandID
		}
	}
	return false
}

func countFaults(trace []string) int {
	n := 0
	for _, l := range trace {
		if strings.Contains(l, "timeout") || strings.Contains(l, "unavailable") || strings.Contains(l, "second writer") ||
			strings.Contains(l, "ack lost") || strings.Contains(l, "crashes") || strings.Contains(l, "fails") {
			n++
		}
	}
	return n
}
