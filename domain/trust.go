package domain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

func (s *State) recordInterest(c *RecordInterest) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Interest[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "interest %s is already recorded", c.ID)
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("earned_on", c.EarnedOn, c.Today); err != nil {
		return nil, err
	}
	if c.EarnedOn < t.StartsOn {
		return nil, refuse(CodeDateOutsideTerm, "earned_on", "earned_on %s is before term %s starts (%s)", c.EarnedOn, t.ID, t.StartsOn)
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	return build(c.EarnedOn, &events.InterestEarned{InterestID: c.ID, TermID: t.ID, Amount: money.USDAmount(amount), EarnedOn: c.EarnedOn})
}

func (s *State) recordRefund(c *RecordRefund) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Refunds[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "refund %s is already recorded", c.ID)
	}
	d, err := s.donor("donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, err := parseUSD("amount", c.Amount)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("paid_on", c.PaidOn, c.Today); err != nil {
		return nil, err
	}
	if c.PaidOn < t.StartsOn {
		return nil, refuse(CodeDateOutsideTerm, "paid_on", "paid_on %s is before term %s starts (%s)", c.PaidOn, t.ID, t.StartsOn)
	}
	if err := checkMultiline("reason", c.Reason, false); err != nil {
		return nil, err
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	// Rule 4.
	draws, ok := refundDraws(t, d.ID, amount)
	if !ok {
		return nil, refuse(CodeRefundExceedsAttributable, "amount", "refunding %s exceeds donor %s's unspent attributable balance in term %s (%s)",
			money.FormatUSD(amount), d.ID, t.ID, money.FormatUSD(Attributable(s, t.ID, d.ID)))
	}
	// Rule 4 on paid_on too: a refund dated before the receipts it
	// returns would show, as of its date, a donor refunded money it had
	// not paid in, and another donor's interest paying for it (issue 8).
	then, err := AttributableOn(s, t.ID, d.ID, c.PaidOn)
	if err != nil {
		return nil, err
	}
	if amount > then {
		return nil, refuse(CodeRefundExceedsAttributable, "paid_on", "refunding %s on %s exceeds donor %s's unspent attributable balance in term %s on that day (%s): date the refund on or after the receipts it returns",
			money.FormatUSD(amount), c.PaidOn, d.ID, t.ID, money.FormatUSD(then))
	}
	return build(c.PaidOn, &events.RefundPaid{RefundID: c.ID, DonorID: d.ID, TermID: t.ID, Amount: money.USDAmount(amount),
		PaidOn: c.PaidOn, Reason: c.Reason, Funding: draws})
}

