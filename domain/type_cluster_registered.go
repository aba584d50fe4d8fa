package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// The domain's rule for cluster_registered events (see rule).
var _ = addRule(events.TypeClusterRegistered, typed[*events.ClusterRegistered]{
	apply: applyCluster,
})

// RegisterCluster adds a thematic cluster to the registry.
type RegisterCluster struct {
	Meta
	ID               string `json:"id"`
	Name             string `json:"name"`
	TechnicalPartner string `json:"technical_partner"` // optional
}

func (c *RegisterCluster) decide(s *State) ([]events.Event, error) { return s.registerCluster(c) }

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

func applyCluster(s *State, p *events.ClusterRegistered, _ *EventRecord, _ events.Event) error {
	s.Clusters[p.ClusterID] = &Cluster{ID: p.ClusterID, Name: p.Name, TechnicalPartner: p.TechnicalPartner,
		Coordinators: map[string][]string{}, Members: map[string][]string{}}
	return nil
}
