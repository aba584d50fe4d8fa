package state

import (
	"fmt"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The domain's rule for coordinator_appointed events (see rule).
var _ = addRule(events.TypeCoordinatorAppointed, typed[*events.CoordinatorAppointed]{
	apply: applyCoordinator,
})

func applyCoordinator(s *State, p *events.CoordinatorAppointed, _ *EventRecord, _ events.Event) error {
	cl, ok := s.Clusters[p.ClusterID]
	if !ok {
		return fmt.Errorf("unknown cluster %s", p.ClusterID)
	}
	cl.Coordinators[p.TermID] = append(cl.Coordinators[p.TermID], p.CityID)
	if !slices.Contains(cl.Members[p.TermID], p.CityID) {
		cl.Members[p.TermID] = append(cl.Members[p.TermID], p.CityID)
	}
	return nil
}
