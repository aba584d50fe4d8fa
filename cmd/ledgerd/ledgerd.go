package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/httpapi/metrics"
	"github.com/unesco-uil/mdfm-ledger/internal/progress"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
	"github.com/unesco-uil/mdfm-ledger/tlog"
	"github.com/unesco-uil/mdfm-ledger/webapp"
)

// Defaults and limits of the daemon.
const (
	DefaultDataDir  = "./data"
	DefaultHTTPAddr = "127.0.0.1:8080"
	// ReadModelFile is the SQLite read model's name inside the data folder;
	// cmd/projector opens the same file.
	ReadModelFile = "ledger.db"
	// SnapshotFilePrefix and SnapshotFileSuffix frame the fund id in the name
	// of the writer's state snapshot inside the data folder (see
	// docs/DESIGN.md, "State snapshots").
	SnapshotFilePrefix = "state-"
	SnapshotFileSuffix = ".snapshot"
	// MaxReplicas bounds --replicas: JetStream allows at most 5.
	MaxReplicas = 5
	// ShutdownTimeout bounds the wait for requests in flight on Close.
	ShutdownTimeout = 15 * time.Second
	// Projector restart backoff after an error that is not in an event
	// (a lost connection): from the first to the last, doubling.
	projectorRetryFirst = time.Second
	projectorRetryLast  = 30 * time.Second
)

var streamNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Config is what the flags set.
type Config struct {
	DataDir     string // JetStream store (embedded server) and read model
	HTTPAddr    string
	NATSURL     string // an existing server instead of the embedded one
	NATSListen  string // a listener for the embedded server; none by default
	NATSCreds   string // with NATSURL, or required by the embedded server's listener
	NATSTLSCA   string // the CA --nats servers (or clients of the listener) are checked against
	NATSTLSCert string // client certificate for --nats, server certificate of the listener
	NATSTLSKey  string
	TokensFile  string
	Fund        string
	Stream      string
	Replicas    int
	Demo        bool
	SigningKey  string // signs the transparency log's checkpoints; none: no transparency log
	Origin      string // the checkpoints' origin line; tlog.DefaultOrigin(Fund) by default
	LogFormat   string // text or json
	// PprofAddr, if set, serves net/http/pprof on its own listener, apart
	// from the API and its tokens: bind it to loopback (issue 10).
	PprofAddr string
}

// Validate checks the configuration and names the first bad flag.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data: a folder is required")
	}
	if err := checkHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("--http %q: %w", c.HTTPAddr, err)
	}
	if !eventlog.ValidFund(c.Fund) {
		return fmt.Errorf("--fund %q: want 1 to %d lower-case letters, digits, '_' or '-'", c.Fund, eventlog.MaxFundIDLen)
	}
	if !streamNamePattern.MatchString(c.Stream) {
		return fmt.Errorf("--stream %q: want 1 to 64 letters, digits, '_' or '-'", c.Stream)
	}
	if c.Replicas < 1 || c.Replicas > MaxReplicas {
		return fmt.Errorf("--replicas %d: want 1 to %d (3 on a cluster)", c.Replicas, MaxReplicas)
	}
	if c.NATSListen != "" {
		if c.NATSURL != "" {
			return errors.New("--nats-listen: only the embedded server listens; it is not started with --nats")
		}
		if err := checkHostPort(c.NATSListen); err != nil {
			return fmt.Errorf("--nats-listen %q: %w", c.NATSListen, err)
		}
	}
	for _, f := range [][2]string{{"--nats-creds", c.NATSCreds}, {"--nats-tls-ca", c.NATSTLSCA}, {"--nats-tls-cert", c.NATSTLSCert}, {"--nats-tls-key", c.NATSTLSKey}} {
		if f[1] != "" && c.NATSURL == "" && c.NATSListen == "" {
			return fmt.Errorf("%s: only with --nats or --nats-listen (the embedded server without a listener takes no connection but the daemon's own)", f[0])
		}
	}
	if c.Origin != "" && c.SigningKey == "" {
		return errors.New("--origin: only with --signing-key")
	}
	if strings.ContainsAny(c.Origin, "\n") {
		return errors.New("--origin: one line")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	if c.PprofAddr != "" {
		if err := checkHostPort(c.PprofAddr); err != nil {
			return fmt.Errorf("--pprof %q: %w", c.PprofAddr, err)
		}
	}
	if c.TokensFile == "" && !c.Demo {
		return errors.New("--tokens: a tokens file is required (make lines with `ledgerd token`), or --demo")
	}
	return nil
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port %q is not 0 to 65535", port)
	}
	return nil
}

