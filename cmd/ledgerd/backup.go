package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// Files of a backup folder.
const (
	BackupManifest = "manifest.json"
	BackupEvents   = "events.ndjson"
	// BackupFormat is the manifest's format version.
	BackupFormat = 1
	// backupPageSize is how many events one GET /v1/events of a backup asks for
	// (httpapi.MaxEventsLimit).
	backupPageSize = 10000
)

// Manifest describes a backup: the fund, where its chain stood, when and by
// what it was taken, and the SHA-256 of every file beside it.
type Manifest struct {
	Format    int               `json:"format"`
	Fund      string            `json:"fund"`
	FundSeq   uint64            `json:"fund_seq"`
	ChainHead string            `json:"chain_head"`
	Events    uint64            `json:"events"`
	TakenAt   string            `json:"taken_at"`
	Source    string            `json:"source"`
	Versions  map[string]string `json:"versions"`
	Files     map[string]string `json:"files"` // name → SHA-256 hex
}

// RunBackup is `ledgerd backup --url URL --token T --to DIR [--fund F]`: it
// reads the fund's events from a running daemon (GET /v1/events, page by
// page: a prefix of an append-only chain is consistent while writes go on),
// checks every hash and link as it goes, and writes DIR/events.ndjson and,
// last, DIR/manifest.json. DIR must be new or empty.
func RunBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ledgerd backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "base `URL` of the running ledgerd (http://HOST:PORT)")
	token := fs.String("token", os.Getenv("LEDGERD_TOKEN"), "an admin's or auditor's `token` (default $LEDGERD_TOKEN)")
	to := fs.String("to", "", "new or empty `folder` to write the backup into")
	fund := fs.String("fund", eventlog.DefaultFund, "the `fund` to back up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))
	}
	if *url == "" || *token == "" || *to == "" {
		return errors.New("backup: --url, --token and --to are required")
	}
	if err := newFolder(*to); err != nil {
		return fmt.Errorf("backup --to: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(*to, BackupEvents), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, sum))
	chain := events.NewChain(*fund)
	for {
		n, err := backupPage(ctx, *url, *token, *fund, &chain, w)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if n < backupPageSize {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("backup: write %s: %w", BackupEvents, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", BackupEvents, err)
	}
	m := Manifest{
		Format: BackupFormat, Fund: *fund, FundSeq: chain.FundSeq, ChainHead: chain.Head, Events: chain.FundSeq,
		TakenAt: time.Now().UTC().Format(time.RFC3339), Source: *url, Versions: versions(),
		Files: map[string]string{BackupEvents: hex.EncodeToString(sum.Sum(nil))},
	}
	if err := writeManifest(filepath.Join(*to, BackupManifest), m); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of fund %s in %s: %d events, fund_seq %d, chain head %s\n", m.Fund, *to, m.Events, m.FundSeq, m.ChainHead)
	return nil
}

// backupPage reads one page of events after the chain's fund_seq, checks
// each and writes its line; it returns how many it read.
func backupPage(ctx context.Context, url, token, fund string, chain *events.Chain, w io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/events?fund=%s&after=%d&limit=%d", url, fund, chain.FundSeq, backupPageSize), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("GET /v1/events: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), events.MaxEventBytes+1)
	n := 0
	for sc.Scan() {
		e, err := events.Decode(sc.Bytes())
		if err != nil {
			return n, fmt.Errorf("event after fund_seq %d: %w", chain.FundSeq, err)
		}
		if err := chain.Check(e); err != nil {
			return n, err
		}
		if _, err := w.Write(append(sc.Bytes(), '\n')); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("GET /v1/events cut short after fund_seq %d: %w", chain.FundSeq, err)
	}
	return n, nil
}

// RunRestore is `ledgerd restore --from DIR --data NEWDIR`: it checks the
// backup (the manifest, each file's SHA-256, every event's hash and link,
// the chain head the manifest names), then appends the events to a new
// stream of an embedded server in NEWDIR and builds the read model, so that
// `ledgerd --data NEWDIR` starts on the same chain head and reports. It
// refuses a backup that fails a check, naming the file and the reason, and
// never writes into a folder that holds anything.
func RunRestore(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("ledgerd restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup `folder`")
	data := fs.String("data", "", "the new data `folder` (absent or empty)")
	stream := fs.String("stream", eventlog.DefaultStream, "JetStream stream `name`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("restore: unexpected argument %q", fs.Arg(0))
	}
	if *from == "" || *data == "" {
		return errors.New("restore: --from and --data are required")
	}
	m, evs, err := CheckBackup(*from)
	if err != nil {
		return fmt.Errorf("restore refused: %w", err)
	}
	if err := newFolder(*data); err != nil {
		return fmt.Errorf("restore --data: %w", err)
	}
	defer func() {
		if err != nil {
			// The folder was empty or new: leave nothing half made.
			os.RemoveAll(*data)
			os.MkdirAll(*data, 0o700)
		}
	}()
	if err := restoreInto(ctx, *data, *stream, m.Fund, evs); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored fund %s into %s: %d events, fund_seq %d, chain head %s\n", m.Fund, *data, len(evs), m.FundSeq, m.ChainHead)
	return nil
}

// CheckBackup reads and checks a backup folder and returns its manifest and
// events. An error names the file (and line) and the reason.
func CheckBackup(dir string) (Manifest, []events.Event, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, BackupManifest))
	if err != nil {
		return m, nil, fmt.Errorf("%s: %w", BackupManifest, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, nil, fmt.Errorf("%s: not a manifest: %w", BackupManifest, err)
	}
	if m.Format != BackupFormat {
		return m, nil, fmt.Errorf("%s: format %d, this ledgerd reads %d", BackupManifest, m.Format, BackupFormat)
	}
	if !eventlog.ValidFund(m.Fund) {
		return m, nil, fmt.Errorf("%s: fund %q is not a fund id", BackupManifest, m.Fund)
	}
	if _, ok := m.Files[BackupEvents]; !ok {
		return m, nil, fmt.Errorf("%s: lists no %s", BackupManifest, BackupEvents)
	}
	for name, want := range m.Files {
		if filepath.Base(name) != name {
			return m, nil, fmt.Errorf("%s: file name %q is not a plain name", BackupManifest, name)
		}
		got, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			return m, nil, fmt.Errorf("%s: %w", name, err)
		}
		if got != want {
			return m, nil, fmt.Errorf("%s: SHA-256 %s, the manifest says %s: the file was altered or cut short", name, got, want)
		}
	}
	evs, err := readChain(filepath.Join(dir, BackupEvents), m.Fund)
	if err != nil {
		return m, nil, err
	}
	head := events.NewChain(m.Fund)
	if len(evs) > 0 {
		last := evs[len(evs)-1]
		head.FundSeq, head.Head = last.FundSeq, last.Hash
	}
	if head.FundSeq != m.FundSeq || head.Head != m.ChainHead || uint64(len(evs)) != m.Events {
		return m, nil, fmt.Errorf("%s: ends at fund_seq %d, chain head %s; the manifest says fund_seq %d, chain head %s, %d events", BackupEvents, head.FundSeq, head.Head, m.FundSeq, m.ChainHead, m.Events)
	}
	return m, evs, nil
}

