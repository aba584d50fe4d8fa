// Package statement renders a donor's accountability statement: what the donor
// pledged and paid, its share of the pool, of fees and of interest, what its
// money paid for, what is left and what it is entitled to when the term
// closes.
//
// The package is pure rendering: a Statement holds every figure already
// computed (by the read model) and formatted, and CSV, HTML, PDF and JSON turn
// it into bytes. It does no arithmetic on money beyond checking, in Validate,
// that the figures it is given agree with each other, so that a donor never
// receives a statement whose columns do not add up.
//
// Money is a decimal string in US dollars with two decimals ("55000.00") in
// every field whose name ends in USD, and a decimal string with the
// currency's own number of decimals in a Money. No float ever holds money.
// CSV and JSON print the strings as given; HTML and PDF group thousands
// ("55,000.00") for reading.
package statement

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/refdata"
)

// DefaultFundName is the fund's name printed when Statement.FundName is empty.
const DefaultFundName = "Learning Cities Multi-donor Funding Modality"

// Agent is the administrative agent that holds the fund in trust.
const Agent = "UNESCO Institute for Lifelong Learning (UIL)"

// IllustrativeNotice is printed on every statement whose Illustrative flag is
// set (the demo's data).
const IllustrativeNotice = "Illustrative data: this statement was produced from demonstration data. It describes no real money and is not a record of the fund."

// Kinds of Entitlement.
const (
	EntitlementPending   = "pending"    // the term is open: nothing is decided yet
	EntitlementRefund    = "refund"     // the unallocated balance goes back to the donor
	EntitlementCarryOver = "carry_over" // it moves to the next term (ToTermID)
)

// Limits on what a statement may hold, so that a renderer's work and its
// output stay bounded whatever the read model hands it.
const (
	MaxRows       = 10_000 // rows in any one list
	MaxTextLen    = 1_000  // bytes in any one text field
	MaxCitiesList = 1_000  // cities named in one region or income group
	// ReceiptsPage is how many receipts a statement lists at most: the
	// latest, or an earlier page of them; Received.Unlisted adds up the
	// rest, so that a donor with any number of receipts gets a statement
	// whose totals count them all (issue 10).
	ReceiptsPage = 1_000
)

// Statement is one donor's accountability statement for one term, as of a
// date. The caller orders every list (pledges and receipts by date then id,
// lines by id, groups by amount or name): renderers keep the order given.
type Statement struct {
	Fund     string `json:"fund"`                // fund id, "mdfm"
	FundName string `json:"fund_name,omitempty"` // DefaultFundName when empty
	Term     Term   `json:"term"`
	Donor    Donor  `json:"donor"`

	// AsOf is the effective date (YYYY-MM-DD) the statement is drawn at:
	// everything that happened by the end of that day.
	AsOf string `json:"as_of"`
	// AtSeq, when not zero, limits the statement to what the ledger knew at
	// that fund_seq: entries appended later, even back-dated ones, are out.
	AtSeq uint64 `json:"at_seq,omitempty"`
	// GeneratedAt is when the statement was made, RFC 3339. The PDF's
	// creation date is derived from it, so the same statement gives the same
	// bytes.
	GeneratedAt string `json:"generated_at"`
	// FundSeq and ChainHead are the fund's last event the statement was
	// computed at and that event's hash (64 hex digits): asking again with
	// at_seq = FundSeq gives the same statement.
	FundSeq   uint64 `json:"fund_seq"`
	ChainHead string `json:"chain_head"`
	// Checkpoint names the signed checkpoint of the fund's transparency log
	// at FundSeq, when one was signed (docs/transparency.md): a donor
	// checks the statement's events against it offline.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// Illustrative marks demonstration data; every format prints
	// IllustrativeNotice then.
	Illustrative bool `json:"illustrative"`

	Pledged  Pledged  `json:"pledged"`
	Received Received `json:"received"`
	Share    Share    `json:"share"`
	PaidFor  PaidFor  `json:"paid_for"`
	Refunds  Refunds  `json:"refunds"`
	Balance  Balance  `json:"balance"`
}

// Checkpoint names a signed checkpoint: the log's origin, the tree's size
// and root hash (base64), and the name of the key that signed it.
type Checkpoint struct {
	Origin  string `json:"origin"`
	Size    uint64 `json:"size"`
	Root    string `json:"root"`
	KeyName string `json:"key_name"`
}

// Term is the two-year term of the fund the statement covers.
type Term struct {
	ID       string `json:"id"` // "2020-2021"
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
	ClosedOn string `json:"closed_on,omitempty"` // empty while the term is open
}

