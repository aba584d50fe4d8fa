package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestMeterFinalReport: Stop reports where the work ended, with the total
// and a rate; a meter that counted nothing stays silent.
func TestMeterFinalReport(t *testing.T) {
	var got []Report
	m := Start("rebuild", time.Hour, func(r Report) { got = append(got, r) })
	m.Set(500, 1000)
	m.Set(1000, 1000)
	m.Stop()
	if len(got) != 1 || !got[0].Final || got[0].Done != 1000 || got[0].Total != 1000 || got[0].PerSecond <= 0 {
		t.Fatalf("reports = %+v; want one final report of 1000 of 1000 with a rate", got)
	}
	quiet := Start("verify", time.Hour, func(r Report) { t.Errorf("report of a meter that counted nothing: %v", r) })
	quiet.Stop()
}

func TestReportString(t *testing.T) {
	r := Report{What: "verify", Done: 250, Total: 1000, PerSecond: 50, Left: 15 * time.Second}
	if got, want := r.String(), "verify: 250 of 1000 events (25%), 50 events/s, about 15s left"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var b bytes.Buffer
	Writer(&b)(r)
	if b.String() != r.String()+"\n" {
		t.Errorf("not a terminal: got %q, want the line", b.String())
	}
	if strings.Contains(b.String(), "\r") {
		t.Errorf("a bar drawn on a file: %q", b.String())
	}
}

// TestSteps: Step hands its step to the report the context carries, a
// context without one (or with nil) says nothing, and StepWriter writes a
// line each.
func TestSteps(t *testing.T) {
	var b bytes.Buffer
	ctx := WithSteps(t.Context(), StepWriter(&b, "rebuild"))
	Step(ctx, "making index %s (%d of %d)", "postings_balance", 5, 21)
	Step(t.Context(), "nobody hears this")
	Step(WithSteps(ctx, nil), "nor this")
	if got, want := b.String(), "rebuild: making index postings_balance (5 of 21)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
