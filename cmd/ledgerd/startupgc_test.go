package main

import (
	"math"
	"runtime/debug"
	"testing"
	"time"
)

// noMemoryLimit is the runtime's memory limit when none is set.
const noMemoryLimit = math.MaxInt64

// TestFoldGCSettings: the fold runs at GOGC 400 under the memory limit
// (or the operator's lower one); an operator's GOGC of 50 or less, or off,
// is kept with no limit added; the process's settings come back at the end.
func TestFoldGCSettings(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(noMemoryLimit))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		gogc      int
		limit     int64
		wantGC    int
		wantLimit int64
		adapts    bool
	}{
		{100, noMemoryLimit, foldGOGC, foldMemoryLimit, true},
		{51, noMemoryLimit, foldGOGC, foldMemoryLimit, true},
		{100, 300 << 20, foldGOGC, 300 << 20, true},
		{100, 1 << 40, foldGOGC, foldMemoryLimit, true},
		{50, noMemoryLimit, 50, noMemoryLimit, false},
		{20, 300 << 20, 20, 300 << 20, false},
		{-1, noMemoryLimit, -1, noMemoryLimit, false},
	} {
		debug.SetGCPercent(c.gogc)
		debug.SetMemoryLimit(c.limit)
		g := startFoldGC()
		if got := debug.SetGCPercent(c.wantGC); got != c.wantGC {
			t.Errorf("GOGC %d: %d during the fold, want %d", c.gogc, got, c.wantGC)
		}
		if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
			t.Errorf("GOGC %d, limit %d: limit %d during the fold, want %d", c.gogc, c.limit, got, c.wantLimit)
		}
		if g.adapt != c.adapts {
			t.Errorf("GOGC %d: adapts %v, want %v", c.gogc, g.adapt, c.adapts)
		}
		g.progress(1000, 1_000_000) // whatever this process's heap, far below the limit
		if g.fellBack {
			t.Errorf("GOGC %d: fell back on this test's heap", c.gogc)
		}
		g.end()
		if got := debug.SetGCPercent(c.gogc); got != c.gogc {
			t.Errorf("GOGC %d: %d after the fold", c.gogc, got)
		}
		if got := debug.SetMemoryLimit(-1); got != c.limit {
			t.Errorf("limit %d: %d after the fold", c.limit, got)
		}
	}
}

// TestFoldGCFallsBack: once what is live is more than foldLimitShare of
// the limit, the fold runs at GOGC 50 under the process's own limit, and
// stays there.
func TestFoldGCFallsBack(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(noMemoryLimit))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g := startFoldGC()
	limit := float64(foldMemoryLimit)
	share := uint64(foldLimitShare * limit)
	g.observe(share)
	if g.fellBack || debug.SetGCPercent(foldGOGC) != foldGOGC {
		t.Fatalf("fell back at exactly the share of the limit")
	}
	g.observe(share + 1)
	if !g.fellBack {
		t.Fatalf("did not fall back over the share of the limit")
	}
	if got := debug.SetGCPercent(foldFallbackGC); got != foldFallbackGC {
		t.Errorf("GOGC %d after the fall back, want %d", got, foldFallbackGC)
	}
	if got := debug.SetMemoryLimit(-1); got != noMemoryLimit {
		t.Errorf("limit %d after the fall back, want none", got)
	}
	g.progress(900_000, 1_000_000) // no effect once fallen back
	if got := debug.SetGCPercent(foldFallbackGC); got != foldFallbackGC {
		t.Errorf("GOGC %d after a report past the fall back", got)
	}
	g.end()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d after the fold, want the process's 100", got)
	}
}

// TestServingGCSettings: ledgerd serves under servingMemoryLimit unless the
// operator's GOGC of 50 or less, or off, or a limit of their own at or
// below it, already bounds the heap; Close's end restores the process's
// limit.
func TestServingGCSettings(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(noMemoryLimit))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		gogc      int
		limit     int64
		wantLimit int64
	}{
		{100, noMemoryLimit, servingMemoryLimit},
		{400, 1 << 40, servingMemoryLimit},
		{51, noMemoryLimit, servingMemoryLimit},
		{100, servingMemoryLimit, servingMemoryLimit},
		{100, 300 << 20, 300 << 20},
		{50, noMemoryLimit, noMemoryLimit},
		{-1, noMemoryLimit, noMemoryLimit},
	} {
		debug.SetGCPercent(c.gogc)
		debug.SetMemoryLimit(c.limit)
		g := startServingGC(time.Millisecond)
		time.Sleep(5 * time.Millisecond) // a few checks on this test's small heap
		if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
			t.Errorf("GOGC %d, limit %d: limit %d while serving, want %d", c.gogc, c.limit, got, c.wantLimit)
		}
		if got := debug.SetGCPercent(c.gogc); got != c.gogc {
			t.Errorf("GOGC %d: %d while serving, want it kept", c.gogc, got)
		}
		g.end()
		if got := debug.SetMemoryLimit(-1); got != c.limit {
			t.Errorf("limit %d: %d after serving", c.limit, got)
		}
	}
}

// TestServingGCLiftsAndRearms: the limit is lifted only once what is live
// has been over foldLimitShare of it servingOverPolls checks in a row, and
// set again once it is under servingRearmShare.
func TestServingGCLiftsAndRearms(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(noMemoryLimit))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	g := startServingGC(time.Hour) // observed by hand below
	defer g.end()
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	lim := float64(servingMemoryLimit)
	share := uint64(foldLimitShare * lim)
	over := share + 1
	g.observe(over) // a report holding much for a moment
	if got := limit(); got != servingMemoryLimit {
		t.Fatalf("limit %d after one check over the share; want it kept", got)
	}
	for i := 2; i < servingOverPolls; i++ {
		g.observe(over)
	}
	g.observe(share) // the moment has passed
	for i := 1; i < servingOverPolls; i++ {
		g.observe(over)
	}
	if got := limit(); got != servingMemoryLimit {
		t.Fatalf("limit %d after checks over the share, not %d in a row; want it kept", got, servingOverPolls)
	}
	g.observe(over)
	if got := limit(); got != noMemoryLimit {
		t.Fatalf("limit %d after %d checks in a row over the share; want it lifted", got, servingOverPolls)
	}
	g.observe(uint64(servingRearmShare * lim))
	if got := limit(); got != noMemoryLimit {
		t.Fatalf("limit %d at exactly the share to set it again; want it still lifted", got)
	}
	g.observe(uint64(servingRearmShare*lim) - 1)
	if got := limit(); got != servingMemoryLimit {
		t.Fatalf("limit %d once what is live is under the share; want it set again", got)
	}
}
