package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// commandEventsBuckets are the upper bounds of the histogram of events per
// command (a receipt is two: the contribution and its fee).
var commandEventsBuckets = []int{1, 2, 5, 10, 50, 100, 500, 1000}

// metrics are the counters of one Server, written out in the Prometheus
// text format by hand: a handful of series does not need a client library.
type metrics struct {
	mu             sync.Mutex
	requests       map[int]uint64    // by status
	durationSum    float64           // seconds
	durationCount  uint64            //
	commands       map[string]uint64 // by result: created, replayed, refused
	eventsAppended uint64
	errors         map[string]uint64 // by code
	cmdEvents      []uint64          // cumulative later; per bucket here, +Inf last
	cmdEventsSum   uint64
	cmdEventsCount uint64
}

func newMetrics() *metrics {
	return &metrics{
		requests:  map[int]uint64{},
		commands:  map[string]uint64{},
		errors:    map[string]uint64{},
		cmdEvents: make([]uint64, len(commandEventsBuckets)+1),
	}
}

func (m *metrics) request(status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[status]++
	m.durationSum += d.Seconds()
	m.durationCount++
}

func (m *metrics) error(code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errors[code]++
}

// command counts a command by result; n is the events it appended.
func (m *metrics) command(result string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commands[result]++
	if result != "created" {
		return
	}
	m.eventsAppended += uint64(n)
	i := sort.SearchInts(commandEventsBuckets, n)
	m.cmdEvents[i]++
	m.cmdEventsSum += uint64(n)
	m.cmdEventsCount++
}

// serveMetrics answers GET /metrics in the Prometheus text format 0.0.4.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	var b bytes.Buffer
	m := s.metrics
	m.mu.Lock()
	help(&b, "mdfm_http_requests_total", "counter", "HTTP requests answered, by status.")
	for _, st := range sortedInts(m.requests) {
		fmt.Fprintf(&b, "mdfm_http_requests_total{status=\"%d\"} %d\n", st, m.requests[st])
	}
	help(&b, "mdfm_http_request_duration_seconds", "summary", "Time to answer an HTTP request.")
	fmt.Fprintf(&b, "mdfm_http_request_duration_seconds_sum %s\n", strconv.FormatFloat(m.durationSum, 'g', -1, 64))
	fmt.Fprintf(&b, "mdfm_http_request_duration_seconds_count %d\n", m.durationCount)
	help(&b, "mdfm_commands_total", "counter", "Commands submitted to the writer, by result: created (appended), replayed (same Idempotency-Key and body), refused.")
	for _, k := range []string{"created", "replayed", "refused"} {
		fmt.Fprintf(&b, "mdfm_commands_total{result=%q} %d\n", k, m.commands[k])
	}
	help(&b, "mdfm_appends_total", "counter", "Commands whose events were appended to the log.")
	fmt.Fprintf(&b, "mdfm_appends_total %d\n", m.commands["created"])
	help(&b, "mdfm_events_appended_total", "counter", "Events appended to the log by this server's commands.")
	fmt.Fprintf(&b, "mdfm_events_appended_total %d\n", m.eventsAppended)
	help(&b, "mdfm_command_events", "histogram", "Events appended per command.")
	var cum uint64
	for i, le := range commandEventsBuckets {
		cum += m.cmdEvents[i]
		fmt.Fprintf(&b, "mdfm_command_events_bucket{le=\"%d\"} %d\n", le, cum)
	}
	cum += m.cmdEvents[len(commandEventsBuckets)]
	fmt.Fprintf(&b, "mdfm_command_events_bucket{le=\"+Inf\"} %d\n", cum)
	fmt.Fprintf(&b, "mdfm_command_events_sum %d\n", m.cmdEventsSum)
	fmt.Fprintf(&b, "mdfm_command_events_count %d\n", m.cmdEventsCount)
	help(&b, "mdfm_errors_total", "counter", "Error answers, by code.")
	for _, c := range sortedStrings(m.errors) {
		fmt.Fprintf(&b, "mdfm_errors_total{code=%q} %d\n", c, m.errors[c])
	}
	m.mu.Unlock()

	last := s.cfg.Writer.LastSeq()
	help(&b, "mdfm_writer_stream_seq", "gauge", "Stream sequence of the last event the writer knows to be in the log.")
	fmt.Fprintf(&b, "mdfm_writer_stream_seq{fund=%q} %d\n", s.cfg.Writer.Fund(), last)
	if cp, err := s.cfg.Store.Checkpoint(r.Context()); err == nil {
		lag := int64(0)
		if last > cp {
			lag = int64(last - cp)
		}
		help(&b, "mdfm_projector_checkpoint", "gauge", "Stream sequence of the last event the read model applied.")
		fmt.Fprintf(&b, "mdfm_projector_checkpoint %d\n", cp)
		help(&b, "mdfm_projector_lag", "gauge", "Stream sequences from the read model's checkpoint up to the writer's last acknowledged event: 0 when reads see every acknowledged write.")
		fmt.Fprintf(&b, "mdfm_projector_lag{fund=%q} %d\n", s.cfg.Writer.Fund(), lag)
	} else {
		s.cfg.Logger.Warn("metrics: read checkpoint", "err", err)
	}
	up := 1
	if s.cfg.Health != nil && s.cfg.Health() != nil {
		up = 0
	}
	help(&b, "mdfm_projector_up", "gauge", "1 while the in-process projector runs, 0 after it stopped on an error.")
	fmt.Fprintf(&b, "mdfm_projector_up %d\n", up)

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
	return nil
}

func help(b *bytes.Buffer, name, typ, text string) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
}

func sortedInts(m map[int]uint64) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func sortedStrings(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
