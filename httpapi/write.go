package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/ledger"
)

// The command each write endpoint decodes its body into.
func newOpenTerm(*http.Request) domain.Command           { return &domain.OpenTerm{} }
func newRegisterDonor(*http.Request) domain.Command      { return &domain.RegisterDonor{} }
func newRecordContribution(*http.Request) domain.Command { return &domain.RecordContribution{} }
func newAddBudgetLine(*http.Request) domain.Command      { return &domain.AddBudgetLine{} }
func newProposeAllocation(*http.Request) domain.Command  { return &domain.ProposeAllocation{} }
func newRecordExpenditure(*http.Request) domain.Command  { return &domain.RecordExpenditure{} }
func newApproveAllocation(r *http.Request) domain.Command {
	return &domain.ApproveAllocation{ID: r.PathValue("id")}
}

// write returns the endpoint of one command: decode the body strictly, take
// the Idempotency-Key (or make a command id), submit to the writer and answer
// 201 with the events appended, or 200 with the original answer when the
// same key and body come again. emptyOK lets an empty body stand for {}.
func (s *Server) write(newCmd func(*http.Request) domain.Command, emptyOK bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p Principal) error {
		if err := checkContentType(r); err != nil {
			return err
		}
		body, herr := readBody(w, r)
		if herr != nil {
			return herr
		}
		if emptyOK && len(bytes.TrimSpace(body)) == 0 {
			body = []byte("{}")
		}
		cmd := newCmd(r)
		if err := decodeCommand(body, cmd); err != nil {
			return err
		}
		key, herr := idempotencyKey(r)
		if herr != nil {
			return herr
		}
		// The path is part of the hash: the same body sent to another
		// endpoint (or approving another allocation) is another command.
		hash, err := ledger.CommandHash(r.URL.Path, body)
		if err != nil {
			return err
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
			s.metrics.command("refused", 0)
			return submitError(err, key)
		}
		status := http.StatusCreated
		if res.Replayed {
			status = http.StatusOK
			s.metrics.command("replayed", 0)
		} else {
			s.metrics.command("created", len(res.Events))
		}
		return writeJSON(w, status, res)
	}
}

// submitError maps what Writer.Submit refused with to an answer.
func submitError(err error, key string) error {
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		return fromDomain(de)
	case errors.Is(err, ledger.ErrIdempotencyKeyReused):
		return errorf(CodeIdempotencyKeyReused, "", fmt.Sprintf("Idempotency-Key %q was used before with a different request; use a new key for a new command", key))
	case errors.Is(err, ledger.ErrBusy):
		return errorf(CodeBusy, "", "the writer's queue is full; retry later with the same Idempotency-Key")
	case errors.Is(err, ledger.ErrClosed):
		return errorf(CodeUnavailable, "", "the writer is shutting down; retry later with the same Idempotency-Key")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errorf(CodeUnavailable, "", fmt.Sprintf("no answer from the writer in time; the command may still be recorded: send it again with Idempotency-Key %q to learn its outcome", key))
	}
	return err
}

// idempotencyKey returns the request's Idempotency-Key, or a new command id
// when it has none.
func idempotencyKey(r *http.Request) (string, *Error) {
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
