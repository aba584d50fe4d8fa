package events

// TypeCoordinatorAppointed is the stable name of the type (see Type.Name).
const TypeCoordinatorAppointed = "coordinator_appointed"

var _ = register(Type{Seq: 20, Name: TypeCoordinatorAppointed, V: 1, New: newOf[CoordinatorAppointed]})

// CoordinatorAppointed makes a city one of the (at most two) coordinators of
// a cluster for a term. A coordinator is also a member of the cluster.
type CoordinatorAppointed struct {
	ClusterID string `json:"cluster_id"`
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (CoordinatorAppointed) EventType() string { return TypeCoordinatorAppointed }
