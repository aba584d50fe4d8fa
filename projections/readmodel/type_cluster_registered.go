package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for cluster_registered events (see readFold).
var _ = addFold(events.TypeClusterRegistered, foldOf(foldCluster, nil))

func foldCluster(ctx context.Context, a *applier, e events.Event, p *events.ClusterRegistered) error {
	_, err := a.exec(ctx, `INSERT INTO clusters (fund, cluster_id, name, technical_partner, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.Name, p.TechnicalPartner, int64(e.FundSeq))
	return written(e, err)
}
