package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// metricsScrapeTimeout bounds the reads a scrape makes (the checkpoint, the
// first event the read model has not applied).
const metricsScrapeTimeout = 2 * time.Second

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

// NewMetrics returns the series with the Go runtime and process collectors.
func NewMetrics() *Metrics {
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
			Name: "mdfm_verified_fund_seq", Help: "fund_seq of the chain head the last successful GET /v1/audit/verify checked, by fund.",
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

func (m *Metrics) request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *Metrics) error(code string) { m.errors.WithLabelValues(code).Inc() }

// command counts a command by result; n is the events it appended.
func (m *Metrics) command(result string, n int) {
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

// registerServerGauges adds the series read at scrape time from the server's
// writer, read model and log.
func (s *Server) registerServerGauges() {
	fund := prometheus.Labels{"fund": s.cfg.Writer.Fund()}
	gauge := func(name, help string, labels prometheus.Labels, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f)
	}
	s.metrics.reg.MustRegister(
		gauge("mdfm_writer_stream_seq", "Stream sequence of the last event the writer knows to be in the log.", fund,
			func() float64 { return float64(s.cfg.Writer.LastSeq()) }),
		gauge("mdfm_writer_queue_depth", "Commands waiting for the writer.", fund,
			func() float64 { return float64(s.cfg.Writer.QueueLen()) }),
		gauge("mdfm_projector_checkpoint", "Stream sequence of the last event the read model applied.", nil,
			func() float64 { cp, _ := s.lag(); return float64(cp) }),
		gauge("mdfm_projector_lag_events", "Stream sequences from the read model's checkpoint up to the writer's last acknowledged event: 0 when reads see every acknowledged write.", fund,
			func() float64 {
				cp, _ := s.lag()
				return float64(s.cfg.Writer.LastSeq() - min(cp, s.cfg.Writer.LastSeq()))
			}),
		gauge("mdfm_projector_lag_seconds", "Age (by its recorded_at) of the oldest event the writer acknowledged that the read model has not applied; 0 when none.", fund,
			func() float64 { _, d := s.lag(); return d.Seconds() }),
		gauge("mdfm_projector_up", "1 while the in-process projector runs, 0 after it stopped on an error.", nil,
			func() float64 {
				if s.cfg.Health != nil && s.cfg.Health() != nil {
					return 0
				}
				return 1
			}),
	)
}

// lag returns the read model's checkpoint and the age of the first event
// after it when the writer has acknowledged more (one direct get).
func (s *Server) lag() (uint64, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsScrapeTimeout)
	defer cancel()
	cp, err := s.cfg.Store.Checkpoint(ctx)
	if err != nil {
		s.cfg.Logger.Warn("metrics: read checkpoint", "err", err)
		return 0, 0
	}
	last := s.cfg.Writer.LastSeq()
	if cp >= last {
		return cp, 0
	}
	var age time.Duration
	err = s.cfg.Log.ReadRaw(ctx, eventlog.AllFilter, cp, cp+1, func(m eventlog.RawMsg) error {
		e, err := events.Decode(m.Data)
		if err != nil {
			return err
		}
		at, err := time.Parse(time.RFC3339Nano, e.RecordedAt)
		if err != nil {
			return err
		}
		age = max(s.cfg.Now().Sub(at), 0)
		return nil
	})
	if err != nil {
		s.cfg.Logger.Warn("metrics: read the first event not projected", "err", err)
	}
	return cp, age
}

// serveMetrics answers GET /metrics in the Prometheus text format.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, _ Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	w.Header().Set("Cache-Control", "no-store")
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
