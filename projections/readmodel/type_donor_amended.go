package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for donor_amended events (see readFold).
var _ = addFold(events.TypeDonorAmended, foldOf(foldDonorAmended, nil))

func foldDonorAmended(ctx context.Context, a *applier, e events.Event, p *events.DonorAmended) error {
	// The donor must be registered before: the select inserts nothing
	// otherwise, which execOne reports.
	return a.execOne(ctx, "amend donor "+p.DonorID,
		`INSERT INTO donor_amendments (fund, fund_seq, donor_id, effective_on, name, kind, country, city, reason)
		 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM donors WHERE fund = ?1 AND donor_id = ?3)`,
		e.Fund, int64(e.FundSeq), p.DonorID, e.EffectiveOn, p.Name, p.Kind, p.Country, p.City, p.Reason)
}