// Donor is the donor the statement is addressed to.
type Donor struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`    // member_city, country, company, foundation, other
	Country string `json:"country"` // ISO 3166 alpha-2
	City    string `json:"city,omitempty"`
}

// Money is an amount in a currency: {"amount": "50000.00", "currency": "EUR"}.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// Earmark is where a donor asked its money to go: one budget line or one
// cluster. A nil *Earmark is money free for any line of the term.
type Earmark struct {
	LineID    string `json:"line_id,omitempty"`
	ClusterID string `json:"cluster_id,omitempty"`
}

// Pledged is what the donor promised in the term.
type Pledged struct {
	Pledges        []Pledge        `json:"pledges"`
	ByCurrency     []CurrencyTotal `json:"by_currency"`
	TotalUSD       string          `json:"total_usd"`       // sum of Pledges[].USD
	OutstandingUSD string          `json:"outstanding_usd"` // sum of Pledges[].OutstandingUSD
}

// Pledge is one signed agreement. USD is its value at the indicative rate
// of the signing month; Outstanding is what is still expected.
type Pledge struct {
	ID             string   `json:"id"`
	SignedOn       string   `json:"signed_on"`
	DueOn          string   `json:"due_on"`
	Amount         Money    `json:"amount"`
	USDRate        string   `json:"usd_rate,omitempty"` // empty for USD
	USD            string   `json:"usd"`
	Earmark        *Earmark `json:"earmark,omitempty"`
	Status         string   `json:"status"` // open, partly_paid, paid, …
	Outstanding    Money    `json:"outstanding"`
	OutstandingUSD string   `json:"outstanding_usd"`
}

// Received is the cash the donor paid into the fund in the term.
type Received struct {
	Receipts   []Receipt       `json:"receipts"`
	ByCurrency []CurrencyTotal `json:"by_currency"`
	TotalUSD   string          `json:"total_usd"` // sum of Receipts[].USD and Unlisted.USD
	FeesUSD    string          `json:"fees_usd"`  // sum of Receipts[].FeeUSD and Unlisted.FeeUSD
	// Unlisted adds up the receipts the statement does not list, when
	// there are more than ReceiptsPage; nil when it lists them all.
	Unlisted *Unlisted `json:"unlisted,omitempty"`
}

// Unlisted is what the receipts a statement does not list add up to: those
// before and after the page it lists. Page counts back from the latest
// receipts (0, the default, lists the latest ReceiptsPage; a page past the
// last lists none); Pages is how many pages there are.
type Unlisted struct {
	Count  int64  `json:"count"`
	USD    string `json:"usd"`
	FeeUSD string `json:"fee_usd"`
	Page   int64  `json:"page"`
	Pages  int64  `json:"pages"`
}

// Receipt is one contribution received. USD is what the recorded rate
// produced; FeeUSD is the agent's fee charged on it.
type Receipt struct {
	ID         string `json:"id"`
	ReceivedOn string `json:"received_on"`
	Amount     Money  `json:"amount"`
	USDRate    string `json:"usd_rate,omitempty"` // empty for USD
	USD        string `json:"usd"`
	FeeUSD     string `json:"fee_usd"`
	BankRef    string `json:"bank_ref"`
	PledgeID   string `json:"pledge_id,omitempty"`
}

// CurrencyTotal sums a list's amounts in one currency and their US dollars.
type CurrencyTotal struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
	USD      string `json:"usd"`
}

// Share is the donor's part of the term's pool, fees and interest. The
// donor's fee amount is Received.FeesUSD. Percentages are decimal strings
// ("25.00").
type Share struct {
	UnearmarkedUSD     string `json:"unearmarked_usd"`      // the donor's unearmarked receipts
	TermUnearmarkedUSD string `json:"term_unearmarked_usd"` // every donor's
	PoolPct            string `json:"pool_pct"`             // the first over the second
	TermFeesUSD        string `json:"term_fees_usd"`
	FeesPct            string `json:"fees_pct"`
	InterestUSD        string `json:"interest_usd"` // the donor's share of the term's interest
	TermInterestUSD    string `json:"term_interest_usd"`
	InterestPct        string `json:"interest_pct"`
}

// PaidFor is the spending attributed to the donor: what its earmarked money
// paid for in full, and its pro-rata share of what the pool paid for. Each
// grouping (lines, clusters, regions, income groups) sums to TotalUSD;
// spending outside any cluster is a ClusterUse with an empty ClusterID, and
// spending without a classified city is a GroupUse named accordingly.
type PaidFor struct {
	Lines         []LineUse    `json:"lines"`
	Clusters      []ClusterUse `json:"clusters"`
	Regions       []GroupUse   `json:"regions"`         // UNESCO regions of the cities reached
	IncomeGroups  []GroupUse   `json:"income_groups"`   // World Bank income groups of their countries
	TotalUSD      string       `json:"total_usd"`       // sum of Lines[].TotalUSD
	IncomeGroupFY string       `json:"income_group_fy"` // "FY2026": the classification used
}

// LineUse is the donor's part of the spending on one budget line.
type LineUse struct {
	LineID       string `json:"line_id"`
	Title        string `json:"title"`
	ClusterID    string `json:"cluster_id,omitempty"`
	EarmarkedUSD string `json:"earmarked_usd"` // from money the donor earmarked to it
	ProRataUSD   string `json:"pro_rata_usd"`  // its pool share of the line's unearmarked spending
	TotalUSD     string `json:"total_usd"`     // the two added
}

// ClusterUse is the donor's part of the spending of one cluster's lines.
type ClusterUse struct {
	ClusterID string `json:"cluster_id"` // empty: lines outside any cluster
	Name      string `json:"name"`
	USD       string `json:"usd"`
	Pct       string `json:"pct"` // of PaidFor.TotalUSD
}

// GroupUse is the donor's part of the spending that reached the cities of
// one region or one income group.
type GroupUse struct {
	Name   string   `json:"name"`
	USD    string   `json:"usd"`
	Pct    string   `json:"pct"`              // of PaidFor.TotalUSD
	Cities []string `json:"cities,omitempty"` // the cities reached, as printed
}

// Refunds are the money the fund paid back to the donor.
type Refunds struct {
	Refunds  []Refund `json:"refunds"`
	TotalUSD string   `json:"total_usd"`
}

// Refund is one payment back to the donor.
type Refund struct {
	ID     string `json:"id"`
	PaidOn string `json:"paid_on"`
	USD    string `json:"usd"`
	Note   string `json:"note,omitempty"`
}

// Balance is what is left of the donor's money, and what becomes of it at
// close. UnspentUSD = Received.TotalUSD − Received.FeesUSD +
// Share.InterestUSD − PaidFor.TotalUSD − Refunds.TotalUSD, and it is
// AllocatedUnspentUSD + UnallocatedUSD.
type Balance struct {
	UnspentUSD          string      `json:"unspent_usd"`
	AllocatedUnspentUSD string      `json:"allocated_unspent_usd"` // committed to approved allocations
	UnallocatedUSD      string      `json:"unallocated_usd"`
	AtClose             Entitlement `json:"at_close"`
}

// Entitlement is what the donor is entitled to when the term closes: the
// unallocated balance refunded or carried over to the next term (allocations
// keep what they hold). Kind is one of the Entitlement constants.
type Entitlement struct {
	Kind     string `json:"kind"`
	USD      string `json:"usd"`
	ToTermID string `json:"to_term_id,omitempty"` // for carry_over
	Note     string `json:"note,omitempty"`
}

// InvalidError is a statement the renderers refuse: Field names the field at
// fault as a JSON path ("received.receipts[1].usd").
type InvalidError struct {
	Field   string
	Message string
	// OverLimit: the statement is right but longer than a limit (MaxRows).
	OverLimit bool
}

func (e *InvalidError) Error() string {
	return "invalid statement: " + e.Field + ": " + e.Message
}

var (
	reHash = regexp.MustCompile(`^[0-9a-f]{64}$`)
	reRoot = regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`) // base64 of 32 bytes
)

