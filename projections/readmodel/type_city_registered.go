package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for city_registered events (see readFold).
var _ = addFold(events.TypeCityRegistered, foldOf(foldCity, nil))

func foldCity(ctx context.Context, a *applier, e events.Event, p *events.CityRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO cities (fund, city_id, name, country, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.CityID, p.Name, p.Country, int64(e.FundSeq))
	return written(e, err)
}
