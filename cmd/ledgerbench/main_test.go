package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// TestSmoke runs every workload at tiny sizes and checks that the JSON
// carries every key the issue names, each measured (above zero). It checks
// that the command runs, never how fast.
func TestSmoke(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"--json", "--append-events", "100", "--append-clients", "4", "--http-commands", "10",
		"--project-events", "300", "--events", "600", "--donors", "5", "--reports", "2"}
	if code := Main(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("exit %d\n%s", code, errs.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON (%v): %s", err, out.String())
	}
	for _, k := range []string{"append_events_per_s", "append_ratio", "http64_commands_per_s", "http64_p99_ms",
		"projection_events_per_s", "projection_ratio", "ready_1m_s", "restart_1m_s", "rebuild_1m_s", "verify_1m_s", "verify_chain_1m_s",
		"ready_rss_mb", "serving_rss_mb", "peak_rss_mb", "report_p99_ms", "events"} {
		v, ok := got[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, got[k])
		}
	}
	// The peak until ready is read while the process goes on: it cannot
	// exceed the peak after the reports.
	if ready, serving := got["ready_rss_mb"].(float64), got["serving_rss_mb"].(float64); ready > serving {
		t.Errorf("ready_rss_mb %v > serving_rss_mb %v", ready, serving)
	}
	if got["events"] != 600.0 {
		t.Errorf("events = %v, want 600", got["events"])
	}
}

func TestFlagsRefuseNonsense(t *testing.T) {
	for _, args := range [][]string{{"--events", "0"}, {"--donors", "-1"}, {"--events", "100", "--donors", "50"}, {"extra"},
		{"--only", "9"}, {"--only", "x"}, {"--http-clients", "0"}, {"--http-clients", "-1"}, {"--http-clients", "99999999999"}, {"--append-clients-more", "-5"}} {
		var out, errs bytes.Buffer
		if code := Main(context.Background(), args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
