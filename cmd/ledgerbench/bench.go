package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config is what the flags set; the defaults finish in a few minutes on a
// shared 2-core machine. --events 1000000 is the size the targets speak of.
type config struct {
	appendEvents  int // workload 1: events through the writer and raw
	appendClients int
	// appendClientsMore: a second run of workload 1 with this many callers
	// (0: none), enough for groups to fill an atomic batch.
	appendClientsMore int
	httpCommands      int // workload 2: commands per client level
	httpClients       []int
	projectEvents     int // workload 3
	events            int // workloads 4 and 5: the large log
	donors            int
	reports           int // requests per report
	reportTimeout     time.Duration
	json              bool
	keep              string // folder to keep the large log in (reused when it holds one of --events)
	bin               string // folder of prebuilt ledgerd and projector binaries
	only              string // workloads to run, e.g. "1,2"; empty: all
	cpuProfile        string // file for a CPU profile of this process (workloads 1 and 3 run in it)
	ledgerdPprof      string // address for the HTTP workload's ledgerd to serve its profiles on
}

// runs reports whether workload n is to run (--only).
func (c config) runs(n int) bool {
	return c.only == "" || slices.Contains(strings.Split(c.only, ","), strconv.Itoa(n))
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{}
	fs := flag.NewFlagSet("ledgerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.appendEvents, "append-events", 40_000, "events appended through the writer, and raw, in workload 1")
	fs.IntVar(&c.appendClients, "append-clients", 64, "concurrent callers of the writer in workload 1")
	fs.IntVar(&c.appendClientsMore, "append-clients-more", 1000, "concurrent callers of a second run of workload 1, enough to fill batches of 1000 (0: no second run)")
	fs.IntVar(&c.httpCommands, "http-commands", 2_000, "HTTP commands sent at each client level (1, 16, 64) in workload 2")
	clients := fs.String("http-clients", "1,16,64", "the client `levels` of workload 2, comma separated")
	fs.IntVar(&c.projectEvents, "project-events", 40_000, "events projected, and raw rows inserted, in workload 3")
	fs.IntVar(&c.events, "events", 100_000, "`N` events in the large log of workloads 4 and 5 (the targets speak of 1000000)")
	fs.IntVar(&c.donors, "donors", 50, "donors in the large log (one of them gets half the receipts)")
	fs.IntVar(&c.reports, "reports", 50, "requests of each report in workload 5")
	fs.DurationVar(&c.reportTimeout, "report-timeout", 60*time.Second, "give up on a report request after this long, and count it as taking this long")
	fs.BoolVar(&c.json, "json", false, "print one JSON object instead of the table")
	fs.StringVar(&c.keep, "keep", "", "`DIR` to keep the large log in, and reuse it when it holds --events events (default: a temporary folder)")
	fs.StringVar(&c.bin, "bin", "", "`DIR` with ledgerd and projector binaries (default: built with go build)")
	fs.StringVar(&c.only, "only", "", "run only these `workloads`, e.g. 1,2 (default: all; 4 and 5 run together)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (workloads 1 and 3) to `FILE`")
	fs.StringVar(&c.ledgerdPprof, "ledgerd-pprof", "", "`address` for workload 2's ledgerd to serve Go's profiles on (its --pprof)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxHTTPClients {
			return c, fmt.Errorf("--http-clients %q: want numbers of clients from 1 to %d, comma separated", *clients, maxHTTPClients)
		}
		c.httpClients = append(c.httpClients, n)
	}
	if c.appendClientsMore < 0 {
		return c, errors.New("--append-clients-more must be 0 or more")
	}
	for name, v := range map[string]int{"append-events": c.appendEvents, "append-clients": c.appendClients, "http-commands": c.httpCommands,
		"project-events": c.projectEvents, "events": c.events, "donors": c.donors, "reports": c.reports} {
		if v < 1 {
			return c, fmt.Errorf("--%s must be at least 1", name)
		}
	}
	for _, w := range strings.Split(c.only, ",") {
		if n, err := strconv.Atoi(w); c.only != "" && (err != nil || n < 1 || n > 5) {
			return c, fmt.Errorf("--only %q: want workload numbers 1 to 5, comma separated", c.only)
		}
	}
	if c.reportTimeout <= 0 {
		return c, errors.New("--report-timeout must be positive")
	}
	if c.events < 4*c.donors+200 {
		return c, fmt.Errorf("--events %d: want at least 4 × --donors + 200", c.events)
	}
	return c, nil
}

