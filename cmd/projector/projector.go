package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/internal/progress"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// Exit codes of Main.
const (
	ExitOK      = 0 // done; for verify: everything matches
	ExitFailure = 1 // an error, or verify found a difference
	ExitUsage   = 2 // bad command line
)

// ReadModelFile is the read model's name inside a ledgerd data folder.
const ReadModelFile = "ledger.db"

// DefaultProgressEvery is how often run logs its progress.
const DefaultProgressEvery = 10 * time.Second

var usage = `usage: projector <command> [flags]

commands:
  run      follow the stream and apply it to --db until SIGINT or SIGTERM
  rebuild  replay the whole log into a new file --db
  verify   recompute every hash from the first event, replay into a scratch
           file and compare every table with --db; exit 0 only when all match.
           verify --chain checks the log alone (every event's bytes, hash and
           link), without the read model: much faster, and it says nothing
           of --db.
           verify --from FILE does it from an export alone, without NATS:
           re-verify every fund's chain, rebuild the read model into a
           scratch file and compute every report from it
  export   write the whole log as NDJSON (the stored bytes of each event)
` + proofUsage[1:] + `
Each command takes --data DIR (the store of a stopped ledgerd) or --nats URL,
and --stream NAME (default MDFM); verify --from FILE, verify-proof and
verify-consistency take neither. Run
"projector <command> -h" for the rest.
`

// config is the command line of one subcommand.
type config struct {
	cmd           string
	dataDir       string
	natsURL       string
	stream        string
	db            string
	out           string
	scratch       string
	from          string // verify --from: an NDJSON export
	asOf          string // verify --from: the date of the reports
	chainOnly     bool   // verify --chain: the log's chain, no read model
	cpuProfile    string // a file for a CPU profile of the command
	progressEvery time.Duration
}

// Main runs one projector command and returns the process's exit code.
// ctx ends the command (run stops cleanly when it is cancelled).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	if code, ok := runProofCommand(args, stdout, stderr); ok {
		return code
	}
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "projector: %v\n", err)
		return ExitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stopProfile, err := startCPUProfile(c.cpuProfile)
	if err != nil {
		logger.Error("start profile", "err", err)
		return ExitFailure
	}
	defer stopProfile()
	if c.from != "" {
		return verifyFrom(ctx, c, stdout, logger)
	}
	log, closeLog, err := openLog(ctx, c)
	if err != nil {
		logger.Error("open event log", "err", err)
		return ExitFailure
	}
	defer closeLog()
	switch c.cmd {
	case "run":
		return run(ctx, c, log, logger)
	case "rebuild":
		ctx, stop := withProgress(ctx, "rebuild", stderr)
		defer stop()
		return rebuild(ctx, c, log, stdout, logger)
	case "verify":
		ctx, stop := withProgress(ctx, "verify", stderr)
		defer stop()
		return verify(ctx, c, log, stdout, logger)
	case "export":
		ctx, stop := withProgress(ctx, "export", stderr)
		defer stop()
		return export(ctx, c, log, stdout, logger)
	}
	return ExitUsage
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{cmd: args[0]}
	switch c.cmd {
	case "run", "rebuild", "verify", "export":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return c, flag.ErrHelp
	default:
		fmt.Fprint(stderr, usage)
		return c, fmt.Errorf("unknown command %q", c.cmd)
	}
	fs := flag.NewFlagSet("projector "+c.cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dataDir, "data", "", "`DIR` of a stopped ledgerd: open its JetStream store with an embedded server")
	fs.StringVar(&c.natsURL, "nats", "", "`URL` of a running NATS server holding the stream")
	fs.StringVar(&c.stream, "stream", eventlog.DefaultStream, "stream `NAME`")
	switch c.cmd {
	case "run", "verify":
		fs.StringVar(&c.db, "db", "", "read model `FILE` (default DIR/"+ReadModelFile+" with --data)")
	case "rebuild":
		fs.StringVar(&c.db, "db", "", "new read model `FILE` to write; refused if it exists")
	case "export":
		fs.StringVar(&c.out, "out", "", "write to `FILE` instead of standard output")
	}
	if c.cmd == "verify" {
		fs.StringVar(&c.scratch, "scratch", "", "`DIR` for the scratch replay (default: the folder of --db; with --from, the system's temporary folder)")
		fs.StringVar(&c.from, "from", "", "verify the NDJSON export `FILE` (projector export, GET /v1/events) alone, without NATS or --db")
		fs.StringVar(&c.asOf, "as-of", "", "with --from: the `DATE` of the reports (default: the latest effective date in the file)")
		fs.BoolVar(&c.chainOnly, "chain", false, "check the log's hash chain only (every event's bytes, hash and link), on every core, without replaying it or opening --db")
	}
	if c.cmd != "run" {
		fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `FILE` (go tool pprof)")
	}
	if c.cmd == "run" {
		fs.DurationVar(&c.progressEvery, "progress", DefaultProgressEvery, "log progress this often")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%s: unexpected arguments %q", c.cmd, fs.Args())
	}
	return c, c.validate()
}

