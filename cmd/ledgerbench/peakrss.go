package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// A child's peak memory is read from /proc/<pid>/status (VmHWM), not from
// the rusage wait returns: Linux counts in a child's ru_maxrss the memory
// its parent had when it forked, so every tool ledgerbench ran reported at
// least ledgerbench's own size (150–230 MB), whatever it used itself.
// VmHWM belongs to the program the child exec'd, and only grows, so the
// last value read is its peak up to that read.

// hwmPoll is how often a watched process's VmHWM is read: growth in its
// last poll interval before it exits is not seen.
const hwmPoll = 20 * time.Millisecond

// rssWatch follows one process's peak memory until stopped.
type rssWatch struct {
	mu   sync.Mutex
	kb   int64
	stop chan struct{}
	done chan struct{}
}

// watchPeakRSS starts reading pid's VmHWM every hwmPoll.
func watchPeakRSS(pid int) *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(w.done)
		t := time.NewTicker(hwmPoll)
		defer t.Stop()
		for {
			w.read(path)
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// read takes VmHWM from status once; a process gone (or not yet exec'd
// into a status with it) leaves the last value.
func (w *rssWatch) read(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	kb, ok := vmHWM(b)
	if !ok {
		return
	}
	w.mu.Lock()
	w.kb = max(w.kb, kb)
	w.mu.Unlock()
}

// vmHWM parses the "VmHWM:   1234 kB" line of a /proc/<pid>/status.
func vmHWM(status []byte) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		return kb, err == nil
	}
	return 0, false
}

// peekMB returns the peak seen so far, in MB, and goes on watching.
func (w *rssWatch) peekMB() float64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return float64(w.kb) / 1024
}

// MB stops the watch and returns the peak seen, in MB: the last VmHWM read
// while the process lived (an exited process has none). Call it as soon as
// the process has been waited for, so that its pid, free again, is not
// read for long.
func (w *rssWatch) MB() float64 {
	if w == nil {
		return 0
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return float64(w.kb) / 1024
}