// Results are the figures of one run. The JSON keys the issue names are
// stable; "_1m" names the large log, whatever its size (events).
type Results struct {
	AppendEventsPerS    float64 `json:"append_events_per_s"`
	RawAppendEventsPerS float64 `json:"raw_append_events_per_s"`
	AppendRatio         float64 `json:"append_ratio"`
	// The writer's mean group (events an atomic append), raw batches of
	// that size, and the writer with --append-clients-more callers.
	AppendGroupEvents        float64 `json:"append_group_events"`
	RawGroupAppendEventsPerS float64 `json:"raw_group_append_events_per_s"`
	AppendMoreEventsPerS     float64 `json:"append_more_events_per_s"`

	HTTP []HTTPLevel `json:"http"`
	// The 64-client level, as the keys.
	HTTP64CommandsPerS float64 `json:"http64_commands_per_s"`
	HTTP64P99MS        float64 `json:"http64_p99_ms"`

	ProjectionEventsPerS float64 `json:"projection_events_per_s"`
	RawInsertEventsPerS  float64 `json:"raw_insert_events_per_s"`
	ProjectionRatio      float64 `json:"projection_ratio"`

	Events     int     `json:"events"`
	GenerateS  float64 `json:"generate_s"`
	Ready1mS   float64 `json:"ready_1m_s"`
	ReadyRSSMB float64 `json:"ready_rss_mb"` // the peak until /readyz answered
	// The same process's peak after it served workload 5's reports (a
	// statement of the big donor holds its term's attribution).
	ServingRSSMB float64 `json:"serving_rss_mb"`
	Rebuild1mS   float64 `json:"rebuild_1m_s"`
	RebuildRSSMB float64 `json:"rebuild_rss_mb"`
	Verify1mS    float64 `json:"verify_1m_s"`
	VerifyRSSMB  float64 `json:"verify_rss_mb"`
	// verify --chain: the chain alone, no read model.
	VerifyChain1mS   float64 `json:"verify_chain_1m_s"`
	VerifyChainRSSMB float64 `json:"verify_chain_rss_mb"`
	// The second start of ledgerd on the same folder, from the state
	// snapshot the first one wrote.
	Restart1mS   float64 `json:"restart_1m_s"`
	RestartRSSMB float64 `json:"restart_rss_mb"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`

	Reports     []ReportLatency `json:"reports"`
	ReportP99MS float64         `json:"report_p99_ms"` // the slowest report's p99
}

// HTTPLevel is workload 2 at one number of clients.
type HTTPLevel struct {
	Clients      int     `json:"clients"`
	CommandsPerS float64 `json:"commands_per_s"`
	P50MS        float64 `json:"p50_ms"`
	P99MS        float64 `json:"p99_ms"`
	P999MS       float64 `json:"p99_9_ms"`
}