// validate fills defaults and names the bad flag.
func (c *config) validate() error {
	if c.from != "" {
		if c.chainOnly {
			return errors.New("verify: --chain checks the stream; --from checks an export, its chain included")
		}
		return c.validateFrom()
	}
	if c.asOf != "" {
		return fmt.Errorf("%s: --as-of is for verify --from", c.cmd)
	}
	switch {
	case c.dataDir == "" && c.natsURL == "":
		return fmt.Errorf("%s: one of --data or --nats is required", c.cmd)
	case c.dataDir != "" && c.natsURL != "":
		return fmt.Errorf("%s: --data and --nats exclude each other", c.cmd)
	case c.stream == "":
		return fmt.Errorf("%s: --stream is empty", c.cmd)
	}
	if c.db == "" && c.dataDir != "" && (c.cmd == "run" || c.cmd == "verify") {
		c.db = filepath.Join(c.dataDir, ReadModelFile)
	}
	if c.db == "" && c.cmd != "export" && !c.chainOnly {
		return fmt.Errorf("%s: --db is required", c.cmd)
	}
	if c.cmd == "run" && c.progressEvery <= 0 {
		return fmt.Errorf("run: --progress must be positive")
	}
	if c.cmd == "verify" && c.scratch == "" {
		c.scratch = filepath.Dir(c.db)
	}
	return nil
}

// openLog connects to the stream: an embedded server on the store in
// --data, holding the folder's lock (DataLockFile) so that no other process
// runs a server on the same store meanwhile, or the server at --nats. It
// never creates the stream.
func openLog(ctx context.Context, c config) (*eventlog.Log, func(), error) {
	var (
		nc     *nats.Conn
		ns     *server.Server
		unlock = func() {}
	)
	if c.dataDir != "" {
		// The embedded server creates an empty store where there is none:
		// a mistyped folder must be an error, not an empty log.
		if fi, err := os.Stat(filepath.Join(c.dataDir, "jetstream")); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("no JetStream store in %s (expected %s)", c.dataDir, filepath.Join(c.dataDir, "jetstream"))
		}
		var err error
		if unlock, err = lockDataDir(c.dataDir); err != nil {
			return nil, nil, err
		}
		if ns, err = eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: c.dataDir}); err != nil {
			unlock()
			return nil, nil, err
		}
		if nc, err = eventlog.ConnectEmbedded(ns); err != nil {
			ns.Shutdown()
			unlock()
			return nil, nil, err
		}
	} else {
		var err error
		if nc, err = nats.Connect(c.natsURL, nats.Name("mdfm-projector")); err != nil {
			return nil, nil, fmt.Errorf("connect to %s: %w", c.natsURL, err)
		}
	}
	closeAll := func() {
		nc.Close()
		if ns != nil {
			ns.Shutdown()
			ns.WaitForShutdown()
		}
		unlock()
	}
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.Stream(ctx, c.stream)
	}
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("stream %s: %w", c.stream, err)
	}
	log, err := eventlog.Open(ctx, nc, c.stream, 1)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	// The projector's commands read the log whole, offline: through one
	// consumer rather than direct gets (eventlog.Log.BulkReads).
	return log.BulkReads(), closeAll, nil
}

