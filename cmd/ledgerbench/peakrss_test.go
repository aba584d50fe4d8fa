package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// childAllocMB is how much the test binary, run as a child by
// TestPeakRSSIsTheChilds, holds before it exits.
const childAllocMB = 96

// TestMain lets the test binary be the child: with LEDGERBENCH_RSS_CHILD set
// it touches childAllocMB of memory, holds it a while (longer than hwmPoll),
// and exits.
func TestMain(m *testing.M) {
	if os.Getenv("LEDGERBENCH_RSS_CHILD") == "1" {
		b := make([]byte, childAllocMB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		time.Sleep(20 * hwmPoll)
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPeakRSSIsTheChilds: the peak memory runTool gives is the child's own,
// not floored by this process's (the rusage of a child counts its parent's
// memory at the fork, which made every tool report ledgerbench's size).
// This process holds 3× the child's memory while it runs two children: a
// small one must report far less than this process, and one holding
// childAllocMB at least that.
func TestPeakRSSIsTheChilds(t *testing.T) {
	ballast := make([]byte, 3*childAllocMB<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	_, small, err := runTool(t.Context(), "/bin/sleep", "0.2")
	if err != nil {
		t.Fatal(err)
	}
	if small <= 0 || small > childAllocMB/2 {
		t.Errorf("sleep's peak memory = %.1f MB, want above 0 and under %d MB (this process holds %d MB)", small, childAllocMB/2, 3*childAllocMB)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LEDGERBENCH_RSS_CHILD", "1")
	_, big, err := runTool(t.Context(), self)
	if err != nil {
		t.Fatal(err)
	}
	if big < childAllocMB || big > 2*childAllocMB {
		t.Errorf("a child holding %d MB: peak memory = %.1f MB, want %d to %d MB (this process holds %d MB)", childAllocMB, big, childAllocMB, 2*childAllocMB, 3*childAllocMB)
	}
	runtime.KeepAlive(ballast)
}

func TestVmHWM(t *testing.T) {
	status := []byte("Name:\tledgerd\nVmPeak:\t 2000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n")
	if kb, ok := vmHWM(status); !ok || kb != 1234 {
		t.Errorf("vmHWM = %d, %v; want 1234, true", kb, ok)
	}
	if _, ok := vmHWM([]byte("Name:\tzombie\nState:\tZ (zombie)\n")); ok {
		t.Error("vmHWM found a peak in a status without VmHWM")
	}
}
