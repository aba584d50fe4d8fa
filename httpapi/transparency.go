package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/unesco-uil/mdfm-ledger/httpapi/access"
	"github.com/unesco-uil/mdfm-ledger/projections/donors"
	"github.com/unesco-uil/mdfm-ledger/statement"
	"github.com/unesco-uil/mdfm-ledger/tlog"
)

// CheckpointWait bounds how long a statement waits for the checkpoint of
// its fund_seq: the tree follows the log and signs at most once a second.
const CheckpointWait = 3 * time.Second

// transparencyRoutes adds the transparency log's endpoints (issue 11): any
// signed-in role reads checkpoints and consistency proofs; a donor:<id>
// token reads inclusion proofs and bundles of its own donor's events only.
func (s *Server) transparencyRoutes(table map[string]route) {
	all := []string{access.RoleOfficer, access.RoleApprover, access.RoleAuditor, access.RoleDonor}
	table["/v1/checkpoint"] = route{http.MethodGet: {roles: all, h: s.checkpoint}}
	table["/v1/proofs/inclusion"] = route{http.MethodGet: {roles: all, h: s.inclusionProof}}
	table["/v1/proofs/consistency"] = route{http.MethodGet: {roles: all, h: s.consistencyProof}}
	table["/v1/donors/{id}/proof"] = route{http.MethodGet: {roles: all, h: s.donorProof}}
}

// tlogError turns the tree store's refusals into answers.
func tlogError(err error, code string) error {
	if errors.Is(err, tlog.ErrNotFound) {
		return errorf(code, "", err.Error())
	}
	return err
}

func (s *Server) tree() (*tlog.Store, error) {
	if s.cfg.TLog == nil {
		return nil, errorf(CodeNoCheckpoint, "", "this server keeps no transparency log")
	}
	return s.cfg.TLog, nil
}

// checkpoint answers GET /v1/checkpoint?fund=&size= with the latest signed
// checkpoint of the fund's tree, or the one of size leaves: text/plain,
// exactly the signed note's bytes.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, herr := queryParams(r, "fund", "size")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	size, herr := uintParam(q, "size", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	t, err := s.tree()
	if err != nil {
		return err
	}
	_, msg, err := t.Checkpoint(r.Context(), fund, size)
	if err != nil {
		return tlogError(err, CodeNoCheckpoint)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(msg)
	return nil
}

// inclusionAnswer is the answer of GET /v1/proofs/inclusion.
type inclusionAnswer struct {
	Fund      string   `json:"fund"`
	FundSeq   uint64   `json:"fund_seq"`
	LeafIndex uint64   `json:"leaf_index"`
	Size      uint64   `json:"size"`
	Event     string   `json:"event"`     // base64 of the event's stored bytes: the leaf
	LeafHash  string   `json:"leaf_hash"` // base64, SHA-256(0x00 ‖ event)
	Proof     []string `json:"proof"`     // base64 hashes, leaf to root
}

