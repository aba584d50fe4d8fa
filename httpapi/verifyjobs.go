package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections/audit"
)

// An audit of a long log takes minutes (at 1,000,000 events about three on
// two cores, issue 10): GET /v1/audit/verify holds its request that long.
// POST /v1/audit/verify starts the same audit as a job and answers at
// once; GET /v1/audit/verify/jobs/{id} says how far it is and, once it has
// ended, what it found. Jobs live in memory, the last MaxVerifyJobs of
// them, until ledgerd stops; one audit runs at a time, a job or a GET.

const (
	// MaxVerifyJobs is how many verify jobs, running or ended, are kept.
	MaxVerifyJobs = 20
	// VerifyJobTimeout bounds one verify job.
	VerifyJobTimeout = 2 * time.Hour
)

// States of a verify job. A job that is done has a report, whose ok says
// whether the log and the read model verified; a failed job could not run
// the audit (the stream or a file unreadable, ledgerd stopping) and says
// why in error.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Phases of a running verify job.
const (
	PhaseReading   = "reading"   // replaying the log, checking every event's hash and link
	PhaseComparing = "comparing" // comparing the replay with the read model, table by table
)

// VerifyJob is one audit run in the background, as GET
// /v1/audit/verify/jobs/{id} answers it.
type VerifyJob struct {
	ID        string              `json:"id"`
	State     string              `json:"state"`
	StartedBy string              `json:"started_by"`
	StartedAt string              `json:"started_at"`
	EndedAt   string              `json:"ended_at,omitempty"`
	Progress  VerifyProgress      `json:"progress"`
	Report    *audit.VerifyReport `json:"report,omitempty"`
	Error     string              `json:"error,omitempty"`
}

// VerifyProgress is how far a verify job has read the stream: up to stream
// sequence Read of Last (the stream's last when the job started), at
// EventsPerS since it started, ETASeconds more at that rate while reading.
type VerifyProgress struct {
	Phase      string `json:"phase,omitempty"`
	Read       uint64 `json:"read"`
	Last       uint64 `json:"last"`
	Percent    int    `json:"percent"`
	EventsPerS uint64 `json:"events_per_s"`
	ETASeconds uint64 `json:"eta_s"`
}

// verifyJobs are the server's jobs, newest last.
type verifyJobs struct {
	mu      sync.Mutex
	jobs    []*VerifyJob
	running *VerifyJob
	// ctx ends when the server closes, and with it every running job.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newVerifyJobs() *verifyJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &verifyJobs{ctx: ctx, cancel: cancel}
}

// get returns a copy of job id.
func (js *verifyJobs) get(id string) (VerifyJob, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.jobs {
		if j.ID == id {
			return *j, true
		}
	}
	return VerifyJob{}, false
}

// list returns copies of the jobs, newest first.
func (js *verifyJobs) list() []VerifyJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]VerifyJob, 0, len(js.jobs))
	for i := len(js.jobs) - 1; i >= 0; i-- {
		out = append(out, *js.jobs[i])
	}
	return out
}

// add keeps a new running job, to be run on a goroutine counted in wg,
// dropping the oldest ended ones over MaxVerifyJobs; false once the jobs
// are closed.
func (js *verifyJobs) add(j *VerifyJob) bool {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.ctx.Err() != nil {
		return false
	}
	js.wg.Add(1)
	js.jobs = append(js.jobs, j)
	js.running = j
	if n := len(js.jobs) - MaxVerifyJobs; n > 0 {
		js.jobs = append(js.jobs[:0:0], js.jobs[n:]...)
	}
	return true
}

// update changes job j under the lock.
func (js *verifyJobs) update(j *VerifyJob, f func(*VerifyJob)) {
	js.mu.Lock()
	defer js.mu.Unlock()
	f(j)
}

// close stops the running job, if any, and waits for it to end; no job is
// added after it.
func (js *verifyJobs) close() {
	js.mu.Lock()
	js.cancel()
	js.mu.Unlock()
	js.wg.Wait()
}

// Close stops a running verify job (it ends failed) and waits for it. The
// server answers no more jobs after it.
func (s *Server) Close() { s.jobs.close() }

