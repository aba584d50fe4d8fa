package state

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for cluster_registered events (see rule).
var _ = addRule(events.TypeClusterRegistered, typed[*events.ClusterRegistered]{
	apply: applyCluster,
})

func applyCluster(s *State, p *events.ClusterRegistered, _ *EventRecord, _ events.Event) error {
	s.Clusters[p.ClusterID] = &Cluster{ID: p.ClusterID, Name: p.Name, TechnicalPartner: p.TechnicalPartner,
		Coordinators: map[string][]string{}, Members: map[string][]string{}}
	return nil
}
