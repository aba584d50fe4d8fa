package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for member_joined events (see readFold).
var _ = addFold(events.TypeMemberJoined, foldOf(foldMember, nil))

func foldMember(ctx context.Context, a *applier, e events.Event, p *events.MemberJoined) error {
	if err := a.checkParticipation(ctx, e.Fund, p.ClusterID, p.CityID, p.TermID); err != nil {
		return err
	}
	_, err := a.exec(ctx, `INSERT INTO members (fund, cluster_id, term_id, city_id, fund_seq) VALUES (?, ?, ?, ?, ?)`,
		e.Fund, p.ClusterID, p.TermID, p.CityID, int64(e.FundSeq))
	return written(e, err)
}
