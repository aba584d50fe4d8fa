package iatireport

import (
	"context"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// readStamp reads what the files are computed from: the view's fund_seq and
// chain head, and the recorded time of the event there.
func readStamp(ctx context.Context, v *projections.View, q Query) (Stamp, error) {
	at, err := v.RecordedAt(ctx, v.FundSeq)
	if err != nil {
		return Stamp{}, err
	}
	return Stamp{Fund: v.Fund, Term: q.Term, AsOf: q.AsOf, AtSeq: q.AtSeq, DateAxis: projections.DateAxisEffective,
		FundSeq: v.FundSeq, ChainHead: v.ChainHead, GeneratedAt: at}, nil
}

// readDonors reads the donors registered by the view's fund_seq as of asOf:
// a participating organisation is named as the donor stood on the file's
// date (see View.AmendDonors).
func readDonors(ctx context.Context, v *projections.View, asOf string) (map[string]*statement.Donor, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT donor_id, name, kind, country, city FROM donors WHERE fund = ? AND fund_seq <= ?`, v.Fund, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read donors: %w", err)
	}
	defer rows.Close()
	out := map[string]*statement.Donor{}
	for rows.Next() {
		d := &statement.Donor{}
		if err := rows.Scan(&d.ID, &d.Name, &d.Kind, &d.Country, &d.City); err != nil {
			return nil, fmt.Errorf("read donors: %w", err)
		}
		out[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read donors: %w", err)
	}
	return out, v.AmendDonors(ctx, asOf, "", out)
}

// termLastUpdated is when the last event of the term the view knows was
// recorded.
func termLastUpdated(ctx context.Context, v *projections.View, term string) (string, error) {
	var last int64
	err := v.Tx.QueryRowContext(ctx, `SELECT max(
			(SELECT fund_seq FROM terms WHERE fund = ?1 AND term_id = ?2),
			COALESCE((SELECT max(fund_seq) FROM postings WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0),
			COALESCE((SELECT max(fund_seq) FROM budget_lines WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0),
			COALESCE((SELECT max(proposed_seq) FROM allocations WHERE fund = ?1 AND term_id = ?2 AND proposed_seq <= ?3), 0),
			COALESCE((SELECT fund_seq FROM term_closes WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0))`,
		v.Fund, term, int64(v.FundSeq)).Scan(&last)
	if err != nil {
		return "", fmt.Errorf("read last event: %w", err)
	}
	return v.RecordedAt(ctx, uint64(last))
}

// pledge is a pledge of the term as the activity shows it.
type pledge struct {
	id, donor, cur, signed, earmark string
	seq, minor                      int64
}

// readPledges reads the term's pledges signed by asOf: the amount as last
// amended by asOf (amendments that changed a term, by fund_seq), less what
// cancellations by then wrote off.
func readPledges(ctx context.Context, v *projections.View, term, asOf string) ([]pledge, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT p.pledge_id, p.donor_id, p.currency, p.signed_on, p.earmark, p.created_seq,
			COALESCE((SELECT c.amount_minor FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'amended' AND c.terms_changed = 1
					AND c.effective_on <= ?3 AND c.fund_seq <= ?4
				ORDER BY c.fund_seq DESC LIMIT 1), p.signed_amount_minor)
			- COALESCE((SELECT SUM(c.written_off_minor) FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'cancelled' AND c.effective_on <= ?3 AND c.fund_seq <= ?4), 0)
		FROM pledges p
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.signed_on <= ?3 AND p.created_seq <= ?4`,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	defer rows.Close()
	var pledges []pledge
	for rows.Next() {
		var p pledge
		if err := rows.Scan(&p.id, &p.donor, &p.cur, &p.signed, &p.earmark, &p.seq, &p.minor); err != nil {
			return nil, fmt.Errorf("read pledges: %w", err)
		}
		pledges = append(pledges, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	return pledges, nil
}

// standing keeps rows x whose event stands at fund_seq ?4: a reversal known
// there takes its event out; the reversal is dated on the reversed event's
// day, so on any as_of they stand or fall together.
const standing = `NOT EXISTS (SELECT 1 FROM reversals r WHERE r.fund = x.fund AND r.reversed_fund_seq = x.fund_seq AND r.fund_seq <= ?4)`

// receipt is a receipt of the term as the activity shows it.
type receipt struct {
	id, donor, pledge, cur, on string
	minor, usd, seq            int64
}

// countReceipts counts the term's standing receipts by asOf without
// reading them: at the fund's head from receipt_days' counts (a reversal
// takes a receipt out on its own day), below it from the receipts.
func countReceipts(ctx context.Context, v *projections.View, term, asOf string) (int64, error) {
	query := `SELECT COALESCE(SUM(receipts), 0) FROM receipt_days WHERE fund = ?1 AND term_id = ?2 AND received_on <= ?3`
	if v.FundSeq != v.Head {
		query = `SELECT count(*) FROM contributions x WHERE x.fund = ?1 AND x.term_id = ?2 AND x.received_on <= ?3 AND x.fund_seq <= ?4 AND ` + standing
	}
	var n int64
	if err := v.Tx.QueryRowContext(ctx, query, v.Fund, term, asOf, int64(v.FundSeq)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count receipts: %w", err)
	}
	return n, nil
}

// readReceipts reads the term's standing receipts by asOf.
func readReceipts(ctx context.Context, v *projections.View, term, asOf string) ([]receipt, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT x.contribution_id, x.donor_id, x.pledge_id, x.currency, x.amount_minor, x.usd_minor, x.received_on, x.fund_seq
		FROM contributions x WHERE x.fund = ?1 AND x.term_id = ?2 AND x.received_on <= ?3 AND x.fund_seq <= ?4 AND `+standing,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	var receipts []receipt
	for rows.Next() {
		var r receipt
		if err := rows.Scan(&r.id, &r.donor, &r.pledge, &r.cur, &r.minor, &r.usd, &r.on, &r.seq); err != nil {
			return nil, fmt.Errorf("read receipts: %w", err)
		}
		receipts = append(receipts, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	return receipts, nil
}

// expenditure is an expenditure of the term as the activity shows it.
type expenditure struct {
	id, cur, on, payee, desc, country string
	minor, usd, seq                   int64
}

// readExpenditures reads the term's standing expenditures by asOf.
func readExpenditures(ctx context.Context, v *projections.View, term, asOf string) ([]expenditure, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT x.expenditure_id, x.currency, x.amount_minor, x.usd_minor, x.spent_on, x.payee, x.description, x.country, x.fund_seq
		FROM expenditures x WHERE x.fund = ?1 AND x.term_id = ?2 AND x.spent_on <= ?3 AND x.fund_seq <= ?4 AND `+standing,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	defer rows.Close()
	var spending []expenditure
	for rows.Next() {
		var x expenditure
		if err := rows.Scan(&x.id, &x.cur, &x.minor, &x.usd, &x.on, &x.payee, &x.desc, &x.country, &x.seq); err != nil {
			return nil, fmt.Errorf("read expenditures: %w", err)
		}
		spending = append(spending, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	return spending, nil
}
