package domain

import (
	"sort"

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

// pledge looks up the pledge a command names in its path.
func pledge(s *State, id string) (*Pledge, error) {
	if id == "" {
		return nil, refuse(CodeMissingField, "id", "the pledge id is required")
	}
	pl, ok := s.Pledges[id]
	if !ok {
		return nil, refuse(CodeUnknownPledge, "id", "no pledge %s is recorded", trunc(id))
	}
	return pl, nil
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