// The shapes of a statement's dates, dollars and decimals are checked by
// hand rather than by regular expressions: a statement lists up to
// ReceiptsPage receipts of several each, and the expressions, with the
// names of every receipt's fields made beforehand, were a sixth of
// drawing one (issue 10). statement_test checks each against the
// expression it replaces.

// digits reports whether s is between lo and hi ASCII digits.
func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDateShape matches ^[0-9]{4}-[0-9]{2}-[0-9]{2}$.
func isDateShape(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-' && digits(s[:4], 4, 4) && digits(s[5:7], 2, 2) && digits(s[8:], 2, 2)
}

// isUSDShape matches ^[0-9]{1,16}\.[0-9]{2}$.
func isUSDShape(s string) bool {
	n := len(s)
	return n >= 4 && s[n-3] == '.' && digits(s[:n-3], 1, 16) && digits(s[n-2:], 2, 2)
}

// isDecimalShape matches ^[0-9]{1,16}(\.[0-9]{1,10})?$.
func isDecimalShape(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole, 1, 16) && (!dot || digits(frac, 1, 10))
}

// validator collects the first problem found.
type validator struct{ err *InvalidError }

// item checks the element i of the list named list with check, whose
// fields are named within the element ("id", "usd"). A problem is
// reported under the element's full name (list[i].id), put together only
// then: naming each field of a thousand receipts beforehand cost more than
// checking them.
func (v *validator) item(list string, i int, check func(sub *validator)) {
	var sub validator
	check(&sub)
	if sub.err != nil && v.err == nil {
		e := *sub.err
		e.Field = fmt.Sprintf("%s[%d].%s", list, i, e.Field)
		v.err = &e
	}
}

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
}