// Main is the daemon: NewMain, ParseFlags, Run, then Close. Tests run it in
// process with --http 127.0.0.1:0 and a temporary --data.
type Main struct {
	Config Config
	// Stdout receives the "ledgerd listening on …" line and what --demo
	// says; Stderr the log.
	Stdout, Stderr io.Writer
	// Now is the writer's clock (recorded_at, and the date commands are
	// judged against); time.Now by default.
	Now func() time.Time
	// NewEventID makes the writer's event ids (ledger.Options.NewEventID):
	// a random UUIDv7 by default; tests pin it with Now for byte-stable
	// logs and reports.
	NewEventID func() string

	// OnTokensReload hooks run after each successful reload of the tokens
	// file with the users it removed and the new tokens: the web app ends
	// the removed users' sessions there.
	OnTokensReload []func(removed []string, t *access.Tokens)

	reloadMu  sync.Mutex
	stopWatch context.CancelFunc
	logger    *slog.Logger
	metrics   *metrics.Metrics
	tokens    *access.Tokens
	ns        *server.Server
	nc        *nats.Conn
	log       *eventlog.Log
	writer    *ledger.Writer
	store     *projections.Store
	tlog      *tlog.Store
	stopTLog  context.CancelFunc
	tlogDone  chan struct{}
	api       *httpapi.Server
	web       *webapp.Server
	demoLines []string // the demo users' tokens-file lines, kept over a reading of --tokens
	srv       *http.Server
	ln        net.Listener
	pprofLn   net.Listener
	served    chan struct{}
	stopProj  context.CancelFunc
	projDone  chan struct{}
	stopWarm  context.CancelFunc // the statements' warm-up (httpapi.Server.KeepStatementsWarm)
	warmDone  chan struct{}
	projMu    sync.Mutex
	projErr   error
	closeOnce sync.Once
	closeErr  error
	servingGC *servingGC // the memory limit while serving, lifted by Close
}

// NewMain returns a daemon with the default configuration.
func NewMain() *Main {
	return &Main{
		Config: Config{
			DataDir:   DefaultDataDir,
			HTTPAddr:  DefaultHTTPAddr,
			Fund:      eventlog.DefaultFund,
			Stream:    eventlog.DefaultStream,
			Replicas:  1,
			LogFormat: "text",
		},
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
}

// ParseFlags sets the configuration from the command line and validates it.
func (m *Main) ParseFlags(args []string) error {
	c := &m.Config
	fs := flag.NewFlagSet("ledgerd", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`folder` of the JetStream store (embedded server) and the SQLite read model "+ReadModelFile)
	fs.StringVar(&c.HTTPAddr, "http", c.HTTPAddr, "HTTP listen `address` (port 0 picks a free port)")
	fs.StringVar(&c.NATSURL, "nats", c.NATSURL, "`URL`s of an existing NATS server or cluster, instead of the embedded server")
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "`address` where the embedded NATS server listens for other processes (off by default)")
	fs.StringVar(&c.NATSCreds, "nats-creds", c.NATSCreds, "`file` of NATS credentials (a .creds file, or an nkey seed) for --nats; with --nats-listen the embedded server requires that nkey")
	fs.StringVar(&c.NATSTLSCA, "nats-tls-ca", c.NATSTLSCA, "CA certificate `file` that --nats servers (or --nats-listen clients) are checked against")
	fs.StringVar(&c.NATSTLSCert, "nats-tls-cert", c.NATSTLSCert, "certificate `file`: the client's for --nats, the listener's for --nats-listen")
	fs.StringVar(&c.NATSTLSKey, "nats-tls-key", c.NATSTLSKey, "private key `file` of --nats-tls-cert")
	fs.StringVar(&c.TokensFile, "tokens", c.TokensFile, "tokens `file`: lines of `<user> <role>[:<donor_id>] <sha256 hex>`")
	fs.StringVar(&c.Fund, "fund", c.Fund, "the fund `id` this daemon writes")
	fs.StringVar(&c.Stream, "stream", c.Stream, "JetStream stream `name`")
	fs.IntVar(&c.Replicas, "replicas", c.Replicas, "stream replicas when the stream is created (3 on a cluster)")
	fs.StringVar(&c.SigningKey, "signing-key", c.SigningKey, "`file` of the key (ledgerd keygen) that signs the transparency log's checkpoints; without it the daemon keeps none")
	fs.StringVar(&c.Origin, "origin", c.Origin, "the checkpoints' `origin` line (default "+tlog.DefaultOriginPrefix+"<fund>)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log lines as `text` (key=value) or json")
	fs.StringVar(&c.PprofAddr, "pprof", c.PprofAddr, "`address` to serve Go's profiles (net/http/pprof) on, e.g. 127.0.0.1:6060; off by default")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "load the demo term, budget and an illustrative history into an empty fund, with demo tokens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; `ledgerd token …` makes tokens)", fs.Arg(0))
	}
	return c.Validate()
}

