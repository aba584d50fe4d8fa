package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// binary is the projector built once for the tests that run it as a
// process, so that it can be killed.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "projector-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "projector")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBinary runs the projector to completion and returns its exit code and
// output.
func runBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("projector %v: %v\n%s", args, err, out.String())
	return 0, ""
}

// startRun starts `projector run` in the background.
// startRun starts `projector run` with args, and env added to the
// environment.
func startRun(t *testing.T, env []string, args ...string) (*exec.Cmd, *testwait.Output) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out := &testwait.Output{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("projector run %v printed:\n%s", args, out)
		}
	})
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

// checkpointReader reads the checkpoint of a read model file on a
// read-only connection of its own, as another process would.
type checkpointReader struct {
	path string
	db   *sql.DB
}

func (r *checkpointReader) read() (uint64, bool) {
	if r.db == nil {
		if _, err := os.Stat(r.path); err != nil {
			return 0, false
		}
		db, err := sql.Open("sqlite", r.path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
		if err != nil {
			return 0, false
		}
		r.db = db
	}
	var seq int64
	if err := r.db.QueryRow(`SELECT stream_seq FROM checkpoint WHERE id = 1`).Scan(&seq); err != nil {
		return 0, false // not created yet
	}
	return uint64(seq), true
}

func (r *checkpointReader) close() {
	if r.db != nil {
		r.db.Close()
	}
}

// contribute submits n receipts of US$10.00 from workers goroutines at once,
// so that the writer commits them in groups.
func contribute(t *testing.T, w *ledger.Writer, prefix string, n, workers int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id := fmt.Sprintf("%s-%d", prefix, i)
				ledgertest.MustSubmit(t, w, id, "olu", &domain.RecordContribution{ID: id, DonorID: "osaka", TermID: ledgertest.Term,
					Amount: ledgertest.USD("10.00"), ReceivedOn: "2021-06-01"})
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// TestKillAndResume kills `projector run` with SIGKILL while it applies a
// growing log, restarts it, and checks that it ends exactly where a fresh
// rebuild ends: verify passes and the two files compare equal. Then it
// alters the live file and checks that verify fails and names the row.
func TestKillAndResume(t *testing.T) {
	ns := testnats.Start(t)
	log, err := eventlog.Open(t.Context(), testnats.Connect(t, ns), eventlog.DefaultStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.OpenTerm(t, w)
	contribute(t, w, "early", 500, 8)

	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	url := ns.ClientURL()

	// Keep writing while the projector runs, so that it is always behind.
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		contribute(t, w, "late", 2000, 8)
	}()
	// The projector halts in the middle of the batch that reaches the
	// 1500th event — its rows written, its transaction not committed — and
	// is killed there: every run kills it mid-batch, none by luck. A batch
	// holds at most readmodel.MaxBatchEvents (1000), so at least one
	// batch was committed before.
	const haltAt = 1500
	testwait.For(t, 60*time.Second, fmt.Sprintf("%d events written", haltAt), func() bool { return w.LastSeq() >= haltAt })
	cmd, out := startRun(t, []string{HaltEnv + "=" + strconv.Itoa(haltAt)}, "--nats", url, "--db", live, "--progress", "100ms")
	cr := &checkpointReader{path: live}
	defer cr.close()
	testwait.For(t, 60*time.Second, "the projector halted before a commit", func() bool {
		return strings.Contains(out.String(), "halted before commit")
	})
	killedAt, _ := cr.read()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("projector was not killed: %v\n%s", err, out)
	}
	<-writing
	last := w.LastSeq()
	after, _ := cr.read()
	t.Logf("killed mid-batch at checkpoint %d (file says %d after the kill) of %d events", killedAt, after, last)
	if after != killedAt || after == 0 || after >= haltAt {
		t.Fatalf("checkpoint %d after the kill, want %d, the last commit before the halted batch (above 0, below %d)", after, killedAt, haltAt)
	}

	// Restart: it resumes after the checkpoint and reaches the end.
	cmd, out = startRun(t, nil, "--nats", url, "--db", live)
	testwait.For(t, 60*time.Second, fmt.Sprintf("checkpoint %d", last), func() bool {
		cp, _ := cr.read()
		return cp == last
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("projector run after SIGTERM: %v\n%s", err, out)
	}
	if s := out.String(); !strings.Contains(s, "projector stopped") || !strings.Contains(s, fmt.Sprintf("from_stream_seq=%d", after+1)) {
		t.Errorf("run log does not show the resume at %d and the stop:\n%s", after+1, s)
	}

	rebuilt := filepath.Join(dir, "rebuilt.db")
	if code, out := runBinary(t, "rebuild", "--nats", url, "--db", rebuilt); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s", code, out)
	}
	code, vout := runBinary(t, "verify", "--nats", url, "--db", live)
	if code != 0 || !strings.Contains(vout, `"ok": true`) || !strings.Contains(vout, "verify ok") {
		t.Fatalf("verify: exit %d\n%s", code, vout)
	}
	a, err := projections.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	b, err := projections.Open(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readmodel.CompareStores(t.Context(), a.Store, b.Store)
	a.Close()
	b.Close()
	if err != nil || f != nil {
		t.Fatalf("resumed and rebuilt read models differ: %+v %v", f, err)
	}

	// Alter one posting of the live file: verify fails and names it.
	db, err := sql.Open("sqlite", live)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE postings SET amount_minor = amount_minor + 1 WHERE fund = 'mdfm' AND fund_seq = 5 AND leg = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, vout = runBinary(t, "verify", "--nats", url, "--db", live)
	if code == 0 || !strings.Contains(vout, `"ok": false`) || !strings.Contains(vout, "verify FAILED") {
		t.Fatalf("verify of an altered file: exit %d\n%s", code, vout)
	}
	for _, s := range []string{`"stage": "table"`, `"table": "postings"`, "fund_seq=5", "leg=0", "replay 10,", "live 11"} {
		if !strings.Contains(vout, s) {
			t.Errorf("verify output does not say %s:\n%s", s, vout)
		}
	}
}

// TestDataDir works on the store of a stopped ledgerd, as an auditor would:
// rebuild, verify (the read model defaults to DIR/ledger.db) and export.
func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := eventlog.ConnectEmbedded(ns)
	if err != nil {
		t.Fatal(err)
	}
	log, err := eventlog.Open(t.Context(), nc, eventlog.DefaultStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ledger.Open(t.Context(), log, "mdfm", ledger.Options{Now: ledgertest.Now})
	if err != nil {
		t.Fatal(err)
	}
	res := ledgertest.Scenario(t, w)
	w.Close()
	nc.Close()
	ns.Shutdown()
	ns.WaitForShutdown()

	var stdout, stderr bytes.Buffer
	main := func(args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return Main(t.Context(), args, &stdout, &stderr)
	}
	if code := main("rebuild", "--data", dir, "--db", filepath.Join(dir, ReadModelFile)); code != 0 {
		t.Fatalf("rebuild: exit %d\n%s%s", code, &stdout, &stderr)
	}
	// Long work says how far it got (issue 10); here, at the end.
	if want := "rebuild: 11 of 11 events (100%)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("rebuild progress: no %q in\n%s", want, &stderr)
	}
	// And what follows the read, step by step: the last index made.
	if want := "rebuild: making index postings_donor ("; !strings.Contains(stderr.String(), want) {
		t.Errorf("rebuild steps: no %q in\n%s", want, &stderr)
	}
	// A folder in use by another process is refused.
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if code := main("verify", "--data", dir); code != ExitFailure || !strings.Contains(stderr.String(), "in use") {
		t.Errorf("verify of a locked data folder: exit %d\n%s", code, &stderr)
	}
	release()
	if code := main("verify", "--data", dir); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, &stdout, &stderr)
	}
	if want := "verify: 11 of 11 events (100%)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("verify progress: no %q in\n%s", want, &stderr)
	}
	for _, want := range []string{"verify: comparing the replay with the read model", "verify: digested table postings ("} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("verify steps: no %q in\n%s", want, &stderr)
		}
	}
	head := res["spend"].Events[0]
	for _, s := range []string{`"ok": true`, `"events": 11`, `"fund_seq": 11`, head.Hash} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("verify output lacks %s:\n%s", s, &stdout)
		}
	}

	// The chain alone, without the read model: the same head, and progress.
	if code := main("verify", "--chain", "--data", dir, "--db", filepath.Join(t.TempDir(), "absent.db")); code != 0 {
		t.Fatalf("verify --chain: exit %d\n%s%s", code, &stdout, &stderr)
	}
	for _, s := range []string{`"ok": true`, `"events": 11`, `"fund_seq": 11`, head.Hash, "verify --chain ok", "the read model was not compared"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("verify --chain output lacks %s:\n%s", s, &stdout)
		}
	}
	if want := "verify: 11 of 11 events (100%)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("verify --chain progress: no %q in\n%s", want, &stderr)
	}

	// --cpuprofile writes a profile pprof reads (it starts with gzip's
	// magic), and a path it cannot create is refused before any work.
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	if code := main("verify", "--chain", "--data", dir, "--cpuprofile", prof); code != 0 {
		t.Fatalf("verify --chain --cpuprofile: exit %d\n%s%s", code, &stdout, &stderr)
	}
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--cpuprofile wrote no gzip'd profile: %d bytes, %v", len(b), err)
	}
	bad := filepath.Join(t.TempDir(), "absent", "cpu.prof")
	if code := main("verify", "--chain", "--data", dir, "--cpuprofile", bad); code != ExitFailure ||
		!strings.Contains(stderr.String(), "--cpuprofile") || stdout.Len() != 0 {
		t.Errorf("--cpuprofile %s: exit %d, stdout %q\n%s", bad, code, &stdout, &stderr)
	}

	export := filepath.Join(t.TempDir(), "events.ndjson")
	if code := main("export", "--data", dir, "--out", export); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, &stdout, &stderr)
	}
	if want := "export: 11 of 11 events (100%)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("export progress: no %q in\n%s", want, &stderr)
	}
	f, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The export alone is enough to check the chain.
	chain := events.NewChain("mdfm")
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		e, err := events.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if err := chain.Check(e); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != 11 || chain.Head != head.Hash {
		t.Errorf("export: %d events up to %s, want 11 up to %s", n, chain.Head, head.Hash)
	}
	if code := main("export", "--data", dir, "--out", export); code == 0 {
		t.Error("export over an existing file was not refused")
	}
	if code := main("export", "--data", dir); code != 0 || strings.Count(stdout.String(), "\n") != 11 {
		t.Errorf("export to stdout: exit %d, %d lines", code, strings.Count(stdout.String(), "\n"))
	}
}

