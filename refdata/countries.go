// Package refdata embeds the reference data the ledger needs: ISO 3166
// countries with their UNESCO region and World Bank income group (see
// ATTRIBUTION.md for sources and licences).
package refdata

import (
	_ "embed"
	"encoding/csv"
	"strings"
)

//go:embed countries.csv
var countriesCSV string

// Country is one row of countries.csv.
type Country struct {
	ISO2, ISO3, M49, Name string
	UNESCORegion          string // empty when not a UNESCO Member State or Associate Member
	Continent             string
	IncomeGroup           string // World Bank: "Low income", …; empty when unclassified
	IncomeFY              string // "FY2026"
}

var countries = load()

func load() map[string]Country {
	r := csv.NewReader(strings.NewReader(countriesCSV))
	rows, err := r.ReadAll()
	if err != nil {
		panic("refdata: countries.csv: " + err.Error())
	}
	m := make(map[string]Country, len(rows))
	for _, f := range rows[1:] {
		m[f[0]] = Country{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]}
	}
	return m
}

// LookupCountry returns the country with an ISO 3166-1 alpha-2 code ("NA" is
// Namibia, "XK" Kosovo).
func LookupCountry(iso2 string) (Country, bool) {
	c, ok := countries[iso2]
	return c, ok
}
