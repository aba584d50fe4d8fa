package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
)

// metricsScrapeTimeout bounds the reads a scrape makes (the checkpoint, the
// first event the read model has not applied).
const metricsScrapeTimeout = 2 * time.Second

// registerServerGauges adds the series read at scrape time from the server's
// writer, read model and log.
func (s *Server) registerServerGauges() {
	fund := prometheus.Labels{"fund": s.cfg.Writer.Fund()}
	gauge := func(name, help string, labels prometheus.Labels, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f)
	}
	s.metrics.Registry().MustRegister(
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
	// The statements' attributions (donors.Memo): found in the memo,
	// computed for the statement that asked, computed ahead by the warm-up.
	for source, f := range map[string]func(donors.MemoStats) int64{
		"memo":     func(st donors.MemoStats) int64 { return st.Hits },
		"computed": func(st donors.MemoStats) int64 { return st.Misses },
		"warmed":   func(st donors.MemoStats) int64 { return st.Warmed },
	} {
		s.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "mdfm_statement_attributions_total",
			Help:        "Terms' attributions the statements drew on, by source: memo (kept from an earlier statement or warm-up), computed (by the statement that asked), warmed (computed ahead, once the read model was quiet).",
			ConstLabels: prometheus.Labels{"source": source},
		}, func() float64 { return float64(f(s.statements.Stats())) }))
	}
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
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	w.Header().Set("Cache-Control", "no-store")
	promhttp.HandlerFor(s.metrics.Registry(), promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
