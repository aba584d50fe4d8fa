package audit

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/projections/projector"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel"
)

// VerifyChain checks the log alone, as Verify's first stage does: every
// event from the first, its bytes canonical, its hash matching its content,
// its subject its fund's and type's, and its link to the one before in its
// fund. It opens no read model and replays nothing, and decodes on every
// core, so that it is much faster than Verify; whether the read model
// agrees with the log is Verify's to say (docs/operations.md). The first
// event that fails gives OK false at stage "chain". The error is for a
// check that could not run.
func VerifyChain(ctx context.Context, log *eventlog.Log) (VerifyReport, error) {
	rep := VerifyReport{Funds: map[string]readmodel.FundHead{}}
	last, err := log.LastStreamSeq(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	err = projector.ReadDecoded(ctx, log, 0, last, rep.chainCheck())
	if h, ok := rep.Funds[eventlog.DefaultFund]; ok {
		rep.FundSeq, rep.ChainHead = h.FundSeq, h.ChainHead
	}
	f, err := eventFailure(err)
	rep.Failure = f
	rep.OK = f == nil && err == nil
	return rep, err
}
