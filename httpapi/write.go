package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// writeRoute is one write endpoint: its path pattern (segments in braces
// are taken from the path), the roles that may call it besides admin, and
// the command its body decodes into.
type writeRoute struct {
	pattern string
	roles   []string
	// newCmd returns an empty command, with the ids the path carries
	// (pathValue("id")) already set.
	newCmd func(pathValue func(string) string) domain.Command
	// emptyOK lets an empty body stand for {} (an approval, approved today).
	emptyOK bool
}

// writeRoutes is every write endpoint but POST /v1/batch, which takes a
// list of them. Roles follow docs/DESIGN.md's Access: the officer records
// (and amends) donors, pledges, receipts, budget lines, proposals, expenditures,
// interest, refunds and reversals; the approver opens and closes terms,
// approves allocations and reverses in closed terms (the domain judges
// that one by Meta.Role); both keep the cluster registry.
func writeRoutes() []writeRoute {
	officer := []string{access.RoleOfficer}
	approver := []string{access.RoleApprover}
	both := []string{access.RoleOfficer, access.RoleApprover}
	return []writeRoute{
		{pattern: "/v1/terms", roles: approver, newCmd: func(func(string) string) domain.Command { return &domain.OpenTerm{} }},
		{pattern: "/v1/terms/{id}/close", roles: approver, newCmd: func(pv func(string) string) domain.Command { return &domain.CloseTerm{ID: pv("id")} }},
		{pattern: "/v1/donors", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RegisterDonor{} }},
		{pattern: "/v1/donors/{id}/amend", roles: officer, newCmd: func(pv func(string) string) domain.Command { return &domain.AmendDonor{ID: pv("id")} }},
		{pattern: "/v1/pledges", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RecordPledge{} }},
		{pattern: "/v1/pledges/{id}/amend", roles: officer, newCmd: func(pv func(string) string) domain.Command { return &domain.AmendPledge{ID: pv("id")} }},
		{pattern: "/v1/pledges/{id}/cancel", roles: officer, newCmd: func(pv func(string) string) domain.Command { return &domain.CancelPledge{ID: pv("id")} }},
		{pattern: "/v1/contributions", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RecordContribution{} }},
		{pattern: "/v1/budget-lines", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.AddBudgetLine{} }},
		{pattern: "/v1/allocations", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.ProposeAllocation{} }},
		{pattern: "/v1/allocations/{id}/approve", roles: approver, emptyOK: true, newCmd: func(pv func(string) string) domain.Command { return &domain.ApproveAllocation{ID: pv("id")} }},
		{pattern: "/v1/expenditures", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RecordExpenditure{} }},
		{pattern: "/v1/interest", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RecordInterest{} }},
		{pattern: "/v1/refunds", roles: officer, newCmd: func(func(string) string) domain.Command { return &domain.RecordRefund{} }},
		{pattern: "/v1/reversals", roles: both, newCmd: func(func(string) string) domain.Command { return &domain.ReverseEvent{} }},
		{pattern: "/v1/cities", roles: both, newCmd: func(func(string) string) domain.Command { return &domain.RegisterCity{} }},
		{pattern: "/v1/clusters", roles: both, newCmd: func(func(string) string) domain.Command { return &domain.RegisterCluster{} }},
		{pattern: "/v1/clusters/{id}/coordinators", roles: both, newCmd: func(pv func(string) string) domain.Command { return &domain.AppointCoordinator{ClusterID: pv("id")} }},
		{pattern: "/v1/clusters/{id}/members", roles: both, newCmd: func(pv func(string) string) domain.Command { return &domain.JoinCluster{ClusterID: pv("id")} }},
	}
}

