package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections"
)

// jobServer is a Server over a real log holding ledgertest's scenario and
// a read model that has folded none of it (no projector runs): a verify
// job waits for the read model to catch up (readYourWrites) until the
// server closes. kim is an auditor, olu an officer.
func jobServer(t *testing.T) *Server {
	t.Helper()
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	ledgertest.Scenario(t, w)
	store, err := projections.Open(filepath.Join(t.TempDir(), "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tokens, err := access.ParseTokens(strings.NewReader("kim auditor " + access.HashToken("tok-kim") + "\nolu officer " + access.HashToken("tok-olu") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Writer: w, Store: store, Log: log, Tokens: tokens, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// call makes one request of s and returns the answer.
func call(t *testing.T, s *Server, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	return rec
}

// TestVerifyJobWhileOneRuns: while a verify job runs, POST
// /v1/audit/verify answers 200 with that job (not a second audit) and GET
// /v1/audit/verify 503 busy; while a GET audit runs, POST answers 503
// busy and starts nothing; Close stops a running job, which ends failed
// saying so, and a POST after it answers 503.
func TestVerifyJobWhileOneRuns(t *testing.T) {
	s := jobServer(t)
	start := call(t, s, http.MethodPost, "/v1/audit/verify", "tok-kim", "")
	var first VerifyJob
	if start.Code != http.StatusAccepted || json.Unmarshal(start.Body.Bytes(), &first) != nil || first.State != JobRunning ||
		start.Header().Get("Location") != "/v1/audit/verify/jobs/"+first.ID || first.StartedBy != "kim" {
		t.Fatalf("POST /v1/audit/verify: %d %s (Location %q), want 202 with a running job of kim's", start.Code, start.Body, start.Header().Get("Location"))
	}
	again := call(t, s, http.MethodPost, "/v1/audit/verify", "tok-kim", "{}")
	var same VerifyJob
	if again.Code != http.StatusOK || json.Unmarshal(again.Body.Bytes(), &same) != nil || same.ID != first.ID || again.Header().Get("Location") != start.Header().Get("Location") {
		t.Errorf("POST while job %s runs: %d %s, want 200 with that job", first.ID, again.Code, again.Body)
	}
	if get := call(t, s, http.MethodGet, "/v1/audit/verify", "tok-kim", ""); get.Code != http.StatusServiceUnavailable || !strings.Contains(get.Body.String(), CodeBusy) {
		t.Errorf("GET /v1/audit/verify while a job runs: %d %s, want 503 %s", get.Code, get.Body, CodeBusy)
	}

	s.Close()
	got, ok := s.jobs.get(first.ID)
	if !ok || got.State != JobFailed || !strings.Contains(got.Error, "shut down") || got.Report != nil || got.EndedAt == "" {
		t.Errorf("job after Close: %+v, want failed, saying the server shut down", got)
	}
	if after := call(t, s, http.MethodPost, "/v1/audit/verify", "tok-kim", ""); after.Code != http.StatusServiceUnavailable {
		t.Errorf("POST after Close: %d %s, want 503", after.Code, after.Body)
	}

	// A GET audit holds the semaphore: a POST starts nothing.
	s2 := jobServer(t)
	s2.verify <- struct{}{}
	if busy := call(t, s2, http.MethodPost, "/v1/audit/verify", "tok-kim", ""); busy.Code != http.StatusServiceUnavailable || !strings.Contains(busy.Body.String(), CodeBusy) {
		t.Errorf("POST while a GET audit runs: %d %s, want 503 %s", busy.Code, busy.Body, CodeBusy)
	}
	if jobs := s2.jobs.list(); len(jobs) != 0 {
		t.Errorf("a refused POST kept a job: %+v", jobs)
	}
	<-s2.verify
}

// TestVerifyJobProgress: a job's progress as the log is read, then its
// comparison.
func TestVerifyJobProgress(t *testing.T) {
	for _, tc := range []struct {
		read, last uint64
		elapsed    time.Duration
		want       VerifyProgress
	}{
		{0, 0, 0, VerifyProgress{Phase: PhaseComparing}},
		{0, 1000, time.Second, VerifyProgress{Phase: PhaseReading, Last: 1000}},
		{250, 1000, time.Second, VerifyProgress{Phase: PhaseReading, Read: 250, Last: 1000, Percent: 25, EventsPerS: 250, ETASeconds: 3}},
		{999, 1000, 3 * time.Second, VerifyProgress{Phase: PhaseReading, Read: 999, Last: 1000, Percent: 99, EventsPerS: 333, ETASeconds: 1}},
		{1000, 1000, 4 * time.Second, VerifyProgress{Phase: PhaseComparing, Read: 1000, Last: 1000, Percent: 100, EventsPerS: 250}},
	} {
		if got := progressOf(tc.read, tc.last, tc.elapsed); got != tc.want {
			t.Errorf("progressOf(%d, %d, %s) = %+v, want %+v", tc.read, tc.last, tc.elapsed, got, tc.want)
		}
	}
}

// TestVerifyJobsKeepTheLast: the jobs kept are the last MaxVerifyJobs,
// newest first; an older one is no longer found; none is added once the
// jobs are closed.
func TestVerifyJobsKeepTheLast(t *testing.T) {
	js := newVerifyJobs()
	for i := range MaxVerifyJobs + 5 {
		if !js.add(&VerifyJob{ID: fmt.Sprintf("job-%d", i), State: JobDone}) {
			t.Fatalf("job %d refused before close", i)
		}
		js.wg.Done() // no goroutine runs these
	}
	list := js.list()
	if len(list) != MaxVerifyJobs || list[0].ID != fmt.Sprintf("job-%d", MaxVerifyJobs+4) || list[len(list)-1].ID != "job-5" {
		t.Errorf("jobs kept: %d, newest %s, oldest %s; want %d, job-%d to job-5", len(list), list[0].ID, list[len(list)-1].ID, MaxVerifyJobs, MaxVerifyJobs+4)
	}
	if _, ok := js.get("job-4"); ok {
		t.Error("job-4, beyond the last 20, is still found")
	}
	js.close()
	if js.add(&VerifyJob{ID: "late"}) {
		t.Error("a job was added after close")
	}
}
