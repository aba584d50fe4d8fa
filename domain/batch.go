package domain

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/unesco-uil/mdfm-ledger/errs"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// MaxBatchCommands bounds the commands of one batch. Their events must also
// fit one atomic append (eventlog.MaxBatchEvents); the writer checks that.
const MaxBatchCommands = 200

// DecideBatch decides cmds in order, each against the state the ones before
// it leave, and returns all their events, unsealed, in order. If one is
// refused it returns no event, the index of that command and its error. s
// is the same when it returns; meanwhile it must not be read elsewhere.
//
// The commands are decided against a simulation that copies only the
// state that stays small (terms, lines, allocations, donors, pledges,
// cities, clusters) and shares with s the maps that grow with the history
// (receipts, expenditures, interest, refunds, reversals, events): Apply
// records in an undo log how to put back each entry of those it adds or
// changes, and the log is played back before DecideBatch returns. So a
// batch costs what it changes, not the length of the fund's history
// (issue 10: a deep copy of the whole state per batch made batches 12 times
// slower at 470,000 events).
func DecideBatch(s *State, cmds []Command) ([]events.Event, int, error) {
	sim := s.shareLog()
	undo := &UndoLog{}
	sim.Undo = undo
	defer undo.rollback()
	var out []events.Event
	for i, c := range cmds {
		evs, err := Decide(sim, c)
		if err != nil {
			return nil, i, err
		}
		for j, e := range evs {
			// Stamp a copy as the writer would, so that the next commands
			// see these events; the ids never leave this function.
			stamped := e
			stamped.Fund, stamped.FundSeq = sim.Fund, sim.FundSeq+1
			stamped.ID = fmt.Sprintf("batch:%d:%d", i, j)
			if err := Apply(sim, stamped); err != nil {
				return nil, i, fmt.Errorf("apply an event Decide just made: %w", err)
			}
		}
		out = append(out, evs...)
	}
	return out, -1, nil
}

// UndoLog holds, newest last, how to put back the entries of maps a
// simulation shares with the state it was made from (see DecideBatch).
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

// decideBatchCommand decides a Batch as one command. A refusal is the
// refused command's *errs.Error with its field prefixed by its place in the
// batch ("commands[2].amount").
func (s *State) decideBatchCommand(b *Batch) ([]events.Event, error) {
	if len(b.Commands) == 0 {
		return nil, refuse(CodeMissingField, "commands", "a batch needs at least one command")
	}
	if len(b.Commands) > MaxBatchCommands {
		return nil, refuse(CodeBatchTooLarge, "commands", "a batch holds at most %d commands, not %d", MaxBatchCommands, len(b.Commands))
	}
	for i, c := range b.Commands {
		if c == nil {
			return nil, fmt.Errorf("decide batch: command %d is nil", i)
		}
		if _, nested := c.(*Batch); nested {
			return nil, refuse(CodeBatchTooLarge, fmt.Sprintf("commands[%d]", i), "a batch cannot hold another batch")
		}
		SetMeta(c, b.Meta)
	}
	evs, i, err := DecideBatch(s, b.Commands)
	if err != nil {
		var de *errs.Error
		if !errors.As(err, &de) {
			return nil, err
		}
		field := fmt.Sprintf("commands[%d]", i)
		if de.Field != "" {
			field += "." + de.Field
		}
		return nil, &errs.Error{Code: de.Code, Kind: de.Kind, Field: field, Message: fmt.Sprintf("command %d of the batch: %s", i, de.Message)}
	}
	return evs, nil
}

// Clone returns a deep copy of the state: changing one never changes the
// other. Payloads kept in EventRecords are shared, since nothing changes
// them once applied.
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
	c.Events = cloneMap(s.Events, func(v EventRecord) EventRecord { return v })
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
		if v.DonorNet != nil {
			dn := make(map[string]map[string]int64, len(v.DonorNet))
			for k, m := range v.DonorNet {
				dn[k] = maps.Clone(m)
			}
			v.DonorNet = dn
		}
		v.KeptAtClose = slices.Clone(v.KeptAtClose)
		return v
	})
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
