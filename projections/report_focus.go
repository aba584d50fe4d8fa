package projections

import (
	"context"
	"fmt"
	"sort"

	"github.com/unesco-uil/mdfm-ledger/money"
)

// FocusQuery asks for the focus report of one term; the fields mean what
// they mean in BudgetQuery.
type FocusQuery struct {
	Fund  string
	Term  string
	AsOf  string
	AtSeq uint64
}

// FocusFigures is spending, and the part of it that reached cities in
// UNESCO's Africa region and in the World Bank's low-income countries, in
// US dollars as decimal strings. The shares are percentages of Spent with
// two decimals ("42.50"), rounded half away from zero in decimal arithmetic
// (no float); null when nothing was spent, where no share exists.
// AfricaLowIncome is spending that is both; NotClassified is spending whose
// country is not recorded (nor its registered city's) or not in the
// reference data, counted in neither.
type FocusFigures struct {
	Spent              string  `json:"spent"`
	Africa             string  `json:"africa"`
	AfricaPct          *string `json:"africa_pct"`
	LowIncome          string  `json:"low_income"`
	LowIncomePct       *string `json:"low_income_pct"`
	AfricaLowIncome    string  `json:"africa_and_low_income"`
	AfricaLowIncomePct *string `json:"africa_and_low_income_pct"`
	NotClassified      string  `json:"not_classified"`
}

// FocusLineRow is one budget line of the term.
type FocusLineRow struct {
	LineID    string `json:"line_id"`
	Title     string `json:"title"`
	ClusterID string `json:"cluster_id,omitempty"`
	FocusFigures
}

// FocusClusterRow adds up the lines of one cluster.
type FocusClusterRow struct {
	ClusterID string   `json:"cluster_id"`
	Name      string   `json:"name"`
	Lines     []string `json:"lines"`
	FocusFigures
}

// FocusReport is the spending of one term that reached cities in UNESCO's
// Africa region and in low-income countries (World Bank, IncomeGroupFY), as
// amounts and shares of all its spending: per budget line (every line of
// the term, by id), per cluster (by id, each adding up its lines), for the
// lines of no cluster, and in total. It counts the expenditures dated on or
// before AsOf (DateAxis: effective dates) that the ledger knew at FundSeq,
// whose hash is ChainHead, less those reversed: asking again with at_seq =
// FundSeq gives the same report. A city is placed by the country recorded
// with the expenditure, else by its registered city's. AfricaPlaces and
// LowIncomePlaces name the places reached ("Nairobi (KE)", or the country
// when no city is recorded), sorted.
type FocusReport struct {
	Fund            string            `json:"fund"`
	Term            string            `json:"term"`
	AsOf            string            `json:"as_of"`
	AtSeq           uint64            `json:"at_seq,omitempty"`
	DateAxis        string            `json:"date_axis"`
	FundSeq         uint64            `json:"fund_seq"`
	ChainHead       string            `json:"chain_head"`
	Currency        string            `json:"currency"`
	IncomeGroupFY   string            `json:"income_group_fy"`
	Classification  string            `json:"classification"`
	Lines           []FocusLineRow    `json:"lines"`
	Clusters        []FocusClusterRow `json:"clusters"`
	Unclustered     FocusFigures      `json:"unclustered"`
	Totals          FocusFigures      `json:"totals"`
	AfricaPlaces    []string          `json:"africa_places"`
	LowIncomePlaces []string          `json:"low_income_places"`
}

// focusSums are the figures in US cents.
type focusSums struct{ spent, africa, low, both, unclassified int64 }

func (s *focusSums) add(o focusSums) {
	s.spent += o.spent
	s.africa += o.africa
	s.low += o.low
	s.both += o.both
	s.unclassified += o.unclassified
}

func (s focusSums) figures() FocusFigures {
	return FocusFigures{
		Spent:  money.FormatUSD(s.spent),
		Africa: money.FormatUSD(s.africa), AfricaPct: ratePercent(s.africa, s.spent),
		LowIncome: money.FormatUSD(s.low), LowIncomePct: ratePercent(s.low, s.spent),
		AfricaLowIncome: money.FormatUSD(s.both), AfricaLowIncomePct: ratePercent(s.both, s.spent),
		NotClassified: money.FormatUSD(s.unclassified),
	}
}

