package main

import (
	"math"
	"runtime/debug"
	"testing"
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
