package webapp

import (
	"strings"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

func TestFormatAmount(t *testing.T) {
	for _, c := range []struct{ amount, cur, want string }{
		{"0.00", "USD", "0.00 USD"},
		{"999.99", "USD", "999.99 USD"},
		{"1000.00", "USD", "1,000.00 USD"},
		{"1234567.80", "USD", "1,234,567.80 USD"},
		{"-5000.00", "USD", "-5,000.00 USD"},
		{"20000000", "JPY", "20,000,000 JPY"},
		{"100000", "", "100,000"},
		{"", "USD", ""},
	} {
		if got := formatAmount(c.amount, c.cur); got != c.want {
			t.Errorf("formatAmount(%q, %q) = %q, want %q", c.amount, c.cur, got, c.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/app/dashboard":         "/app/dashboard",
		"/app/events?type=x":     "/app/events?type=x",
		"//evil.example/app/":    "",
		"https://evil.example/x": "",
		"/v1/events":             "",
		"":                       "",
		"/\\evil.example/app/x":  "",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestVerifyJobPage draws a verify job's page in each of its states: while
// it runs, its progress and a reload every two seconds; once ended, what it
// found (or why it could not run), and no reload.
func TestVerifyJobPage(t *testing.T) {
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		job     httpapi.VerifyJob
		want    []string
		refresh bool
	}{
		{"reading", httpapi.VerifyJob{ID: "j1", State: httpapi.JobRunning, Progress: httpapi.VerifyProgress{Phase: httpapi.PhaseReading, Read: 250, Last: 1000, Percent: 25, EventsPerS: 250, ETASeconds: 3}},
			[]string{`id="verify-progress"`, "stream sequence 250 of 1000 (25 %)", "250 events a second", "about 3 s left", `<progress max="100" value="25"`}, true},
		{"comparing", httpapi.VerifyJob{ID: "j2", State: httpapi.JobRunning, Progress: httpapi.VerifyProgress{Phase: httpapi.PhaseComparing, Read: 1000, Last: 1000, Percent: 100}},
			[]string{"Comparing the replay with the read model"}, true},
		{"verified", httpapi.VerifyJob{ID: "j3", State: httpapi.JobDone, Report: &audit.VerifyReport{OK: true, Events: 1000, FundSeq: 999, ChainHead: "abc"}},
			[]string{`id="verify-result"`, "Verified: 1000 events", "Head fund_seq 999"}, false},
		{"not verified", httpapi.VerifyJob{ID: "j4", State: httpapi.JobDone, Report: &audit.VerifyReport{Failure: &audit.VerifyFailure{Stage: "table", Table: "postings", Reason: "differs"}}},
			[]string{"NOT verified: table postings", "differs"}, false},
		{"failed", httpapi.VerifyJob{ID: "j5", State: httpapi.JobFailed, Error: "stopped: the server shut down before the audit ended"},
			[]string{"could not run to its end: stopped: the server shut down"}, false},
	} {
		v := verifyView{Job: &tc.job}
		var b strings.Builder
		if err := tmpl["verify"].Execute(&b, view{Title: "Verify the chain", Page: v, Refresh: v.RefreshSeconds()}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		page := b.String()
		for _, w := range append(tc.want, `id="job-id">`+tc.job.ID+"<") {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", tc.name, w)
			}
		}
		if got := strings.Contains(page, `<meta http-equiv="refresh" content="2">`); got != tc.refresh {
			t.Errorf("%s: reloads %v, want %v", tc.name, got, tc.refresh)
		}
	}
}