// TestUsage walks the command-line refusals.
func TestUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	tests := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no command", nil, ExitUsage, "usage"},
		{"unknown command", []string{"replay"}, ExitUsage, "unknown command"},
		{"no source", []string{"run", "--db", "x.db"}, ExitUsage, "--data or --nats"},
		{"two sources", []string{"verify", "--data", "d", "--nats", "nats://127.0.0.1:1", "--db", "x.db"}, ExitUsage, "exclude"},
		{"run without db", []string{"run", "--nats", "nats://127.0.0.1:1"}, ExitUsage, "--db is required"},
		{"rebuild without db", []string{"rebuild", "--data", missing}, ExitUsage, "--db is required"},
		{"bad flag", []string{"export", "--db", "x.db", "--nats", "u"}, ExitUsage, "flag provided but not defined"},
		{"stray argument", []string{"export", "--nats", "u", "extra"}, ExitUsage, "unexpected"},
		{"data folder without a store", []string{"verify", "--data", missing}, ExitFailure, "no JetStream store"},
		{"server not there", []string{"export", "--nats", "nats://127.0.0.1:1"}, ExitFailure, "connect"},
		{"chain of an export", []string{"verify", "--chain", "--from", "x.ndjson"}, ExitUsage, "--chain checks the stream"},
		{"help", []string{"-h"}, ExitOK, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.says) {
				t.Errorf("exit %d, want %d; output should say %q:\n%s%s", code, tt.code, tt.says, &stdout, &stderr)
			}
		})
	}
}
