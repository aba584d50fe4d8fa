package state

import (
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for member_joined events (see rule).
var _ = addRule(events.TypeMemberJoined, typed[*events.MemberJoined]{
	apply: applyMember,
})

func applyMember(s *State, p *events.MemberJoined, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	return nil
}
