package events

// TypeClusterRegistered is the stable name of the type (see Type.Name).
const TypeClusterRegistered = "cluster_registered"

var _ = register(Type{Seq: 19, Name: TypeClusterRegistered, V: 1, New: newOf[ClusterRegistered]})

// ClusterRegistered adds a thematic cluster, with its technical partner when
// it has one.
type ClusterRegistered struct {
	ClusterID        string `json:"cluster_id"`
	Name             string `json:"name"`
	TechnicalPartner string `json:"technical_partner,omitempty"`
}

func (ClusterRegistered) EventType() string { return TypeClusterRegistered }