// match reports whether path is of the route's pattern, and returns the
// values of its {name} segments. A {name} segment matches one non-empty
// segment; the rest must be equal.
func (wr writeRoute) match(path string) (map[string]string, bool) {
	ps, ss := strings.Split(wr.pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(ss) {
		return nil, false
	}
	var vals map[string]string
	for i, p := range ps {
		if name, ok := strings.CutPrefix(p, "{"); ok {
			if ss[i] == "" {
				return nil, false
			}
			if vals == nil {
				vals = map[string]string{}
			}
			vals[strings.TrimSuffix(name, "}")] = ss[i]
			continue
		}
		if p != ss[i] {
			return nil, false
		}
	}
	return vals, true
}

// decodeWrite reads a write request's body (at most limit bytes), decodes
// it into v (a command, or a batch) and returns the body as read, for the
// command hash.
func decodeWrite(w http.ResponseWriter, r *http.Request, v any, emptyOK bool, limit int64) ([]byte, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	body, herr := readBody(w, r, limit)
	if herr != nil {
		return nil, herr
	}
	if emptyOK && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := decodeCommand(body, v); err != nil {
		return nil, err
	}
	return body, nil
}

// write returns the endpoint of one command: decode the body strictly, take
// the Idempotency-Key (or make a command id), submit to the writer and answer
// 201 with the events appended, or 200 with the original answer when the
// same key and body come again. answer, when not nil, builds the body of the
// answer from the writer's result (the close of a term adds what its
// term_closed event says).
func (s *Server) write(wr writeRoute, answer func(context.Context, ledger.Result) (any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		cmd := wr.newCmd(r.PathValue)
		body, err := decodeWrite(w, r, cmd, wr.emptyOK, MaxBodyBytes)
		if err != nil {
			return err
		}
		res, status, err := s.submit(w, r, p, cmd, body)
		if err != nil {
			return err
		}
		if answer == nil {
			return writeJSON(w, status, res)
		}
		v, err := answer(r.Context(), res)
		if err != nil {
			return err
		}
		return writeJSON(w, status, v)
	}
}

// submit takes the request's Idempotency-Key (or makes a command id), sets
// the command's Meta and submits it to the writer. It answers the result
// and its status: 201 for a new command, 200 for one seen before.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, p access.Principal, cmd domain.Command, body []byte) (ledger.Result, int, error) {
	key, herr := idempotencyKey(r)
	if herr != nil {
		return ledger.Result{}, 0, herr
	}
	// A command decided against a log with an event the projector cannot
	// get past would build on books that do not add up: refuse until the
	// event is dealt with (projector verify names it).
	if err := s.logFault(); err != nil {
		return ledger.Result{}, 0, errorf(CodeUnavailable, "", "writes are refused: "+err.Error()+"; run projector verify")
	}
	// While the NATS connection is down, a command would wait for an
	// append timeout: answer at once instead, nothing recorded.
	if err := s.cfg.Log.Connected(); err != nil {
		s.metrics.CountCommand("refused", 0)
		return ledger.Result{}, 0, errorf(CodeUnavailable, "", "writes are refused: the event log is unreachable ("+err.Error()+"); nothing was recorded: retry later with the same Idempotency-Key")
	}
	// The path is part of the hash: the same body sent to another
	// endpoint (or approving another allocation) is another command.
	hash, err := ledger.CommandHash(r.URL.Path, body)
	if err != nil {
		return ledger.Result{}, 0, err
	}
	// The role goes along for the one rule Decide judges by role: a
	// closed term takes reversals from an approver alone.
	domain.SetMeta(cmd, domain.Meta{Actor: p.User, Today: s.cfg.Writer.Today(), Role: p.Role.Name})
	// A client that did not send a key learns the one made for it, so
	// that it can ask again after a lost answer.
	w.Header().Set("Idempotency-Key", key)
	ctx, cancel := context.WithTimeout(r.Context(), WriteTimeout)
	defer cancel()
	res, err := s.cfg.Writer.Submit(ctx, ledger.Request{CommandID: key, CommandHash: hash, Command: cmd})
	if err != nil {
		s.metrics.CountCommand("refused", 0)
		s.noteWrite(err)
		return ledger.Result{}, 0, submitError(err, key)
	}
	s.noteWrite(nil)
	if res.Replayed {
		s.metrics.CountCommand("replayed", 0)
		return res, http.StatusOK, nil
	}
	s.metrics.CountCommand("created", len(res.Events))
	return res, http.StatusCreated, nil
}

