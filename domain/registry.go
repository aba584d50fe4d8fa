package domain

import (
	"sort"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// Limits of the cluster registry (rule 7, from the strategy).
const (
	MaxCoordinatorsPerCluster = 2 // coordinating cities per cluster per term
	MaxClustersPerCity        = 3 // clusters a city is a member of per term
)

func (s *State) registerCity(c *RegisterCity) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Cities[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "city %s is already registered", c.ID)
	}
	if err := checkText("name", c.Name, true); err != nil {
		return nil, err
	}
	if err := checkCountry("country", c.Country, true); err != nil {
		return nil, err
	}
	return build(c.Today, &events.CityRegistered{CityID: c.ID, Name: c.Name, Country: c.Country})
}

func (s *State) registerCluster(c *RegisterCluster) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Clusters[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "cluster %s is already registered", c.ID)
	}
	if err := checkText("name", c.Name, true); err != nil {
		return nil, err
	}
	if err := checkText("technical_partner", c.TechnicalPartner, false); err != nil {
		return nil, err
	}
	return build(c.Today, &events.ClusterRegistered{ClusterID: c.ID, Name: c.Name, TechnicalPartner: c.TechnicalPartner})
}

// participation checks what coordinator appointments and memberships share:
// the cluster, city and term exist.
func (s *State) participation(clusterID, cityID, termID string) (*Cluster, *City, *Term, error) {
	if clusterID == "" {
		return nil, nil, nil, refuse(CodeMissingField, "cluster_id", "the cluster id is required")
	}
	cl, ok := s.Clusters[clusterID]
	if !ok {
		return nil, nil, nil, refuse(CodeUnknownCluster, "cluster_id", "no cluster %s is registered", trunc(clusterID))
	}
	if cityID == "" {
		return nil, nil, nil, refuse(CodeMissingField, "city_id", "city_id is required")
	}
	ct, ok := s.Cities[cityID]
	if !ok {
		return nil, nil, nil, refuse(CodeUnknownCity, "city_id", "no city %s is registered", trunc(cityID))
	}
	t, err := s.term("term_id", termID)
	if err != nil {
		return nil, nil, nil, err
	}
	return cl, ct, t, nil
}

// clustersOf returns the clusters city is a member of in term, and the one
// it coordinates ("" for none).
func (s *State) clustersOf(city, term string) (member []string, coordinates string) {
	for id, cl := range s.Clusters {
		if contains(cl.Members[term], city) {
			member = append(member, id)
		}
		if contains(cl.Coordinators[term], city) {
			coordinates = id
		}
	}
	sort.Strings(member)
	return member, coordinates
}

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