func run(ctx context.Context, c config, log *eventlog.Log, logger *slog.Logger) int {
	s, err := projections.Open(c.db)
	if err != nil {
		logger.Error("open read model", "err", err)
		return ExitFailure
	}
	defer s.Close()
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		logger.Error("read checkpoint", "err", err)
		return ExitFailure
	}
	if err := haltForCrashTest(s, cp, logger); err != nil {
		logger.Error("read "+HaltEnv, "err", err)
		return ExitUsage
	}
	logger.Info("projector following", "stream", c.stream, "db", c.db, "from_stream_seq", cp+1)
	progressDone := make(chan struct{})
	pctx, stopProgress := context.WithCancel(ctx)
	go func() {
		defer close(progressDone)
		logProgress(pctx, c, log, s, cp, logger)
	}()
	err = projector.Run(ctx, log, s.Store)
	stopProgress()
	<-progressDone
	cp, _ = s.Checkpoint(context.Background())
	if ctx.Err() != nil {
		logger.Info("projector stopped", "checkpoint", cp)
		return ExitOK
	}
	var ee *readmodel.EventError
	if errors.As(err, &ee) {
		logger.Error("projector stopped at an event that does not verify; run `projector verify`",
			"fund", ee.Fund, "fund_seq", ee.FundSeq, "stream_seq", ee.StreamSeq, "checkpoint", cp, "err", err)
	} else {
		logger.Error("projector stopped", "checkpoint", cp, "err", err)
	}
	return ExitFailure
}

// HaltEnv names the environment variable of crash tests: with
// HaltEnv=N, `projector run` stops in the middle of the first batch that
// ends at or beyond stream sequence N (its rows written, its transaction
// not committed), logs "halted before commit" and waits there to be
// killed, so that a test kills it mid-batch every time and not by luck.
const HaltEnv = "PROJECTOR_HALT_BEFORE_COMMIT"

func haltForCrashTest(s *projections.Store, cp uint64, logger *slog.Logger) error {
	v := os.Getenv(HaltEnv)
	if v == "" {
		return nil
	}
	at, err := strconv.ParseUint(v, 10, 64)
	if err != nil || at <= cp {
		return fmt.Errorf("%s=%q: want a stream sequence after the checkpoint %d", HaltEnv, v, cp)
	}
	s.HaltBeforeCommit(at, func(last uint64) {
		logger.Warn("halted before commit", "batch_last_stream_seq", last, "checkpoint", cp)
		select {} // until killed
	})
	return nil
}

// logProgress logs the checkpoint and the lag behind the stream whenever
// the checkpoint moved since the last tick.
func logProgress(ctx context.Context, c config, log *eventlog.Log, s *projections.Store, last uint64, logger *slog.Logger) {
	t := time.NewTicker(c.progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cp, err := s.Checkpoint(ctx)
		if err != nil || cp == last {
			continue
		}
		attrs := []any{"checkpoint", cp, "applied", cp - last}
		if info, err := log.Info(ctx); err == nil && info.LastSeq >= cp {
			attrs = append(attrs, "stream_last_seq", info.LastSeq, "lag", info.LastSeq-cp)
		}
		logger.Info("projector progress", attrs...)
		last = cp
	}
}

// withProgress shows on stderr how far the reads of the log under ctx
// are, every few seconds: a bar on a terminal, else lines (issue 10); and
// the steps of what follows the reads (a rebuild's indexes, an audit's
// comparison), each on a line.
func withProgress(ctx context.Context, what string, stderr io.Writer) (context.Context, func()) {
	m := progress.Start(what, progress.DefaultEvery, progress.Writer(stderr))
	ctx = progress.WithSteps(ctx, progress.StepWriter(stderr, what))
	return eventlog.WithProgress(ctx, m.Set), m.Stop
}

func rebuild(ctx context.Context, c config, log *eventlog.Log, stdout io.Writer, logger *slog.Logger) int {
	start := time.Now()
	if err := projector.Rebuild(ctx, log, c.db); err != nil {
		logger.Error("rebuild", "db", c.db, "err", err)
		return ExitFailure
	}
	s, err := projections.Open(c.db)
	if err != nil {
		logger.Error("open rebuilt read model", "err", err)
		return ExitFailure
	}
	defer s.Close()
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		logger.Error("read checkpoint", "err", err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "rebuilt %s up to stream seq %d in %s\n", c.db, cp, time.Since(start).Round(time.Millisecond))
	return ExitOK
}

