package events

// Stable event type names. They are written into every stored event and must
// never change; a Go type may be renamed freely. Each is declared in Types.
const (
	TypeMemberJoined = "member_joined"
)

var _ = register(Type{Seq: 21, Name: TypeMemberJoined, V: 1, New: newOf[MemberJoined]})

// MemberJoined makes a city a member of a cluster for a term.
type MemberJoined struct {
	ClusterID string `json:"cluster_id"`
	CityID    string `json:"city_id"`
	TermID    string `json:"term_id"`
}

func (MemberJoined) EventType() string { return TypeMemberJoined }
