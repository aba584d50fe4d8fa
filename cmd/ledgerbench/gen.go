package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/events"
)

// Shape of the generated history: one term, many donors (the first gets
// half the receipts, like the donor with 242,000), budget lines
// with one approved allocation each, and expenditures against them.
const (
	genFund      = "mdfm"
	genTerm      = "2020-2021"
	genToday     = "2021-12-31"
	genMiddle    = "2020-12-15" // about the middle of the dates day() draws
	genLines     = 20
	genSeedFunds = 200 // receipts before the allocations
	// allocation and expenditure sizes in cents: 20 × $9,000 out of the
	// $198,000 the seed receipts leave after the 1 % fee.
	genAllocCents = 900_000
	genSpendCents = 100
)

var genStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// generator decides a synthetic history command by command, as the writer
// would, but without NATS: the events come out sealed and chained, ready
// to append or to project.
type generator struct {
	donors int
	state  *domain.State
	chain  events.Chain
	step   int
	spent  [genLines]int64
	now    string
}

func newGenerator(donors int) *generator {
	return &generator{donors: donors, state: domain.NewState(genFund), chain: events.NewChain(genFund),
		now: time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)}
}

func day(n int) string { return genStart.AddDate(0, 0, n%700).Format(time.DateOnly) }

func usdCents(c int64) domain.MoneyInput {
	return domain.MoneyInput{Amount: fmt.Sprintf("%d.%02d", c/100, c%100), Currency: "USD"}
}

// command returns the next command of the history and its actor.
func (g *generator) command() (domain.Command, string) {
	i := g.step
	g.step++
	setup := []func() (domain.Command, string){
		func() (domain.Command, string) {
			return &domain.OpenTerm{ID: genTerm, StartsOn: "2020-01-01", EndsOn: "2021-12-31", Target: usdCents(100_000_000), FeeRate: "0.01"}, "ana"
		},
	}
	if i < len(setup) {
		return setup[i]()
	}
	i -= len(setup)
	if i < g.donors {
		return &domain.RegisterDonor{ID: fmt.Sprintf("d-%d", i), Name: fmt.Sprintf("Donor %d", i), Kind: "member_city", Country: "DE", City: "Hamburg"}, "olu"
	}
	i -= g.donors
	if i < genLines {
		return &domain.AddBudgetLine{ID: fmt.Sprintf("L-%d", i), TermID: genTerm, Title: fmt.Sprintf("Line %d", i), Amount: usdCents(100_000_000)}, "ana"
	}
	i -= genLines
	if i < genSeedFunds {
		return g.receipt(i, "2020-01-01"), "olu"
	}
	i -= genSeedFunds
	if i < 2*genLines {
		id := fmt.Sprintf("al-%d", i/2)
		if i%2 == 0 {
			return &domain.ProposeAllocation{ID: id, LineID: fmt.Sprintf("L-%d", i/2), Amount: usdCents(genAllocCents), ProposedOn: "2020-01-01"}, "olu"
		}
		return &domain.ApproveAllocation{ID: id, ApprovedOn: "2020-01-01"}, "ana"
	}
	i -= 2 * genLines
	if l := i % genLines; i%5 == 4 && g.spent[l]+genSpendCents <= genAllocCents {
		g.spent[l] += genSpendCents
		return &domain.RecordExpenditure{ID: fmt.Sprintf("x-%d", i), AllocationID: fmt.Sprintf("al-%d", l), Amount: usdCents(genSpendCents),
			SpentOn: day(1 + i), Payee: "Learning City Lab", Country: "KE", City: "Nairobi"}, "olu"
	}
	return g.receipt(genSeedFunds+i, day(i)), "olu"
}

// receipt of $1,000 from the first donor every other time, else from one
// of the others.
func (g *generator) receipt(i int, on string) domain.Command {
	donor := "d-0"
	if i%2 == 1 && g.donors > 1 {
		donor = fmt.Sprintf("d-%d", 1+i%(g.donors-1))
	}
	return &domain.RecordContribution{ID: fmt.Sprintf("c-%d", i), DonorID: donor, TermID: genTerm, Amount: usdCents(100_000), ReceivedOn: on, BankRef: fmt.Sprintf("B-%d", i)}
}

// next decides the next command and returns its events, sealed, chained
// and applied to the generator's state.
func (g *generator) next() ([]events.Event, error) {
	c, actor := g.command()
	role := "officer"
	if actor == "ana" {
		role = domain.RoleApprover
	}
	domain.SetMeta(c, domain.Meta{Actor: actor, Today: genToday, Role: role})
	evs, err := domain.Decide(g.state, c)
	if err != nil {
		return nil, fmt.Errorf("generate step %d (%T): %w", g.step, c, err)
	}
	cmdID := fmt.Sprintf("gen-%d", g.step)
	sum := sha256.Sum256([]byte(cmdID))
	for k := range evs {
		e := &evs[k]
		e.ID = uuid.Must(uuid.NewV7()).String()
		e.Fund, e.FundSeq = genFund, g.chain.FundSeq+1
		e.StreamSeq = e.FundSeq // one fund alone in its stream
		e.RecordedAt = g.now
		e.Actor = actor
		e.CommandID, e.CommandHash = cmdID, hex.EncodeToString(sum[:])
		if err := e.Seal(g.chain.Head); err != nil {
			return nil, err
		}
		if err := g.chain.Check(*e); err != nil {
			return nil, err
		}
		if err := domain.Apply(g.state, *e); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// batches calls fn with the history in batches of at most max events, each
// command's events whole in one batch, until about n events are made.
func (g *generator) batches(n, max int, fn func([]events.Event) error) (int, error) {
	var buf []events.Event
	made := 0
	for made < n {
		evs, err := g.next()
		if err != nil {
			return made, err
		}
		if len(buf)+len(evs) > max {
			if err := fn(buf); err != nil {
				return made, err
			}
			buf = nil
		}
		buf = append(buf, evs...)
		made += len(evs)
	}
	if len(buf) > 0 {
		return made, fn(buf)
	}
	return made, nil
}