// reverseEvent decides a correction (rule 5). The reversal is dated on the
// reversed event's effective date, so that a report as of any date shows
// the ledger as if the wrong entry had never been made (at_seq still shows
// what the ledger knew). A receipt is reversed together with its fee, the
// fee's reversal first; if it paid a pledge amended since, a pledge_amended
// follows that revalues what the pledge still expects (see revalue). Reversing an allocation's approval makes the
// allocation proposed again, its money back in the pots it was drawn from;
// it may be approved again later. The overdraw checks are against today's
// balances.
func (s *State) reverseEvent(c *ReverseEvent) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Reversals[c.ID]; ok {
		return nil, refuse(CodeDuplicateID, "id", "reversal %s is already recorded", c.ID)
	}
	if c.EventID == "" {
		return nil, refuse(CodeMissingField, "event_id", "event_id is required")
	}
	rec, ok := s.Events[c.EventID]
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
	targets := []string{c.EventID}
	if rec.FeeEventID != "" {
		targets = []string{rec.FeeEventID, c.EventID}
	}
	if p, ok := rec.Payload.(*events.ContributionReceived); ok && p.PledgeID != "" && s.Pledges[p.PledgeID].Cancelled {
		return nil, refuse(CodePledgeCancelled, "event_id", "receipt %s paid pledge %s, which was cancelled: its memo balance was written off", p.ContributionID, p.PledgeID)
	}
	if err := s.checkReversal(targets); err != nil {
		return nil, err
	}
	out := make([]events.Event, 0, len(targets)+1)
	for _, id := range targets {
		r := s.Events[id]
		e, err := events.New(r.EffectiveOn, &events.EventReversed{ReversalID: c.ID, EventID: id, ReversedFundSeq: r.FundSeq,
			ReversedType: r.Type, Reason: c.Reason, Postings: negate(r.Postings)})
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
func (s *State) checkReversal(targets []string) error {
	sim := s.cloneBalances()
	for _, id := range targets {
		if err := sim.moneyEffect(s.Events[id].Payload, -1); err != nil {
			return err
		}
	}
	termID := s.Events[targets[0]].TermID
	before, after := s.Terms[termID], sim.Terms[termID]
	keys := append(after.potKeys(), "")
	for _, k := range keys {
		if v := after.Pot(k); v < 0 {
			return refuse(CodeReversalOverdrawsUnallocated, "event_id", "reversing it would take %s from the unallocated %s of term %s, which holds %s",
				money.FormatUSD(before.Pot(k)-v), potName(k), termID, money.FormatUSD(before.Pot(k)))
		}
	}
	for _, id := range targets {
		// Unapproved, an allocation holds nothing: what it spent would be
		// overdrawn.
		if p, ok := s.Events[id].Payload.(*events.AllocationApproved); ok {
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
	since := s.Events[targets[0]].FundSeq
	for _, k := range sortedKeys(after.DonorNet) {
		for _, d := range sortedKeys(after.DonorNet[k]) {
			if v, w := after.DonorNet[k][d], before.DonorNet[k][d]; v < 0 && v < w && s.refundedSince(d, termID, k, since) {
				return refuse(CodeReversalOverdrawsDonor, "event_id", "donor %s was refunded more from the %s of term %s than its other receipts put there: reverse the refund first",
					d, potName(k), termID)
			}
		}
	}
	return nil
}

// refundedSince reports whether a standing refund to the donor drew on the
// term's pot after fund_seq since.
func (s *State) refundedSince(donor, termID, pot string, since uint64) bool {
	for _, r := range s.Refunds {
		if r.Reversed || r.DonorID != donor || r.TermID != termID || s.Events[r.EventID].FundSeq <= since {
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

// closeTerm decides the close of a term (rule 6). Its unallocated balance is
// disposed of pot by pot:
//   - refund: every pot goes back to the donors whose money it is, split as
//     Term.PotShares splits it (pro rata, largest remainder, to the cent);
//     one refund_paid per donor;
//   - carry_over: every pot moves to the next term (which must be open and
//     start after this one ends) with its earmark and its donors' shares —
//     except money earmarked to a line, since lines belong to a term: it
//     follows the line's cluster if the line has one, and is refunded to its
//     donors otherwise.
//
// Approved allocations keep their unspent money; term_closed lists them.
// They may still be spent, dated after the term's end. A proposal not yet
// approved can no longer be.
func (s *State) closeTerm(c *CloseTerm) ([]events.Event, error) {
	t, err := s.term("id", c.ID)
	if err != nil {
		return nil, err
	}
	if t.Closed {
		return nil, refuse(CodeTermClosed, "id", "term %s was closed on %s", t.ID, t.ClosedOn)
	}
	if err := checkPastDate("closed_on", c.ClosedOn, c.Today); err != nil {
		return nil, err
	}
	if c.ClosedOn < t.EndsOn {
		return nil, refuse(CodeTermNotEnded, "closed_on", "term %s ends on %s: it cannot be closed on %s", t.ID, t.EndsOn, c.ClosedOn)
	}
	disp, next, err := s.closeDisposition(t, c.Disposition)
	if err != nil {
		return nil, err
	}
	carries, refunds, carried, refunded, err := s.disposePots(t, next)
	if err != nil {
		return nil, err
	}
	rps, err := s.closeRefunds(t, refunds, c.ClosedOn)
	if err != nil {
		return nil, err
	}
	if carried+refunded != t.Unallocated {
		panic(fmt.Sprintf("close of term %s disposes of %d of an unallocated %d", t.ID, carried+refunded, t.Unallocated))
	}
	ps := append(rps, carries...)
	ps = append(ps, &events.TermClosed{TermID: t.ID, ClosedOn: c.ClosedOn, Disposition: disp, Unallocated: money.USDAmount(t.Unallocated),
		CarriedOver: money.USDAmount(carried), Refunded: money.USDAmount(refunded), AllocationsKept: s.keptAllocations(t)})
	return build(c.ClosedOn, ps...)
}

// closeDisposition checks what a close of t does with its unallocated
// balance, and returns the term it is carried to (nil for a refund).
func (s *State) closeDisposition(t *Term, d DispositionInput) (events.Disposition, *Term, error) {
	disp := events.Disposition{Kind: d.Kind}
	switch d.Kind {
	case "":
		return disp, nil, refuse(CodeMissingField, "disposition.kind", "disposition.kind is required: %q or %q", DispositionCarryOver, DispositionRefund)
	case DispositionRefund:
		if d.ToTermID != "" {
			return disp, nil, refuse(CodeInvalidDisposition, "disposition.to_term_id", "a refund goes to the donors, not to term %s", trunc(d.ToTermID))
		}
		return disp, nil, nil
	case DispositionCarryOver:
		next, err := s.term("disposition.to_term_id", d.ToTermID)
		if err != nil {
			return disp, nil, err
		}
		if next.StartsOn <= t.EndsOn {
			return disp, nil, refuse(CodeInvalidDisposition, "disposition.to_term_id", "term %s starts on %s, not after term %s ends (%s)", next.ID, next.StartsOn, t.ID, t.EndsOn)
		}
		if next.Closed {
			return disp, nil, refuse(CodeTermClosed, "disposition.to_term_id", "term %s was closed on %s", next.ID, next.ClosedOn)
		}
		disp.ToTermID = next.ID
		return disp, next, nil
	}
	return disp, nil, refuse(CodeInvalidDisposition, "disposition.kind", "disposition.kind %q is not %q or %q", trunc(d.Kind), DispositionCarryOver, DispositionRefund)
}

// disposePots decides, pot by pot, what the close of t carries to next (nil
// for a refund) and what it refunds to each donor (donor → draws).
func (s *State) disposePots(t, next *Term) (carries []events.Payload, refunds map[string][]events.Draw, carried, refunded int64, err error) {
	refunds = map[string][]events.Draw{}
	for _, k := range t.potKeys() {
		bal := t.Pot(k)
		shares := t.PotShares(k)
		to, carry := k, next != nil
		if lineID, isLine := strings.CutPrefix(k, "line:"); carry && isLine {
			if l := s.Lines[lineID]; l != nil && l.ClusterID != "" {
				to = clusterKey(l.ClusterID)
			} else {
				carry = false
			}
		}
		if carry {
			carries = append(carries, &events.BalanceCarriedOver{FromTermID: t.ID, ToTermID: next.ID, Earmark: k, ToEarmark: to,
				Amount: money.USDAmount(bal), Shares: shares})
			carried += bal
			continue
		}
		if len(shares) == 0 {
			return nil, nil, 0, 0, refuse(CodeNoDonorToRefund, "disposition.kind", "the %s of term %s holds %s that no donor put in (interest only): carry it over instead",
				potName(k), t.ID, money.FormatUSD(bal))
		}
		for _, sh := range shares {
			refunds[sh.DonorID] = append(refunds[sh.DonorID], events.Draw{Earmark: k, Amount: sh.Amount})
			refunded += sh.Amount.Minor
		}
	}
	return carries, refunds, carried, refunded, nil
}

// closeRefunds returns the refund_paid of each donor a close refunds, in
// donor order, dated closedOn.
func (s *State) closeRefunds(t *Term, refunds map[string][]events.Draw, closedOn string) ([]events.Payload, error) {
	donors := make([]string, 0, len(refunds))
	for d := range refunds {
		donors = append(donors, d)
	}
	sort.Strings(donors)
	var rps []events.Payload
	for _, d := range donors {
		id := fmt.Sprintf("close:%s:%s", t.ID, d)
		if _, ok := s.Refunds[id]; ok {
			return nil, refuse(CodeDuplicateID, "id", "refund id %s, which the close of term %s would give, is already used", id, t.ID)
		}
		var sum int64
		for _, dr := range refunds[d] {
			sum += dr.Amount.Minor
		}
		rps = append(rps, &events.RefundPaid{RefundID: id, DonorID: d, TermID: t.ID, Amount: money.USDAmount(sum), PaidOn: closedOn,
			Reason: "term " + t.ID + " closed: unallocated balance refunded", Funding: refunds[d]})
	}
	return rps, nil
}

// keptAllocations returns the approved allocations of t with unspent
// money, by id: they keep it after the close.
func (s *State) keptAllocations(t *Term) []events.KeptAllocation {
	kept := []events.KeptAllocation{}
	ids := make([]string, 0)
	for id, a := range s.Allocations {
		if a.TermID == t.ID && a.Approved && a.AmountMinor > a.SpentMinor {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := s.Allocations[id]
		kept = append(kept, events.KeptAllocation{AllocationID: id, LineID: a.LineID, Amount: money.USDAmount(a.AmountMinor - a.SpentMinor)})
	}
	return kept
}