// inclusionProof answers GET /v1/proofs/inclusion?fund=&fund_seq=&size=
// with the audit path of the event at fund_seq in the tree of size leaves
// (default: the latest checkpoint's size). A donor:<id> token gets proofs
// of its own donor's events only.
func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	q, herr := queryParams(r, "fund", "fund_seq", "size")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	if q["fund_seq"] == "" {
		return errorf(CodeInvalidQuery, "fund_seq", "fund_seq is required")
	}
	seq, herr := uintParam(q, "fund_seq", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	size, herr := uintParam(q, "size", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	t, err := s.tree()
	if err != nil {
		return err
	}
	leaf, donor, err := t.Leaf(r.Context(), fund, seq)
	if err != nil {
		return tlogError(err, CodeNotInLog)
	}
	if p.Role.Name == access.RoleDonor && p.Role.DonorID != donor {
		return errorf(CodeForbidden, "fund_seq", fmt.Sprintf("role %s reads proofs of its own events only", p.Role))
	}
	if size == 0 {
		if size, _, err = t.Checkpoint(r.Context(), fund, 0); err != nil {
			return tlogError(err, CodeNoCheckpoint)
		}
	}
	hashes, err := t.InclusionProof(r.Context(), fund, seq, size)
	if err != nil {
		return tlogError(err, CodeNotInLog)
	}
	return writeJSON(w, http.StatusOK, inclusionAnswer{Fund: fund, FundSeq: seq, LeafIndex: seq - 1, Size: size,
		Event: b64(leaf), LeafHash: b64(tlog.LeafHash(leaf)), Proof: b64s(hashes)})
}

// consistencyAnswer is the answer of GET /v1/proofs/consistency: what
// projector verify-consistency --proof reads.
type consistencyAnswer struct {
	Fund  string   `json:"fund"`
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"` // base64 hashes
}

// consistencyProof answers GET /v1/proofs/consistency?fund=&from=&to= with
// the proof that the tree of size to (default: the latest checkpoint's)
// extends the tree of size from.
func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request, _ access.Principal) error {
	q, herr := queryParams(r, "fund", "from", "to")
	if herr != nil {
		return herr
	}
	fund, herr := s.fundParam(q)
	if herr != nil {
		return herr
	}
	if q["from"] == "" {
		return errorf(CodeInvalidQuery, "from", "from is required")
	}
	from, herr := uintParam(q, "from", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	to, herr := uintParam(q, "to", 0, 1, 1<<62)
	if herr != nil {
		return herr
	}
	t, err := s.tree()
	if err != nil {
		return err
	}
	if to == 0 {
		if to, _, err = t.Checkpoint(r.Context(), fund, 0); err != nil {
			return tlogError(err, CodeNoCheckpoint)
		}
	}
	if from > to {
		return errorf(CodeInvalidQuery, "from", fmt.Sprintf("from %d is after to %d", from, to))
	}
	hashes, err := t.ConsistencyProof(r.Context(), fund, from, to)
	if err != nil {
		return tlogError(err, CodeNotInLog)
	}
	return writeJSON(w, http.StatusOK, consistencyAnswer{Fund: fund, From: from, To: to, Proof: b64s(hashes)})
}

// donorProof answers GET /v1/donors/{id}/proof?fund=&term=&as_of= with the
// donor's bundle (tlog.Bundle) against the latest signed checkpoint: its
// events of the term dated by as_of (default today) with their inclusion
// proofs, the totals they give and the statement's totals at the
// checkpoint's size. A donor:<id> token reads its own bundle only.
func (s *Server) donorProof(w http.ResponseWriter, r *http.Request, p access.Principal) error {
	donor := r.PathValue("id")
	if p.Role.Name == access.RoleDonor && p.Role.DonorID != donor {
		return errorf(CodeForbidden, "", fmt.Sprintf("role %s reads its own proof bundle only, not donor %q's", p.Role, trunc(donor)))
	}
	rq, _, err := s.readReportQuery(r, "fund", "term", "as_of")
	if err != nil {
		return err
	}
	t, err := s.tree()
	if err != nil {
		return err
	}
	size, _, err := t.Checkpoint(r.Context(), rq.fund, 0)
	if err != nil {
		return tlogError(err, CodeNoCheckpoint)
	}
	st, err := s.statements.Statement(r.Context(), s.cfg.Store, donors.StatementQuery{Fund: rq.fund, Donor: donor, Term: rq.term, AsOf: rq.asOf, AtSeq: size})
	if err != nil {
		return statementError(err)
	}
	b, err := t.BuildBundle(r.Context(), rq.fund, donor, st.Term.ID, st.AsOf)
	if err != nil {
		return tlogError(err, CodeNoCheckpoint)
	}
	b.Statement = tlog.Totals{ReceivedUSD: st.Received.TotalUSD, FeesUSD: st.Received.FeesUSD, RefundedUSD: st.Refunds.TotalUSD}
	return writeJSON(w, http.StatusOK, b)
}

// statementCheckpoint names, on a statement, the signed checkpoint of the
// tree of its fund_seq: it waits up to CheckpointWait for the tree to sign
// it, and names none when no checkpoint of that size was signed (a past
// at_seq between two checkpoints, or a server that signs none).
func (s *Server) statementCheckpoint(ctx context.Context, st *statement.Statement) error {
	if s.cfg.TLog == nil || st.FundSeq == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, CheckpointWait)
	defer cancel()
	for {
		_, msg, err := s.cfg.TLog.Checkpoint(ctx, st.Fund, st.FundSeq)
		if err == nil {
			cp, err := tlog.ParseCheckpoint(msg)
			if err != nil {
				return err
			}
			st.Checkpoint = &statement.Checkpoint{Origin: cp.Origin, Size: cp.Size, Root: b64(cp.Hash), KeyName: cp.KeyName}
			return nil
		}
		if !errors.Is(err, tlog.ErrNotFound) {
			return err
		}
		if h, herr := s.cfg.TLog.Head(ctx, st.Fund); herr == nil && h.Size > st.FundSeq {
			return nil // the tree went past it without a checkpoint there
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}
