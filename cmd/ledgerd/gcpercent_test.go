package main

import "testing"

// TestStartUpGCPercent: the start-up fold runs the collector at GOGC 50
// unless the process's own setting is already lower, or off.
func TestStartUpGCPercent(t *testing.T) {
	for process, want := range map[int]int{100: 50, 400: 50, 51: 50, 50: 50, 20: 20, 0: 0, -1: -1} {
		if got := startUpGCPercent(process); got != want {
			t.Errorf("startUpGCPercent(%d) = %d, want %d", process, got, want)
		}
	}
}
