package state

import (
	"maps"
	"slices"
)

// UndoLog holds, newest last, how to put back the entries of maps a
// simulation shares with the state it was made from (see domain.DecideBatch).
type UndoLog struct {
	steps []func()
}

// rollback plays the log back, newest first, and empties it.
func (u *UndoLog) rollback() {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.steps[i]()
	}
	u.steps = nil
}

// keep records in s's undo log, if it has one, how to put back entry k of
// m as it is now: removed if absent, its value restored if present. Call
// it before every change to an entry of a map that shareLog shares.
func keep[K comparable, V any](s *State, m map[K]*V, k K) {
	if s.Undo == nil {
		return
	}
	old, had := m[k]
	if !had {
		s.Undo.steps = append(s.Undo.steps, func() { delete(m, k) })
		return
	}
	saved := *old
	s.Undo.steps = append(s.Undo.steps, func() { *old = saved })
}

// shareLog returns a copy of s that deep-copies what stays small and shares
// the maps that grow with the history, whose changes Apply records with
// keep. Pending a log, the copy must not be changed.
func (s *State) shareLog() *State {
	c := *s
	c.Undo = nil
	c.Terms = cloneTerms(s.Terms)
	c.Lines = cloneMap(s.Lines, func(v Line) Line { return v })
	c.Allocations = cloneMap(s.Allocations, func(v Allocation) Allocation {
		v.Funding = slices.Clone(v.Funding)
		return v
	})
	c.Pledges = cloneMap(s.Pledges, func(v Pledge) Pledge { return v })
	c.Donors = cloneMap(s.Donors, func(v Donor) Donor {
		v.Amendments = slices.Clone(v.Amendments)
		return v
	})
	c.Cities = cloneMap(s.Cities, func(v City) City { return v })
	c.Clusters = cloneClusters(s.Clusters)
	return &c
}

// Clone returns a deep copy of the state: changing one never changes the
// other.
func (s *State) Clone() *State {
	c := s.cloneBalances()
	c.Donors = cloneMap(s.Donors, func(v Donor) Donor {
		v.Amendments = slices.Clone(v.Amendments)
		return v
	})
	c.Expenditures = cloneMap(s.Expenditures, func(v Expenditure) Expenditure { return v })
	c.Interest = cloneMap(s.Interest, func(v Interest) Interest { return v })
	c.Refunds = cloneMap(s.Refunds, func(v Refund) Refund {
		v.Funding = slices.Clone(v.Funding)
		return v
	})
	c.Reversals = cloneMap(s.Reversals, func(v Reversal) Reversal {
		v.EventIDs = slices.Clone(v.EventIDs)
		return v
	})
	c.Cities = cloneMap(s.Cities, func(v City) City { return v })
	c.Clusters = cloneClusters(s.Clusters)
	c.Events = s.Events.clone()
	return c
}

// cloneBalances deep-copies what moneyEffect changes (terms, contributions,
// lines, allocations, pledges) and shares the rest: enough to try a
// reversal on.
func (s *State) cloneBalances() *State {
	c := *s
	c.Undo = nil
	c.Terms = cloneTerms(s.Terms)
	c.Contributions = cloneMap(s.Contributions, func(v Contribution) Contribution { return v })
	c.Lines = cloneMap(s.Lines, func(v Line) Line { return v })
	c.Allocations = cloneMap(s.Allocations, func(v Allocation) Allocation {
		v.Funding = slices.Clone(v.Funding)
		return v
	})
	c.Pledges = cloneMap(s.Pledges, func(v Pledge) Pledge { return v })
	return &c
}

func cloneTerms(m map[string]*Term) map[string]*Term {
	return cloneMap(m, func(v Term) Term {
		v.Earmarked = maps.Clone(v.Earmarked)
		v.DonorNet = clonePotNets(v.DonorNet)
		v.TermNet = clonePotNets(v.TermNet)
		v.KeptAtClose = slices.Clone(v.KeptAtClose)
		return v
	})
}

func clonePotNets(m map[string]map[string]int64) map[string]map[string]int64 {
	if m == nil {
		return nil
	}
	c := make(map[string]map[string]int64, len(m))
	for k, v := range m {
		c[k] = maps.Clone(v)
	}
	return c
}

func cloneClusters(m map[string]*Cluster) map[string]*Cluster {
	return cloneMap(m, func(v Cluster) Cluster {
		v.Coordinators = cloneSlices(v.Coordinators)
		v.Members = cloneSlices(v.Members)
		return v
	})
}

// cloneMap copies a map of pointers, each value copied and passed through
// f (nil: as it is). A nil map stays nil.
func cloneMap[K comparable, V any](m map[K]*V, f func(V) V) map[K]*V {
	if m == nil {
		return nil
	}
	out := make(map[K]*V, len(m))
	for k, v := range m {
		x := *v
		if f != nil {
			x = f(x)
		}
		out[k] = &x
	}
	return out
}

func cloneSlices(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// Simulation returns a copy of s to decide a batch against (see
// domain.DecideBatch) and rollback, which puts s back as it was. The copy
// deep-copies what stays small and shares with s the maps that grow with
// the history: Apply records in an undo log how to put back every entry of
// those it adds or changes, and rollback plays the log back. Until
// rollback, s must not be read elsewhere.
func (s *State) Simulation() (sim *State, rollback func()) {
	sim = s.shareLog()
	undo := &UndoLog{}
	sim.Undo = undo
	return sim, undo.rollback
}

// Undone returns a copy of s's balances with the money effects of the
// events recs (see Event) undone, as their reversals would leave them:
// what a reversal is checked against before it is decided.
func (s *State) Undone(recs []*EventRecord) (*State, error) {
	sim := s.cloneBalances()
	for _, rec := range recs {
		if err := sim.moneyEffect(rec.Payload, -1); err != nil {
			return nil, err
		}
	}
	return sim, nil
}
