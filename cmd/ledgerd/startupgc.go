package main

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector while the writer folds the log at start-up (issue 10).
//
// The fold makes garbage at a steady rate while the state it builds grows
// with the events, to about 250 MB at 1,000,000. The collector's work is
// about 100/GOGC times the bytes allocated whatever the heap's size, and
// the heap's peak is (1 + GOGC/100) times what is live when it runs. A
// fixed GOGC 50 kept the first start under 500 MB, but made the collector
// a third of its CPU: it ran as often early in the fold, when the state was
// small, as at its end. So the fold runs at GOGC 400 under a memory limit
// of foldMemoryLimit: the collector runs seldom while the state is small,
// and as the state grows the limit, not the GOGC, says when it runs, which
// bounds the peak by construction. A memory limit makes the collector run
// without end once what is live comes near it; so when, after a
// collection, what is live is more than foldLimitShare of the limit (a
// larger state than a million events make: ledgerbench's log of 1,000,000
// ends its fold at about 240 MB live, 85 % of that; or an operator's lower
// limit), the fold falls back to GOGC 50 and the process's own limit, as
// before: the peak then grows with the state, half of it over it, and
// never thrashes.

const (
	foldGOGC        = 400
	foldMemoryLimit = 400 << 20 // bytes the Go runtime holds, the embedded NATS server's included
	foldLimitShare  = 2.0 / 3   // of the limit live before the fold falls back
	foldFallbackGC  = 50        // the GOGC after the fall back
)

// foldGC holds the collector's settings through a fold.
type foldGC struct {
	process      int   // the process's GOGC, restored by end
	processLimit int64 // the process's memory limit (GOMEMLIMIT), restored by end
	limit        int64 // the limit during the fold
	adapt        bool  // false when the operator's GOGC is 50 or less, or off, or after the fall back
	fellBack     bool
	cycles       uint64 // the collector's cycles at the last live heap read
	samples      []metrics.Sample
}

// startFoldGC sets GOGC 400 and the memory limit for the fold, unless the
// process's own GOGC is already 50 or less, or off, which it keeps.
func startFoldGC() *foldGC {
	g := &foldGC{process: debug.SetGCPercent(foldGOGC), processLimit: debug.SetMemoryLimit(-1)}
	if g.process <= foldFallbackGC { // GOGC=off is -1
		debug.SetGCPercent(g.process)
		return g
	}
	g.adapt = true
	g.limit = min(g.processLimit, foldMemoryLimit)
	debug.SetMemoryLimit(g.limit)
	g.samples = []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
	}
	return g
}

// progress is called after each batch of the fold
// (eventlog.WithProgress): it reads the live heap when the collector has
// run since it last did.
func (g *foldGC) progress(done, last uint64) {
	if !g.adapt {
		return
	}
	metrics.Read(g.samples)
	if cycles := g.samples[0].Value.Uint64(); cycles != g.cycles {
		g.cycles = cycles
		g.observe(g.samples[1].Value.Uint64())
	}
}

// observe falls back to GOGC 50 under the process's own limit when live
// heap bytes are more than foldLimitShare of the fold's limit.
func (g *foldGC) observe(live uint64) {
	if float64(live) <= foldLimitShare*float64(g.limit) {
		return
	}
	g.adapt, g.fellBack = false, true
	debug.SetGCPercent(foldFallbackGC)
	debug.SetMemoryLimit(g.processLimit)
}

// end restores the process's GOGC and memory limit.
func (g *foldGC) end() {
	debug.SetGCPercent(g.process)
	debug.SetMemoryLimit(g.processLimit)
}

// The collector while ledgerd serves (issue 10).
//
// Once the fold has ended the process runs at its own GOGC (100 unless
// the operator set it), so the heap may grow to twice what is live before
// the collector runs: at 1,000,000 events about 250 MB are live, and a few
// reports' garbage (a statement's PDF makes about 100 MB) took ledgerd to
// 673 MB. So it serves under a soft memory limit of servingMemoryLimit:
// the collector runs earlier when the heap nears it, and as seldom as
// GOGC says while it is far. A limit makes the collector run without end
// once what is live comes near it, so when what is live stays more than
// foldLimitShare of the limit (a larger state than a million events make)
// for servingOverPolls checks in a row, the limit is lifted and the heap
// grows with GOGC alone; it is set again once what is live is back under
// servingRearmShare of it. A report holds much for a moment (a statement's
// attribution at 1,000,000 events took what was live from 200 to 340 MB
// while it was computed): one check over the share does not lift it. The
// limit holds from the end of the fold, while the writer writes the
// start-up snapshot (a buffer of about 100 MB for a second): the
// collector then runs often, and the first statement after a first start
// at 1,000,000 events took 265–402 ms instead of 135–170. Setting it once
// the snapshot was written kept that request at 122–188 ms but let the
// peak reach 469–531 MB, over the 500 MB the process is held to. An
// operator's GOGC of 50 or less, or off, or a memory limit of their own at
// or below servingMemoryLimit, is kept as it is.

const (
	servingMemoryLimit = foldMemoryLimit
	servingRearmShare  = 0.5
	servingOverPolls   = 3
	servingGCPoll      = time.Second
)

// servingGC holds the memory limit while ledgerd serves.
type servingGC struct {
	processLimit int64 // the process's memory limit, restored by end
	limit        int64
	armed        bool // the limit is set
	over         int  // checks in a row that found what is live over the share
	cycles       uint64
	samples      []metrics.Sample
	stop, done   chan struct{}
}

// startServingGC sets the serving limit, unless the process's settings
// already bound the heap as tightly, and checks what is live every poll.
func startServingGC(poll time.Duration) *servingGC {
	g := &servingGC{processLimit: debug.SetMemoryLimit(-1), limit: servingMemoryLimit, stop: make(chan struct{}), done: make(chan struct{})}
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	if gogc <= foldFallbackGC || g.processLimit <= g.limit {
		close(g.done)
		return g
	}
	g.samples = []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
	}
	g.arm(true)
	go g.watch(poll)
	return g
}

func (g *servingGC) watch(poll time.Duration) {
	defer close(g.done)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			metrics.Read(g.samples)
			if cycles := g.samples[0].Value.Uint64(); cycles != g.cycles {
				g.cycles = cycles
				g.observe(g.samples[1].Value.Uint64())
			}
		}
	}
}

// observe lifts the limit when what is live has been more than
// foldLimitShare of it servingOverPolls times in a row, and sets it again
// when what is live is under servingRearmShare.
func (g *servingGC) observe(live uint64) {
	if !g.armed {
		if float64(live) < servingRearmShare*float64(g.limit) {
			g.arm(true)
		}
		return
	}
	if float64(live) <= foldLimitShare*float64(g.limit) {
		g.over = 0
		return
	}
	if g.over++; g.over >= servingOverPolls {
		g.over = 0
		g.arm(false)
	}
}

func (g *servingGC) arm(on bool) {
	g.armed = on
	if on {
		debug.SetMemoryLimit(g.limit)
	} else {
		debug.SetMemoryLimit(g.processLimit)
	}
}

// end stops the checks and restores the process's memory limit.
func (g *servingGC) end() {
	select {
	case <-g.done: // never started
		return
	default:
	}
	close(g.stop)
	<-g.done
	debug.SetMemoryLimit(g.processLimit)
}
