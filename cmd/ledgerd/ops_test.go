package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
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
	d.m.OnTokensReload = append(d.m.OnTokensReload, func(users []string, _ *access.Tokens) { removed <- users })
	d.m.reloadMu.Unlock()

	var b strings.Builder
	for _, u := range testUsers {
		if u.user != "kim" {
			fmt.Fprintf(&b, "%s %s %s\n", u.user, u.role, access.HashToken(u.token))
		}
	}
	b.WriteString("zoe auditor " + access.HashToken("tok-zoe") + "\n")
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

// TestTokensReloadEndsWebSessions: a reload of the tokens file (SIGHUP, here
// ReloadTokens) that removes a user ends that user's web session at once,
// even when the file's size and time did not change, so that the web app's
// own look at the file cannot see it.
func TestTokensReloadEndsWebSessions(t *testing.T) {
	tokens := writeTestTokens(t)
	setPassword(t, tokens, "ana", "ana's password, long")
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", tokens)
	d.post(t, 201, "/v1/terms", "tok-ana", "term-1", termBody)
	w := newWebClient(t, d)
	w.post("/app/signin", url.Values{"user": {"ana"}, "password": {"ana's password, long"}})
	if !w.signedIn() {
		t.Fatal("ana not signed in")
	}
	fi, err := os.Stat(tokens)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(tokens)
	// ana becomes anx: same size; the old time put back.
	gone := strings.ReplaceAll(string(b), "\nana ", "\nanx ")
	if gone == string(b) {
		t.Fatal("no line of ana in the tokens file")
	}
	if err := os.WriteFile(tokens, []byte(gone), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tokens, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := d.m.ReloadTokens(); err != nil {
		t.Fatal(err)
	}
	if w.signedIn() {
		t.Error("ana's web session goes on after a reload removed her")
	}
}