// submitError maps what Writer.Submit refused with to an answer.
func submitError(err error, key string) error {
	var de *errs.Error
	switch {
	case errors.Is(err, ledger.ErrLogUnavailable):
		// Checked first: an event of the log that fails to apply may carry
		// a domain error, which is no fault of this command.
		return errorf(CodeUnavailable, "", "the writer cannot read the event log to catch up with other writers; nothing was recorded: retry later with the same Idempotency-Key")
	case errors.Is(err, eventlog.ErrUnavailable) && !errors.Is(err, eventlog.ErrUnknownOutcome):
		return errorf(CodeUnavailable, "", "the event log is unavailable: "+err.Error()+"; nothing was recorded: retry later with the same Idempotency-Key")
	case errors.As(err, &de):
		return de
	case errors.Is(err, ledger.ErrIdempotencyKeyReused):
		return errorf(CodeIdempotencyKeyReused, "", fmt.Sprintf("Idempotency-Key %q was used before with a different request; use a new key for a new command", key))
	case errors.Is(err, ledger.ErrBusy):
		return errorf(CodeBusy, "", "the writer's queue is full; retry later with the same Idempotency-Key")
	case errors.Is(err, ledger.ErrClosed):
		return errorf(CodeUnavailable, "", "the writer is shutting down; retry later with the same Idempotency-Key")
	case errors.Is(err, eventlog.ErrUnknownOutcome), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errorf(CodeUnavailable, "", fmt.Sprintf("no answer from the writer in time; the command may still be recorded: send it again with Idempotency-Key %q to learn its outcome", key))
	}
	return err
}

// idempotencyKey returns the request's Idempotency-Key, or a new command id
// when it has none.
func idempotencyKey(r *http.Request) (string, *errs.Error) {
	vs := r.Header.Values("Idempotency-Key")
	if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
		return ledger.NewCommandID(), nil
	}
	if len(vs) > 1 {
		return "", errorf(CodeInvalidIdempotencyKey, "Idempotency-Key", "send one Idempotency-Key header")
	}
	k := vs[0]
	if len(k) > ledger.MaxCommandIDLen {
		return "", errorf(CodeInvalidIdempotencyKey, "Idempotency-Key", fmt.Sprintf("the Idempotency-Key is %d bytes, at most %d", len(k), ledger.MaxCommandIDLen))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", errorf(CodeInvalidIdempotencyKey, "Idempotency-Key", "the Idempotency-Key must be printable ASCII")
		}
	}
	return k, nil
}

// WritePatterns returns the path patterns of the write endpoints, POST
// /v1/batch last, in the order of the route table ("/v1/pledges/{id}/amend").
func WritePatterns() []string {
	var out []string
	for _, wr := range writeRoutes() {
		out = append(out, wr.pattern)
	}
	return append(out, batchPath)
}

// WriteFaultWindow is how long GET /readyz reports a write that failed
// because the log was unavailable (out of storage, no stream leader) while
// no write has succeeded since: long enough for a probe to see it, short
// enough that readiness comes back once the cause is gone even when a load
// balancer sends no writes to a server it thinks is not ready.
const WriteFaultWindow = time.Minute

// writeFault is the last write that failed for the log's sake.
type writeFault struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

// noteWrite records the outcome of a submitted command: a failure of the
// log is kept for /readyz, a success clears it.
func (s *Server) noteWrite(err error) {
	s.lastFault.mu.Lock()
	defer s.lastFault.mu.Unlock()
	switch {
	case err == nil:
		s.lastFault.err = nil
	case errors.Is(err, eventlog.ErrUnavailable), errors.Is(err, eventlog.ErrUnknownOutcome):
		s.lastFault.err, s.lastFault.at = err, s.cfg.Now()
	}
}

// recentWriteFault is the last write failure of the log within
// WriteFaultWindow with no success since, or nil.
func (s *Server) recentWriteFault() error {
	s.lastFault.mu.Lock()
	defer s.lastFault.mu.Unlock()
	if s.lastFault.err == nil || s.cfg.Now().Sub(s.lastFault.at) > WriteFaultWindow {
		return nil
	}
	return fmt.Errorf("the last write failed: %w", s.lastFault.err)
}
