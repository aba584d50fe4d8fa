package iati

import "encoding/xml"

// The types below mirror the IATI 2.03 schemas. encoding/xml writes a
// struct's fields in declaration order, so the order of the fields of each
// element type IS the xsd:sequence order of the schema: keep it so when
// adding a field (TestElementOrder checks it against the XSD).

type xActivities struct {
	XMLName           xml.Name    `xml:"iati-activities"`
	Version           string      `xml:"version,attr"`
	GeneratedDatetime string      `xml:"generated-datetime,attr"`
	Activities        []xActivity `xml:"iati-activity"`
}

type xActivity struct {
	LastUpdated        string              `xml:"last-updated-datetime,attr"`
	Lang               string              `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	DefaultCurrency    string              `xml:"default-currency,attr"`
	Hierarchy          string              `xml:"hierarchy,attr"`
	Identifier         string              `xml:"iati-identifier"`
	ReportingOrg       xReportingOrg       `xml:"reporting-org"`
	Title              xText               `xml:"title"`
	Description        xDescription        `xml:"description"`
	ParticipatingOrgs  []xParticipatingOrg `xml:"participating-org"`
	Status             xCode               `xml:"activity-status"`
	Dates              []xActivityDate     `xml:"activity-date"`
	Scope              xCode               `xml:"activity-scope"`
	RecipientCountries []xRecipientCountry `xml:"recipient-country"`
	RecipientRegions   []xRecipientRegion  `xml:"recipient-region"`
	Sectors            []xSector           `xml:"sector"`
	FinanceType        xCode               `xml:"default-finance-type"`
	Budgets            []xBudget           `xml:"budget"`
	Transactions       []xTransaction      `xml:"transaction"`
}

type xNarrative struct {
	Text string `xml:",chardata"`
}

type xText struct {
	Narratives []xNarrative `xml:"narrative"`
}

type xDescription struct {
	Type       string       `xml:"type,attr"`
	Narratives []xNarrative `xml:"narrative"`
}

type xReportingOrg struct {
	Ref        string       `xml:"ref,attr"`
	Type       string       `xml:"type,attr"`
	Narratives []xNarrative `xml:"narrative"`
}

type xParticipatingOrg struct {
	Role       string       `xml:"role,attr"`
	Type       string       `xml:"type,attr,omitempty"`
	Ref        string       `xml:"ref,attr,omitempty"`
	Narratives []xNarrative `xml:"narrative"`
}

type xCode struct {
	Code string `xml:"code,attr"`
}

type xActivityDate struct {
	Type    string `xml:"type,attr"`
	ISODate string `xml:"iso-date,attr"`
}

type xDate struct {
	ISODate string `xml:"iso-date,attr"`
}

type xRecipientCountry struct {
	Code       string `xml:"code,attr"`
	Percentage string `xml:"percentage,attr"`
}

type xRecipientRegion struct {
	Code       string `xml:"code,attr"`
	Vocabulary string `xml:"vocabulary,attr"`
	Percentage string `xml:"percentage,attr"`
}

type xSector struct {
	Vocabulary string `xml:"vocabulary,attr"`
	Code       string `xml:"code,attr"`
	Percentage string `xml:"percentage,attr"`
}

// xValue is the schema's currencyType: a decimal with a value-date and, when
// not the default currency, a currency.
type xValue struct {
	Currency  string `xml:"currency,attr,omitempty"`
	ValueDate string `xml:"value-date,attr"`
	Amount    string `xml:",chardata"`
}

// xBudgetParts is the content budget and total-budget share.
type xBudgetParts struct {
	PeriodStart xDate  `xml:"period-start"`
	PeriodEnd   xDate  `xml:"period-end"`
	Value       xValue `xml:"value"`
}

type xBudget struct {
	Type   string `xml:"type,attr"`
	Status string `xml:"status,attr"`
	xBudgetParts
}

type xTransaction struct {
	Ref         string           `xml:"ref,attr"`
	Type        xCode            `xml:"transaction-type"`
	Date        xDate            `xml:"transaction-date"`
	Value       xValue           `xml:"value"`
	Description *xText           `xml:"description"`
	ProviderOrg *xTransactionOrg `xml:"provider-org"`
	ReceiverOrg *xTransactionOrg `xml:"receiver-org"`
}

type xTransactionOrg struct {
	Ref        string       `xml:"ref,attr,omitempty"`
	Type       string       `xml:"type,attr,omitempty"`
	Narratives []xNarrative `xml:"narrative"`
}

type xOrganisations struct {
	XMLName           xml.Name        `xml:"iati-organisations"`
	Version           string          `xml:"version,attr"`
	GeneratedDatetime string          `xml:"generated-datetime,attr"`
	Organisations     []xOrganisation `xml:"iati-organisation"`
}

type xOrganisation struct {
	LastUpdated     string         `xml:"last-updated-datetime,attr"`
	Lang            string         `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	DefaultCurrency string         `xml:"default-currency,attr"`
	Identifier      string         `xml:"organisation-identifier"`
	Name            xText          `xml:"name"`
	ReportingOrg    xReportingOrg  `xml:"reporting-org"`
	TotalBudgets    []xTotalBudget `xml:"total-budget"`
}

type xTotalBudget struct {
	Status string `xml:"status,attr"`
	xBudgetParts
}
