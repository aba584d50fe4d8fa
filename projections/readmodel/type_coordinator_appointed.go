package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for coordinator_appointed events (see readFold).
var _ = addFold(events.TypeCoordinatorAppointed, foldOf(foldCoordinator, nil))

func foldCoordinator(ctx context.Context, a *applier, e events.Event, p *events.CoordinatorAppointed) error {
	if err := a.checkParticipation(ctx, e.Fund, p.ClusterID, p.CityID, p.TermID); err != nil {
		return err
	}
	_, err := a.exec(ctx, `INSERT INTO coordinators (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	if err == nil {
		// A coordinator is a member too; it may have joined before.
		_, err = a.exec(ctx, `INSERT INTO members (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (fund, cluster_id, term_id, city_id) DO NOTHING`,
			e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	}
	return written(e, err)
}