// Focus draws the focus report of a term (see FocusReport) from one
// consistent snapshot of the read model. Errors are *errs.Error —
// invalid_date, unknown_fund, unknown_term, invalid_at_seq, and
// no_data_as_of for an AsOf before the term's first event — an error
// wrapping ErrInconsistent when an expenditure names a line the term does
// not have, or an infrastructure error.
func (s *Store) Focus(ctx context.Context, q FocusQuery) (FocusReport, error) {
	if !ValidDate(q.AsOf) {
		return FocusReport{}, invalidDate("as_of", q.AsOf)
	}
	v, err := s.openView(ctx, "focus report", q.Fund, q.AtSeq)
	if err != nil {
		return FocusReport{}, err
	}
	defer v.tx.Rollback()
	t, err := v.pickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return FocusReport{}, err
	}
	lines, clusters, err := linesAndClusters(ctx, v, t.id)
	if err != nil {
		return FocusReport{}, fmt.Errorf("focus report: %w", err)
	}
	spending, err := standingSpending(ctx, v, t.id, q.AsOf)
	if err != nil {
		return FocusReport{}, fmt.Errorf("focus report: %w", err)
	}
	byLine := map[string]*focusSums{}
	for id := range lines {
		byLine[id] = &focusSums{}
	}
	africa, low := map[string]bool{}, map[string]bool{}
	for _, e := range spending {
		l := byLine[e.lineID]
		if l == nil {
			return FocusReport{}, fmt.Errorf("focus report: %w: expenditure %s on line %s, which term %s does not have", ErrInconsistent, e.id, e.lineID, t.id)
		}
		x := focusSums{spent: e.usd}
		region, income := classify(e.where.country)
		if region == RegionAfrica {
			x.africa = e.usd
			africa[e.where.label()] = true
		}
		if income == IncomeLow {
			x.low = e.usd
			low[e.where.label()] = true
		}
		if x.africa != 0 && x.low != 0 {
			x.both = e.usd
		}
		if region == NotClassified && income == NotClassified {
			x.unclassified = e.usd
		}
		l.add(x)
	}

	rep := FocusReport{Fund: q.Fund, Term: t.id, AsOf: q.AsOf, AtSeq: q.AtSeq, DateAxis: DateAxisEffective, FundSeq: v.fundSeq, ChainHead: v.chainHead,
		Currency: money.USD.Code, IncomeGroupFY: IncomeGroupFY, Classification: ClassificationSource,
		Lines: []FocusLineRow{}, Clusters: []FocusClusterRow{}, AfricaPlaces: sortedKeys(africa), LowIncomePlaces: sortedKeys(low)}
	ids := make([]string, 0, len(lines))
	for id := range lines {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	byCluster := map[string]*focusSums{}
	clusterLines := map[string][]string{}
	var unclustered, totals focusSums
	for _, id := range ids {
		l := lines[id]
		x := *byLine[id]
		rep.Lines = append(rep.Lines, FocusLineRow{LineID: id, Title: l.title, ClusterID: l.clusterID, FocusFigures: x.figures()})
		totals.add(x)
		if l.clusterID == "" {
			unclustered.add(x)
			continue
		}
		if byCluster[l.clusterID] == nil {
			byCluster[l.clusterID] = &focusSums{}
		}
		byCluster[l.clusterID].add(x)
		clusterLines[l.clusterID] = append(clusterLines[l.clusterID], id)
	}
	for _, id := range sortedKeys(byCluster) {
		name := clusters[id]
		if name == "" {
			name = id
		}
		rep.Clusters = append(rep.Clusters, FocusClusterRow{ClusterID: id, Name: name, Lines: clusterLines[id], FocusFigures: byCluster[id].figures()})
	}
	rep.Unclustered, rep.Totals = unclustered.figures(), totals.figures()
	return rep, nil
}

// sortedKeys returns the keys of m, sorted; empty, never nil.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
