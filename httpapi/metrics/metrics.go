// Package metrics holds the daemon's Prometheus series (listed in
// docs/operations.md): requests, error answers and failed sign-ins counted
// by httpapi, commands by result, the writer's appends to the log timed by
// result (InstrumentLog), verify and token reloads. httpapi answers them at
// GET /metrics with the gauges it reads at scrape time.
package metrics

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// Metrics are the daemon's Prometheus series, in a registry of their own
// (not the global one), so that several servers in one test process do not
// share counters. The series are listed in docs/operations.md.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.HistogramVec // by route and status
	commands       *prometheus.CounterVec   // by result
	eventsAppended prometheus.Counter
	commandEvents  prometheus.Histogram
	errors         *prometheus.CounterVec // by code
	signInFailures prometheus.Counter
	appends        *prometheus.CounterVec   // by result
	appendSeconds  *prometheus.HistogramVec // by result
	batchEvents    prometheus.Histogram
	verifiedSeq    *prometheus.GaugeVec // by fund
	tokenReloads   *prometheus.CounterVec
}

// New returns the series with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mdfm_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route (the path pattern) and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "status"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mdfm_commands_total", Help: "Commands submitted to the writer, by result: created (appended), replayed (same Idempotency-Key and body), refused.",
		}, []string{"result"}),
		eventsAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mdfm_events_appended_total", Help: "Events appended to the log by this server's commands.",
		}),
		commandEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mdfm_command_events", Help: "Events appended per command.",
			Buckets: []float64{1, 2, 5, 10, 50, 100, 500, 1000},
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mdfm_errors_total", Help: "Error answers, by code.",
		}, []string{"code"}),
		signInFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mdfm_signin_failures_total", Help: "Requests refused 401: no token, a malformed Authorization header, or a token not in the tokens file.",
		}),
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mdfm_log_appends_total", Help: "Atomic appends of the writer to the event log, by result: ok, conflict (another writer), unknown (timeout or lost ack, then resolved by reading), error (refused or unreachable).",
		}, []string{"result"}),
		appendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mdfm_log_append_duration_seconds", Help: "Time of one atomic append to the event log, by result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"result"}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mdfm_log_append_batch_events", Help: "Events in one atomic append (group commit) that landed.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		verifiedSeq: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mdfm_verified_fund_seq", Help: "fund_seq of the chain head the last successful GET /v1/audit/verify (or verify job) checked, by fund.",
		}, []string{"fund"}),
		tokenReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mdfm_tokens_reloads_total", Help: "Reloads of the tokens file, by result: ok, refused (the file did not parse; the old tokens are kept).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.commands, m.eventsAppended, m.commandEvents, m.errors, m.signInFailures,
		m.appends, m.appendSeconds, m.batchEvents, m.verifiedSeq, m.tokenReloads,
	)
	// Zero series exist from the start, so that rate() and alerts see them.
	for _, r := range []string{"created", "replayed", "refused"} {
		m.commands.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "conflict", "unknown", "error"} {
		m.appends.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "refused"} {
		m.tokenReloads.WithLabelValues(r)
	}
	return m
}

// Registry returns the registry, for series of other parts of the daemon.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Verified sets the fund_seq of the chain head a successful verify of fund
// checked.
func (m *Metrics) Verified(fund string, fundSeq uint64) {
	m.verifiedSeq.WithLabelValues(fund).Set(float64(fundSeq))
}

// SignInFailed counts a failed sign-in (a refused token or password).
func (m *Metrics) SignInFailed() { m.signInFailures.Inc() }

// TokensReloaded counts a reload of the tokens file: ok, or refused.
func (m *Metrics) TokensReloaded(ok bool) {
	if ok {
		m.tokenReloads.WithLabelValues("ok").Inc()
	} else {
		m.tokenReloads.WithLabelValues("refused").Inc()
	}
}

// ObserveRequest times an answered request by route (the path pattern) and
// status.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

// CountError counts an error answer by its code.
func (m *Metrics) CountError(code string) { m.errors.WithLabelValues(code).Inc() }

// CountCommand counts a command by result (created, replayed, refused); n
// is the events it appended.
func (m *Metrics) CountCommand(result string, n int) {
	m.commands.WithLabelValues(result).Inc()
	if result != "created" {
		return
	}
	m.eventsAppended.Add(float64(n))
	m.commandEvents.Observe(float64(n))
}

// InstrumentLog wraps the writer's log so that every append is counted and
// timed by result, and the events of each landed append measured.
func (m *Metrics) InstrumentLog(l ledger.Log) ledger.Log { return &measuredLog{Log: l, m: m} }

type measuredLog struct {
	ledger.Log
	m *Metrics
}

func (l *measuredLog) Append(ctx context.Context, fund string, expectLast uint64, evs []events.Event) (uint64, error) {
	start := time.Now()
	seq, err := l.Log.Append(ctx, fund, expectLast, evs)
	result := "ok"
	switch {
	case err == nil:
		l.m.batchEvents.Observe(float64(len(evs)))
	case errors.Is(err, eventlog.ErrConflict):
		result = "conflict"
	case errors.Is(err, eventlog.ErrUnknownOutcome):
		result = "unknown"
	default:
		result = "error"
	}
	l.m.appends.WithLabelValues(result).Inc()
	l.m.appendSeconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return seq, err
}