func (v *validator) text(field, s string, required bool) {
	if required && strings.TrimSpace(s) == "" {
		v.fail(field, "required")
	}
	if len(s) > MaxTextLen {
		v.fail(field, "longer than %d bytes", MaxTextLen)
	}
}

func (v *validator) date(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if !isDateShape(s) {
		v.fail(field, "want a date YYYY-MM-DD, got %q", s)
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		v.fail(field, "not a date: %q", s)
	}
}

// usd checks a US dollar amount and returns it in cents.
func (v *validator) usd(field, s string) int64 {
	if !isUSDShape(s) {
		v.fail(field, "want US dollars with two decimals (\"55000.00\"), got %q", s)
		return 0
	}
	whole, frac, _ := strings.Cut(s, ".")
	var n int64
	for _, c := range whole + frac {
		n = n*10 + int64(c-'0')
	}
	return n
}

func (v *validator) decimal(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if !isDecimalShape(s) {
		v.fail(field, "want a decimal string (\"1.10\"), got %q", s)
	}
}

// rate checks a usd_rate as the ledger recorded it: whatever
// money.ParseRate accepts (up to money.MaxRateLen characters, leading
// zeros included), so that a statement never refuses a rate the API took
// (issue 8).
func (v *validator) rate(field, s string, required bool) {
	if s == "" && !required {
		return
	}
	if _, err := money.ParseRate(s); err != nil {
		v.fail(field, "want a positive decimal rate (\"1.10\"), got %q", s)
	}
}

func (v *validator) money(field string, m Money) {
	cur, err := money.LookupCurrency(m.Currency)
	if err != nil {
		v.fail(field+".currency", "unknown currency %q", m.Currency)
		return
	}
	whole, frac, hasDot := strings.Cut(m.Amount, ".")
	if !isDecimalShape(m.Amount) || len(frac) != cur.Decimals || (hasDot && cur.Decimals == 0) || whole == "" {
		v.fail(field+".amount", "want an amount with %d decimals for %s, got %q", cur.Decimals, cur.Code, m.Amount)
	}
}

func (v *validator) rows(field string, n int) {
	if n > MaxRows {
		v.fail(field, "%d rows, more than %d", n, MaxRows)
		v.err.OverLimit = v.err.Field == field
	}
}

func (v *validator) sum(field string, got int64, parts ...int64) {
	var want int64
	for _, p := range parts {
		want += p
	}
	if got != want {
		v.fail(field, "is %s but its parts add up to %s", money.FormatUSD(got), money.FormatUSD(want))
	}
}

func (v *validator) currencyTotals(field string, ts []CurrencyTotal) {
	v.rows(field, len(ts))
	for i, t := range ts {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.money(f, Money{Amount: t.Amount, Currency: t.Currency})
		v.usd(f+".usd", t.USD)
	}
}

// Validate reports the first field of s that is missing, malformed or does
// not agree with the others, as an *InvalidError; nil when s can be rendered.
// It checks the formats of every date, amount, rate and percentage, and that
// every total is the sum of its rows and the balance identity holds (see
// Balance). Every renderer calls it first.
func (s Statement) Validate() error {
	v := &validator{}
	v.header(s)
	v.pledged(s.Pledged)
	receivedUSD, feesUSD := v.received(s.Received)
	interestUSD := v.share(s.Share)
	paidUSD := v.paidFor(s.PaidFor)
	refundedUSD := v.refunds(s.Refunds)
	v.balance(s.Balance, receivedUSD, feesUSD, interestUSD, paidUSD, refundedUSD)
	if v.err != nil {
		return v.err
	}
	return nil
}

