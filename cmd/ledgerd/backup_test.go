package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// TestBackupRestore: a backup taken from a running daemon while writes go
// on restores into a fresh folder on which ledgerd starts with the
// manifest's chain head, and every report asked at that fund_seq is
// byte-identical to the original's.
func TestBackupRestore(t *testing.T) {
	a := startScenarioDaemon(t)
	setUpScenario(t, a)

	// Writes go on while the backup is taken.
	var (
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		written atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("during-%d", i)
			if st, _, err := postKeyed(a.url, "/v1/donors", "tok-olu", key, fmt.Sprintf(`{"id":"d-%s","name":"Donor %s","kind":"country","country":"DE"}`, key, key)); err == nil && st == 201 {
				written.Add(1)
			}
		}
	}()
	testwait.For(t, 30*time.Second, "writes under way", func() bool { return written.Load() >= 5 })
	dir := filepath.Join(t.TempDir(), "backup")
	var out bytes.Buffer
	if err := RunBackup(t.Context(), []string{"--url", a.url, "--token", "tok-kim", "--to", dir}, &out, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	testwait.For(t, 30*time.Second, "writes after the backup", func() bool { return written.Load() >= 10 })
	close(stop)
	wg.Wait()

	m, _, err := CheckBackup(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "restored")
	if err := RunRestore(t.Context(), []string{"--from", dir, "--data", data}, &out, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	b := startDaemon(t, fixedNow, "--data", data, "--tokens", writeTestTokens(t))

	var rep struct {
		OK        bool
		FundSeq   uint64 `json:"fund_seq"`
		ChainHead string `json:"chain_head"`
	}
	b.get(t, "/v1/audit/verify", "tok-kim", &rep)
	if !rep.OK || rep.FundSeq != m.FundSeq || rep.ChainHead != m.ChainHead {
		t.Errorf("restored: verify %+v, want ok at fund_seq %d, chain head %s", rep, m.FundSeq, m.ChainHead)
	}
	at := fmt.Sprintf("at_seq=%d", m.FundSeq)
	for _, path := range []string{
		"/v1/funds/mdfm/balance?term=2020-2021&as_of=2021-12-31&" + at,
		"/v1/reports/trial-balance?as_of=2021-12-31&" + at,
		"/v1/reports/budget?term=2020-2021&as_of=2021-12-31&" + at,
		"/v1/events?fund=mdfm&limit=10000",
	} {
		want := a.get(t, path, "tok-kim", nil).body
		if strings.HasPrefix(path, "/v1/events") {
			want = bytes.Join(bytes.SplitAfter(want, []byte("\n"))[:m.FundSeq], nil)
		}
		if got := b.get(t, path, "tok-kim", nil).body; !bytes.Equal(got, want) {
			t.Errorf("%s differs after restore:\n got %s\nwant %s", path, got, want)
		}
	}
	t.Logf("backup while writing: %d events, fund_seq %d, %d writes during and after; restored with the same chain head and reports", m.Events, m.FundSeq, written.Load())
}

// TestRestoreRefuses: a backup whose file was altered, or whose line was
// altered with the manifest made to match, is refused naming the file and
// the reason; a folder that holds data is never written into.
func TestRestoreRefuses(t *testing.T) {
	a := startScenarioDaemon(t)
	setUpScenario(t, a)
	dir := filepath.Join(t.TempDir(), "backup")
	var out bytes.Buffer
	if err := RunBackup(t.Context(), []string{"--url", a.url, "--token", "tok-kim", "--to", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	events, _ := os.ReadFile(filepath.Join(dir, BackupEvents))
	manifest, _ := os.ReadFile(filepath.Join(dir, BackupManifest))

	restore := func(t *testing.T, from, data string) error {
		return RunRestore(context.Background(), []string{"--from", from, "--data", data}, &out, &out)
	}
	copyBackup := func(t *testing.T, ev, man []byte) string {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, BackupEvents), ev, 0o600)
		os.WriteFile(filepath.Join(d, BackupManifest), man, 0o600)
		return d
	}
	altered := bytes.Replace(events, []byte(`"Donor country (test)"`), []byte(`"Donor country (TEST)"`), 1)
	if bytes.Equal(altered, events) {
		t.Fatal("nothing altered")
	}
	sumOf := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, b, 0o600)
		s, _ := fileSHA256(p)
		return s
	}
	rehashed := bytes.Replace(manifest, []byte(sumOf(events)), []byte(sumOf(altered)), 1)
	for _, c := range []struct {
		name     string
		from     string
		wantFile string
		want     string
	}{
		{"a byte altered", copyBackup(t, altered, manifest), BackupEvents, "SHA-256"},
		{"a line altered, the manifest made to match", copyBackup(t, altered, rehashed), BackupEvents + " line 2", "does not match content"},
		{"cut short", copyBackup(t, events[:bytes.LastIndexByte(events[:len(events)-1], '\n')+1], manifest), BackupEvents, "SHA-256"},
		{"no manifest", copyBackup(t, events, nil), BackupManifest, "not a manifest"},
	} {
		data := filepath.Join(t.TempDir(), "new")
		err := restore(t, c.from, data)
		if err == nil || !strings.Contains(err.Error(), c.wantFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal naming %s and %q", c.name, err, c.wantFile, c.want)
		}
		if ents, _ := os.ReadDir(data); len(ents) != 0 {
			t.Errorf("%s: the refused restore left %d files in %s", c.name, len(ents), data)
		}
	}

	// A folder holding data is refused and left as it was.
	busy := a.m.Config.DataDir
	before, _ := os.ReadDir(busy)
	if err := restore(t, dir, busy); err == nil || !strings.Contains(err.Error(), "new or empty folder") {
		t.Errorf("restore into the running daemon's folder: %v, want a refusal", err)
	}
	after, _ := os.ReadDir(busy)
	if len(after) != len(before) {
		t.Errorf("the refused restore changed %s", busy)
	}
	if err := RunBackup(t.Context(), []string{"--url", a.url, "--token", "tok-kim", "--to", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "new or empty folder") {
		t.Errorf("a backup into a folder holding one: %v, want a refusal", err)
	}
}
