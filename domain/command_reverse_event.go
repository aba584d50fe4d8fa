package domain

import (
	"fmt"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// ReverseEvent corrects an earlier money event by reversing it.
type ReverseEvent struct {
	Meta
	ID      string `json:"id"`
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
}

func (c *ReverseEvent) decide(s *State) ([]events.Event, error) { return reverseEvent(s, c) }

// reverseEvent decides a correction (rule 5). The reversal is dated on the
// reversed event's effective date, so that a report as of any date shows
// the ledger as if the wrong entry had never been made (at_seq still shows
// what the ledger knew). A receipt is reversed together with its fee, the
// fee's reversal first; if it paid a pledge amended since, a pledge_amended
// follows that revalues what the pledge still expects (see revalue). Reversing an allocation's approval makes the
// allocation proposed again, its money back in the pots it was drawn from;
// it may be approved again later. The overdraw checks are against today's
// balances.
func reverseEvent(s *State, c *ReverseEvent) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Reversals[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "reversal %s is already recorded", c.ID)
	}
	if c.EventID == "" {
		return nil, refuse(CodeMissingField, "event_id", "event_id is required")
	}
	rec, ok, err := s.Event(c.EventID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(CodeUnknownEvent, "event_id", "no event %s in fund %s", trunc(c.EventID), s.Fund)
	}
	if err := checkMultiline("reason", c.Reason, true); err != nil {
		return nil, err
	}
	switch {
	case rec.Type == events.TypeFeeCharged:
		return nil, refuse(CodeNotReversible, "event_id", "event %s is a fee: reverse the receipt it was charged on, which reverses the fee with it", c.EventID)
	case !events.Reversible(rec.Type):
		return nil, refuse(CodeNotReversible, "event_id", "event %s (%s) is not a money event that can be reversed", c.EventID, rec.Type)
	case rec.ReversedBy != "":
		return nil, refuse(CodeAlreadyReversed, "event_id", "event %s was reversed by %s", c.EventID, rec.ReversedBy)
	}
	t := s.Terms[rec.TermID]
	// Rule 6: in a closed term only an approver reverses.
	if t.Closed && rec.EffectiveOn <= t.EndsOn && c.Role != RoleApprover && c.Role != RoleAdmin {
		return nil, refuse(CodeTermClosed, "event_id", "term %s was closed on %s: only an approver may reverse event %s, dated inside it", t.ID, t.ClosedOn, c.EventID)
	}
	targets := []*EventRecord{rec}
	if rec.FeeEventID != "" {
		fee, ok, err := s.Event(rec.FeeEventID)
		if err != nil || !ok {
			return nil, fmt.Errorf("fee %s of event %s: %v", rec.FeeEventID, c.EventID, err)
		}
		targets = []*EventRecord{fee, rec}
	}
	if p, ok := rec.Payload.(*events.ContributionReceived); ok && p.PledgeID != "" && s.Pledges[p.PledgeID].Cancelled {
		return nil, refuse(CodePledgeCancelled, "event_id", "receipt %s paid pledge %s, which was cancelled: its memo balance was written off", p.ContributionID, p.PledgeID)
	}
	if err := checkReversal(s, targets); err != nil {
		return nil, err
	}
	out := make([]events.Event, 0, len(targets)+1)
	for _, r := range targets {
		ps, err := r.Postings()
		if err != nil {
			return nil, err
		}
		e, err := events.New(r.EffectiveOn, &events.EventReversed{ReversalID: c.ID, EventID: r.ID, ReversedFundSeq: r.FundSeq,
			ReversedType: r.Type, Reason: c.Reason, Postings: negate(ps)})
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if p, ok := rec.Payload.(*events.ContributionReceived); ok && p.PledgeID != "" {
		if e, ok, err := revalue(s.Pledges[p.PledgeID], p, c.ID, rec.EffectiveOn); err != nil {
			return nil, err
		} else if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// revalue returns the pledge_amended that keeps a pledge's memo balance at
// its proportional value (see outstandingUSD) when a receipt paying it is
// reversed after the pledge's amount or rate was amended: the reversal
// gives back exactly what the receipt settled, at the ratio of its day,
// and the amendment posts the difference. ok is false when there is none,
// as when the receipt is reversed before any amendment.
func revalue(pl *Pledge, p *events.ContributionReceived, reversalID, on string) (events.Event, bool, error) {
	var settled int64
	if p.PledgeSettledUSD != nil {
		settled = p.PledgeSettledUSD.Minor
	}
	memo := pl.OutstandingUSD + settled
	want := outstandingUSD(pl.USDMinor, pl.Amount.Minor, pl.Amount.Minor-pl.PaidMinor+p.Amount.Minor)
	if memo == want {
		return events.Event{}, false, nil
	}
	e, err := events.New(on, &events.PledgeAmended{PledgeID: pl.ID, DonorID: pl.DonorID, TermID: pl.TermID, Amount: pl.Amount,
		USDRate: pl.USDRate, USDAmount: money.USDAmount(pl.USDMinor), DueOn: pl.DueOn, Earmark: pl.Earmark,
		Reason:               fmt.Sprintf("revalued after reversal %s of receipt %s, made before the pledge was amended", reversalID, p.ContributionID),
		OutstandingUSDChange: money.USDAmount(want - memo)})
	return e, err == nil, err
}

// checkReversal undoes the events on a copy of the balances and refuses
// when a balance would go below zero: a pot of unallocated money, an
// allocation's unspent money, or a donor's net money in a pot (its refunds
// would then exceed its receipts: reverse the refund first).
func checkReversal(s *State, targets []*EventRecord) error {
	sim, err := s.Undone(targets)
	if err != nil {
		return err
	}
	termID := targets[0].TermID
	before, after := s.Terms[termID], sim.Terms[termID]
	keys := append(after.PotKeys(), "")
	for _, k := range keys {
		if v := after.Pot(k); v < 0 {
			return refuse(CodeReversalOverdrawsUnallocated, "event_id", "reversing it would take %s from the unallocated %s of term %s, which holds %s",
				money.FormatUSD(before.Pot(k)-v), potName(k), termID, money.FormatUSD(before.Pot(k)))
		}
	}
	for _, r := range targets {
		// Unapproved, an allocation holds nothing: what it spent would be
		// overdrawn.
		if p, ok := r.Payload.(*events.AllocationApproved); ok {
			if a := s.Allocations[p.AllocationID]; a.SpentMinor > 0 {
				return refuse(CodeReversalOverdrawsAllocation, "event_id", "allocation %s has spent %s: reverse its expenditures before its approval",
					a.ID, money.FormatUSD(a.SpentMinor))
			}
		}
	}
	// A donor's net is refused below zero, unless it was below zero already
	// and does not fall further, or no refund has drawn on the pot for the
	// donor since the entry: then undoing the entry only returns the net to
	// what it was before it (a refund of a share of interest can leave a
	// net below zero), and a wrong entry can always be taken back at once.
	// The nets looked at are those after the reversal: a donor whose net
	// was exactly zero before (refunded in full, so absent from DonorNet)
	// is looked at too, and one absent after has a net of zero, which is
	// never refused. Pots and donors in key order, so that the refusal
	// names the same donor every time.
	since := targets[0].FundSeq
	for _, k := range sortedKeys(after.DonorNet) {
		for _, d := range sortedKeys(after.DonorNet[k]) {
			if v, w := after.DonorNet[k][d], before.DonorNet[k][d]; v < 0 && v < w && refundedSince(s, d, termID, k, since) {
				return refuse(CodeReversalOverdrawsDonor, "event_id", "donor %s was refunded more from the %s of term %s than its other receipts put there: reverse the refund first",
					d, potName(k), termID)
			}
		}
	}
	return nil
}

// refundedSince reports whether a standing refund to the donor drew on the
// term's pot after fund_seq since.
func refundedSince(s *State, donor, termID, pot string, since uint64) bool {
	for _, r := range s.Refunds {
		if r.Reversed || r.DonorID != donor || r.TermID != termID || r.EventSeq <= since {
			continue
		}
		for _, d := range r.Funding {
			if d.Earmark == pot {
				return true
			}
		}
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// potName names a pot in messages.
func potName(key string) string {
	if key == "" {
		return "unearmarked pot"
	}
	return "pot earmarked " + key
}

// negate returns the postings that cancel ps, as a reversal carries them.
func negate(ps []Posting) []events.Posting {
	out := make([]events.Posting, 0, len(ps))
	for _, p := range ps {
		out = append(out, events.Posting{Account: p.Account, TermID: p.TermID, LineID: p.LineID, DonorID: p.DonorID,
			Earmark: p.Earmark, PledgeID: p.PledgeID, Amount: money.USDAmount(-p.Minor)})
	}
	return out
}