// header checks who and what the statement is of, and when.
func (v *validator) header(s Statement) {
	v.text("fund", s.Fund, true)
	v.text("fund_name", s.FundName, false)
	v.text("term.id", s.Term.ID, true)
	v.date("term.starts_on", s.Term.StartsOn, true)
	v.date("term.ends_on", s.Term.EndsOn, true)
	v.date("term.closed_on", s.Term.ClosedOn, false)
	v.text("donor.id", s.Donor.ID, true)
	v.text("donor.name", s.Donor.Name, true)
	v.text("donor.kind", s.Donor.Kind, true)
	v.text("donor.country", s.Donor.Country, true)
	v.text("donor.city", s.Donor.City, false)
	v.date("as_of", s.AsOf, true)
	if _, err := time.Parse(time.RFC3339, s.GeneratedAt); err != nil {
		v.fail("generated_at", "want an RFC 3339 time, got %q", s.GeneratedAt)
	}
	if s.FundSeq == 0 {
		v.fail("fund_seq", "required: the statement must name the event it was computed at")
	}
	if s.AtSeq != 0 && s.FundSeq > s.AtSeq {
		v.fail("fund_seq", "%d is after at_seq %d", s.FundSeq, s.AtSeq)
	}
	if c := s.Checkpoint; c != nil && (c.Origin == "" || c.KeyName == "" || len(c.Origin) > MaxTextLen || len(c.KeyName) > MaxTextLen ||
		c.Size != s.FundSeq || !reRoot.MatchString(c.Root)) {
		v.fail("checkpoint", "want an origin, a key name, the size fund_seq %d and a base64 SHA-256 root, got %+v", s.FundSeq, *c)
	}
	if !reHash.MatchString(s.ChainHead) {
		v.fail("chain_head", "want 64 lower-case hex digits, got %q", s.ChainHead)
	}
}

// pledged checks the pledges and their totals.
func (v *validator) pledged(pd Pledged) {
	var pledged, outstanding int64
	v.rows("pledged.pledges", len(pd.Pledges))
	for i, p := range pd.Pledges {
		v.item("pledged.pledges", i, func(v *validator) {
			v.text("id", p.ID, true)
			v.date("signed_on", p.SignedOn, true)
			v.date("due_on", p.DueOn, false)
			v.money("amount", p.Amount)
			v.rate("usd_rate", p.USDRate, p.Amount.Currency != "USD")
			pledged += v.usd("usd", p.USD)
			v.text("status", p.Status, true)
			v.money("outstanding", p.Outstanding)
			outstanding += v.usd("outstanding_usd", p.OutstandingUSD)
			if p.Earmark != nil {
				v.text("earmark.line_id", p.Earmark.LineID, false)
				v.text("earmark.cluster_id", p.Earmark.ClusterID, false)
				if (p.Earmark.LineID == "") == (p.Earmark.ClusterID == "") {
					v.fail("earmark", "name a line or a cluster, not both or neither")
				}
			}
		})
	}
	v.currencyTotals("pledged.by_currency", pd.ByCurrency)
	v.sum("pledged.total_usd", v.usd("pledged.total_usd", pd.TotalUSD), pledged)
	v.sum("pledged.outstanding_usd", v.usd("pledged.outstanding_usd", pd.OutstandingUSD), outstanding)
}

// received checks the receipts and their totals, and returns the total
// received and the fees, in US cents.
func (v *validator) received(rd Received) (receivedUSD, feesUSD int64) {
	var received, fees int64
	v.rows("received.receipts", len(rd.Receipts))
	for i, r := range rd.Receipts {
		v.item("received.receipts", i, func(v *validator) {
			v.text("id", r.ID, true)
			v.date("received_on", r.ReceivedOn, true)
			v.money("amount", r.Amount)
			v.rate("usd_rate", r.USDRate, r.Amount.Currency != "USD")
			received += v.usd("usd", r.USD)
			fees += v.usd("fee_usd", r.FeeUSD)
			v.text("bank_ref", r.BankRef, false)
			v.text("pledge_id", r.PledgeID, false)
		})
	}
	if u := rd.Unlisted; u != nil {
		if u.Count <= 0 || u.Page < 0 || u.Pages < 1 {
			v.fail("received.unlisted", "want a positive count, page and pages, got count %d, page %d of %d", u.Count, u.Page, u.Pages)
		}
		received += v.usd("received.unlisted.usd", u.USD)
		fees += v.usd("received.unlisted.fee_usd", u.FeeUSD)
	}
	v.currencyTotals("received.by_currency", rd.ByCurrency)
	receivedUSD = v.usd("received.total_usd", rd.TotalUSD)
	v.sum("received.total_usd", receivedUSD, received)
	feesUSD = v.usd("received.fees_usd", rd.FeesUSD)
	v.sum("received.fees_usd", feesUSD, fees)
	return receivedUSD, feesUSD
}

