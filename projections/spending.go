package projections

import (
	"context"
	"fmt"
	"strings"
)

// Expenditure is an expenditure of the term standing at the view.
type Expenditure struct {
	ID, AllocationID, LineID string
	USD                      int64
	Where                    Place
}

// Line is a budget line as reports print it.
type Line struct{ Title, ClusterID string }

// LinesAndClusters reads the term's budget lines and the fund's cluster
// names known at the view.
func LinesAndClusters(ctx context.Context, v *View, term string) (map[string]Line, map[string]string, error) {
	lines, clusters := map[string]Line{}, map[string]string{}
	rows, err := v.Tx.QueryContext(ctx, `SELECT line_id, title, cluster_id FROM budget_lines WHERE fund = ? AND term_id = ? AND fund_seq <= ?`,
		v.Fund, term, int64(v.FundSeq))
	if err != nil {
		return nil, nil, fmt.Errorf("read budget lines: %w", err)
	}
	for rows.Next() {
		var id string
		var l Line
		if err := rows.Scan(&id, &l.Title, &l.ClusterID); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read budget lines: %w", err)
		}
		lines[id] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read budget lines: %w", err)
	}
	rows, err = v.Tx.QueryContext(ctx, `SELECT cluster_id, name FROM clusters WHERE fund = ? AND fund_seq <= ?`, v.Fund, int64(v.FundSeq))
	if err != nil {
		return nil, nil, fmt.Errorf("read clusters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, nil, fmt.Errorf("read clusters: %w", err)
		}
		clusters[id] = name
	}
	return lines, clusters, rows.Err()
}

// LineLess orders lines for reading: the fund-wide lines, then the
// clusters' lines, each by id.
func LineLess(a, b string, lines map[string]Line) bool {
	ca, cb := lines[a].ClusterID, lines[b].ClusterID
	if (ca == "") != (cb == "") {
		return ca == ""
	}
	if ca != cb {
		return ca < cb
	}
	return a < b
}

// StandingSpending reads the term's expenditures by asOf that the view has
// not reversed, in the fund's order, with the place each reached.
func StandingSpending(ctx context.Context, v *View, term, asOf string) ([]*Expenditure, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT e.expenditure_id, e.allocation_id, e.line_id, e.usd_minor, e.country, e.city,
			COALESCE(c.name, ''), COALESCE(c.country, '')
		FROM expenditures e LEFT JOIN cities c ON c.fund = e.fund AND c.city_id = e.city_id
		WHERE e.fund = ?1 AND e.term_id = ?2 AND e.fund_seq <= ?3 AND e.spent_on <= ?4 AND `+NotReversed("e", "fund_seq", "?3", "?4")+`
		ORDER BY e.fund_seq`, v.Fund, term, int64(v.FundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	defer rows.Close()
	var out []*Expenditure
	for rows.Next() {
		var (
			e                         Expenditure
			country, city, cName, cCC string
		)
		if err := rows.Scan(&e.ID, &e.AllocationID, &e.LineID, &e.USD, &country, &city, &cName, &cCC); err != nil {
			return nil, fmt.Errorf("read expenditures: %w", err)
		}
		e.Where = placeOf(country, city, cName, cCC)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	return out, nil
}

// placeOf is where an expenditure went: its own country and city, or the
// registered city's.
func placeOf(country, city, registeredName, registeredCountry string) Place {
	p := Place{Country: strings.TrimSpace(country), City: strings.TrimSpace(city)}
	if p.Country == "" {
		p.Country = registeredCountry
	}
	if p.City == "" {
		p.City = registeredName
	}
	return p
}
