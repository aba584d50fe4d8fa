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
// is not changed: the commands are decided against a deep copy.
func DecideBatch(s *State, cmds []Command) ([]events.Event, int, error) {
	sim := s.Clone()
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
	c.Clusters = cloneMap(s.Clusters, func(v Cluster) Cluster {
		v.Coordinators = cloneSlices(v.Coordinators)
		v.Members = cloneSlices(v.Members)
		return v
	})
	c.Events = cloneMap(s.Events, func(v EventRecord) EventRecord { return v })
	return c
}

// cloneBalances deep-copies what moneyEffect changes (terms, contributions,
// lines, allocations, pledges) and shares the rest: enough to try a
// reversal on.
func (s *State) cloneBalances() *State {
	c := *s
	c.Terms = cloneMap(s.Terms, func(v Term) Term {
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
	c.Contributions = cloneMap(s.Contributions, func(v Contribution) Contribution { return v })
	c.Lines = cloneMap(s.Lines, func(v Line) Line { return v })
	c.Allocations = cloneMap(s.Allocations, func(v Allocation) Allocation {
		v.Funding = slices.Clone(v.Funding)
		return v
	})
	c.Pledges = cloneMap(s.Pledges, func(v Pledge) Pledge { return v })
	return &c
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
