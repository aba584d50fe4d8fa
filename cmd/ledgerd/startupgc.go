package main

import (
	"runtime/debug"
	"runtime/metrics"
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
