package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/money"
)

// BudgetQuery asks for the budget against actual of one term.
type BudgetQuery struct {
	Fund string
	// Term is the term id; empty picks the term whose period contains AsOf,
	// else the last term started by then.
	Term string
	// AsOf is a date, YYYY-MM-DD: the figures at the end of that day, by
	// effective date. Required; the caller fills in today.
	AsOf string
	// AtSeq limits the report to what the ledger knew at that fund_seq; 0
	// means everything the read model has.
	AtSeq uint64
}

// BudgetFigures are the figures of a budget line, a cluster or the whole
// term, in US dollars as decimal strings:
//
//	budget            what the term's budget gives the line(s)
//	allocated         approved allocations, net of reversed approvals
//	                  (a proposal not approved is not allocated)
//	spent             expenditures against them, net of reversed ones
//	available         budget − allocated: what may still be allocated
//	allocated_unspent allocated − spent: allocated money not yet spent
//	delivery_rate     spent ÷ allocated as a percentage with two decimals
//	                  ("42.50"), rounded half away from zero in decimal
//	                  arithmetic; null when nothing is allocated, where no
//	                  rate exists (never "0.00", which would say that
//	                  allocated money went unspent)
type BudgetFigures struct {
	Budget           string  `json:"budget"`
	Allocated        string  `json:"allocated"`
	Spent            string  `json:"spent"`
	Available        string  `json:"available"`
	AllocatedUnspent string  `json:"allocated_unspent"`
	DeliveryRate     *string `json:"delivery_rate"`
}

// BudgetLineRow is one budget line of the term.
type BudgetLineRow struct {
	LineID    string `json:"line_id"`
	Title     string `json:"title"`
	ClusterID string `json:"cluster_id,omitempty"`
	BudgetFigures
}

// BudgetClusterRow adds up the lines of one cluster.
type BudgetClusterRow struct {
	ClusterID string   `json:"cluster_id"`
	Name      string   `json:"name"`
	Lines     []string `json:"lines"`
	BudgetFigures
}

// BudgetReport is the budget against actual of one term of a fund, at the
// end of AsOf (DateAxis: effective dates) from what the ledger knew at
// FundSeq, whose hash is ChainHead: asking again with at_seq = FundSeq
// gives the same report. Lines are by id; Clusters by id, each adding up
// its lines; Unclustered adds up the lines of no cluster (UIL's own lines);
// Totals adds up every line, and equals the sum of Clusters and
// Unclustered. Totals.AllocatedUnspent equals the allocated_unspent of the
// term's Balance at the same as_of and fund_seq.
type BudgetReport struct {
	Fund        string             `json:"fund"`
	Term        string             `json:"term"`
	AsOf        string             `json:"as_of"`
	AtSeq       uint64             `json:"at_seq,omitempty"`
	DateAxis    string             `json:"date_axis"`
	FundSeq     uint64             `json:"fund_seq"`
	ChainHead   string             `json:"chain_head"`
	Currency    string             `json:"currency"`
	Lines       []BudgetLineRow    `json:"lines"`
	Clusters    []BudgetClusterRow `json:"clusters"`
	Unclustered BudgetFigures      `json:"unclustered"`
	Totals      BudgetFigures      `json:"totals"`
}

// budgetSums are the figures in US cents.
type budgetSums struct{ budget, allocated, spent int64 }

func (s *budgetSums) add(o budgetSums) bool {
	var a, b, c bool
	s.budget, a = money.AddChecked(s.budget, o.budget)
	s.allocated, b = money.AddChecked(s.allocated, o.allocated)
	s.spent, c = money.AddChecked(s.spent, o.spent)
	return a && b && c
}

func (s budgetSums) figures() BudgetFigures {
	return BudgetFigures{
		Budget:           money.FormatUSD(s.budget),
		Allocated:        money.FormatUSD(s.allocated),
		Spent:            money.FormatUSD(s.spent),
		Available:        money.FormatUSD(s.budget - s.allocated),
		AllocatedUnspent: money.FormatUSD(s.allocated - s.spent),
		DeliveryRate:     ratePercent(s.spent, s.allocated),
	}
}

