package domain

import (
	"sort"

	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// A pledge is a promise, not cash: its events post to the memo accounts
// only. Receipts name the pledge they pay (RecordContribution.PledgeID),
// in the pledge's currency, and bring its earmark with them.
//
// Rules decided here, where the issue was silent:
//   - a receipt cannot pay more than the pledge still expects in its
//     currency (receipt_exceeds_pledge): amend the pledge first;
//   - an amendment keeps the pledge's currency and earmark, and cannot bring
//     the amount below what has been paid (pledge_below_paid);
//   - a pledge paid in full cannot be cancelled (pledge_fully_paid): there is
//     nothing left to cancel; a partly paid one can, which writes off what it
//     still expected and keeps the receipts;
//   - a cancelled pledge takes no receipt, amendment or second cancellation
//     (pledge_cancelled), and a receipt against it cannot be reversed.

// checkPays checks that a receipt of amount from donor d for term t may pay
// pledge pl, and returns by how much it lowers the pledge's outstanding US
// dollar value.
func checkPays(pl *Pledge, d *Donor, t *Term, amount money.Amount) (money.Amount, error) {
	if pl.DonorID != d.ID {
		return money.Amount{}, refuse(CodePledgeDonorMismatch, "pledge_id", "pledge %s is donor %s's, not %s's", pl.ID, pl.DonorID, d.ID)
	}
	if pl.TermID != t.ID {
		return money.Amount{}, refuse(CodePledgeTermMismatch, "pledge_id", "pledge %s is for term %s, not %s", pl.ID, pl.TermID, t.ID)
	}
	if pl.Amount.Currency != amount.Currency {
		return money.Amount{}, refuse(CodePledgeCurrencyMismatch, "amount", "pledge %s is in %s: a receipt paying it must be in %s too, not %s",
			pl.ID, pl.Amount.Currency, pl.Amount.Currency, amount.Currency)
	}
	if pl.Cancelled {
		return money.Amount{}, refuse(CodePledgeCancelled, "pledge_id", "pledge %s was cancelled on %s", pl.ID, pl.CancelledOn)
	}
	left := pl.Amount.Minor - pl.PaidMinor
	if amount.Minor > left {
		return money.Amount{}, refuse(CodeReceiptExceedsPledge, "amount", "%s is more than pledge %s still expects (%s): amend the pledge first",
			amount, pl.ID, money.Amount{Minor: left, Currency: pl.Amount.Currency})
	}
	return money.USDAmount(pl.OutstandingUSD - outstandingUSD(pl.USDMinor, pl.Amount.Minor, left-amount.Minor)), nil
}

// outstandingUSD is the US dollar value of what a pledge of amount (minor
// units of its currency, worth usd cents) still expects when left of it is
// unpaid: its US dollar value in proportion, rounded half up to the cent.
// It is exactly usd when nothing is paid and zero when all is.
func outstandingUSD(usd, amount, left int64) int64 {
	return money.MulDivRound(usd, left, amount)
}

func (s *State) recordPledge(c *RecordPledge) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := s.checkMovementID(c.ID); err != nil {
		return nil, err
	}
	d, err := s.donor("donor_id", c.DonorID)
	if err != nil {
		return nil, err
	}
	t, err := s.term("term_id", c.TermID)
	if err != nil {
		return nil, err
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	em, err := s.earmark(c.Earmark, t)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("signed_on", c.SignedOn, c.Today); err != nil {
		return nil, err
	}
	if err := checkNotEarly("signed_on", c.SignedOn, t, EarlySigningYears); err != nil {
		return nil, err
	}
	if err := checkDate("due_on", c.DueOn); err != nil {
		return nil, err
	}
	if c.DueOn < c.SignedOn {
		return nil, refuse(CodeInvalidDate, "due_on", "due_on %s is before the pledge was signed (%s)", c.DueOn, c.SignedOn)
	}
	if err := checkNotClosed("term_id", t); err != nil {
		return nil, err
	}
	return build(c.SignedOn, &events.PledgeRecorded{PledgeID: c.ID, DonorID: d.ID, TermID: t.ID, Amount: amount, USDRate: rate,
		USDAmount: money.USDAmount(usd), Earmark: em, SignedOn: c.SignedOn, DueOn: c.DueOn})
}

// earmark checks an earmark of term t: exactly one of a line of t or a
// registered cluster.
func (s *State) earmark(in *EarmarkInput, t *Term) (*events.Earmark, error) {
	if in == nil {
		return nil, nil
	}
	if (in.LineID == "") == (in.ClusterID == "") {
		return nil, refuse(CodeInvalidEarmark, "earmark", "an earmark names either a line_id or a cluster_id, one of them")
	}
	if in.LineID != "" {
		l, ok := s.Lines[in.LineID]
		if !ok {
			return nil, refuse(CodeUnknownLine, "earmark.line_id", "no budget line %s", trunc(in.LineID))
		}
		if l.TermID != t.ID {
			return nil, refuse(CodeEarmarkOutsideTerm, "earmark.line_id", "line %s is a line of term %s, not of %s", l.ID, l.TermID, t.ID)
		}
		return &events.Earmark{LineID: l.ID}, nil
	}
	if _, ok := s.Clusters[in.ClusterID]; !ok {
		return nil, refuse(CodeUnknownCluster, "earmark.cluster_id", "no cluster %s is registered", trunc(in.ClusterID))
	}
	return &events.Earmark{ClusterID: in.ClusterID}, nil
}

// pledge looks up the pledge a command names in its path.
func (s *State) pledge(id string) (*Pledge, error) {
	if id == "" {
		return nil, refuse(CodeMissingField, "id", "the pledge id is required")
	}
	pl, ok := s.Pledges[id]
	if !ok {
		return nil, refuse(CodeUnknownPledge, "id", "no pledge %s is recorded", trunc(id))
	}
	return pl, nil
}

func (s *State) amendPledge(c *AmendPledge) ([]events.Event, error) {
	pl, err := s.pledge(c.ID)
	if err != nil {
		return nil, err
	}
	if c.Amount == (MoneyInput{}) && c.USDRate == "" && c.DueOn == "" {
		return nil, refuse(CodeMissingField, "amount", "an amendment changes the amount (and rate), the due date, or both")
	}
	if err := checkMultiline("reason", c.Reason, true); err != nil {
		return nil, err
	}
	if pl.Cancelled {
		return nil, refuse(CodePledgeCancelled, "id", "pledge %s was cancelled on %s", pl.ID, pl.CancelledOn)
	}
	amount, usd, rate := pl.Amount, pl.USDMinor, pl.USDRate
	if c.Amount != (MoneyInput{}) || c.USDRate != "" {
		in := c.Amount
		if in == (MoneyInput{}) {
			// A new rate alone revalues the same amount.
			cur, _ := money.LookupCurrency(pl.Amount.Currency)
			in = MoneyInput{Amount: money.Format(pl.Amount.Minor, cur), Currency: cur.Code}
		}
		if amount, usd, rate, err = parseForeign("amount", in, c.USDRate); err != nil {
			return nil, err
		}
		if amount.Currency != pl.Amount.Currency {
			return nil, refuse(CodePledgeCurrencyMismatch, "amount", "pledge %s is in %s: an amendment keeps its currency", pl.ID, pl.Amount.Currency)
		}
		if amount.Minor < pl.PaidMinor {
			return nil, refuse(CodePledgeBelowPaid, "amount", "%s is less than what has been paid against pledge %s (%s)",
				amount, pl.ID, money.Amount{Minor: pl.PaidMinor, Currency: amount.Currency})
		}
	}
	due := pl.DueOn
	if c.DueOn != "" {
		if err := checkDate("due_on", c.DueOn); err != nil {
			return nil, err
		}
		if c.DueOn < pl.SignedOn {
			return nil, refuse(CodeInvalidDate, "due_on", "due_on %s is before the pledge was signed (%s)", c.DueOn, pl.SignedOn)
		}
		due = c.DueOn
	}
	on, err := optionalDate("amended_on", c.AmendedOn, c.Today)
	if err != nil {
		return nil, err
	}
	if err := checkSigned("amended_on", on, pl); err != nil {
		return nil, err
	}
	if err := checkOpenOn("amended_on", s.Terms[pl.TermID], on); err != nil {
		return nil, err
	}
	change := outstandingUSD(usd, amount.Minor, amount.Minor-pl.PaidMinor) - pl.OutstandingUSD
	return build(on, &events.PledgeAmended{PledgeID: pl.ID, DonorID: pl.DonorID, TermID: pl.TermID, Amount: amount, USDRate: rate,
		USDAmount: money.USDAmount(usd), DueOn: due, Reason: c.Reason, Earmark: pl.Earmark, OutstandingUSDChange: money.USDAmount(change)})
}

func (s *State) cancelPledge(c *CancelPledge) ([]events.Event, error) {
	pl, err := s.pledge(c.ID)
	if err != nil {
		return nil, err
	}
	if err := checkMultiline("reason", c.Reason, true); err != nil {
		return nil, err
	}
	if pl.Cancelled {
		return nil, refuse(CodePledgeCancelled, "id", "pledge %s was cancelled on %s", pl.ID, pl.CancelledOn)
	}
	left := pl.Amount.Minor - pl.PaidMinor
	if left <= 0 {
		return nil, refuse(CodePledgeFullyPaid, "id", "pledge %s is paid in full: there is nothing left to cancel", pl.ID)
	}
	on, err := optionalDate("cancelled_on", c.CancelledOn, c.Today)
	if err != nil {
		return nil, err
	}
	if err := checkSigned("cancelled_on", on, pl); err != nil {
		return nil, err
	}
	if err := checkOpenOn("cancelled_on", s.Terms[pl.TermID], on); err != nil {
		return nil, err
	}
	return build(on, &events.PledgeCancelled{PledgeID: pl.ID, DonorID: pl.DonorID, TermID: pl.TermID, Reason: c.Reason, Earmark: pl.Earmark,
		WrittenOff: money.Amount{Minor: left, Currency: pl.Amount.Currency}, WrittenOffUSD: money.USDAmount(pl.OutstandingUSD)})
}

// checkSigned refuses a change to pledge pl dated before it was signed.
func checkSigned(field, on string, pl *Pledge) error {
	if on < pl.SignedOn {
		return refuse(CodeInvalidDate, field, "%s %s is before pledge %s was signed (%s)", field, on, pl.ID, pl.SignedOn)
	}
	return nil
}

// PledgeBalance is what a pledge still expects: Amount in the pledge's
// currency and USDMinor, its US dollar value in cents (the memo balance).
type PledgeBalance struct {
	Amount   money.Amount
	USDMinor int64
}

// PledgeOutstanding returns what pledge pledgeID still expects; zero once it
// is paid in full or cancelled. ok is false for an unknown pledge.
func PledgeOutstanding(s *State, pledgeID string) (b PledgeBalance, ok bool) {
	pl, ok := s.Pledges[pledgeID]
	if !ok {
		return PledgeBalance{}, false
	}
	left := pl.Amount.Minor - pl.PaidMinor
	if pl.Cancelled {
		left = 0
	}
	return PledgeBalance{Amount: money.Amount{Minor: left, Currency: pl.Amount.Currency}, USDMinor: pl.OutstandingUSD}, true
}

// OverduePledge is a pledge past its due date that still expects money.
type OverduePledge struct {
	PledgeID, DonorID, TermID, DueOn string
	Outstanding                      PledgeBalance
}

// PledgesOverdue returns the pledges not cancelled whose due date is before
// asOf (YYYY-MM-DD) and that still expect money, by due date then id.
func PledgesOverdue(s *State, asOf string) []OverduePledge {
	var out []OverduePledge
	for id, pl := range s.Pledges {
		if pl.Cancelled || pl.DueOn >= asOf {
			continue
		}
		if b, _ := PledgeOutstanding(s, id); b.Amount.Minor > 0 {
			out = append(out, OverduePledge{PledgeID: id, DonorID: pl.DonorID, TermID: pl.TermID, DueOn: pl.DueOn, Outstanding: b})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].DueOn != out[j].DueOn {
			return out[i].DueOn < out[j].DueOn
		}
		return out[i].PledgeID < out[j].PledgeID
	})
	return out
}
