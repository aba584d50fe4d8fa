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
	var rows [][]string
	add := func(r ...string) { rows = append(rows, r) }
	// t marks a free-text field for formula neutralising; codes, dates and
	// amounts come from validated formats and never need it.
	t := safeCell

	add("section", "field", "value")
	kv := func(k, v string) { add("statement", k, v) }
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

	add("section", "item", "usd")
	for _, r := range s.summary() {
		add("summary", r.Key, r.USD)
	}

	add("section", "id", "signed_on", "due_on", "amount", "currency", "usd_rate", "usd", "earmark_line_id", "earmark_cluster_id", "status", "outstanding", "outstanding_usd")
	for _, p := range s.Pledged.Pledges {
		var line, cluster string
		if p.Earmark != nil {
			line, cluster = p.Earmark.LineID, p.Earmark.ClusterID
		}
		add("pledge", t(p.ID), p.SignedOn, p.DueOn, p.Amount.Amount, p.Amount.Currency, p.USDRate, p.USD, t(line), t(cluster), t(p.Status), p.Outstanding.Amount, p.OutstandingUSD)
	}
	add("section", "currency", "amount", "usd")
	for _, c := range s.Pledged.ByCurrency {
		add("pledged_by_currency", c.Currency, c.Amount, c.USD)
	}

	add("section", "id", "received_on", "amount", "currency", "usd_rate", "usd", "fee_usd", "bank_ref", "pledge_id")
	for _, r := range s.Received.Receipts {
		add("receipt", t(r.ID), r.ReceivedOn, r.Amount.Amount, r.Amount.Currency, r.USDRate, r.USD, r.FeeUSD, t(r.BankRef), t(r.PledgeID))
	}
	add("section", "currency", "amount", "usd")
	for _, c := range s.Received.ByCurrency {
		add("received_by_currency", c.Currency, c.Amount, c.USD)
	}

	sh := s.Share
	add("section", "item", "donor_usd", "term_usd", "pct")
	add("share", "pool", sh.UnearmarkedUSD, sh.TermUnearmarkedUSD, sh.PoolPct)
	add("share", "fees", s.Received.FeesUSD, sh.TermFeesUSD, sh.FeesPct)
	add("share", "interest", sh.InterestUSD, sh.TermInterestUSD, sh.InterestPct)

	add("section", "line_id", "title", "cluster_id", "earmarked_usd", "pro_rata_usd", "total_usd")
	for _, l := range s.PaidFor.Lines {
		add("line", t(l.LineID), t(l.Title), t(l.ClusterID), l.EarmarkedUSD, l.ProRataUSD, l.TotalUSD)
	}
	add("section", "cluster_id", "name", "usd", "pct")
	for _, c := range s.PaidFor.Clusters {
		name := c.Name
		if c.ClusterID == "" {
			name = clusterName(c)
		}
		add("cluster", t(c.ClusterID), t(name), c.USD, c.Pct)
	}
	add("section", "region", "usd", "pct", "cities")
	for _, g := range s.PaidFor.Regions {
		add("region", t(g.Name), g.USD, g.Pct, t(strings.Join(g.Cities, "; ")))
	}
	add("section", "income_group", "usd", "pct", "cities", "classification")
	for _, g := range s.PaidFor.IncomeGroups {
		add("income_group", t(g.Name), g.USD, g.Pct, t(strings.Join(g.Cities, "; ")), t(s.PaidFor.IncomeGroupFY))
	}

	add("section", "id", "paid_on", "usd", "note")
	for _, r := range s.Refunds.Refunds {
		add("refund", t(r.ID), r.PaidOn, r.USD, t(r.Note))
	}

	e := s.Balance.AtClose
	add("section", "kind", "usd", "to_term_id", "note")
	add("at_close", e.Kind, e.USD, t(e.ToTermID), t(e.Note))

	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	for _, r := range rows {
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
