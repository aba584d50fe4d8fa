package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi"
	"github.com/unesco-uil/mdfm-ledger/internal/testwait"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// TestAuditVerifyWhileWriting asks GET /v1/audit/verify of a real ledgerd
// again and again while officers post receipts without pause (issue 8,
// item 9: an auditor checking during office hours was told the books did
// not verify). Every answer must be ok, and enough of them must have run
// while the log moved; then a row altered in the read model under the same
// load is named.
func TestAuditVerifyWhileWriting(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, fixedNow, "--data", data, "--tokens", writeTestTokens(t))
	setUpScenario(t, d)

	const writers = 3
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"id":"load-%d-%d","donor_id":"d-usd","term_id":"2020-2021","amount":{"amount":"1.00","currency":"USD"},"received_on":"2021-04-01"}`, g, i)
				if a := d.do(t, request{method: "POST", path: "/v1/contributions", token: "tok-olu", body: body}); a.status != http.StatusCreated {
					t.Errorf("receipt under load: %s", a)
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	verify := func() audit.VerifyReport {
		t.Helper()
		a := d.do(t, request{method: "GET", path: "/v1/audit/verify", token: "tok-kim"})
		var rep audit.VerifyReport
		if a.status != http.StatusOK || json.Unmarshal(a.body, &rep) != nil {
			t.Fatalf("verify: %s", a)
		}
		return rep
	}
	// Audits count only when the log moved while they ran.
	const wantMoving, maxAudits = 10, 100
	moving := 0
	for audits := 0; moving < wantMoving; audits++ {
		if audits == maxAudits {
			t.Fatalf("only %d of %d audits ran while the log moved", moving, audits)
		}
		before := d.streamLastSeq(t)
		rep := verify()
		after := d.streamLastSeq(t)
		if !rep.OK {
			t.Fatalf("audit %d under load (stream %d → %d): %s", audits, before, after, rep.Failure)
		}
		if after > before {
			moving++
		}
	}

	// The first receipt's posting altered behind ledgerd's back.
	db, err := sql.Open("sqlite", filepath.Join(data, ReadModelFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.ExecContext(t.Context(), `UPDATE postings SET amount_minor = 1 WHERE fund = 'mdfm' AND fund_seq = 4 AND leg = 0`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		t.Fatalf("altered %d rows, want 1", n)
	}
	rep := verify()
	if f := rep.Failure; rep.OK || f == nil || f.Table != "postings" || f.FundSeq != 4 || !strings.Contains(f.Reason, "live 1") {
		t.Fatalf("verify of an altered posting under load: %+v, failure %+v", rep, f)
	}
}

// TestVerifyJob runs the audit as a job of a real ledgerd: POST
// /v1/audit/verify answers 202 at once with the job and its Location; the
// job, polled, ends done with the report GET /v1/audit/verify gives, its
// progress at the stream's end; GET /v1/audit/verify/jobs lists it. Every
// malformed request is refused with its code, and neither appends an event
// nor starts a job.
func TestVerifyJob(t *testing.T) {
	d := startDaemon(t, fixedNow, "--data", t.TempDir(), "--tokens", writeTestTokens(t))
	setUpScenario(t, d)
	var direct audit.VerifyReport
	d.get(t, "/v1/audit/verify", "tok-kim", &direct)

	before := d.streamLastSeq(t)
	for _, tc := range []struct {
		name string
		r    request
		code string
	}{
		{"an unknown query parameter", request{method: "POST", path: "/v1/audit/verify?fund=mdfm", token: "tok-kim"}, "invalid_query"},
		{"a body with a field", request{method: "POST", path: "/v1/audit/verify", token: "tok-kim", body: `{"scratch":"/tmp"}`}, "unknown_field"},
		{"a body that is not JSON", request{method: "POST", path: "/v1/audit/verify", token: "tok-kim", body: `verify please`}, "malformed_json"},
		{"a body too large", request{method: "POST", path: "/v1/audit/verify", token: "tok-kim", body: `{"x":"` + strings.Repeat("a", 70<<10) + `"}`}, "body_too_large"},
		{"another media type", request{method: "POST", path: "/v1/audit/verify", token: "tok-kim", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}}, "unsupported_media_type"},
		{"an officer", request{method: "POST", path: "/v1/audit/verify", token: "tok-olu"}, "forbidden"},
		{"no token", request{method: "POST", path: "/v1/audit/verify"}, "unauthorized"},
		{"an unknown job", request{method: "GET", path: "/v1/audit/verify/jobs/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", token: "tok-kim"}, "not_found"},
		{"the jobs with a query", request{method: "GET", path: "/v1/audit/verify/jobs?state=done", token: "tok-kim"}, "invalid_query"},
		{"another method", request{method: "DELETE", path: "/v1/audit/verify/jobs", token: "tok-kim"}, "method_not_allowed"},
	} {
		a := d.do(t, tc.r)
		if code, _ := a.errorOf(t); code != tc.code {
			t.Errorf("%s: %s, want %s", tc.name, a, tc.code)
		}
	}
	var none struct{ Jobs []json.RawMessage }
	d.get(t, "/v1/audit/verify/jobs", "tok-kim", &none)
	if after := d.streamLastSeq(t); after != before || len(none.Jobs) != 0 {
		t.Fatalf("refused requests: stream %d → %d, jobs %s", before, after, none.Jobs)
	}

	a := d.do(t, request{method: "POST", path: "/v1/audit/verify", token: "tok-kim"})
	var job httpapi.VerifyJob
	if a.status != http.StatusAccepted || json.Unmarshal(a.body, &job) != nil || a.header.Get("Location") != "/v1/audit/verify/jobs/"+job.ID {
		t.Fatalf("POST /v1/audit/verify: %s (Location %q), want 202 with the job", a, a.header.Get("Location"))
	}
	testwait.For(t, 60*time.Second, "the verify job to end", func() bool {
		d.get(t, a.header.Get("Location"), "tok-kim", &job)
		return job.State != httpapi.JobRunning
	})
	if job.State != httpapi.JobDone || job.Report == nil || !job.Report.OK || job.Error != "" || job.StartedBy != "kim" || job.EndedAt == "" {
		t.Fatalf("the job ended %+v, want done and ok", job)
	}
	if job.Report.Events != direct.Events || job.Report.ChainHead != direct.ChainHead || job.Report.FundSeq != direct.FundSeq {
		t.Errorf("the job's report: %d events, head %s at fund_seq %d; GET /v1/audit/verify: %d, %s at %d",
			job.Report.Events, job.Report.ChainHead, job.Report.FundSeq, direct.Events, direct.ChainHead, direct.FundSeq)
	}
	if p := job.Progress; p.Last != before || p.Read != p.Last || p.Percent != 100 || p.ETASeconds != 0 {
		t.Errorf("the ended job's progress: %+v, want all of the stream's %d", p, before)
	}
	var list struct{ Jobs []httpapi.VerifyJob }
	d.get(t, "/v1/audit/verify/jobs", "tok-kim", &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != job.ID || list.Jobs[0].State != httpapi.JobDone {
		t.Errorf("GET /v1/audit/verify/jobs: %+v, want the one job, done", list.Jobs)
	}
}
