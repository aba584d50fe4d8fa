package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
)

// AppointCoordinator makes a city a coordinator of a cluster for a term.
type AppointCoordinator struct {
	Meta
	ClusterID string `json:"-"` // from the path
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (c *AppointCoordinator) decide(s *State) ([]events.Event, error) {
	return appointCoordinator(s, c)
}

// appointCoordinator applies rule 7: two coordinating cities per cluster per
// term, a city coordinates one cluster per term, and since a coordinator is
// a member of its cluster, it counts towards the city's three clusters.
// Participation lasts the term: there is no event that ends it early.
func appointCoordinator(s *State, c *AppointCoordinator) ([]events.Event, error) {
	cl, ct, t, err := participation(s, c.ClusterID, c.CityID, c.TermID)
	if err != nil {
		return nil, err
	}
	member, coordinates := clustersOf(s, ct.ID, t.ID)
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
