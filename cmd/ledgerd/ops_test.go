package main

import (
	"encoding/json"
	"strings"
	"testing"
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
