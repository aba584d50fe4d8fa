package readmodel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/events"
)

// The read model's fold for contribution_received events (see readFold).
var _ = addFold(events.TypeContributionReceived, foldOf(foldContribution, unfoldContribution))

func foldContribution(ctx context.Context, a *applier, e events.Event, p *events.ContributionReceived) error {
	var settled int64
	if p.PledgeSettledUSD != nil {
		settled = p.PledgeSettledUSD.Minor
	}
	_, err := a.exec(ctx, `INSERT INTO contributions (fund, contribution_id, donor_id, term_id, pledge_id, amount_minor, currency, usd_rate, usd_minor, received_on, bank_ref, fund_seq, earmark, pledge_settled_usd_minor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Fund, p.ContributionID, p.DonorID, p.TermID, p.PledgeID, p.Amount.Minor, p.Amount.Currency, p.USDRate, p.USDAmount.Minor, p.ReceivedOn, p.BankRef, int64(e.FundSeq), p.Earmark, settled)
	if err != nil {
		return written(e, err)
	}
	if err := a.execOne(ctx, "add up receipt "+p.ContributionID, addReceiptSeqQuery,
		e.Fund, p.DonorID, p.TermID, p.Amount.Currency, int64(e.FundSeq), p.Amount.Minor, p.USDAmount.Minor); err != nil {
		return err
	}
	if p.PledgeID == "" {
		return nil
	}
	return a.execOne(ctx, "pay pledge "+p.PledgeID,
		`UPDATE pledges SET paid_minor = paid_minor + ?, paid_usd_minor = paid_usd_minor + ?, outstanding_usd_minor = outstanding_usd_minor - ?
		 WHERE fund = ? AND pledge_id = ? AND donor_id = ? AND term_id = ? AND currency = ? AND earmark = ? AND status != 'cancelled'`,
		p.Amount.Minor, p.USDAmount.Minor, settled, e.Fund, p.PledgeID, p.DonorID, p.TermID, p.Amount.Currency, p.Earmark)
}

// addReceiptSeqQuery adds a receipt to its donor's receipts by position
// (receipt_seq_totals, schema 14): the last row of the donor's term and
// currency, or none, plus this one. The fold goes in fund_seq order, so the
// last row is the one before the receipt.
const addReceiptSeqQuery = `INSERT INTO receipt_seq_totals (fund, donor_id, term_id, currency, fund_seq, receipts, amount_minor, usd_minor)
	SELECT ?1, ?2, ?3, ?4, ?5, receipts + 1, amount_minor + ?6, usd_minor + ?7 FROM (
		SELECT fund_seq, receipts, amount_minor, usd_minor FROM receipt_seq_totals WHERE fund = ?1 AND donor_id = ?2 AND term_id = ?3 AND currency = ?4
		UNION ALL SELECT -1, 0, 0, 0
		ORDER BY fund_seq DESC LIMIT 1)`

// unfoldContributionQuery names its index, as reversedReceiptQuery does.
const unfoldContributionQuery = `UPDATE contributions INDEXED BY contributions_seq SET reversed_by = ? WHERE fund = ? AND fund_seq = ? AND reversed_by = ''
	RETURNING pledge_id, amount_minor, usd_minor, pledge_settled_usd_minor`

// unfoldContribution marks a receipt reversed; one that paid a pledge no
// longer counts as paid (and its memo postings give back what it settled).
func unfoldContribution(ctx context.Context, a *applier, e events.Event, r *events.EventReversed, what string, rseq int64) error {
	var (
		pledge             string
		amount, usd, settl int64
	)
	err := a.tx.QueryRowContext(ctx, unfoldContributionQuery, r.ReversalID, e.Fund, rseq).Scan(&pledge, &amount, &usd, &settl)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s: no such receipt standing", ErrInconsistent, what)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if pledge == "" {
		return nil
	}
	return a.execOne(ctx, what+": pledge "+pledge,
		`UPDATE pledges SET paid_minor = paid_minor - ?, paid_usd_minor = paid_usd_minor - ?, outstanding_usd_minor = outstanding_usd_minor + ?
		 WHERE fund = ? AND pledge_id = ? AND status != 'cancelled'`, amount, usd, settl, e.Fund, pledge)
}