// Run starts everything and returns once the HTTP listener is bound and the
// listening line printed; the daemon then serves until Close.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	c := m.Config
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	m.logger = newLogger(m.Stderr, c.LogFormat)
	m.metrics = metrics.New()
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("make data folder: %w", err)
	}

	m.tokens = &access.Tokens{}
	tokensMod, tokensSize := fileStamp(c.TokensFile)
	if c.TokensFile != "" {
		if m.tokens, err = access.LoadTokens(c.TokensFile); err != nil {
			return err
		}
	}

	if c.PprofAddr != "" {
		if err := m.servePprof(c.PprofAddr); err != nil {
			return err
		}
	}
	if err := m.openLedger(ctx); err != nil {
		return err
	}
	if m.tokens.Len() == 0 {
		m.logger.Warn("no tokens: every request but GET /healthz and GET /readyz will be refused")
	}

	m.startProjector()
	if err := m.startTLog(); err != nil {
		return err
	}

	if err := m.serveHTTP(); err != nil {
		return err
	}
	wctx, stopWarm := context.WithCancel(context.Background())
	m.stopWarm, m.warmDone = stopWarm, make(chan struct{})
	go func() {
		defer close(m.warmDone)
		m.api.KeepStatementsWarm(wctx, httpapi.WarmQuiet)
	}()
	if c.TokensFile != "" {
		wctx, cancel := context.WithCancel(context.Background())
		m.stopWatch = cancel
		go m.watchTokens(wctx, tokensMod, tokensSize)
	}
	fmt.Fprintf(m.Stdout, "ledgerd listening on %s\n", m.URL())
	return nil
}