// share checks the donor's share of the term and returns its interest, in
// US cents.
func (v *validator) share(sh Share) (interestUSD int64) {
	v.usd("share.unearmarked_usd", sh.UnearmarkedUSD)
	v.usd("share.term_unearmarked_usd", sh.TermUnearmarkedUSD)
	v.decimal("share.pool_pct", sh.PoolPct, true)
	v.usd("share.term_fees_usd", sh.TermFeesUSD)
	v.decimal("share.fees_pct", sh.FeesPct, true)
	interestUSD = v.usd("share.interest_usd", sh.InterestUSD)
	v.usd("share.term_interest_usd", sh.TermInterestUSD)
	v.decimal("share.interest_pct", sh.InterestPct, true)
	return interestUSD
}

// paidFor checks what the donor's money paid for, by line, cluster, region
// and income group, and returns its total, in US cents.
func (v *validator) paidFor(pf PaidFor) (paidUSD int64) {
	var lines int64
	v.rows("paid_for.lines", len(pf.Lines))
	for i, l := range pf.Lines {
		f := fmt.Sprintf("paid_for.lines[%d]", i)
		v.text(f+".line_id", l.LineID, true)
		v.text(f+".title", l.Title, false)
		v.text(f+".cluster_id", l.ClusterID, false)
		total := v.usd(f+".total_usd", l.TotalUSD)
		v.sum(f+".total_usd", total, v.usd(f+".earmarked_usd", l.EarmarkedUSD), v.usd(f+".pro_rata_usd", l.ProRataUSD))
		lines += total
	}
	paidUSD = v.usd("paid_for.total_usd", pf.TotalUSD)
	v.sum("paid_for.total_usd", paidUSD, lines)
	var clusters int64
	v.rows("paid_for.clusters", len(pf.Clusters))
	for i, c := range pf.Clusters {
		f := fmt.Sprintf("paid_for.clusters[%d]", i)
		v.text(f+".cluster_id", c.ClusterID, false)
		v.text(f+".name", c.Name, c.ClusterID != "")
		clusters += v.usd(f+".usd", c.USD)
		v.decimal(f+".pct", c.Pct, true)
	}
	if len(pf.Clusters) > 0 {
		v.sum("paid_for.clusters", paidUSD, clusters)
	}
	v.groups("paid_for.regions", pf.Regions, paidUSD)
	v.groups("paid_for.income_groups", pf.IncomeGroups, paidUSD)
	v.text("paid_for.income_group_fy", pf.IncomeGroupFY, false)
	return paidUSD
}

// groups checks the groups of one classification, which add up to paidUSD.
func (v *validator) groups(field string, gs []GroupUse, paidUSD int64) {
	v.rows(field, len(gs))
	var sum int64
	for i, g := range gs {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.text(f+".name", g.Name, true)
		sum += v.usd(f+".usd", g.USD)
		v.decimal(f+".pct", g.Pct, true)
		if len(g.Cities) > MaxCitiesList {
			v.fail(f+".cities", "%d cities, more than %d", len(g.Cities), MaxCitiesList)
		}
		for j, c := range g.Cities {
			v.text(fmt.Sprintf("%s.cities[%d]", f, j), c, true)
		}
	}
	if len(gs) > 0 {
		v.sum(field, paidUSD, sum)
	}
}

// refunds checks the refunds and returns their total, in US cents.
func (v *validator) refunds(rf Refunds) (refundedUSD int64) {
	var refunds int64
	v.rows("refunds.refunds", len(rf.Refunds))
	for i, r := range rf.Refunds {
		f := fmt.Sprintf("refunds.refunds[%d]", i)
		v.text(f+".id", r.ID, true)
		v.date(f+".paid_on", r.PaidOn, true)
		refunds += v.usd(f+".usd", r.USD)
		v.text(f+".note", r.Note, false)
	}
	refundedUSD = v.usd("refunds.total_usd", rf.TotalUSD)
	v.sum("refunds.total_usd", refundedUSD, refunds)
	return refundedUSD
}

