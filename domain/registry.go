package domain

import "sort"

// Limits of the cluster registry (rule 7, from the strategy).
const (
	MaxCoordinatorsPerCluster = 2 // coordinating cities per cluster per term
	MaxClustersPerCity        = 3 // clusters a city is a member of per term
)

// participation checks what coordinator appointments and memberships share:
// the cluster, city and term exist.
func participation(s *State, clusterID, cityID, termID string) (*Cluster, *City, *Term, error) {
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
	t, err := term(s, "term_id", termID)
	if err != nil {
		return nil, nil, nil, err
	}
	return cl, ct, t, nil
}

// clustersOf returns the clusters city is a member of in term, and the one
// it coordinates ("" for none).
func clustersOf(s *State, city, term string) (member []string, coordinates string) {
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
