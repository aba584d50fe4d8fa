// Package e2e runs the real ledgerd binary as separate processes: what a
// kill -9 or a second writer does can only be shown across processes.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var ledgerdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mdfm-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ledgerdBin = filepath.Join(dir, "ledgerd")
	build := exec.Command("go", "build", "-o", ledgerdBin, "../cmd/ledgerd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ledgerd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// users are the test's API users: user → role and token.
var users = map[string][2]string{
	"ana":   {"approver", "tok-ana-0123456789abcdef"},
	"olu":   {"officer", "tok-olu-0123456789abcdef"},
	"kim":   {"auditor", "tok-kim-0123456789abcdef"},
	"admin": {"admin", "tok-admin-0123456789abcdef"},
}

// writeTokens writes the tokens file of users and returns its path.
func writeTokens(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# e2e users\n")
	for u, rt := range users {
		sum := sha256.Sum256([]byte(rt[1]))
		fmt.Fprintf(&b, "%s %s %s\n", u, rt[0], hex.EncodeToString(sum[:]))
	}
	p := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// daemon is one running ledgerd process.
type daemon struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   sync.Mutex
	done chan struct{}
}

var listening = regexp.MustCompile(`ledgerd listening on (http://\S+)`)

// start runs ledgerd with args and waits until it says where it listens.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{logs: &bytes.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(ledgerdBin, append([]string{"--http", "127.0.0.1:0"}, args...)...)
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = &lockedWriter{d}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.logs.WriteString(line + "\n")
			d.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
	}()
	go func() { d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("E2E_DUMP") != "" {
			d.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(2 * time.Second)
		}
		d.kill()
		if t.Failed() {
			t.Logf("ledgerd %v output:\n%s", args, d.output())
		}
	})
	select {
	case d.url = <-urlc:
	case <-d.done:
		t.Fatalf("ledgerd exited before listening:\n%s", d.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("ledgerd did not say where it listens within 60s:\n%s", d.output())
	}
	return d
}

type lockedWriter struct{ d *daemon }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.logs.Write(p)
}

func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// kill sends SIGKILL: no shutdown code of ledgerd runs.
func (d *daemon) kill() {
	d.cmd.Process.Kill()
	<-d.done
}

// response is an HTTP answer read whole.
type response struct {
	status int
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not JSON (%v): %s", err, r.body)
	}
	return m
}

func (r response) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

var client = &http.Client{Timeout: 30 * time.Second}

// do sends a request as user; key is the Idempotency-Key ("" for none).
func (d *daemon) do(t *testing.T, method, path, user, key string, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+users[user][1])
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, b}, err
}

// must sends a request and fails the test unless it answers want.
func (d *daemon) must(t *testing.T, want int, method, path, user, key string, body any) response {
	t.Helper()
	r, err := d.do(t, method, path, user, key, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

// loggedEvents reads the fund's whole log through GET /v1/events.
func (d *daemon) loggedEvents(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := 0
	for {
		r := d.must(t, 200, "GET", fmt.Sprintf("/v1/events?fund=mdfm&after=%d&limit=1000", after), "kim", "", nil)
		n := 0
		for _, line := range bytes.Split(bytes.TrimSpace(r.body), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var e map[string]any
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatalf("event line %q: %v", line, err)
			}
			out = append(out, e)
			after = int(e["fund_seq"].(float64))
			n++
		}
		if n == 0 {
			return out
		}
	}
}

func usd(s string) map[string]string { return map[string]string{"amount": s, "currency": "USD"} }

// setUpFund opens the term, registers a donor and adds a budget line.
func setUpFund(t *testing.T, d *daemon) {
	t.Helper()
	d.must(t, 201, "POST", "/v1/terms", "ana", "term", map[string]any{
		"id": "2020-2021", "starts_on": "2020-01-01", "ends_on": "2021-12-31", "target": usd("1000000.00"), "fee_rate": "0.01"})
	d.must(t, 201, "POST", "/v1/donors", "olu", "donor", map[string]any{
		"id": "osaka", "name": "City of Osaka", "kind": "member_city", "country": "JP", "city": "Osaka"})
	d.must(t, 201, "POST", "/v1/budget-lines", "olu", "line", map[string]any{
		"id": "MDFM-1.1", "term_id": "2020-2021", "title": "Develop training modules on the thematic topics", "amount": usd("200000.00")})
}
