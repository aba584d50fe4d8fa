package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
)

// TestLogFormatJSON: --log-format json writes one JSON object a line, the
// request lines included; another format is refused at start.
func TestLogFormatJSON(t *testing.T) {
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t), "--log-format", "json")
	d.get(t, "/healthz", "", nil)
	var n int
	for _, line := range strings.Split(strings.TrimSpace(d.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == "request" && rec["path"] == "/healthz" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d JSON request lines for /healthz, want 1:\n%s", n, d.logs)
	}
	m := NewMain()
	m.Stderr = &syncBuffer{}
	err := m.ParseFlags([]string{"--demo", "--log-format", "xml"})
	if err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("--log-format xml: %v, want a refusal naming the flag", err)
	}
}

// TestTokensReloadOnFileChange: a change of the tokens file is read without
// a signal (polled); the reload hooks learn which users were removed; a
// file that does not parse is refused naming its line, the tokens in force
// kept, and the metrics count both.
func TestTokensReloadOnFileChange(t *testing.T) {
	path := writeTestTokens(t)
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", path)
	removed := make(chan []string, 4)
	d.m.reloadMu.Lock()
	d.m.OnTokensReload = append(d.m.OnTokensReload, func(users []string, _ *httpapi.Tokens) { removed <- users })
	d.m.reloadMu.Unlock()

	var b strings.Builder
	for _, u := range testUsers {
		if u.user != "kim" {
			fmt.Fprintf(&b, "%s %s %s\n", u.user, u.role, httpapi.HashToken(u.token))
		}
	}
	b.WriteString("zoe auditor " + httpapi.HashToken("tok-zoe") + "\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "zoe let in after the file changed", func() bool {
		return d.do(t, request{method: "GET", path: "/v1/events", token: "tok-zoe"}).status == 200
	})
	if a := d.do(t, request{method: "GET", path: "/v1/events", token: "tok-kim"}); a.status != 401 {
		t.Errorf("kim, removed: %s", a)
	}
	if got := <-removed; len(got) != 1 || got[0] != "kim" {
		t.Errorf("the hook was told %v were removed, want [kim]", got)
	}

	if err := os.WriteFile(path, []byte(b.String()+"bad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := d.m.ReloadTokens()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("tokens line %d", len(testUsers)+1)) {
		t.Errorf("a bad file: %v, want a refusal naming line %d", err, len(testUsers)+1)
	}
	if a := d.do(t, request{method: "GET", path: "/v1/events", token: "tok-zoe"}); a.status != 200 {
		t.Errorf("zoe after a refused file: %s", a)
	}
	metrics := string(d.get(t, "/metrics", "tok-zoe", nil).body)
	for _, line := range []string{`mdfm_tokens_reloads_total{result="ok"} 1`} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	if !strings.Contains(metrics, `mdfm_tokens_reloads_total{result="refused"} `) || strings.Contains(metrics, `mdfm_tokens_reloads_total{result="refused"} 0`) {
		t.Errorf("metrics do not count the refused file")
	}
}
