package domain

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for coordinator_appointed events (see rule).
var _ = addRule(events.TypeCoordinatorAppointed, typed[*events.CoordinatorAppointed]{
	apply: applyCoordinator,
})

// AppointCoordinator makes a city a coordinator of a cluster for a term.
type AppointCoordinator struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (c *AppointCoordinator) decide(s *State) ([]events.Event, error) { return s.appointCoordinator(c) }

// appointCoordinator applies rule 7: two coordinating cities per cluster per
// term, a city coordinates one cluster per term, and since a coordinator is
// a member of its cluster, it counts towards the city's three clusters.
// Participation lasts the term: there is no event that ends it early.
func (s *State) appointCoordinator(c *AppointCoordinator) ([]events.Event, error) {
	cl, ct, t, err := s.participation(c.ClusterID, c.CityID, c.TermID)
	if err != nil {
		return nil, err
	}
	member, coordinates := s.clustersOf(ct.ID, t.ID)
	if coordinates != "" {
		return nil, refuse(CodeCityAlreadyCoordinates, "city_id", "city %s coordinates cluster %s in term %s: a city coordinates one cluster at a time", ct.ID, coordinates, t.ID)
	}
	if n := len(cl.Coordinators[t.ID]); n >= MaxCoordinatorsPerCluster {
		return nil, refuse(CodeClusterHasTwoCoordinators, "cluster_id", "cluster %s has its %d coordinating cities for term %s (%v)", cl.ID, n, t.ID, cl.Coordinators[t.ID])
	}
	if !contains(member, cl.ID) && len(member) >= MaxClustersPerCity {
		return nil, refuse(CodeCityInThreeClusters, "city_id", "city %s is a member of %d clusters in term %s (%v), the most it may be", ct.ID, len(member), t.ID, member)
	}
	return build(c.Today, &events.CoordinatorAppointed{ClusterID: cl.ID, CityID: ct.ID, TermID: t.ID})
}

func applyCoordinator(s *State, p *events.CoordinatorAppointed, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Coordinators[p.TermID] = append(cl.Coordinators[p.TermID], p.CityID)
	if !contains(cl.Members[p.TermID], p.CityID) {
		cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	}
	return nil
}
