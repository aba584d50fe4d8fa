package domain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// DispositionInput says what closing a term does with its unallocated
// balance: {"kind": "carry_over", "to_term_id": "2022-2023"} or {"kind": "refund"}.
type DispositionInput struct {
	Kind     string `json:"kind"`
	ToTermID string `json:"to_term_id"`
}

// Dispositions of a closing term's unallocated balance.
const (
	DispositionCarryOver = "carry_over"
	DispositionRefund    = "refund"
)

// CloseTerm closes a term and disposes of its unallocated balance.
type CloseTerm struct {
	Meta
	ID          string           `json:"-"` // the term, from the path
	ClosedOn    string           `json:"closed_on"`
	Disposition DispositionInput `json:"disposition"`
}

func (c *CloseTerm) decide(s *State) ([]events.Event, error) { return closeTerm(s, c) }

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
func closeTerm(s *State, c *CloseTerm) ([]events.Event, error) {
	t, err := term(s, "id", c.ID)
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
	disp, next, err := closeDisposition(s, t, c.Disposition)
	if err != nil {
		return nil, err
	}
	// What a close writes are sums of the term's receipts, each within the
	// ledger's limit for one amount, so they can exceed it; events carrying
	// such an amount could not be read back (the writer would stop on them).
	// The pots and the donors' refunds are parts of the unallocated balance.
	if t.Unallocated > money.MaxAmountMinor {
		return nil, refuse(CodeAmountTooLarge, "id", "term %s holds US$%s unallocated, above the ledger's limit of US$%s for one amount: its close cannot be recorded",
			t.ID, money.FormatUSD(t.Unallocated), money.FormatUSD(money.MaxAmountMinor))
	}
	carries, refunds, carried, refunded, err := disposePots(s, t, next)
	if err != nil {
		return nil, err
	}
	rps, err := closeRefunds(s, t, refunds, c.ClosedOn)
	if err != nil {
		return nil, err
	}
	if carried+refunded != t.Unallocated {
		panic(fmt.Sprintf("close of term %s disposes of %d of an unallocated %d", t.ID, carried+refunded, t.Unallocated))
	}
	ps := append(rps, carries...)
	ps = append(ps, &events.TermClosed{TermID: t.ID, ClosedOn: c.ClosedOn, Disposition: disp, Unallocated: money.USDAmount(t.Unallocated),
		CarriedOver: money.USDAmount(carried), Refunded: money.USDAmount(refunded), AllocationsKept: keptAllocations(s, t)})
	return build(c.ClosedOn, ps...)
}

// closeDisposition checks what a close of t does with its unallocated
// balance, and returns the term it is carried to (nil for a refund).
func closeDisposition(s *State, t *Term, d DispositionInput) (events.Disposition, *Term, error) {
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
		next, err := term(s, "disposition.to_term_id", d.ToTermID)
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
func disposePots(s *State, t, next *Term) (carries []events.Payload, refunds map[string][]events.Draw, carried, refunded int64, err error) {
	refunds = map[string][]events.Draw{}
	for _, k := range t.PotKeys() {
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
func closeRefunds(s *State, t *Term, refunds map[string][]events.Draw, closedOn string) ([]events.Payload, error) {
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
func keptAllocations(s *State, t *Term) []events.KeptAllocation {
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