// Budget draws the budget against actual of a term (see BudgetReport) from
// one consistent snapshot of the read model. Errors are *errs.Error —
// invalid_date, unknown_fund, unknown_term, invalid_at_seq, and
// no_data_as_of for an AsOf before the term's first event — an error
// wrapping ErrInconsistent when the postings name a line the term does not
// have, or an infrastructure error.
func (s *Store) Budget(ctx context.Context, q BudgetQuery) (BudgetReport, error) {
	return s.budget(ctx, q, readAuto)
}

// budget is Budget, read as mode says (readAuto but in the tests that compare
// the running totals with the postings).
func (s *Store) budget(ctx context.Context, q BudgetQuery, mode readMode) (BudgetReport, error) {
	if !ValidDate(q.AsOf) {
		return BudgetReport{}, InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "budget", q.Fund, q.AtSeq)
	if err != nil {
		return BudgetReport{}, err
	}
	defer v.Tx.Rollback()
	v.setMode(mode)
	term, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return BudgetReport{}, err
	}
	r := BudgetReport{Fund: q.Fund, Term: term.ID, AsOf: q.AsOf, AtSeq: q.AtSeq, DateAxis: DateAxisEffective,
		FundSeq: v.FundSeq, ChainHead: v.ChainHead, Currency: money.USD.Code,
		Lines: []BudgetLineRow{}, Clusters: []BudgetClusterRow{}}
	lines, err := readBudgetLines(ctx, v, term.ID, q.AsOf)
	if err != nil {
		return BudgetReport{}, err
	}
	if err := sumBudgetPostings(ctx, v, term.ID, q.AsOf, lines); err != nil {
		return BudgetReport{}, err
	}
	if err := r.addLines(lines); err != nil {
		return BudgetReport{}, fmt.Errorf("budget of fund %s term %s: %w", q.Fund, term.ID, err)
	}
	return r, nil
}

// budgetLine is a line of the budget with its sums.
type budgetLine struct {
	row         BudgetLineRow
	clusterName string
	sums        budgetSums
}