// ReportLatency is workload 5 for one report.
type ReportLatency struct {
	Name  string  `json:"name"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	// TimedOut: a request got no answer within --report-timeout; its
	// latency counts as the timeout and the report was asked no more.
	TimedOut bool `json:"timed_out,omitempty"`
	// Refused is the status and code of a refusal (report_too_large),
	// which is timed like an answer.
	Refused string `json:"refused,omitempty"`
}

// Main runs every workload and prints the results; it returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledgerbench:", err)
		return 2
	}
	r, err := run(ctx, c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ledgerbench:", err)
		return 1
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
		return 0
	}
	printTable(stdout, c, r)
	return 0
}

func run(ctx context.Context, c config, progress io.Writer) (*Results, error) {
	tmp, err := os.MkdirTemp("", "ledgerbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := c.bin
	if bin == "" && (c.runs(2) || c.runs(4) || c.runs(5)) {
		bin = filepath.Join(tmp, "bin")
		if err := buildBinaries(ctx, bin); err != nil {
			return nil, err
		}
	}
	say := func(format string, a ...any) { fmt.Fprintf(progress, "ledgerbench: "+format+"\n", a...) }
	r := &Results{}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}

	if c.runs(1) {
		say("1/5 appends: %d events through the writer and raw", c.appendEvents)
		if err := benchAppend(ctx, c, filepath.Join(tmp, "append"), r); err != nil {
			return nil, fmt.Errorf("appends: %w", err)
		}
	}
	if c.runs(2) {
		say("2/5 HTTP: %d single commands at %s clients", c.httpCommands, clientsText(c.httpClients))
		if err := benchHTTP(ctx, c, bin, filepath.Join(tmp, "http"), r); err != nil {
			return nil, fmt.Errorf("http: %w", err)
		}
	}
	if c.runs(3) {
		say("3/5 projection: %d events and raw inserts", c.projectEvents)
		if err := benchProjection(ctx, c, filepath.Join(tmp, "project"), r); err != nil {
			return nil, fmt.Errorf("projection: %w", err)
		}
	}
	if !c.runs(4) && !c.runs(5) {
		return r, nil
	}
	dir := c.keep
	if dir == "" {
		dir = filepath.Join(tmp, "large")
	}
	say("4/5 large log of %d events in %s", c.events, dir)
	if err := benchLargeLog(ctx, c, bin, dir, r, say); err != nil {
		return nil, fmt.Errorf("large log: %w", err)
	}
	return r, nil
}

// buildBinaries builds ledgerd and projector into dir: start-up, rebuild
// and verify are measured as the processes an operator runs, memory
// included.
func buildBinaries(ctx context.Context, dir string) error {
	for _, name := range []string{"ledgerd", "projector"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), "github.com/unesco-uil/mdfm-ledger/cmd/"+name)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
	}
	return nil
}

func printTable(w io.Writer, c config, r *Results) {
	ratio := func(x, base float64) string {
		if base == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", x/base)
	}
	fmt.Fprintf(w, "| workload | measured | baseline | ratio |\n| --- | --- | --- | --- |\n")
	if c.runs(1) {
		fmt.Fprintf(w, "| 1. appends through the writer (%d callers) | %.0f events/s | raw atomic batches of 1000: %.0f msgs/s | %s |\n",
			c.appendClients, r.AppendEventsPerS, r.RawAppendEventsPerS, ratio(r.AppendEventsPerS, r.RawAppendEventsPerS))
		fmt.Fprintf(w, "| 1. the same, against raw batches of its mean group (%.0f events) | %.0f events/s | raw atomic batches of %.0f: %.0f msgs/s | %s |\n",
			r.AppendGroupEvents, r.AppendEventsPerS, r.AppendGroupEvents, r.RawGroupAppendEventsPerS, ratio(r.AppendEventsPerS, r.RawGroupAppendEventsPerS))
		if c.appendClientsMore > 0 {
			fmt.Fprintf(w, "| 1. appends through the writer (%d callers) | %.0f events/s | raw atomic batches of 1000: %.0f msgs/s | %s |\n",
				c.appendClientsMore, r.AppendMoreEventsPerS, r.RawAppendEventsPerS, ratio(r.AppendMoreEventsPerS, r.RawAppendEventsPerS))
		}
	}
	for _, h := range r.HTTP {
		fmt.Fprintf(w, "| 2. HTTP single commands, %d clients | %.0f commands/s; p50 %.1f / p99 %.1f / p99.9 %.1f ms | | |\n",
			h.Clients, h.CommandsPerS, h.P50MS, h.P99MS, h.P999MS)
	}
	if c.runs(3) {
		fmt.Fprintf(w, "| 3. projection into SQLite | %.0f events/s | raw batched inserts: %.0f events/s | %s |\n",
			r.ProjectionEventsPerS, r.RawInsertEventsPerS, ratio(r.ProjectionEventsPerS, r.RawInsertEventsPerS))
	}
	if c.runs(4) || c.runs(5) {
		printLargeLog(w, c, r)
	}
}

func printLargeLog(w io.Writer, c config, r *Results) {
	fmt.Fprintf(w, "| 4. `ledgerd` ready on %d events | %.1f s, %.0f MB | | |\n", r.Events, r.Ready1mS, r.ReadyRSSMB)
	if r.ServingRSSMB > 0 {
		fmt.Fprintf(w, "| 4. the same `ledgerd` after serving workload 5 | %.0f MB | | |\n", r.ServingRSSMB)
	}
	fmt.Fprintf(w, "| 4. `ledgerd` ready again (restart) | %.1f s, %.0f MB | | |\n", r.Restart1mS, r.RestartRSSMB)
	fmt.Fprintf(w, "| 4. `projector rebuild` | %.1f s (%.0f events/s), %.0f MB | | |\n", r.Rebuild1mS, perSec(r.Events, r.Rebuild1mS), r.RebuildRSSMB)
	fmt.Fprintf(w, "| 4. `projector verify` | %.1f s, %.0f MB | | |\n", r.Verify1mS, r.VerifyRSSMB)
	fmt.Fprintf(w, "| 4. `projector verify --chain` | %.1f s, %.0f MB | | |\n", r.VerifyChain1mS, r.VerifyChainRSSMB)
	for _, rep := range r.Reports {
		note := ""
		if rep.TimedOut {
			note = fmt.Sprintf(" (no answer within %s)", c.reportTimeout)
		}
		if rep.Refused != "" {
			note = " (refused: " + rep.Refused + ")"
		}
		fmt.Fprintf(w, "| 5. %s | p50 %.1f ms, p99 %.1f ms%s | | |\n", rep.Name, rep.P50MS, rep.P99MS, note)
	}
	fmt.Fprintf(w, "\n(large log generated in %.1f s; peak memory of the processes %.0f MB)\n", r.GenerateS, r.PeakRSSMB)
}

func perSec(n int, s float64) float64 {
	if s == 0 {
		return 0
	}
	return float64(n) / s
}

// percentile returns the p-th percentile (0..1) of ds in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s)-1) + 0.5)
	return float64(s[i]) / float64(time.Millisecond)
}

// maxHTTPClients bounds a level of --http-clients: each client is a
// goroutine with a connection of its own to one ledgerd.
const maxHTTPClients = 10_000

// clientsText names the client levels of workload 2: "1, 16 and 64".
func clientsText(levels []int) string {
	parts := make([]string, len(levels))
	for i, n := range levels {
		parts[i] = strconv.Itoa(n)
	}
	s := parts[len(parts)-1]
	if len(parts) > 1 {
		s = strings.Join(parts[:len(parts)-1], ", ") + " and " + s
	}
	return s
}