// startVerifyJob answers POST /v1/audit/verify: 202 with a new job and
// its Location, or 200 with the job already running. While a GET
// /v1/audit/verify runs it answers 503 busy, as a second GET does.
func (s *Server) startVerifyJob(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	if _, err := decodeWrite(w, r, &struct{}{}, true, MaxBodyBytes); err != nil {
		return err
	}
	select {
	case s.verify <- struct{}{}:
	default:
		s.jobs.mu.Lock()
		running := s.jobs.running
		var j VerifyJob
		if running != nil {
			j = *running
		}
		s.jobs.mu.Unlock()
		if running == nil {
			return errorf(CodeBusy, "", "a verify is already running; retry when it ends")
		}
		w.Header().Set("Location", "/v1/audit/verify/jobs/"+j.ID)
		return writeJSON(w, http.StatusOK, j)
	}
	j := &VerifyJob{ID: uuid.NewString(), State: JobRunning, StartedBy: p.User, StartedAt: s.cfg.Now().UTC().Format(time.RFC3339),
		Progress: VerifyProgress{Phase: PhaseReading}}
	if !s.jobs.add(j) {
		<-s.verify
		return errorf(CodeUnavailable, "", "the server is stopping")
	}
	go s.runVerifyJob(j)
	w.Header().Set("Location", "/v1/audit/verify/jobs/"+j.ID)
	copied, _ := s.jobs.get(j.ID)
	return writeJSON(w, http.StatusAccepted, copied)
}

// runVerifyJob runs the audit of job j, which holds the verify semaphore,
// and keeps its progress and its outcome.
func (s *Server) runVerifyJob(j *VerifyJob) {
	defer s.jobs.wg.Done()
	defer func() { <-s.verify }()
	ctx, cancel := context.WithTimeout(s.jobs.ctx, VerifyJobTimeout)
	defer cancel()
	// The rate is of real time, whatever clock the server dates with.
	start := time.Now()
	ctx = eventlog.WithProgress(ctx, func(read, last uint64) {
		s.jobs.update(j, func(j *VerifyJob) { j.Progress = progressOf(read, last, time.Since(start)) })
	})
	_ = s.readYourWrites(ctx, s.cfg.Writer.Fund()) // as GET /v1/audit/verify
	rep, err := audit.Verify(ctx, s.cfg.Log, s.cfg.Store.Store, s.cfg.ScratchDir)
	if err == nil && rep.OK {
		for fund, h := range rep.Funds {
			s.metrics.Verified(fund, h.FundSeq)
		}
	}
	s.jobs.update(j, func(j *VerifyJob) {
		j.EndedAt = s.cfg.Now().UTC().Format(time.RFC3339)
		j.Progress.Phase, j.Progress.ETASeconds = "", 0
		switch {
		case errors.Is(err, context.Canceled) && s.jobs.ctx.Err() != nil:
			j.State, j.Error = JobFailed, "stopped: the server shut down before the audit ended"
		case err != nil:
			j.State, j.Error = JobFailed, err.Error()
		default:
			j.State, j.Report = JobDone, &rep
			j.Progress.Read, j.Progress.Percent = j.Progress.Last, 100
		}
	})
	s.jobs.mu.Lock()
	if s.jobs.running == j {
		s.jobs.running = nil
	}
	s.jobs.mu.Unlock()
}

// progressOf is the progress of a job that has read up to stream sequence
// read of last in elapsed: it compares the tables once it has read them
// all.
func progressOf(read, last uint64, elapsed time.Duration) VerifyProgress {
	p := VerifyProgress{Phase: PhaseReading, Read: read, Last: last}
	if last > 0 {
		p.Percent = int(min(read, last) * 100 / last)
	}
	if secs := elapsed.Seconds(); secs > 0 {
		p.EventsPerS = uint64(float64(read) / secs)
	}
	if p.EventsPerS > 0 && read < last {
		p.ETASeconds = (last - read + p.EventsPerS - 1) / p.EventsPerS
	}
	if read >= last {
		p.Phase = PhaseComparing
	}
	return p
}

// verifyJob answers GET /v1/audit/verify/jobs/{id}.
func (s *Server) verifyJob(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	id := r.PathValue("id")
	j, ok := s.jobs.get(id)
	if !ok {
		return errorf(CodeNotFound, "id", fmt.Sprintf("no verify job %q: jobs are kept in memory, the last %d, until ledgerd stops", trunc(id), MaxVerifyJobs))
	}
	return writeJSON(w, http.StatusOK, j)
}

// verifyJobList answers GET /v1/audit/verify/jobs: the jobs kept, newest
// first.
func (s *Server) verifyJobList(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	if _, herr := queryParams(r); herr != nil {
		return herr
	}
	return writeJSON(w, http.StatusOK, map[string][]VerifyJob{"jobs": s.jobs.list()})
}