// balance checks the balance identity: unspent is received less fees plus
// interest less what was paid for and refunded, and is allocated-unspent
// plus unallocated.
func (v *validator) balance(b Balance, receivedUSD, feesUSD, interestUSD, paidUSD, refundedUSD int64) {
	unspent := v.usd("balance.unspent_usd", b.UnspentUSD)
	v.sum("balance.unspent_usd", unspent, receivedUSD, -feesUSD, interestUSD, -paidUSD, -refundedUSD)
	v.sum("balance.unspent_usd", unspent, v.usd("balance.allocated_unspent_usd", b.AllocatedUnspentUSD), v.usd("balance.unallocated_usd", b.UnallocatedUSD))
	v.usd("balance.at_close.usd", b.AtClose.USD)
	switch b.AtClose.Kind {
	case EntitlementPending, EntitlementRefund:
	case EntitlementCarryOver:
		v.text("balance.at_close.to_term_id", b.AtClose.ToTermID, true)
	default:
		v.fail("balance.at_close.kind", "want %s, %s or %s, got %q", EntitlementPending, EntitlementRefund, EntitlementCarryOver, b.AtClose.Kind)
	}
	v.text("balance.at_close.note", b.AtClose.Note, false)
}

// JSON renders s as indented JSON with a final newline, after Validate.
func JSON(s Statement) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	// Twice the compact size holds the indented statement (its deepest
	// values are a few levels down) and the final newline, so the output
	// is allocated once.
	out := indentJSON(make([]byte, 0, 2*len(b)+1), b)
	return append(out, '\n'), nil
}

