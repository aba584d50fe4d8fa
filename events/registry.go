package events

// CityRegistered adds a city of the UNESCO Global Network of Learning Cities
// to the registry.
type CityRegistered struct {
	CityID  string `json:"city_id"`
	Name    string `json:"name"`
	Country string `json:"country"` // ISO 3166 alpha-2
}

// ClusterRegistered adds a thematic cluster, with its technical partner when
// it has one.
type ClusterRegistered struct {
	ClusterID        string `json:"cluster_id"`
	Name             string `json:"name"`
	TechnicalPartner string `json:"technical_partner,omitempty"`
}

// CoordinatorAppointed makes a city one of the (at most two) coordinators of
// a cluster for a term. A coordinator is also a member of the cluster.
type CoordinatorAppointed struct {
	ClusterID string `json:"cluster_id"`
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

// MemberJoined makes a city a member of a cluster for a term.
type MemberJoined struct {
	ClusterID string `json:"cluster_id"`
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}
