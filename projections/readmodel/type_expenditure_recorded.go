package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for expenditure_recorded events (see readFold).
var _ = addFold(events.TypeExpenditureRecorded, foldOf(foldExpenditure, unfoldRow("expenditures")))

func foldExpenditure(ctx context.Context, a *applier, e events.Event, p *events.ExpenditureRecorded) error {
	_, err := a.exec(ctx, `INSERT INTO expenditures (fund, expenditure_id, allocation_id, line_id, term_id, amount_minor, currency, usd_rate, usd_minor, spent_on, payee, description, country, city, fund_seq, city_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.ExpenditureID, p.AllocationID, p.LineID, p.TermID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.SpentOn, p.Payee, p.Description, p.Country, p.City, int64(e.FundSeq), p.CityID)
	return written(e, err)
}