// indentJSON appends to dst the compact JSON in compact indented as
// json.Indent(dst, compact, "", "  ") would, byte for byte: json.Indent's
// byte-by-byte scanner (inside json.MarshalIndent) was ~14 % of the CPU of a
// statement request at 1,000,000 events (issue 10), and this loop copies each
// string in one append instead.
//
// It relies on compact being json.Marshal's output: valid JSON with no
// whitespace outside strings. It does not validate it; on any other input it
// returns some bytes without reading out of bounds.
func indentJSON(dst, compact []byte) []byte {
	dst = slices.Grow(dst, 2*len(compact))
	depth := 0
	for i := 0; i < len(compact); i++ {
		switch c := compact[i]; c {
		case '"':
			// Copy the string whole. A backslash escapes the byte after
			// it, so `\"` does not end the string and `\\` does not
			// escape the quote that follows.
			j := i + 1
			for j < len(compact) && compact[j] != '"' {
				if compact[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(compact)-1) // an unterminated string ends the input
			dst = append(dst, compact[i:j+1]...)
			i = j
		case '{', '[':
			// An empty object or array stays "{}" or "[]".
			if i+1 < len(compact) && (compact[i+1] == '}' || compact[i+1] == ']') {
				dst = append(dst, c, compact[i+1])
				i++
				continue
			}
			depth++
			dst = newlineIndent(append(dst, c), depth)
		case '}', ']':
			depth--
			dst = append(newlineIndent(dst, depth), c)
		case ',':
			dst = newlineIndent(append(dst, c), depth)
		case ':':
			dst = append(dst, ':', ' ')
		default: // numbers, true, false, null
			dst = append(dst, c)
		}
	}
	return dst
}

// indentSpaces is the indentation of the common depths, sliced rather than
// appended two spaces at a time.
const indentSpaces = "                                "

// newlineIndent appends a newline and two spaces per depth (none when depth
// is not positive).
func newlineIndent(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for depth > 0 {
		n := min(2*depth, len(indentSpaces))
		dst = append(dst, indentSpaces[:n]...)
		depth -= n / 2
	}
	return dst
}

// The helpers below turn the statement's strings into what HTML and PDF print.

func (s Statement) fundName() string {
	if s.FundName != "" {
		return s.FundName
	}
	return DefaultFundName
}

// usdText prints a US dollar amount for reading: "US$ 75,000.00".
func usdText(s string) string { return "US$ " + money.Grouped(s) }

// moneyText prints an amount in its currency: "EUR 50,000.00".
func moneyText(m Money) string { return m.Currency + " " + money.Grouped(m.Amount) }

// pctText prints a percentage: "25.00 %".
func pctText(s string) string { return s + " %" }

// earmarkText says where a pledge's money was earmarked to.
func earmarkText(e *Earmark) string {
	switch {
	case e == nil:
		return "none"
	case e.LineID != "":
		return "line " + e.LineID
	default:
		return "cluster " + e.ClusterID
	}
}

// words turns a snake_case code into words: "partly_paid" → "partly paid".
func words(code string) string { return strings.ReplaceAll(code, "_", " ") }

// kindText names a donor kind for reading.
func kindText(kind string) string {
	w := words(kind)
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// countryText names a country: "Colombia (CO)", or the code alone when it is
// not in the reference data.
func countryText(iso2 string) string {
	if c, ok := refdata.LookupCountry(iso2); ok {
		return c.Name + " (" + iso2 + ")"
	}
	return iso2
}

// donorPlace is the donor's city and country on one line.
func (s Statement) donorPlace() string {
	if s.Donor.City == "" {
		return countryText(s.Donor.Country)
	}
	return s.Donor.City + ", " + countryText(s.Donor.Country)
}

// clusterName names a cluster use; an empty id is the fund-wide lines.
func clusterName(c ClusterUse) string {
	if c.ClusterID == "" {
		if c.Name != "" {
			return c.Name
		}
		return "Fund-wide lines (no cluster)"
	}
	return c.ClusterID + " – " + c.Name
}

// axisText explains which date axis the statement is drawn on.
func (s Statement) axisText() string {
	t := "as of " + s.AsOf + " (effective date: everything that happened by the end of that day)"
	if s.AtSeq != 0 {
		t += fmt.Sprintf(", as the ledger knew it at fund_seq %d (later entries, even back-dated ones, left out)", s.AtSeq)
	}
	return t
}

// termText describes the term.
func (s Statement) termText() string {
	t := s.Term.ID + " (" + s.Term.StartsOn + " to " + s.Term.EndsOn
	if s.Term.ClosedOn != "" {
		t += ", closed on " + s.Term.ClosedOn
	} else {
		t += ", open"
	}
	return t + ")"
}

// entitlementText says what the donor is entitled to at close.
func (s Statement) entitlementText() string {
	e := s.Balance.AtClose
	var t string
	switch e.Kind {
	case EntitlementRefund:
		t = "At the close of the term, your unallocated balance of " + usdText(e.USD) + " is refunded to you."
	case EntitlementCarryOver:
		t = "At the close of the term, your unallocated balance of " + usdText(e.USD) + " is carried over to term " + e.ToTermID + "."
	default:
		t = "The term is open. At its close, your unallocated balance (" + usdText(e.USD) + " today) is refunded to you or carried over to the next term, as the term's close decides; approved allocations keep what they hold."
	}
	if e.Note != "" {
		t += " " + e.Note
	}
	return t
}

// summaryRow is one headline figure of the statement. Style is "" for a
// plain row, "sub" for a part of the row above, "total" for a result, and
// "break" starts a new block.
type summaryRow struct{ Key, Label, USD, Style string }

// summary lists the headline figures: the pledges, then the cash in the
// order of the balance identity.
func (s Statement) summary() []summaryRow {
	return []summaryRow{
		{"pledged", "Pledged", s.Pledged.TotalUSD, ""},
		{"outstanding", "of which still outstanding", s.Pledged.OutstandingUSD, "sub"},
		{"received", "Received", s.Received.TotalUSD, "break"},
		{"fees", "less fees charged by the administrative agent", s.Received.FeesUSD, ""},
		{"interest", "plus your share of interest earned", s.Share.InterestUSD, ""},
		{"paid_for", "less spent on budget lines (what your money paid for)", s.PaidFor.TotalUSD, ""},
		{"refunded", "less refunded to you", s.Refunds.TotalUSD, ""},
		{"unspent", "Unspent balance", s.Balance.UnspentUSD, "total"},
		{"allocated_unspent", "of which allocated to approved activities, not yet spent", s.Balance.AllocatedUnspentUSD, "sub"},
		{"unallocated", "of which not yet allocated", s.Balance.UnallocatedUSD, "sub"},
	}
}

// verifyText tells the reader how to check the statement against the ledger.
func (s Statement) verifyText() string {
	t := fmt.Sprintf("Computed at fund_seq %d of fund %s, chain head %s. Asking for this statement again with at_seq=%d gives the same figures; GET /v1/audit/verify proves the chain.", s.FundSeq, s.Fund, s.ChainHead, s.FundSeq)
	if c := s.Checkpoint; c != nil {
		t += fmt.Sprintf(" Signed checkpoint: log %s, size %d, root %s, key %s; the donor's proof bundle (GET /v1/donors/%s/proof) and projector verify-proof check its entries against it without trusting the server.", c.Origin, c.Size, c.Root, c.KeyName, s.Donor.ID)
	}
	return t
}

// unlistedText describes the receipts a statement does not list, for the
// HTML and PDF: "2,500 receipts not listed (listed: page 1 of 4, latest
// first)".
func unlistedText(u *Unlisted) string {
	return fmt.Sprintf("%s receipts not listed (listed: page %d of %d, latest first)",
		money.Grouped(strconv.FormatInt(u.Count, 10)), u.Page+1, u.Pages)
}
