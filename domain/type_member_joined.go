package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for member_joined events (see rule).
var _ = addRule(events.TypeMemberJoined, typed[*events.MemberJoined]{
	apply: applyMember,
})

// JoinCluster makes a city a member of a cluster for a term.
type JoinCluster struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (c *JoinCluster) decide(s *State) ([]events.Event, error) { return s.joinCluster(c) }

func (s *State) joinCluster(c *JoinCluster) ([]events.Event, error) {
	cl, ct, t, err := s.participation(c.ClusterID, c.CityID, c.TermID)
	if err != nil {
		return nil, err
	}
	member, _ := s.clustersOf(ct.ID, t.ID)
	if contains(member, cl.ID) {
		return nil, refuse(CodeAlreadyMember, "city_id", "city %s is already a member of cluster %s in term %s", ct.ID, cl.ID, t.ID)
	}
	if len(member) >= MaxClustersPerCity {
		return nil, refuse(CodeCityInThreeClusters, "city_id", "city %s is a member of %d clusters in term %s (%v), the most it may be", ct.ID, len(member), t.ID, member)
	}
	return build(c.Today, &events.MemberJoined{ClusterID: cl.ID, CityID: ct.ID, TermID: t.ID})
}

func applyMember(s *State, p *events.MemberJoined, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	return nil
}