func verify(ctx context.Context, c config, log *eventlog.Log, stdout io.Writer, logger *slog.Logger) int {
	if c.chainOnly {
		return verifyChain(ctx, log, stdout, logger)
	}
	// Open would create an empty read model: verifying a mistyped path must
	// fail instead.
	if _, err := os.Stat(c.db); err != nil {
		logger.Error("read model", "db", c.db, "err", err)
		return ExitFailure
	}
	s, err := projections.Open(c.db)
	if err != nil {
		logger.Error("open read model", "err", err)
		return ExitFailure
	}
	defer s.Close()
	rep, err := audit.Verify(ctx, log, s.Store, c.scratch)
	return printVerify(stdout, logger, "verify", rep, err, c.db+" matches a fresh replay")
}

// verifyChain is verify --chain: the log's hash chain alone.
func verifyChain(ctx context.Context, log *eventlog.Log, stdout io.Writer, logger *slog.Logger) int {
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(chainGCPercent(gc))
	defer debug.SetGCPercent(gc)
	rep, err := audit.VerifyChain(ctx, log)
	return printVerify(stdout, logger, "verify --chain", rep, err, "the read model was not compared (verify without --chain)")
}

// chainGCPercent is the collector's GOGC for verify --chain, given the
// process's (100 unless GOGC says otherwise). What the check holds is
// bounded whatever the log's length: the messages of the read in flight and
// the chunks being hashed, a few tens of MB. At 400 the collector runs a
// quarter as often: at 1,000,000 events 6.8 s of CPU instead of 8.1–8.4 s,
// for 153–161 MB of memory instead of 81–89 MB (docs/performance.md,
// "Start-up and verify at 1,000,000 events"). An operator's higher GOGC,
// or GOGC=off, is kept.
func chainGCPercent(process int) int {
	if process < 0 || process >= 400 { // GOGC=off is -1
		return process
	}
	return 400
}

// printVerify prints a verify report as JSON and a last line saying ok or
// FAILED, and returns the exit code.
func printVerify(stdout io.Writer, logger *slog.Logger, name string, rep audit.VerifyReport, err error, okTail string) int {
	if err != nil {
		logger.Error(name, "err", err)
		return ExitFailure
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		logger.Error("verify report", "err", err)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "%s\n", b)
	if !rep.OK {
		fmt.Fprintf(stdout, "%s FAILED: %s\n", name, rep.Failure)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "%s ok: %d events, %d funds; fund %s at fund_seq %d, chain head %s; %s\n",
		name, rep.Events, len(rep.Funds), eventlog.DefaultFund, rep.FundSeq, rep.ChainHead, okTail)
	return ExitOK
}

func export(ctx context.Context, c config, log *eventlog.Log, stdout io.Writer, logger *slog.Logger) int {
	out := stdout
	var f *os.File
	if c.out != "" {
		var err error
		if f, err = os.OpenFile(c.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			logger.Error("export", "err", err)
			return ExitFailure
		}
		out = f
	}
	bw := bufio.NewWriter(out)
	n, err := exportLog(ctx, log, bw)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if err == nil {
			err = f.Sync()
		}
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		logger.Error("export", "events", n, "err", err)
		return ExitFailure
	}
	logger.Info("exported", "events", n)
	return ExitOK
}

// exportLog writes every message of the stream, as stored, one per line, up
// to the stream's last sequence when it starts. The bytes are not checked:
// an export of an altered log must show the alteration, and verifying it is
// the reader's business. Stored events are canonical JSON, which holds no
// raw newline; a message that does would break the format and is an error.
func exportLog(ctx context.Context, log *eventlog.Log, w io.Writer) (uint64, error) {
	info, err := log.Info(ctx)
	if err != nil {
		return 0, err
	}
	last := info.LastSeq
	if last == 0 {
		return 0, nil
	}
	// Direct gets: an export leaves no consumer on the server.
	var n uint64
	err = log.ReadRaw(ctx, eventlog.AllFilter, 0, last, func(m eventlog.RawMsg) error {
		if bytes.IndexByte(m.Data, '\n') >= 0 {
			return fmt.Errorf("stream seq %d holds a newline: not a stored event", m.Seq)
		}
		if _, err := w.Write(m.Data); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
