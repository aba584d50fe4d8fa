package domain

import (
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// RecordExpenditure records money spent against an approved allocation.
type RecordExpenditure struct {
	Meta
	ID           string     `json:"id"`
	AllocationID string     `json:"allocation_id"`
	Amount       MoneyInput `json:"amount"`
	USDRate      string     `json:"usd_rate"`
	SpentOn      string     `json:"spent_on"`
	Payee        string     `json:"payee"`
	Description  string     `json:"description"`
	Country      string     `json:"country"`
	City         string     `json:"city"`
	// CityID optionally names a city of the registry; Country (and City,
	// when empty) are then taken from it, or must match it.
	CityID string `json:"city_id"`
}

func (c *RecordExpenditure) decide(s *State) ([]events.Event, error) { return recordExpenditure(s, c) }

func recordExpenditure(s *State, c *RecordExpenditure) ([]events.Event, error) {
	if err := checkID("id", c.ID); err != nil {
		return nil, err
	}
	if err := checkMovementID(s, c.ID); err != nil {
		return nil, err
	}
	if c.AllocationID == "" {
		return nil, refuse(CodeMissingField, "allocation_id", "allocation_id is required")
	}
	a, ok := s.Allocations[c.AllocationID]
	if !ok {
		return nil, refuse(CodeUnknownAllocation, "allocation_id", "no allocation %s", c.AllocationID)
	}
	amount, usd, rate, err := parseForeign("amount", c.Amount, c.USDRate)
	if err != nil {
		return nil, err
	}
	if err := checkPastDate("spent_on", c.SpentOn, c.Today); err != nil {
		return nil, err
	}
	if err := checkText("payee", c.Payee, true); err != nil {
		return nil, err
	}
	if err := checkMultiline("description", c.Description, false); err != nil {
		return nil, err
	}
	if err := checkCountry("country", c.Country, false); err != nil {
		return nil, err
	}
	if err := checkText("city", c.City, false); err != nil {
		return nil, err
	}
	country, city := c.Country, c.City
	if c.CityID != "" {
		ct, ok := s.Cities[c.CityID]
		if !ok {
			return nil, refuse(CodeUnknownCity, "city_id", "no city %s is registered", trunc(c.CityID))
		}
		if country == "" {
			country = ct.Country
		} else if country != ct.Country {
			return nil, refuse(CodeCityCountryMismatch, "country", "city %s is in %s, not %s", ct.ID, ct.Country, country)
		}
		if city == "" {
			city = ct.Name
		}
	}
	t := s.Terms[a.TermID]
	if t.Closed {
		// Rule 6: nothing new dated inside a closed term; what its kept
		// allocations still pay is dated after its end.
		if err := checkOpenOn("spent_on", t, c.SpentOn); err != nil {
			return nil, err
		}
	} else if err := checkInTerm("spent_on", c.SpentOn, t); err != nil {
		return nil, err
	}
	// Rule 3: only approved allocations are spent against, never beyond them.
	if !a.Approved {
		return nil, refuse(CodeAllocationNotApproved, "allocation_id", "allocation %s is proposed but not approved", a.ID)
	}
	if c.SpentOn < a.ApprovedOn {
		return nil, refuse(CodeDateBeforeApproval, "spent_on", "spent_on %s is before allocation %s was approved (%s)", c.SpentOn, a.ID, a.ApprovedOn)
	}
	if left := a.AmountMinor - a.SpentMinor; usd > left {
		return nil, refuse(CodeInsufficientAllocationBalance, "amount", "spending %s exceeds what allocation %s has left (%s)",
			money.FormatUSD(usd), a.ID, money.FormatUSD(left))
	}
	return build(c.SpentOn, &events.ExpenditureRecorded{
		ExpenditureID: c.ID, AllocationID: a.ID, LineID: a.LineID, TermID: a.TermID, Amount: amount,
		USDRate: rate, USDAmount: money.USDAmount(usd), SpentOn: c.SpentOn, Payee: c.Payee,
		Description: c.Description, Country: country, City: city, CityID: c.CityID,
	})
}
