package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// AmendPledge changes a pledge's amount (in its currency, with a new rate
// unless USD) and/or its due date. Fields left empty keep their value;
// Reason is required.
type AmendPledge struct {
	Meta
	ID        string     `json:"-"` // the pledge, from the path
	Amount    MoneyInput `json:"amount"`
	USDRate   string     `json:"usd_rate"`
	DueOn     string     `json:"due_on"`
	Reason    string     `json:"reason"`
	AmendedOn string     `json:"amended_on"` // optional, default today
}

func (c *AmendPledge) decide(s *State) ([]events.Event, error) { return amendPledge(s, c) }

func amendPledge(s *State, c *AmendPledge) ([]events.Event, error) {
	pl, err := pledge(s, c.ID)
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
