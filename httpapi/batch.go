package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/ledger"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// MaxBatchItems bounds the commands of one POST /v1/batch. It is the
// domain's limit (domain.MaxBatchCommands), checked here before any item is
// decoded.
const MaxBatchItems = domain.MaxBatchCommands

// batchRequest is the body of POST /v1/batch.
type batchRequest struct {
	Commands []batchItem `json:"commands"`
}

// batchItem is one command of a batch: the write endpoint it would be sent
// to on its own, and its body.
type batchItem struct {
	Path string          `json:"path"`
	Body json.RawMessage `json:"body"`
}

// batch answers POST /v1/batch: every item is decoded as its endpoint
// decodes it and must be one the token's role may call; the commands are
// then submitted as one domain.Batch, which the writer decides all or none
// and appends in one atomic append (a run of consecutive fund_seq). A
// refusal of one item answers that item's error, with its field prefixed
// "commands[i]" and its index (batchIndex).
func (s *Server) batch(routes []writeRoute) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		info(r).batch = true
		var req batchRequest
		body, err := decodeWrite(w, r, &req, false, MaxBatchBodyBytes)
		if err != nil {
			return err
		}
		if len(req.Commands) > MaxBatchItems {
			return domain.Codes.New(domain.CodeBatchTooLarge, "commands",
				fmt.Sprintf("a batch holds at most %d commands, not %d", MaxBatchItems, len(req.Commands)))
		}
		cmds := make([]domain.Command, 0, len(req.Commands))
		for i, it := range req.Commands {
			cmd, herr := decodeBatchItem(i, it, p, routes)
			if herr != nil {
				return herr
			}
			cmds = append(cmds, cmd)
		}
		res, status, err := s.submit(w, r, p, &domain.Batch{Commands: cmds}, body)
		if err != nil {
			return err
		}
		return writeJSON(w, status, res)
	}
}

// decodeBatchItem finds the write endpoint of item i, checks that the role
// may call it and decodes its body into the endpoint's command.
func decodeBatchItem(i int, it batchItem, p access.Principal, routes []writeRoute) (domain.Command, *errs.Error) {
	if it.Path == "" {
		return nil, itemError(i, it.Path, errorf(CodeInvalidBatchItem, "path", "path is required: the write endpoint of the command, such as /v1/contributions"))
	}
	if it.Path == batchPath {
		return nil, itemError(i, it.Path, errorf(CodeInvalidBatchItem, "path", "a batch cannot hold another batch"))
	}
	for _, wr := range routes {
		vals, ok := wr.match(it.Path)
		if !ok {
			continue
		}
		if !allowed(p.Role, wr.roles) {
			return nil, itemError(i, it.Path, errorf(CodeForbidden, "path", fmt.Sprintf("role %s may not POST %s", p.Role, trunc(it.Path))))
		}
		cmd := wr.newCmd(func(name string) string { return vals[name] })
		raw := bytes.TrimSpace(it.Body)
		if wr.emptyOK && (len(raw) == 0 || string(raw) == "null") {
			raw = []byte("{}")
		}
		if err := decodeCommand(raw, cmd); err != nil {
			return nil, itemError(i, it.Path, err)
		}
		return cmd, nil
	}
	return nil, itemError(i, it.Path, errorf(CodeInvalidBatchItem, "path", fmt.Sprintf("%q is not a write endpoint", trunc(it.Path))))
}

// itemError makes e the error of item i of a batch.
func itemError(i int, path string, e *errs.Error) *errs.Error {
	out := *e
	out.Field = fmt.Sprintf("commands[%d]", i)
	if e.Field != "" {
		out.Field += "." + e.Field
	}
	where := "command " + strconv.Itoa(i) + " of the batch"
	if path != "" {
		where += " (" + trunc(path) + ")"
	}
	out.Message = where + ": " + e.Message
	return &out
}

var itemField = regexp.MustCompile(`^commands\[([0-9]+)\]`)

// batchIndex is the index of the item of a batch that an error's field names
// ("commands[2].amount", as itemError, domain.Batch refusals and the decoder
// name them), or nil.
func batchIndex(field string) *int {
	m := itemField.FindStringSubmatch(field)
	if m == nil {
		return nil
	}
	i, err := strconv.Atoi(m[1])
	if err != nil {
		return nil
	}
	return &i
}

// closeAnswer is the answer to POST /v1/terms/{id}/close: the events
// appended and what the term_closed event records of the close — the
// unallocated balance disposed of, carried over to the next term and/or
// refunded to the donors (money earmarked to a line without a cluster is
// refunded even on a carry-over), and the approved allocations that keep
// their unspent money.
type closeAnswer struct {
	ledger.Result
	TermID          string                  `json:"term_id"`
	ClosedOn        string                  `json:"closed_on"`
	Disposition     events.Disposition      `json:"disposition"`
	Unallocated     money.Amount            `json:"unallocated"`
	CarriedOver     *money.Amount           `json:"carried_over,omitempty"`
	Refunded        *money.Amount           `json:"refunded,omitempty"`
	AllocationsKept []events.KeptAllocation `json:"allocations_kept"`
}

// closeAnswerOf reads back the term_closed event of a close, the last event
// of its command, from the log: a replayed close answers the same.
func (s *Server) closeAnswerOf(ctx context.Context, res ledger.Result) (any, error) {
	if len(res.Events) == 0 || res.Events[len(res.Events)-1].Type != events.TypeTermClosed {
		return nil, fmt.Errorf("close answer: the command's last event is not %s: %v", events.TypeTermClosed, res.Events)
	}
	ref := res.Events[len(res.Events)-1]
	e, err := s.readEvent(ctx, res.StreamSeq, ref)
	if err != nil {
		return nil, fmt.Errorf("close answer: %w", err)
	}
	pl, err := e.Payload()
	if err != nil {
		return nil, fmt.Errorf("close answer: %w", err)
	}
	tc, ok := pl.(*events.TermClosed)
	if !ok {
		return nil, fmt.Errorf("close answer: event %s holds %T", e.ID, pl)
	}
	a := closeAnswer{Result: res, TermID: tc.TermID, ClosedOn: tc.ClosedOn, Disposition: tc.Disposition,
		Unallocated: tc.Unallocated, AllocationsKept: tc.AllocationsKept}
	if a.AllocationsKept == nil {
		a.AllocationsKept = []events.KeptAllocation{}
	}
	if tc.Disposition.Kind == domain.DispositionCarryOver {
		a.CarriedOver = &tc.CarriedOver
	}
	if tc.Disposition.Kind == domain.DispositionRefund || tc.Refunded.Minor != 0 {
		a.Refunded = &tc.Refunded
	}
	return a, nil
}

// readEvent reads the event at a stream sequence and checks that it is the
// one ref names.
func (s *Server) readEvent(ctx context.Context, streamSeq uint64, ref events.Ref) (events.Event, error) {
	m, err := s.cfg.Log.ReadMsg(ctx, streamSeq)
	if err != nil {
		return events.Event{}, fmt.Errorf("read event %s: %w", ref.ID, err)
	}
	e, err := events.Decode(m.Data)
	if err != nil {
		return events.Event{}, fmt.Errorf("read event %s at stream seq %d: %w", ref.ID, streamSeq, err)
	}
	if e.ID != ref.ID || e.Hash != ref.Hash {
		return events.Event{}, fmt.Errorf("stream seq %d holds event %s, not %s", streamSeq, e.ID, ref.ID)
	}
	return e, nil
}
