// Package progress shows how far long work is (rebuild, verify, export,
// start-up on a long log): events done of the total, the rate and the time
// left, every few seconds (issue 10).
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultEvery is how often a Meter reports.
const DefaultEvery = 2 * time.Second

// Report is where long work stands.
type Report struct {
	What        string
	Done, Total uint64
	PerSecond   float64
	Left        time.Duration // 0 when unknown
	Final       bool          // the work ended
}

// String is the report as one line.
func (r Report) String() string {
	pct := 100.0
	if r.Total > 0 {
		pct = 100 * float64(r.Done) / float64(r.Total)
	}
	s := fmt.Sprintf("%s: %d of %d events (%.0f%%), %.0f events/s", r.What, r.Done, r.Total, pct, r.PerSecond)
	if r.Left > 0 && !r.Final {
		s += fmt.Sprintf(", about %s left", r.Left.Round(time.Second))
	}
	return s
}

// Meter counts work done and hands a Report to its sink every Every while
// the work moves, and once more at Stop.
type Meter struct {
	what  string
	sink  func(Report)
	every time.Duration
	start time.Time

	mu          sync.Mutex
	done, total uint64
	stop        chan struct{}
	stopped     chan struct{}
}

// Start starts a meter; call Stop when the work ends.
func Start(what string, every time.Duration, sink func(Report)) *Meter {
	m := &Meter{what: what, sink: sink, every: every, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go m.run()
	return m
}

// Set records that done of total are done. It is safe to call from any
// goroutine, as often as wanted: it only stores the numbers.
func (m *Meter) Set(done, total uint64) {
	m.mu.Lock()
	m.done, m.total = done, max(total, done)
	m.mu.Unlock()
}

// Stop stops the meter and hands the sink the final report if any work
// was counted.
func (m *Meter) Stop() {
	close(m.stop)
	<-m.stopped
	if r := m.report(true); r.Total > 0 {
		m.sink(r)
	}
}

func (m *Meter) run() {
	defer close(m.stopped)
	t := time.NewTicker(m.every)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		r := m.report(false)
		if r.Total == 0 || r.Done == last {
			continue
		}
		last = r.Done
		m.sink(r)
	}
}

func (m *Meter) report(final bool) Report {
	m.mu.Lock()
	done, total := m.done, m.total
	m.mu.Unlock()
	r := Report{What: m.what, Done: done, Total: total, Final: final}
	if el := time.Since(m.start).Seconds(); el > 0 {
		r.PerSecond = float64(done) / el
	}
	if r.PerSecond > 0 {
		r.Left = time.Duration(float64(total-done) / r.PerSecond * float64(time.Second))
	}
	return r
}

// Writer returns a sink that writes each report to w: on a terminal as a
// bar redrawn in place, else as one line each.
func Writer(w io.Writer) func(Report) {
	term := isTerminal(w)
	return func(r Report) {
		if !term {
			fmt.Fprintln(w, r.String())
			return
		}
		const width = 30
		n := width
		if r.Total > 0 {
			n = int(width * r.Done / r.Total)
		}
		end := ""
		if r.Final {
			end = "\n"
		}
		fmt.Fprintf(w, "\r[%s%s] %s\033[K%s", strings.Repeat("#", n), strings.Repeat(".", width-n), r, end)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Steps: what long work does after its read of the log (a rebuild's
// totals and indexes, an audit's comparison of the tables) has no count of
// events to show, and took tens of seconds at 1,000,000 events with
// nothing said. Such work tells its steps to the report its context
// carries.

type stepsKey struct{}

// WithSteps returns a context under which Step hands each step to report;
// a nil report silences Step under it.
func WithSteps(ctx context.Context, report func(step string)) context.Context {
	return context.WithValue(ctx, stepsKey{}, report)
}

// Step tells the report ctx carries (WithSteps), if any, that the work has
// reached a step.
func Step(ctx context.Context, format string, args ...any) {
	if report, _ := ctx.Value(stepsKey{}).(func(string)); report != nil {
		report(fmt.Sprintf(format, args...))
	}
}

// StepWriter returns a report of steps that writes each to w on a line of
// its own, "what: step" (on a terminal, over the bar Writer draws).
func StepWriter(w io.Writer, what string) func(step string) {
	clear := ""
	if isTerminal(w) {
		clear = "\r\033[K"
	}
	return func(step string) {
		fmt.Fprintf(w, "%s%s: %s\n", clear, what, step)
	}
}
