package readmodel

import (
	"context"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for pledge_recorded events (see readFold).
var _ = addFold(events.TypePledgeRecorded, foldOf(foldPledgeRecorded, nil))

func foldPledgeRecorded(ctx context.Context, a *applier, e events.Event, p *events.PledgeRecorded) error {
	_, err := a.exec(ctx, `INSERT INTO pledges (fund, pledge_id, donor_id, term_id, currency, amount_minor, usd_rate, usd_minor,
		signed_amount_minor, signed_usd_rate, signed_usd_minor, earmark, signed_on, due_on, status, outstanding_usd_minor, created_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recorded', ?, ?)`,
		e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Amount.Minor, p.USDRate, p.USDAmount.Minor,
		p.Amount.Minor, p.USDRate, p.USDAmount.Minor, p.Earmark.Key(), p.SignedOn, p.DueOn, p.USDAmount.Minor, int64(e.FundSeq))
	return written(e, err)
}
