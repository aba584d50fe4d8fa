package main

import "testing"

// TestChainGCPercent: verify --chain runs the collector at GOGC 400 unless
// the process's own setting is already higher, or off.
func TestChainGCPercent(t *testing.T) {
	for process, want := range map[int]int{100: 400, 50: 400, 399: 400, 400: 400, 800: 800, 0: 400, -1: -1} {
		if got := chainGCPercent(process); got != want {
			t.Errorf("chainGCPercent(%d) = %d, want %d", process, got, want)
		}
	}
}
