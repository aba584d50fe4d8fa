// Package testwait is the one way tests wait for a condition: polled, with
// a deadline generous enough for a loaded machine, never a sleep that
// asserts a result.
package testwait

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// Poll is how often For checks its condition.
const Poll = 10 * time.Millisecond

// For waits until cond holds, checking it every Poll, and fails the test
// naming what it waited for when timeout passes first.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(Poll)
	}
}

// Output collects what a process or a goroutine writes while the test
// reads it: an io.Writer safe for concurrent use.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