// readBudgetLines reads the term's budget lines by asOf, by id. A line is
// in the budget from its event's effective date (the term's first day).
func readBudgetLines(ctx context.Context, v *View, term, asOf string) ([]*budgetLine, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT l.line_id, l.title, l.cluster_id, l.amount_minor,
			COALESCE((SELECT c.name FROM clusters c WHERE c.fund = l.fund AND c.cluster_id = l.cluster_id AND c.fund_seq <= ?3), '')
		FROM budget_lines l JOIN events e ON e.fund = l.fund AND e.fund_seq = l.fund_seq
		WHERE l.fund = ?1 AND l.term_id = ?2 AND l.fund_seq <= ?3 AND e.effective_on <= ?4
		ORDER BY l.line_id`, v.Fund, term, int64(v.FundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("budget: read lines: %w", err)
	}
	defer rows.Close()
	var lines []*budgetLine
	for rows.Next() {
		l := &budgetLine{}
		if err := rows.Scan(&l.row.LineID, &l.row.Title, &l.row.ClusterID, &l.sums.budget, &l.clusterName); err != nil {
			return nil, fmt.Errorf("budget: read lines: %w", err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("budget: read lines: %w", err)
	}
	return lines, nil
}

// sumBudgetPostings reads what was allocated to and spent on each line.
// trust:allocated is credited by an approval and debited by the reversal
// of one (a reversal leg is dated on the reversed event's day and known
// from its own fund_seq); trust:spent is debited by spending and credited
// by its reversal. Nothing else posts to either.
func sumBudgetPostings(ctx context.Context, v *View, term, asOf string, lines []*budgetLine) error {
	byID := map[string]*budgetLine{}
	for _, l := range lines {
		byID[l.row.LineID] = l
	}
	rows, err := v.budgetRows(ctx, term, asOf)
	if err != nil {
		return fmt.Errorf("budget: sum postings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			lineID, account string
			x               int64
		)
		if err := rows.Scan(&lineID, &account, &x); err != nil {
			return fmt.Errorf("budget: sum postings: %w", err)
		}
		l, ok := byID[lineID]
		if !ok {
			return fmt.Errorf("budget of fund %s term %s: %w: %s postings of line %q, which the term's budget does not have as of %s",
				v.Fund, term, ErrInconsistent, account, lineID, asOf)
		}
		if account == domain.AccountTrustAllocated {
			l.sums.allocated = -x
		} else {
			l.sums.spent = x
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("budget: sum postings: %w", err)
	}
	return nil
}

// budgetRows sums the postings to trust:allocated and trust:spent by line:
// from the running totals (View.totals; a line with no leg by asOf has no
// row, as in the postings), or the postings in the tests' oracle.
func (v *View) budgetRows(ctx context.Context, term, asOf string) (*sql.Rows, error) {
	if totals, more, ok := v.totals("line_id, account", "term_id = ?2 AND account IN (?4, ?5)", "?3", 6); ok {
		return v.Tx.QueryContext(ctx, `SELECT line_id, account, SUM(d + c) FROM (`+totals+`)
			GROUP BY line_id, account HAVING SUM(n) > 0 ORDER BY line_id, account`,
			append([]any{v.Fund, term, asOf, domain.AccountTrustAllocated, domain.AccountTrustSpent}, more...)...)
	}
	return v.Tx.QueryContext(ctx, `SELECT line_id, account, SUM(amount_minor) FROM postings
		WHERE fund = ? AND term_id = ? AND effective_on <= ? AND fund_seq <= ? AND account IN (?, ?)
		GROUP BY line_id, account ORDER BY line_id, account`,
		v.Fund, term, asOf, int64(v.FundSeq), domain.AccountTrustAllocated, domain.AccountTrustSpent)
}

// addLines puts the lines in the report, adds them up by cluster, apart
// and in all, and orders the clusters by id.
func (r *BudgetReport) addLines(lines []*budgetLine) error {
	var totals, unclustered budgetSums
	clusterIndex := map[string]int{}
	clusterSums := []budgetSums{}
	ok := true
	for _, l := range lines {
		if l.sums.allocated < 0 || l.sums.spent < 0 {
			return fmt.Errorf("%w: line %s has allocated %d, spent %d", ErrInconsistent, l.row.LineID, l.sums.allocated, l.sums.spent)
		}
		l.row.BudgetFigures = l.sums.figures()
		r.Lines = append(r.Lines, l.row)
		ok = totals.add(l.sums) && ok
		if l.row.ClusterID == "" {
			ok = unclustered.add(l.sums) && ok
			continue
		}
		i, seen := clusterIndex[l.row.ClusterID]
		if !seen {
			i = len(r.Clusters)
			clusterIndex[l.row.ClusterID] = i
			r.Clusters = append(r.Clusters, BudgetClusterRow{ClusterID: l.row.ClusterID, Name: l.clusterName, Lines: []string{}})
			clusterSums = append(clusterSums, budgetSums{})
		}
		r.Clusters[i].Lines = append(r.Clusters[i].Lines, l.row.LineID)
		ok = clusterSums[i].add(l.sums) && ok
	}
	if !ok {
		return errOverflow
	}
	for i := range r.Clusters {
		r.Clusters[i].BudgetFigures = clusterSums[i].figures()
	}
	// Lines are by id, so clusters come in the order of their first line.
	slices.SortFunc(r.Clusters, func(a, b BudgetClusterRow) int { return strings.Compare(a.ClusterID, b.ClusterID) })
	r.Unclustered = unclustered.figures()
	r.Totals = totals.figures()
	return nil
}
