package statement

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

// CSV renders s as one RFC 4180 table (CRLF line ends, every record with the
// same number of fields) made of sections. Each section starts with a header
// row whose first field is "section"; each of its rows starts with the
// section's name (statement, summary, pledge, pledged_by_currency, receipt,
// received_by_currency, share, line, cluster, region, income_group, refund,
// at_close). Amounts are the statement's decimal strings, unchanged. A text
// field that a spreadsheet would read as a formula (it starts with = + - @,
// a tab or a carriage return) is prefixed with an apostrophe. The same
// statement gives the same bytes. It returns an *InvalidError when s does not
// validate.
func CSV(s Statement) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var c csvRows
	c.add("section", "field", "value")
	c.head(s)
	c.add("section", "item", "usd")
	for _, r := range s.summary() {
		c.add("summary", r.Key, r.USD)
	}
	c.money(s)
	c.paidFor(s)
	// t marks a free-text field for formula neutralising; codes, dates and
	// amounts come from validated formats and never need it.
	t := safeCell
	c.add("section", "id", "paid_on", "usd", "note")
	for _, r := range s.Refunds.Refunds {
		c.add("refund", t(r.ID), r.PaidOn, r.USD, t(r.Note))
	}
	e := s.Balance.AtClose
	c.add("section", "kind", "usd", "to_term_id", "note")
	c.add("at_close", e.Kind, e.USD, t(e.ToTermID), t(e.Note))
	return c.bytes()
}

// csvRows are the rows of a statement's CSV, of the widths they were
// added with.
type csvRows [][]string

func (c *csvRows) add(r ...string) { *c = append(*c, r) }

// head adds the statement section: who and what the statement is of, and
// when.
func (c *csvRows) head(s Statement) {
	t := safeCell
	kv := func(k, v string) { c.add("statement", k, v) }
	kv("fund", t(s.Fund))
	kv("fund_name", t(s.fundName()))
	kv("administrative_agent", Agent)
	kv("term_id", t(s.Term.ID))
	kv("term_starts_on", s.Term.StartsOn)
	kv("term_ends_on", s.Term.EndsOn)
	kv("term_closed_on", s.Term.ClosedOn)
	kv("donor_id", t(s.Donor.ID))
	kv("donor_name", t(s.Donor.Name))
	kv("donor_kind", t(s.Donor.Kind))
	kv("donor_country", t(s.Donor.Country))
	kv("donor_city", t(s.Donor.City))
	kv("as_of", s.AsOf)
	kv("date_axis", "effective_date")
	atSeq := ""
	if s.AtSeq != 0 {
		atSeq = strconv.FormatUint(s.AtSeq, 10)
	}
	kv("at_seq", atSeq)
	kv("generated_at", s.GeneratedAt)
	kv("fund_seq", strconv.FormatUint(s.FundSeq, 10))
	kv("chain_head", s.ChainHead)
	kv("currency", "USD")
	kv("illustrative", strconv.FormatBool(s.Illustrative))
	if s.Illustrative {
		kv("notice", IllustrativeNotice)
	}
}

// money adds the pledges, the receipts, their totals by currency, and the
// donor's share of the term.
func (c *csvRows) money(s Statement) {
	t := safeCell
	c.add("section", "id", "signed_on", "due_on", "amount", "currency", "usd_rate", "usd", "earmark_line_id", "earmark_cluster_id", "status", "outstanding", "outstanding_usd")
	for _, p := range s.Pledged.Pledges {
		var line, cluster string
		if p.Earmark != nil {
			line, cluster = p.Earmark.LineID, p.Earmark.ClusterID
		}
		c.add("pledge", t(p.ID), p.SignedOn, p.DueOn, p.Amount.Amount, p.Amount.Currency, p.USDRate, p.USD, t(line), t(cluster), t(p.Status), p.Outstanding.Amount, p.OutstandingUSD)
	}
	c.add("section", "currency", "amount", "usd")
	for _, x := range s.Pledged.ByCurrency {
		c.add("pledged_by_currency", x.Currency, x.Amount, x.USD)
	}
	c.add("section", "id", "received_on", "amount", "currency", "usd_rate", "usd", "fee_usd", "bank_ref", "pledge_id")
	for _, r := range s.Received.Receipts {
		c.add("receipt", t(r.ID), r.ReceivedOn, r.Amount.Amount, r.Amount.Currency, r.USDRate, r.USD, r.FeeUSD, t(r.BankRef), t(r.PledgeID))
	}
	if u := s.Received.Unlisted; u != nil {
		c.add("section", "count", "usd", "fee_usd", "page", "pages")
		c.add("receipts_unlisted", strconv.FormatInt(u.Count, 10), u.USD, u.FeeUSD, strconv.FormatInt(u.Page, 10), strconv.FormatInt(u.Pages, 10))
	}
	c.add("section", "currency", "amount", "usd")
	for _, x := range s.Received.ByCurrency {
		c.add("received_by_currency", x.Currency, x.Amount, x.USD)
	}
	sh := s.Share
	c.add("section", "item", "donor_usd", "term_usd", "pct")
	c.add("share", "pool", sh.UnearmarkedUSD, sh.TermUnearmarkedUSD, sh.PoolPct)
	c.add("share", "fees", s.Received.FeesUSD, sh.TermFeesUSD, sh.FeesPct)
	c.add("share", "interest", sh.InterestUSD, sh.TermInterestUSD, sh.InterestPct)
}

// paidFor adds what the donor's money paid for, by line, cluster, region
// and income group.
func (c *csvRows) paidFor(s Statement) {
	t := safeCell
	c.add("section", "line_id", "title", "cluster_id", "earmarked_usd", "pro_rata_usd", "total_usd")
	for _, l := range s.PaidFor.Lines {
		c.add("line", t(l.LineID), t(l.Title), t(l.ClusterID), l.EarmarkedUSD, l.ProRataUSD, l.TotalUSD)
	}
	c.add("section", "cluster_id", "name", "usd", "pct")
	for _, cl := range s.PaidFor.Clusters {
		name := cl.Name
		if cl.ClusterID == "" {
			name = clusterName(cl)
		}
		c.add("cluster", t(cl.ClusterID), t(name), cl.USD, cl.Pct)
	}
	c.add("section", "region", "usd", "pct", "cities")
	for _, g := range s.PaidFor.Regions {
		c.add("region", t(g.Name), g.USD, g.Pct, t(strings.Join(g.Cities, "; ")))
	}
	c.add("section", "income_group", "usd", "pct", "cities", "classification")
	for _, g := range s.PaidFor.IncomeGroups {
		c.add("income_group", t(g.Name), g.USD, g.Pct, t(strings.Join(g.Cities, "; ")), t(s.PaidFor.IncomeGroupFY))
	}
}

// bytes writes the rows, each padded to the widest, with CRLF line ends.
func (c csvRows) bytes() ([]byte, error) {
	width := 0
	for _, r := range c {
		width = max(width, len(r))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	for _, r := range c {
		for len(r) < width {
			r = append(r, "")
		}
		if err := w.Write(r); err != nil {
			return nil, fmt.Errorf("write csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	return buf.Bytes(), nil
}

// safeCell neutralises a text cell that a spreadsheet would run as a
// formula (OWASP "CSV injection").
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
