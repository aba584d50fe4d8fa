package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Expenditure is an expenditure of the term standing at the view.
type Expenditure struct {
	Seq                  int64 // its event's fund_seq
	AllocationID, LineID string
	USD                  int64
	Where                Place
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
//
// A term has tens of thousands of expenditures and few kinds of them (an
// allocation, a line and a place), and every column of every row read
// costs several calls into SQLite: so each row gives its fund_seq, its
// amount and its kind as one text (a JSON array), and each kind is
// resolved once (the registered city's name and country among it). At
// 1,000,000 events the rows were most of the attribution's cost (issue 10).
func StandingSpending(ctx context.Context, v *View, term, asOf string) ([]*Expenditure, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT e.fund_seq, e.usd_minor,
			json_array(e.allocation_id, e.line_id, e.country, e.city, e.city_id)
		FROM expenditures e
		WHERE e.fund = ?1 AND e.term_id = ?2 AND e.fund_seq <= ?3 AND e.spent_on <= ?4 AND `+NotReversedRow("e", "fund_seq", "?3", "?4")+`
		ORDER BY e.fund_seq`, v.Fund, term, int64(v.FundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	defer rows.Close()
	type kindOf struct {
		allocation, line, country, city, cityID string
		where                                   Place
	}
	var (
		exps  []Expenditure
		kinds = map[string]*kindOf{}
		of    []*kindOf // each expenditure's kind
	)
	for rows.Next() {
		var (
			seq, usd int64
			kind     string
		)
		if err := rows.Scan(&seq, &usd, &kind); err != nil {
			return nil, fmt.Errorf("read expenditures: %w", err)
		}
		k := kinds[kind]
		if k == nil {
			var f []string
			if err := json.Unmarshal([]byte(kind), &f); err != nil || len(f) != 5 {
				return nil, fmt.Errorf("read expenditures: the kind of the expenditure at fund_seq %d, %q: %v", seq, kind, err)
			}
			k = &kindOf{allocation: f[0], line: f[1], country: f[2], city: f[3], cityID: f[4]}
			kinds[kind] = k
		}
		exps = append(exps, Expenditure{Seq: seq, AllocationID: k.allocation, LineID: k.line, USD: usd})
		of = append(of, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read expenditures: %w", err)
	}
	rows.Close()
	// Each kind's place: the expenditure's own country and city, or its
	// registered city's.
	for _, k := range kinds {
		var name, country string
		if k.cityID != "" {
			err := v.Tx.QueryRowContext(ctx, `SELECT name, country FROM cities WHERE fund = ? AND city_id = ?`, v.Fund, k.cityID).Scan(&name, &country)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("read expenditures: city %s: %w", k.cityID, err)
			}
		}
		k.where = placeOf(k.country, k.city, name, country)
	}
	out := make([]*Expenditure, len(exps))
	for i := range exps {
		exps[i].Where = of[i].where
		out[i] = &exps[i]
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