// openLedger connects to NATS and opens the event log, the read model and
// the fund's writer, then loads the demo when asked.
func (m *Main) openLedger(ctx context.Context) (err error) {
	c := m.Config
	if err := m.connect(); err != nil {
		return err
	}
	if m.log, err = eventlog.Open(ctx, m.nc, c.Stream, c.Replicas); err != nil {
		return err
	}
	// The read model is opened first: the writer keeps in memory only the
	// command ids it has not folded yet, and asks it about older ones.
	if m.store, err = projections.Open(filepath.Join(c.DataDir, ReadModelFile)); err != nil {
		return err
	}
	// Start-up reads the fund's log from the state snapshot on, or all of
	// it: say how far it is (issue 10).
	meter := progress.Start("ledgerd start-up: reading the log", progress.DefaultEvery, func(r progress.Report) {
		m.logger.Info(r.String())
	})
	gc := startFoldGC()
	report := func(done, last uint64) {
		meter.Set(done, last)
		gc.progress(done, last)
	}
	m.writer, err = ledger.Open(eventlog.WithProgress(ctx, report), m.metrics.InstrumentLog(m.log), c.Fund, ledger.Options{Now: m.Now, NewEventID: m.NewEventID, Commands: m.store,
		SnapshotPath: filepath.Join(c.DataDir, SnapshotFilePrefix+c.Fund+SnapshotFileSuffix),
		// Start-up reads through one consumer per read, deleted when it
		// returns; the API and the writer's catch-ups keep direct gets
		// (issue 8).
		StartUpLog: m.log.BulkReads()})
	meter.Stop()
	gc.end()
	if err != nil {
		return err
	}
	m.servingGC = startServingGC(servingGCPoll)
	if c.Demo {
		if err := m.loadDemo(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// serveHTTP builds the API and the web app, which share the port, binds it
// and serves it in the background.
func (m *Main) serveHTTP() (err error) {
	c := m.Config
	m.api, err = httpapi.New(httpapi.Config{
		Writer:     m.writer,
		Store:      m.store,
		Log:        m.log,
		Tokens:     m.tokens,
		Logger:     m.logger,
		Health:     m.projectorHealth,
		Metrics:    m.metrics,
		ScratchDir: c.DataDir,
		TLog:       m.tlog,
	})
	if err != nil {
		return err
	}
	// The web app shares the port: its pages call the API in process.
	web, err := webapp.New(webapp.Config{
		API:        m.api,
		Store:      m.store,
		Fund:       c.Fund,
		Today:      m.writer.Today,
		Tokens:     m.tokens,
		TokensFile: c.TokensFile,
		ExtraLines: m.demoLines,
		Logger:     m.logger,
	})
	if err != nil {
		return err
	}
	m.web = web
	if m.tlog != nil {
		m.registerSignedGauge()
	}
	// Sign-ins refused by the web app count beside the API's 401s.
	m.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "mdfm_web_signin_failures_total", Help: "Web app sign-ins refused (a wrong user or password).",
	}, func() float64 { return float64(web.FailedSignIns()) }))
	m.warmStatements()
	if m.ln, err = net.Listen("tcp", c.HTTPAddr); err != nil {
		return fmt.Errorf("listen on %s: %w", c.HTTPAddr, err)
	}
	m.srv = httpapi.NewHTTPServer(webapp.Mux(web, m.api), m.logger)
	m.served = make(chan struct{})
	go func() {
		defer close(m.served)
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// StartWarmTimeout bounds the statements' warm-up before ledgerd answers
// on its port (warmStatements), StartWarmCatchUp the part of it spent
// waiting for the read model to reach the log.
const (
	StartWarmTimeout = 10 * time.Second
	StartWarmCatchUp = 2 * time.Second
)

// warmStatements computes, before the port answers, the attributions the
// first statements after a start are likely to ask for
// (httpapi.Server.WarmStatements): without it, the first statement of a
// term after a start computed the term's attribution while its donor
// waited, 0.3-0.7 s at 1,000,000 events while the start-up's snapshot was
// written beside it (issue 10). It costs the start that computation (about
// 0.1 s for each at 1,000,000 events); one that fails or outlasts
// StartWarmTimeout is left to the statement that asks. An attribution is
// kept for a position of the log, so it first waits, at most
// StartWarmCatchUp, for the read model to hold what the log held at the
// start; a read model further behind (replaying after a reset) is warmed
// by KeepStatementsWarm once it has caught up and gone quiet.
func (m *Main) warmStatements() {
	ctx, cancel := context.WithTimeout(context.Background(), StartWarmTimeout)
	defer cancel()
	t0 := time.Now()
	caught, stop := context.WithTimeout(ctx, StartWarmCatchUp)
	err := m.store.WaitFor(caught, m.writer.LastSeq())
	stop()
	if err != nil {
		m.logger.Info("statements not warmed before serving: the read model is behind the log", "stream_seq", m.writer.LastSeq(), "err", err)
		return
	}
	n := m.api.WarmStatements(ctx)
	m.logger.Info("statements warmed before serving", "attributions", n, "duration", time.Since(t0).Round(time.Millisecond))
}

// newLogger returns the daemon's logger: slog's text or JSON lines.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// URL returns the base URL of the HTTP API once Run has bound it.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	return "http://" + m.ln.Addr().String()
}

// connect connects to --nats, or starts the embedded server in the data
// folder and connects to it in process.
func (m *Main) connect() error {
	c := m.Config
	sec, err := loadNATSSecurity(c)
	if err != nil {
		return err
	}
	if c.NATSURL != "" {
		opts := append([]nats.Option{nats.Name("ledgerd"), nats.MaxReconnects(-1)}, sec.client...)
		nc, err := nats.Connect(c.NATSURL, opts...)
		if err != nil {
			return fmt.Errorf("connect to nats %s: %w (check --nats-creds and --nats-tls-*)", c.NATSURL, err)
		}
		m.nc = nc
		return nil
	}
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: c.DataDir, Listen: c.NATSListen,
		Configure: func(o *server.Options) error { return secureEmbedded(c, sec, o) }})
	if err != nil {
		return err
	}
	m.ns = ns
	if c.NATSListen != "" {
		m.logger.Info("embedded nats listening", "url", ns.ClientURL())
	}
	m.nc, err = eventlog.ConnectEmbedded(ns, sec.client...)
	return err
}

