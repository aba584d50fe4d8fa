package domain

import "github.com/unesco-uil/mdfm-ledger/events"

// RegisterCluster adds a thematic cluster to the registry.
type RegisterCluster struct {
	Meta
	ID               string `json:"id"`
	Name             string `json:"name"`
	TechnicalPartner string `json:"technical_partner"` // optional
}

func (c *RegisterCluster) decide(s *State) ([]events.Event, error) { return registerCluster(s, c) }

func registerCluster(s *State, c *RegisterCluster) ([]events.Event, error) {
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
