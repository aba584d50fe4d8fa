package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
)

// fixedNow is the daemon's clock in the scenario tests: the last day of the
// 2020–2021 term, so that every date of the term is in the past.
func fixedNow() time.Time { return time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) }

// testUsers are the tokens of the test's tokens file: token → line fields.
// olu holds two tokens, officer and admin, so that maker-checker can be
// shown to compare users and not roles.
var testUsers = []struct{ token, user, role string }{
	{"tok-ana", "ana", "approver"},
	{"tok-olu", "olu", "officer"},
	{"tok-olu-admin", "olu", "admin"},
	{"tok-kim", "kim", "auditor"},
	{"tok-dana", "dana", "donor:d-usd"},
	{"tok-admin", "admin", "admin"},
}

func writeTestTokens(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test users\n")
	for _, u := range testUsers {
		fmt.Fprintf(&b, "%s %s %s\n", u.user, u.role, access.HashToken(u.token))
	}
	p := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is an io.Writer safe for the daemon's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningLine = regexp.MustCompile(`(?m)^ledgerd listening on (http://127\.0\.0\.1:[0-9]+)$`)

// daemon is a ledgerd Main running in the test's process.
type daemon struct {
	m      *Main
	url    string
	stdout *syncBuffer
	logs   *syncBuffer
}

// fatalT is what the request helpers need of a test: *testing.T, or the
// *rapid.T of a property test.
type fatalT interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// startDaemon runs ledgerd's Main in process with args after
// --http 127.0.0.1:0, and finds its URL in the line it prints.
func startDaemon(t *testing.T, now func() time.Time, args ...string) *daemon {
	t.Helper()
	d, err := launchDaemon(t.Context(), now, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("ledgerd log:\n%s", d.logs)
		}
	})
	return d
}

// launchDaemon is startDaemon without the cleanup: the caller closes d.m.
func launchDaemon(ctx context.Context, now func() time.Time, args ...string) (*daemon, error) {
	d := &daemon{m: NewMain(), stdout: &syncBuffer{}, logs: &syncBuffer{}}
	d.m.Stdout, d.m.Stderr, d.m.Now = d.stdout, d.logs, now
	if err := d.m.ParseFlags(append([]string{"--http", "127.0.0.1:0"}, args...)); err != nil {
		return nil, err
	}
	if err := d.m.Run(ctx); err != nil {
		d.m.Close()
		return nil, fmt.Errorf("run: %v\n%s", err, d.logs)
	}
	m := listeningLine.FindStringSubmatch(d.stdout.String())
	switch {
	case m == nil:
		d.m.Close()
		return nil, fmt.Errorf("no listening line in %q", d.stdout)
	case m[1] != d.m.URL():
		d.m.Close()
		return nil, fmt.Errorf("printed %s, listens on %s", m[1], d.m.URL())
	}
	d.url = m[1]
	return d, nil
}

// startScenarioDaemon starts a daemon with the test tokens, a fresh data
// folder and the fixed clock.
func startScenarioDaemon(t *testing.T) *daemon {
	return startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t))
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// answer is an HTTP answer read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body)) }

// errorOf returns the code and field of an error answer.
func (a answer) errorOf(t fatalT) (code, field string) {
	t.Helper()
	var e struct {
		Error *struct {
			Code    string  `json:"code"`
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == nil || e.Error.Message == "" || e.Error.Field == nil {
		t.Fatalf("not an error answer {\"error\": {code, message, field}}: %s", a)
	}
	return e.Error.Code, *e.Error.Field
}

// errorIndex returns the index of an error answer, nil when it has none.
func (a answer) errorIndex(t *testing.T) *int {
	t.Helper()
	var e struct {
		Error struct {
			Index *int `json:"index"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("not an error answer: %s", a)
	}
	return e.Error.Index
}

// refsOf returns the events a write answer names.
func refsOf(t *testing.T, a answer) []events.Ref {
	t.Helper()
	var res struct {
		CommandID string       `json:"command_id"`
		Events    []events.Ref `json:"events"`
	}
	if err := json.Unmarshal(a.body, &res); err != nil || res.CommandID == "" || len(res.Events) == 0 {
		t.Fatalf("not a write answer: %s", a)
	}
	return res.Events
}

// request is one HTTP request of a test.
type request struct {
	method, path string
	token        string // "" for none
	body         string // sent as is
	header       map[string]string
	added        [][2]string // headers added after header, so a name may come twice
}

func (d *daemon) do(t fatalT, r request) answer {
	t.Helper()
	var rd io.Reader
	if r.body != "" {
		rd = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, d.url+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	for _, kv := range r.added {
		req.Header.Add(kv[0], kv[1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", r.method, r.path, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// post sends body (marshalled unless it is a string) to path and fails the
// test unless the answer has status want.
func (d *daemon) post(t *testing.T, want int, path, token, key string, body any) answer {
	t.Helper()
	s, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		s = string(b)
	}
	r := request{method: "POST", path: path, token: token, body: s}
	if key != "" {
		r.header = map[string]string{"Idempotency-Key": key}
	}
	a := d.do(t, r)
	if a.status != want {
		t.Fatalf("POST %s: %s, want status %d", path, a, want)
	}
	return a
}

// get fails the test unless the answer has status 200 and decodes into v.
func (d *daemon) get(t fatalT, path, token string, v any) answer {
	t.Helper()
	a := d.do(t, request{method: "GET", path: path, token: token})
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %s", path, a)
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, a.body)
		}
	}
	return a
}

// streamLastSeq is the last sequence of the whole stream: a refused request
// must leave it where it was.
func (d *daemon) streamLastSeq(t fatalT) uint64 {
	t.Helper()
	return d.streamState(t).LastSeq
}

// streamState is the stream's state as the server reports it.
func (d *daemon) streamState(t fatalT) eventlog.Info {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := d.m.log.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// eventLines reads GET /v1/events and returns its NDJSON lines.
func (d *daemon) eventLines(t *testing.T, query, token string) [][]byte {
	t.Helper()
	a := d.get(t, "/v1/events"+query, token, nil)
	if ct := a.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("events Content-Type %q", ct)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func moneyOf(amount, currency string) map[string]string {
	return map[string]string{"amount": amount, "currency": currency}
}

func usdMoney(amount string) map[string]string { return moneyOf(amount, "USD") }
