package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
)

// JoinCluster makes a city a member of a cluster for a term.
type JoinCluster struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (c *JoinCluster) decide(s *State) ([]events.Event, error) { return joinCluster(s, c) }

func joinCluster(s *State, c *JoinCluster) ([]events.Event, error) {
	cl, ct, t, err := participation(s, c.ClusterID, c.CityID, c.TermID)
	if err != nil {
		return nil, err
	}
	member, _ := clustersOf(s, ct.ID, t.ID)
	if contains(member, cl.ID) {
		return nil, refuse(CodeAlreadyMember, "city_id", "city %s is already a member of cluster %s in term %s", ct.ID, cl.ID, t.ID)
	}
	if len(member) >= MaxClustersPerCity {
		return nil, refuse(CodeCityInThreeClusters, "city_id", "city %s is a member of %d clusters in term %s (%v), the most it may be", ct.ID, len(member), t.ID, member)
	}
	return build(c.Today, &events.MemberJoined{ClusterID: cl.ID, CityID: ct.ID, TermID: t.ID})
}
