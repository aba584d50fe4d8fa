package projections

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/unesco-uil/mdfm-ledger/statement"
)

// AmendDonors brings the donors of ds (by id, as registered) to what they
// are as of asOf among the amendments known at the view's fund_seq: each
// amendment dated on or before asOf, in date order, then in the fund's
// order, sets the fields it changed — the rule of domain.Donor.AsOf. An
// amendment recorded after the view's fund_seq is not seen, so a report at
// an earlier at_seq shows the names known then. only, when not empty,
// limits the read to one donor.
func (v *View) AmendDonors(ctx context.Context, asOf, only string, ds map[string]*statement.Donor) error {
	rows, err := v.Tx.QueryContext(ctx, `SELECT donor_id, name, kind, country, city FROM donor_amendments
		WHERE fund = ?1 AND fund_seq <= ?2 AND effective_on <= ?3 AND (?4 = '' OR donor_id = ?4)
		ORDER BY effective_on, fund_seq`, v.Fund, int64(v.FundSeq), asOf, only)
	if err != nil {
		return fmt.Errorf("read donor amendments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                        string
			name, kind, country, city sql.NullString
		)
		if err := rows.Scan(&id, &name, &kind, &country, &city); err != nil {
			return fmt.Errorf("read donor amendments: %w", err)
		}
		d := ds[id]
		if d == nil {
			return fmt.Errorf("%w: an amendment of donor %s, which is not registered", ErrInconsistent, id)
		}
		setField(&d.Name, name)
		setField(&d.Kind, kind)
		setField(&d.Country, country)
		setField(&d.City, city)
	}
	return rows.Err()
}

func setField(dst *string, v sql.NullString) {
	if v.Valid {
		*dst = v.String
	}
}
