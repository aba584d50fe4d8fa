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
		return FocusReport{}, InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "focus report", q.Fund, q.AtSeq)
	if err != nil {
		return FocusReport{}, err
	}
	defer v.Tx.Rollback()
	t, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return FocusReport{}, err
	}
	lines, clusters, err := LinesAndClusters(ctx, v, t.ID)
	if err != nil {
		return FocusReport{}, fmt.Errorf("focus report: %w", err)
	}
	spending, err := StandingSpending(ctx, v, t.ID, q.AsOf)
	if err != nil {
		return FocusReport{}, fmt.Errorf("focus report: %w", err)
	}
	byLine, africa, low, err := focusByLine(lines, spending)
	if err != nil {
		return FocusReport{}, fmt.Errorf("focus report: %w: %v, which term %s does not have", ErrInconsistent, err, t.ID)
	}
	rep := FocusReport{Fund: q.Fund, Term: t.ID, AsOf: q.AsOf, AtSeq: q.AtSeq, DateAxis: DateAxisEffective, FundSeq: v.FundSeq, ChainHead: v.ChainHead,
		Currency: money.USD.Code, IncomeGroupFY: IncomeGroupFY, Classification: ClassificationSource,
		Lines: []FocusLineRow{}, Clusters: []FocusClusterRow{}, AfricaPlaces: sortedKeys(africa), LowIncomePlaces: sortedKeys(low)}
	rep.addLines(lines, clusters, byLine)
	return rep, nil
}

// focusByLine adds up the term's standing spending by line, and names the
// places in Africa and in low-income countries it reached. The error names
// an expenditure on a line the term does not have.
func focusByLine(lines map[string]Line, spending []*Expenditure) (byLine map[string]*focusSums, africa, low map[string]bool, err error) {
	byLine = map[string]*focusSums{}
	for id := range lines {
		byLine[id] = &focusSums{}
	}
	africa, low = map[string]bool{}, map[string]bool{}
	for _, e := range spending {
		l := byLine[e.LineID]
		if l == nil {
			return nil, nil, nil, fmt.Errorf("the expenditure at fund_seq %d on line %s", e.Seq, e.LineID)
		}
		x := focusSums{spent: e.USD}
		region, income := Classify(e.Where.Country)
		if region == RegionAfrica {
			x.africa = e.USD
			africa[e.Where.Label()] = true
		}
		if income == IncomeLow {
			x.low = e.USD
			low[e.Where.Label()] = true
		}
		if x.africa != 0 && x.low != 0 {
			x.both = e.USD
		}
		if region == NotClassified && income == NotClassified {
			x.unclassified = e.USD
		}
		l.add(x)
	}
	return byLine, africa, low, nil
}

// addLines puts the lines in the report by id, adds them up by cluster,
// apart and in all.
func (rep *FocusReport) addLines(lines map[string]Line, clusters map[string]string, byLine map[string]*focusSums) {
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
		rep.Lines = append(rep.Lines, FocusLineRow{LineID: id, Title: l.Title, ClusterID: l.ClusterID, FocusFigures: x.figures()})
		totals.add(x)
		if l.ClusterID == "" {
			unclustered.add(x)
			continue
		}
		if byCluster[l.ClusterID] == nil {
			byCluster[l.ClusterID] = &focusSums{}
		}
		byCluster[l.ClusterID].add(x)
		clusterLines[l.ClusterID] = append(clusterLines[l.ClusterID], id)
	}
	for _, id := range sortedKeys(byCluster) {
		name := clusters[id]
		if name == "" {
			name = id
		}
		rep.Clusters = append(rep.Clusters, FocusClusterRow{ClusterID: id, Name: name, Lines: clusterLines[id], FocusFigures: byCluster[id].figures()})
	}
	rep.Unclustered, rep.Totals = unclustered.figures(), totals.figures()
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