// readChain decodes every line of an export of one fund, checking each
// event's canonical bytes, hash and link.
func readChain(path, fund string) ([]events.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	chain := events.NewChain(fund)
	var out []events.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), events.MaxEventBytes+1)
	line := 0
	for sc.Scan() {
		line++
		e, err := events.Decode(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		if err := chain.Check(e); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s line %d: %w", name, line+1, err)
	}
	return out, nil
}

// restoreInto appends evs to a new stream of an embedded server in dir, in
// atomic batches each expecting the last, and builds the read model.
func restoreInto(ctx context.Context, dir, stream, fund string, evs []events.Event) error {
	ns, err := eventlog.StartEmbedded(eventlog.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := eventlog.ConnectEmbedded(ns)
	if err != nil {
		return err
	}
	defer nc.Close()
	log, err := eventlog.Open(ctx, nc, stream, 1)
	if err != nil {
		return err
	}
	var last uint64
	for len(evs) > 0 {
		n := min(len(evs), eventlog.MaxBatchEvents)
		if last, err = log.Append(ctx, fund, last, evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return projector.Rebuild(ctx, log, filepath.Join(dir, ReadModelFile))
}

// newFolder makes dir, or checks that it is empty: a backup or a restore
// never writes into a folder that holds anything.
func newFolder(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s holds %d files or folders (%s…): give a new or empty folder", dir, len(ents), ents[0].Name())
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeManifest(path string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// versions are what took a backup: Go, the module's version and the read
// model's schema.
func versions() map[string]string {
	v := map[string]string{"go": runtime.Version(), "read_model_schema": strconv.Itoa(readmodel.SchemaVersion()), "backup_format": strconv.Itoa(BackupFormat)}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v["ledgerd"] = bi.Main.Version
	}
	return v
}
