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
