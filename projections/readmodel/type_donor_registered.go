package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for donor_registered events (see readFold).
var _ = addFold(events.TypeDonorRegistered, foldOf(foldDonorRegistered, nil))

func foldDonorRegistered(ctx context.Context, a *applier, e events.Event, p *events.DonorRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO donors (fund, donor_id, name, kind, country, city, fund_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.DonorID, p.Name, p.Kind, p.Country, p.City, int64(e.FundSeq))
	return written(e, err)
}