// startProjector follows the stream into the read model in the background.
// An event that does not decode, was altered, does not link or does not
// apply (postings that do not balance) stops it for good: writes are
// refused with 503, reads answer the read model as far as it got, and
// /readyz says why, naming the fund and fund_seq. Other errors
// (a lost connection) restart it after a pause.
func (m *Main) startProjector() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopProj = cancel
	m.projDone = make(chan struct{})
	go func() {
		defer close(m.projDone)
		wait := projectorRetryFirst
		for {
			m.setProjectorErr(nil)
			err := projector.Run(ctx, m.log, m.store.Store)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("projector returned without an error")
			}
			err = fmt.Errorf("projector stopped: %w", err)
			m.setProjectorErr(err)
			var ee *readmodel.EventError
			if errors.As(err, &ee) {
				m.logger.Error("PROJECTOR STOPPED for good: an event in the log does not verify; the read model no longer follows the log; writes are refused, reads answer as far as it got; run `projector verify`", "err", err)
				return
			}
			m.logger.Error("projector stopped; restarting", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, projectorRetryLast)
		}
	}()
}

func (m *Main) setProjectorErr(err error) {
	m.projMu.Lock()
	m.projErr = err
	m.projMu.Unlock()
}

// projectorHealth is nil while the projector runs, else why it stopped.
func (m *Main) projectorHealth() error {
	m.projMu.Lock()
	defer m.projMu.Unlock()
	return m.projErr
}

// Close stops the HTTP server (letting requests in flight finish), a verify
// job running, the projector, the writer, the read model and NATS, in that
// order.
func (m *Main) Close() error {
	m.closeOnce.Do(func() {
		var errs []error
		if m.stopWatch != nil {
			m.stopWatch()
		}
		if m.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
			if err := m.srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down http: %w", err))
			}
			cancel()
			<-m.served
		} else if m.ln != nil {
			m.ln.Close()
		}
		if m.pprofLn != nil {
			m.pprofLn.Close()
		}
		if m.api != nil {
			m.api.Close() // a verify job running ends, failed
		}
		if m.stopWarm != nil {
			m.stopWarm()
			<-m.warmDone
		}
		if m.stopProj != nil {
			m.stopProj()
			<-m.projDone
		}
		if err := m.closeTLog(); err != nil {
			errs = append(errs, fmt.Errorf("close transparency log: %w", err))
		}
		if m.writer != nil {
			m.writer.Close()
		}
		if m.store != nil {
			if err := m.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close read model: %w", err))
			}
		}
		if m.nc != nil {
			m.nc.Close()
		}
		if m.ns != nil {
			m.ns.Shutdown()
			m.ns.WaitForShutdown()
		}
		if m.servingGC != nil {
			m.servingGC.end()
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// servePprof serves the profiles of net/http/pprof on addr. It starts
// before the log is read, so that a slow start-up can be profiled too.
func (m *Main) servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: listen on %s: %w", addr, err)
	}
	m.pprofLn = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	m.logger.Info("pprof listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return nil
}
