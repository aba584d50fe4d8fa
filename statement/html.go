package statement

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/money"
)

//go:embed statement.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("statement").Funcs(template.FuncMap{
	"money":    money.Grouped,
	"earmark":  earmarkText,
	"words":    words,
	"cluster":  clusterName,
	"join":     func(cities []string) string { return strings.Join(cities, ", ") },
	"unlisted": unlistedText,
}).Parse(htmlSource))

// htmlView is what the template reads: the statement and the sentences made
// from it.
type htmlView struct {
	S                                           Statement
	FundName, Agent, TermText, AxisText, Notice string
	DonorKind, DonorPlace, Entitlement, Verify  string
	Summary                                     []summaryRow
}

// HTML renders s as a standalone printable page (inline CSS, no scripts, no
// outside resources) with the chain head at its foot. html/template escapes
// every value. Amounts are printed with thousands separators ("75,000.00").
// The same statement gives the same bytes. It returns an *InvalidError when
// s does not validate.
func HTML(s Statement) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	v := htmlView{
		S:           s,
		FundName:    s.fundName(),
		Agent:       Agent,
		TermText:    s.termText(),
		AxisText:    s.axisText(),
		Notice:      IllustrativeNotice,
		DonorKind:   kindText(s.Donor.Kind),
		DonorPlace:  s.donorPlace(),
		Entitlement: s.entitlementText(),
		Verify:      s.verifyText(),
		Summary:     s.summary(),
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return buf.Bytes(), nil
}
