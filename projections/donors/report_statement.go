package donors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/projections"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// StatementQuery asks for a donor's accountability statement in one term.
// Fund, Term, AsOf and AtSeq mean what they mean in BalanceQuery.
type StatementQuery struct {
	Fund  string
	Donor string
	Term  string
	AsOf  string
	AtSeq uint64
	// GeneratedAt is the time stamped on the statement as made (and the
	// PDF's creation date). Zero, the usual, stamps the recorded time of
	// the event at the statement's fund_seq, so that the same question
	// gives the same bytes, PDF included.
	GeneratedAt time.Time
	// ReceiptsPage is the page of the donor's receipts the statement lists,
	// statement.ReceiptsPage a page, counting back from the latest (0).
	ReceiptsPage int64
}

// Pledge statuses of a statement, as of its date.
const (
	StatementPledgeOpen        = "open"        // nothing paid yet, not due
	StatementPledgePartlyPaid  = "partly_paid" // paid in part, not due
	StatementPledgeOverdue     = "overdue"     // due before the date and still expecting money
	StatementPledgePaid        = "paid"        // nothing more expected
	StatementPledgeCancelled   = "cancelled"   // what it still expected was written off
	illustrativeMarker         = "ILLUSTRATIVE"
	carriedOverReceiptIDPrefix = "carried over from "
)

// Statement computes a donor's accountability statement for one term from
// one snapshot of the read model: what it pledged, paid (with the fees
// charged on it), and was refunded; its share of the pool, the fees and the
// interest; what its money paid for by budget line, cluster, UNESCO region
// and World Bank income group (FY2026) of the places reached; what is left
// and what becomes of it at the close. What its money paid for, its
// interest and its balance follow the rules of Attribution, so the
// statements of all the term's donors add up to the term's figures.
//
// Money a close carried in from the previous term is listed among the
// receipts ("carried over from 2020-2021", no fee); money a close carried
// out to the next term stays in the donor's unallocated balance of this
// term, and its entitlement at close says where it went.
//
// Errors are *errs.Error: invalid_date, unknown_fund, unknown_term,
// unknown_donor (not registered by the view's fund_seq), invalid_at_seq,
// no_data_as_of (as_of before the term's first entry, or before both the
// donor's registration and its first entry) and not_attributable; an error
// wrapping ErrInconsistent when the read model's figures do not agree (the
// statement would not validate); or an infrastructure error.
func Statement(ctx context.Context, s *projections.Store, q StatementQuery) (statement.Statement, error) {
	return drawStatement(ctx, s, q, nil)
}

// drawStatement is Statement, with the term's attribution from memo (nil
// for none).
func drawStatement(ctx context.Context, s *projections.Store, q StatementQuery, memo *Memo) (statement.Statement, error) {
	if !projections.ValidDate(q.AsOf) {
		return statement.Statement{}, projections.InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "statement", q.Fund, q.AtSeq)
	if err != nil {
		return statement.Statement{}, err
	}
	defer v.Tx.Rollback()
	donor, t, err := statementSubject(ctx, v, q)
	if err != nil {
		return statement.Statement{}, err
	}
	termID := t.ID
	at, err := memo.attribute(ctx, s, v, termID, q.AsOf)
	if err != nil {
		return statement.Statement{}, err
	}
	p := at.parts[q.Donor]
	if p == nil {
		p = &participant{id: q.Donor, net: map[string]int64{}, carriedOutOf: map[string]int64{}}
	}
	gen, err := generatedAt(ctx, v, q.GeneratedAt)
	if err != nil {
		return statement.Statement{}, err
	}
	st := statement.Statement{
		Fund:         q.Fund,
		Term:         statement.Term{ID: t.ID, StartsOn: t.StartsOn, EndsOn: t.EndsOn, ClosedOn: t.ClosedOn},
		Donor:        donor,
		AsOf:         q.AsOf,
		AtSeq:        q.AtSeq,
		GeneratedAt:  gen.UTC().Format(time.RFC3339),
		FundSeq:      v.FundSeq,
		ChainHead:    v.ChainHead,
		Illustrative: strings.Contains(strings.ToUpper(donor.Name), illustrativeMarker),
	}
	fail := func(err error) (statement.Statement, error) {
		return statement.Statement{}, fmt.Errorf("statement of donor %s in term %s as of %s at fund_seq %d: %w", q.Donor, termID, q.AsOf, v.FundSeq, err)
	}
	if st.Pledged, err = statementPledges(ctx, v, q.Donor, termID, q.AsOf); err != nil {
		return fail(err)
	}
	if st.Received, err = statementReceipts(ctx, v, q, termID, p.fees); err != nil {
		return fail(err)
	}
	if st.Refunds, err = statementRefunds(ctx, v, q.Donor, termID, q.AsOf); err != nil {
		return fail(err)
	}
	lines, clusters, err := projections.LinesAndClusters(ctx, v, termID)
	if err != nil {
		return fail(err)
	}
	if err := statementFigures(&st, t, at, p, lines, clusters); err != nil {
		return fail(err)
	}
	return st, nil
}

// statementSubject reads the donor and the term a statement is asked for,
// and refuses an as_of before the term's first entry, or before both the
// donor's registration and its first entry.
func statementSubject(ctx context.Context, v *projections.View, q StatementQuery) (statement.Donor, projections.ReportTerm, error) {
	donor, since, err := loadDonor(ctx, v, q.Donor, q.AsOf)
	if err != nil {
		return donor, projections.ReportTerm{}, err
	}
	span, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
	if err != nil {
		return donor, projections.ReportTerm{}, err
	}
	t, err := projections.LoadTerm(ctx, v, span.ID, q.AsOf)
	if err != nil {
		return donor, t, err
	}
	if err := t.CheckAsOf(q.AsOf); err != nil {
		return donor, t, err
	}
	if q.AsOf < since {
		return donor, t, projections.Codes.New(projections.CodeNoDataAsOf, "as_of", fmt.Sprintf("as_of %s is before donor %s was registered (%s) and before its first entry: the ledger has nothing to report for that date", q.AsOf, q.Donor, since))
	}
	return donor, t, nil
}

// generatedAt is gen, or when it is zero the time the view's last event
// was recorded, so that a statement of the same view is the same file.
func generatedAt(ctx context.Context, v *projections.View, gen time.Time) (time.Time, error) {
	if !gen.IsZero() {
		return gen, nil
	}
	at, err := v.RecordedAt(ctx, v.FundSeq)
	if err != nil {
		return gen, err
	}
	if gen, err = time.Parse(time.RFC3339, at); err != nil {
		return gen, fmt.Errorf("statement: %w: recorded_at %q of fund_seq %d: %v", projections.ErrInconsistent, at, v.FundSeq, err)
	}
	return gen, nil
}

// statementFigures fills in the donor's share of the term, what its money
// paid for and its balance, from the attribution at and its participant p,
// and checks them against the lists already in st: the lists and the
// attribution read different tables, they must agree.
func statementFigures(st *statement.Statement, t projections.ReportTerm, at *attribution, p *participant, lines map[string]projections.Line, clusters map[string]string) error {
	received, fees, refunded := usdSum(st.Received.Receipts, func(r statement.Receipt) string { return r.USD }),
		usdSum(st.Received.Receipts, func(r statement.Receipt) string { return r.FeeUSD }),
		usdSum(st.Refunds.Refunds, func(r statement.Refund) string { return r.USD })
	if u := st.Received.Unlisted; u != nil {
		received += usdCents(u.USD)
		fees += usdCents(u.FeeUSD)
	}
	if received != p.received+p.carriedIn || fees != p.fees || refunded != p.refunded {
		return fmt.Errorf("%w: receipts %d, fees %d and refunds %d listed; the postings say %d, %d and %d",
			projections.ErrInconsistent, received, fees, refunded, p.received+p.carriedIn, p.fees, p.refunded)
	}
	st.Share = termShare(at, p)
	st.PaidFor = paidFor(p, lines, clusters)
	spent := p.spentTotal()
	unspent := received - fees + p.interest - spent - refunded
	unallocated := p.unallocated + p.carriedOut
	if unspent != p.allocatedUnspent+unallocated {
		return fmt.Errorf("%w: unspent %d is not allocated-unspent %d + unallocated %d", projections.ErrInconsistent, unspent, p.allocatedUnspent, unallocated)
	}
	st.Balance = statement.Balance{
		UnspentUSD:          money.FormatUSD(unspent),
		AllocatedUnspentUSD: money.FormatUSD(p.allocatedUnspent),
		UnallocatedUSD:      money.FormatUSD(unallocated),
		AtClose:             entitlement(t, p, st.Refunds.Refunds),
	}
	if err := st.Validate(); err != nil {
		var ie *statement.InvalidError
		if errors.As(err, &ie) && ie.OverLimit {
			// Right but too long for one statement: the caller's to refuse.
			return err
		}
		return fmt.Errorf("%w: %v", projections.ErrInconsistent, err)
	}
	return nil
}

// termShare is the donor's share of the term's unearmarked pool, fees and
// interest.
func termShare(at *attribution, p *participant) statement.Share {
	var termPool, termFees int64
	for id, x := range at.parts {
		if id == unattributed {
			continue
		}
		termPool += max(x.pool(), 0)
		termFees += x.fees
	}
	return statement.Share{
		UnearmarkedUSD:     money.FormatUSD(max(p.pool(), 0)),
		TermUnearmarkedUSD: money.FormatUSD(termPool),
		PoolPct:            projections.Percent(max(p.pool(), 0), termPool),
		TermFeesUSD:        money.FormatUSD(termFees),
		FeesPct:            projections.Percent(p.fees, termFees),
		InterestUSD:        money.FormatUSD(p.interest),
		TermInterestUSD:    money.FormatUSD(at.inflow),
		InterestPct:        projections.Percent(p.interest, at.inflow),
	}
}

// pool is what the participant's money in the unearmarked pool came to:
// receipts less fees, less refunds drawn from it, plus carried in (and not
// less carried out: the weight its share of the pool was reckoned by).
func (p *participant) pool() int64 { return p.net[""] + p.carriedOutOf[""] }

// loadDonor reads a donor registered by the view's fund_seq, as of asOf
// (its name, kind, country and city as amended by then, see projections.View.AmendDonors),
// and the date its history starts: its registration or its first entry,
// whichever comes first (back-dating is normal: a donor registered today
// may have paid last year).
func loadDonor(ctx context.Context, v *projections.View, id, asOf string) (d statement.Donor, since string, err error) {
	d.ID = id
	var seq int64
	err = v.Tx.QueryRowContext(ctx, `SELECT name, kind, country, city, fund_seq FROM donors WHERE fund = ? AND donor_id = ? AND fund_seq <= ?`,
		v.Fund, id, int64(v.FundSeq)).Scan(&d.Name, &d.Kind, &d.Country, &d.City, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return d, "", domain.Codes.New(domain.CodeUnknownDonor, "donor", fmt.Sprintf("fund %s has no donor %q", v.Fund, id))
	}
	if err != nil {
		return d, "", fmt.Errorf("read donor %s: %w", id, err)
	}
	if err := v.AmendDonors(ctx, asOf, id, map[string]*statement.Donor{id: &d}); err != nil {
		return d, "", err
	}
	// At the head the donor's first entry is found in the running totals:
	// the first monthly checkpoint that has it, then its first day in that
	// month, rather than among all the postings; below it, the first of
	// the donor's postings in date order (postings_donor) that the view
	// has.
	first := `(SELECT effective_on FROM postings INDEXED BY postings_donor
		WHERE fund = ?1 AND donor_id = ?3 AND donor_id != '' AND fund_seq <= ?4 ORDER BY effective_on LIMIT 1)`
	if v.FundSeq == v.Head {
		first = `(SELECT effective_on FROM posting_days WHERE fund = ?1 AND donor_id = ?3 AND effective_on >=
			(SELECT month FROM posting_checkpoints WHERE fund = ?1 AND donor_id = ?3 ORDER BY month LIMIT 1) || '-01' ORDER BY effective_on LIMIT 1)`
	}
	var firstOn sql.NullString
	if err := v.Tx.QueryRowContext(ctx, `SELECT effective_on, `+first+`
		FROM events WHERE fund = ?1 AND fund_seq = ?2`, v.Fund, seq, id, int64(v.FundSeq)).Scan(&since, &firstOn); err != nil {
		return d, "", fmt.Errorf("read registration of donor %s: %w", id, err)
	}
	if firstOn.Valid && firstOn.String < since {
		since = firstOn.String
	}
	return d, since, nil
}

// usdSum adds the US dollar strings of a statement's rows (written by this
// file, so valid).
func usdSum[T any](rows []T, f func(T) string) int64 {
	var sum int64
	for _, r := range rows {
		sum += usdCents(f(r))
	}
	return sum
}

// usdCents parses a US dollar string written by this file.
func usdCents(s string) int64 {
	whole, frac, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if !ok || len(frac) != 2 || err != nil {
		panic("statement: a US dollar figure written here does not parse: " + s)
	}
	return n
}

// currencyTotals sums amounts and US dollars by currency, sorted by code.
type currencyTotals map[string][2]int64

func (c currencyTotals) add(cur string, amount, usd int64) {
	t := c[cur]
	c[cur] = [2]int64{t[0] + amount, t[1] + usd}
}

func (c currencyTotals) list() []statement.CurrencyTotal {
	out := []statement.CurrencyTotal{}
	codes := make([]string, 0, len(c))
	for k := range c {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		cur, err := money.LookupCurrency(k)
		if err != nil {
			cur = money.Currency{Code: k, Decimals: 2}
		}
		out = append(out, statement.CurrencyTotal{Currency: k, Amount: money.Format(c[k][0], cur), USD: money.FormatUSD(c[k][1])})
	}
	return out
}

// moneyOf writes minor units of a currency code; an unknown code (never
// accepted by the domain) is written with two decimals.
func moneyOf(minor int64, code string) statement.Money {
	cur, err := money.LookupCurrency(code)
	if err != nil {
		cur = money.Currency{Code: code, Decimals: 2}
	}
	return statement.Money{Amount: money.Format(minor, cur), Currency: code}
}

// earmarkOf turns a pot key into a statement earmark (nil for none).
func earmarkOf(key string) *statement.Earmark {
	if id, ok := strings.CutPrefix(key, "line:"); ok {
		return &statement.Earmark{LineID: id}
	}
	if id, ok := strings.CutPrefix(key, "cluster:"); ok {
		return &statement.Earmark{ClusterID: id}
	}
	return nil
}

// statementPledges lists the donor's pledges to the term signed by asOf, as
// they stood at the end of that day with what the view knew: as amended,
// paid by receipts not reversed, written off by a cancellation.
func statementPledges(ctx context.Context, v *projections.View, donor, term, asOf string) (statement.Pledged, error) {
	out := statement.Pledged{Pledges: []statement.Pledge{}}
	rs, err := readStatementPledges(ctx, v, donor, term, asOf)
	if err != nil {
		return out, err
	}
	byCur := currencyTotals{}
	var total, outstanding int64
	for _, r := range rs {
		st, err := readPledgeState(ctx, v, r, asOf)
		if err != nil {
			return out, err
		}
		pl, amount, usd, outstandingUSD := pledgeLine(r, st, asOf)
		out.Pledges = append(out.Pledges, pl)
		byCur.add(r.cur, amount, usd)
		total += usd
		outstanding += outstandingUSD
	}
	out.ByCurrency = byCur.list()
	out.TotalUSD = money.FormatUSD(total)
	out.OutstandingUSD = money.FormatUSD(outstanding)
	return out, nil
}

// pledgeRow is a pledge as signed.
type pledgeRow struct {
	id, cur, rate, earmark, signed, due string
	amount, usd                         int64
}

// pledgeState is a pledge as it stood as of a date: its terms as last
// amended, whether it was cancelled, and what receipts paid of it.
type pledgeState struct {
	amount, usd int64
	rate, due   string
	cancelled   bool
	paid        int64
}

// readStatementPledges reads the donor's pledges to the term signed by
// asOf, by date and id.
func readStatementPledges(ctx context.Context, v *projections.View, donor, term, asOf string) ([]pledgeRow, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT pledge_id, currency, signed_amount_minor, signed_usd_rate, signed_usd_minor, earmark, signed_on, due_on
		FROM pledges WHERE fund = ? AND donor_id = ? AND term_id = ? AND signed_on <= ? AND created_seq <= ?
		ORDER BY signed_on, pledge_id`, v.Fund, donor, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	defer rows.Close()
	var rs []pledgeRow
	for rows.Next() {
		var r pledgeRow
		if err := rows.Scan(&r.id, &r.cur, &r.amount, &r.rate, &r.usd, &r.earmark, &r.signed, &r.due); err != nil {
			return nil, fmt.Errorf("read pledges: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	return rs, nil
}

// pledgePaidQuery adds up a pledge's standing receipts (?1 fund, ?2
// pledge, ?3 as_of, ?4 the view's fund_seq) by contributions_pledge, which
// it names: without statistics SQLite read every receipt of the fund up to
// the view by contributions_seq instead, once for each pledge (issue 10).
var pledgePaidQuery = `SELECT COALESCE(SUM(c.amount_minor), 0) FROM contributions c INDEXED BY contributions_pledge
	WHERE c.fund = ?1 AND c.pledge_id = ?2 AND c.pledge_id != '' AND c.received_on <= ?3 AND c.fund_seq <= ?4 AND ` + projections.NotReversedRow("c", "fund_seq", "?4", "?3")

// readPledgeState reads how pledge r stood as of asOf: its changes by then,
// in the fund's order, and what receipts not reversed paid of it. A
// revaluation after a reversal (terms_changed 0) sets no term of the
// pledge: the memo postings carry what it did.
func readPledgeState(ctx context.Context, v *projections.View, r pledgeRow, asOf string) (pledgeState, error) {
	atSeq := int64(v.FundSeq)
	st := pledgeState{amount: r.amount, usd: r.usd, rate: r.rate, due: r.due}
	changes, err := v.Tx.QueryContext(ctx, `SELECT kind, amount_minor, usd_rate, usd_minor, due_on
		FROM pledge_changes WHERE fund = ? AND pledge_id = ? AND effective_on <= ? AND fund_seq <= ? AND (kind = 'cancelled' OR terms_changed = 1)
		ORDER BY fund_seq`, v.Fund, r.id, asOf, atSeq)
	if err != nil {
		return st, fmt.Errorf("read changes of pledge %s: %w", r.id, err)
	}
	defer changes.Close()
	for changes.Next() {
		var (
			kind, crate, cdue string
			camount, cusd     int64
		)
		if err := changes.Scan(&kind, &camount, &crate, &cusd, &cdue); err != nil {
			return st, fmt.Errorf("read changes of pledge %s: %w", r.id, err)
		}
		if kind == "cancelled" {
			st.cancelled = true
			continue
		}
		st.amount, st.rate, st.usd, st.due = camount, crate, cusd, cdue
	}
	if err := changes.Err(); err != nil {
		return st, fmt.Errorf("read changes of pledge %s: %w", r.id, err)
	}
	changes.Close()
	err = v.Tx.QueryRowContext(ctx, pledgePaidQuery, v.Fund, r.id, asOf, atSeq).Scan(&st.paid)
	if err != nil {
		return st, fmt.Errorf("read payments of pledge %s: %w", r.id, err)
	}
	return st, nil
}

// pledgeLine is the statement's line of pledge r as it stood as of asOf
// (st), with what it counts for (amount, and usd in US dollars) and what
// it still expects in US dollars.
func pledgeLine(r pledgeRow, st pledgeState, asOf string) (pl statement.Pledge, amount, usd, outstandingUSD int64) {
	amount, usd = st.amount, st.usd
	rate, code := st.rate, r.cur
	left := max(amount-st.paid, 0)
	status := StatementPledgeOpen
	switch {
	case st.cancelled:
		status, left = StatementPledgeCancelled, 0
	case left == 0:
		status = StatementPledgePaid
	case st.due < asOf:
		status = StatementPledgeOverdue
	case st.paid > 0:
		status = StatementPledgePartlyPaid
	}
	// What it still expects is worth its US dollar value in proportion,
	// as the domain reckons it: its memo account's balance, unless
	// amendments were dated before receipts they followed.
	if amount > 0 {
		outstandingUSD = money.MulDivRound(usd, left, amount)
	}
	if code == money.USD.Code {
		rate = ""
	}
	// A cancelled pledge counts for what it settled before it was
	// cancelled, at its value in proportion (Balance.Pledged takes off
	// what the cancellation wrote off, which comes to the same unless
	// amendments were dated before receipts they followed).
	if st.cancelled && amount > 0 {
		settled := min(st.paid, amount)
		amount, usd = settled, money.MulDivRound(usd, settled, amount)
	}
	return statement.Pledge{
		ID: r.id, SignedOn: r.signed, DueOn: st.due, Amount: moneyOf(amount, code), USDRate: rate, USD: money.FormatUSD(usd),
		Earmark: earmarkOf(r.earmark), Status: status, Outstanding: moneyOf(left, code), OutstandingUSD: money.FormatUSD(outstandingUSD),
	}, amount, usd, outstandingUSD
}

// statementReceipts lists the donor's receipts in the term by asOf that
// the view has not reversed, each with its fee, and what a close carried
// in from the previous term, by date: a page of statement.ReceiptsPage
// receipts (q.ReceiptsPage, counting back from the latest), the rest added
// up in Unlisted. The totals count every receipt: at the fund's head from
// the running totals (receipt_days), so that a donor's statement reads the
// receipts it lists, not all of them (issue 10). fees is what the
// postings say the donor was charged; the unlisted receipts' fees are what
// it leaves after the listed ones'.
func statementReceipts(ctx context.Context, v *projections.View, q StatementQuery, term string, fees int64) (statement.Received, error) {
	out := statement.Received{Receipts: []statement.Receipt{}}
	byCur, count, err := receiptTotals(ctx, v, q.Donor, term, q.AsOf)
	if err != nil {
		return out, err
	}
	var total int64
	for _, t := range byCur {
		total += t[1]
	}
	if out.Receipts, err = listReceipts(ctx, v, q, term); err != nil {
		return out, err
	}
	var listedUSD, listedFees int64
	for _, r := range out.Receipts {
		listedUSD += usdCents(r.USD)
		listedFees += usdCents(r.FeeUSD)
	}
	if n := count - int64(len(out.Receipts)); n > 0 {
		out.Unlisted = &statement.Unlisted{Count: n, USD: money.FormatUSD(total - listedUSD), FeeUSD: money.FormatUSD(fees - listedFees),
			Page: q.ReceiptsPage, Pages: (count + statement.ReceiptsPage - 1) / statement.ReceiptsPage}
	} else {
		fees = listedFees
	}
	carried, err := carriedIn(ctx, v, q.Donor, term, q.AsOf)
	if err != nil {
		return out, err
	}
	for _, r := range carried {
		out.Receipts = append(out.Receipts, r)
		x := usdCents(r.USD)
		byCur.add(money.USD.Code, x, x)
		total += x
	}
	sort.SliceStable(out.Receipts, func(i, j int) bool { return out.Receipts[i].ReceivedOn < out.Receipts[j].ReceivedOn })
	out.ByCurrency = byCur.list()
	out.TotalUSD, out.FeesUSD = money.FormatUSD(total), money.FormatUSD(fees)
	return out, nil
}

// receiptTotals adds up the donor's receipts in the term by asOf that the
// view has not reversed, by currency, and counts them: at the fund's head
// from receipt_days, below it from receipt_seq_totals (receiptTotalsAtSeq);
// a view that sums the postings (the tests' oracle) adds up the receipts.
func receiptTotals(ctx context.Context, v *projections.View, donor, term, asOf string) (currencyTotals, int64, error) {
	switch {
	case v.FundSeq == v.Head:
		return sumReceipts(ctx, v, receiptDaysQuery, donor, term, asOf)
	case v.ReadsTotals():
		return receiptTotalsAtSeq(ctx, v, donor, term, asOf)
	}
	return sumReceipts(ctx, v, receiptSumQuery, donor, term, asOf)
}

// receiptDaysQuery adds up the donor's receipts by asOf from the running
// totals by day, at the fund's head; receiptSumQuery adds up the receipts
// themselves up to the view. Both take ?1 fund, ?2 donor, ?3 term, ?4 the
// view's fund_seq, ?5 asOf.
var (
	receiptDaysQuery = `SELECT currency, SUM(amount_minor), SUM(usd_minor), SUM(receipts) FROM receipt_days
		WHERE fund = ?1 AND term_id = ?3 AND donor_id = ?2 AND received_on <= ?5 GROUP BY currency`
	receiptSumQuery = `SELECT c.currency, SUM(c.amount_minor), SUM(c.usd_minor), count(*) FROM contributions c
		WHERE c.fund = ?1 AND c.donor_id = ?2 AND c.term_id = ?3 AND c.fund_seq <= ?4 AND c.received_on <= ?5 AND ` +
		projections.NotReversedRow("c", "fund_seq", "?4", "?5") + ` GROUP BY c.currency`
)

// sumReceipts runs query (receiptDaysQuery or receiptSumQuery) and adds up
// what it gives by currency.
func sumReceipts(ctx context.Context, v *projections.View, query, donor, term, asOf string) (currencyTotals, int64, error) {
	byCur, count := currencyTotals{}, int64(0)
	err := scanCurrencyTotals(ctx, v, query, []any{v.Fund, donor, term, int64(v.FundSeq), asOf}, func(cur string, amount, usd, n int64) {
		if n > 0 {
			byCur.add(cur, amount, usd)
			count += n
		}
	})
	return byCur, count, err
}

// The queries of receiptTotalsAtSeq, with the arguments of
// receiptSumQuery. receiptSeqNextCurrency is the first currency of the
// donor's term after ?6 (the empty string: the first); receiptSeqLast is
// that currency's last running total at or before the view. receiptSeqCountedOut adds up the
// receipts up to the view that it does not count: a reversed one
// (contributions_reversed lists them) that the view has reversed, or any
// reversed one dated after asOf, and a receipt never reversed dated after
// asOf (contributions_donor_date, from asOf on).
var (
	receiptSeqNextCurrency = `SELECT currency FROM receipt_seq_totals
		WHERE fund = ?1 AND donor_id = ?2 AND term_id = ?3 AND currency > ?6 ORDER BY currency LIMIT 1`
	receiptSeqLast = `SELECT receipts, amount_minor, usd_minor FROM receipt_seq_totals
		WHERE fund = ?1 AND donor_id = ?2 AND term_id = ?3 AND currency = ?6 AND fund_seq <= ?4 ORDER BY fund_seq DESC LIMIT 1`
	receiptSeqCountedOut = `SELECT c.currency, SUM(c.amount_minor), SUM(c.usd_minor), count(*) FROM contributions c INDEXED BY contributions_reversed
		WHERE c.fund = ?1 AND c.donor_id = ?2 AND c.term_id = ?3 AND c.reversed_by != '' AND c.fund_seq <= ?4
			AND (c.received_on > ?5 OR NOT ` + projections.NotReversed("c", "fund_seq", "?4", "?5") + `)
		GROUP BY c.currency
		UNION ALL
		SELECT c.currency, SUM(c.amount_minor), SUM(c.usd_minor), count(*) FROM contributions c
		WHERE c.fund = ?1 AND c.donor_id = ?2 AND c.term_id = ?3 AND c.received_on > ?5 AND c.fund_seq <= ?4 AND c.reversed_by = ''
		GROUP BY c.currency`
)

// receiptTotalsAtSeq is receiptTotals below the fund's head: for each
// currency the donor's running total at the view (receipt_seq_totals),
// less the receipts up to the view that it does not count. Its cost grows
// with the donor's currencies, its reversed receipts and its receipts
// dated after asOf, not with its receipts up to the view (issue 10: a
// statement as of the term's end, or today, at an at_seq).
func receiptTotalsAtSeq(ctx context.Context, v *projections.View, donor, term, asOf string) (currencyTotals, int64, error) {
	type sums struct{ amount, usd, n int64 }
	byCur := map[string]*sums{}
	args := []any{v.Fund, donor, term, int64(v.FundSeq), asOf, ""}
	for {
		var cur string
		err := v.Tx.QueryRowContext(ctx, receiptSeqNextCurrency, args...).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("add up receipts: %w", err)
		}
		args[5] = cur
		var t sums
		err = v.Tx.QueryRowContext(ctx, receiptSeqLast, args...).Scan(&t.n, &t.amount, &t.usd)
		if errors.Is(err, sql.ErrNoRows) {
			continue // none by the view in this currency
		}
		if err != nil {
			return nil, 0, fmt.Errorf("add up receipts: %w", err)
		}
		byCur[cur] = &t
	}
	err := scanCurrencyTotals(ctx, v, receiptSeqCountedOut, args[:5], func(cur string, amount, usd, n int64) {
		t := byCur[cur]
		if t == nil { // none by the view: a count below 0, refused below
			t = &sums{}
			byCur[cur] = t
		}
		t.amount, t.usd, t.n = t.amount-amount, t.usd-usd, t.n-n
	})
	if err != nil {
		return nil, 0, err
	}
	out, count := currencyTotals{}, int64(0)
	for cur, t := range byCur {
		if t.n < 0 || (t.n == 0 && (t.amount != 0 || t.usd != 0)) {
			return nil, 0, fmt.Errorf("%w: donor %s's receipts in %s at fund_seq %d: the running total less what the view counts out is %d receipts of %d (%d in %s)",
				projections.ErrInconsistent, donor, cur, v.FundSeq, t.n, t.usd, t.amount, cur)
		}
		if t.n > 0 {
			out.add(cur, t.amount, t.usd)
			count += t.n
		}
	}
	return out, count, nil
}

// scanCurrencyTotals runs query, whose rows are a currency, two sums and a
// count, and gives each to add.
func scanCurrencyTotals(ctx context.Context, v *projections.View, query string, args []any, add func(cur string, amount, usd, n int64)) error {
	rows, err := v.Tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("add up receipts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			cur            string
			amount, usd, n int64
		)
		if err := rows.Scan(&cur, &amount, &usd, &n); err != nil {
			return fmt.Errorf("add up receipts: %w", err)
		}
		add(cur, amount, usd, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("add up receipts: %w", err)
	}
	return nil
}

// receiptPageQuery reads a page of a donor's receipts, each with its fee,
// from contributions_donor_date alone, which covers every column it reads
// (schema 13). A receipt's fee is its row's fee_minor when the view knows
// every fee charged on it (fee_seq) and none was reversed; otherwise the
// fees the view knows and has not reversed are added up from fees, where
// "+f.fund_seq" keeps SQLite from reading them through the primary key's
// range (every fee up to atSeq, for each receipt: the square of the log,
// issue 10) instead of fees_contribution. ?1 fund, ?2 donor, ?3 term, ?4
// the view's fund_seq, ?5 as_of, ?6 and ?7 the LIMIT and OFFSET, ?8 the
// page's first day (as_of or before).
var receiptPageQuery = `SELECT c.contribution_id, c.received_on, c.amount_minor, c.currency, c.usd_rate, c.usd_minor, c.bank_ref, c.pledge_id,
		CASE WHEN c.fee_seq <= ?4 AND c.fee_reversed = 0 THEN c.fee_minor
		ELSE COALESCE((SELECT SUM(f.amount_minor) FROM fees f WHERE f.fund = c.fund AND f.contribution_id = c.contribution_id AND +f.fund_seq <= ?4
			AND ` + projections.NotReversed("f", "fund_seq", "?4", "?5") + `), 0) END
	FROM contributions c
	WHERE c.fund = ?1 AND c.donor_id = ?2 AND c.term_id = ?3 AND c.fund_seq <= ?4 AND c.received_on <= ?8 AND ` + projections.NotReversedRow("c", "fund_seq", "?4", "?5") + `
	ORDER BY c.received_on DESC, c.contribution_id DESC LIMIT ?6 OFFSET ?7`

// listReceipts reads one page of the donor's receipts in the term by asOf
// that the view has not reversed, each with its fee, by date: the page
// q.ReceiptsPage counting back from the latest, read from the end of
// contributions_donor_date. At the fund's head a later page starts on the
// day pageStart finds, so that it reads the receipts it lists and the
// rest of that day's, not every later receipt.
func listReceipts(ctx context.Context, v *projections.View, q StatementQuery, term string) ([]statement.Receipt, error) {
	atSeq := int64(v.FundSeq)
	upTo, skip := q.AsOf, q.ReceiptsPage*statement.ReceiptsPage
	if skip > 0 && v.FundSeq == v.Head {
		day, after, err := pageStart(ctx, v, q.Donor, term, q.AsOf, skip)
		if err != nil {
			return nil, err
		}
		if day == "" {
			return []statement.Receipt{}, nil // past the last page
		}
		upTo, skip = day, skip-after
	}
	rows, err := v.Tx.QueryContext(ctx, receiptPageQuery, v.Fund, q.Donor, term, atSeq, q.AsOf, statement.ReceiptsPage, skip, upTo)
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	out := []statement.Receipt{}
	for rows.Next() {
		var (
			r                statement.Receipt
			amount, usd, fee int64
			cur              string
		)
		if err := rows.Scan(&r.ID, &r.ReceivedOn, &amount, &cur, &r.USDRate, &usd, &r.BankRef, &r.PledgeID, &fee); err != nil {
			return nil, fmt.Errorf("read receipts: %w", err)
		}
		if cur == money.USD.Code {
			r.USDRate = ""
		}
		r.Amount, r.USD, r.FeeUSD = moneyOf(amount, cur), money.FormatUSD(usd), money.FormatUSD(fee)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// pageStart finds, at the fund's head, the day on which a page that starts
// skip receipts back from the donor's latest begins, and how many of the
// listed receipts are dated after it: from receipt_days, whose rows count
// each day's standing receipts (a reversal takes a receipt out on its own
// day, which is also the reversal's date, so as of any date they are the
// receipts listReceipts lists). Its cost is the term's days, not the
// receipts skipped (an OFFSET over 239,000 receipts took 0.47 s at
// 1,000,000 events, issue 10). day is "" when the page is past the last.
func pageStart(ctx context.Context, v *projections.View, donor, term, asOf string, skip int64) (day string, after int64, err error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT received_on, SUM(receipts) FROM receipt_days
		WHERE fund = ?1 AND term_id = ?2 AND donor_id = ?3 AND received_on <= ?4
		GROUP BY received_on ORDER BY received_on DESC`, v.Fund, term, donor, asOf)
	if err != nil {
		return "", 0, fmt.Errorf("find the page's first day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		if err := rows.Scan(&day, &n); err != nil {
			return "", 0, fmt.Errorf("find the page's first day: %w", err)
		}
		if after+n > skip {
			return day, after, nil
		}
		after += n
	}
	return "", after, rows.Err()
}

// carriedIn lists what the closes of earlier terms carried in to the donor
// in the term by asOf, as receipts ("carried over from 2020-2021"), by date.
func carriedIn(ctx context.Context, v *projections.View, donor, term, asOf string) ([]statement.Receipt, error) {
	carried, err := v.Tx.QueryContext(ctx, `SELECT o.from_term_id, o.effective_on, o.to_earmark, s.amount_minor
		FROM carry_overs o JOIN carry_over_shares s ON s.fund = o.fund AND s.fund_seq = o.fund_seq
		WHERE o.fund = ? AND o.to_term_id = ? AND s.donor_id = ? AND o.fund_seq <= ? AND o.effective_on <= ?
		ORDER BY o.effective_on, o.fund_seq`, v.Fund, term, donor, int64(v.FundSeq), asOf)
	if err != nil {
		return nil, fmt.Errorf("read carry-overs: %w", err)
	}
	defer carried.Close()
	var out []statement.Receipt
	for carried.Next() {
		var (
			from, on, pot string
			x             int64
		)
		if err := carried.Scan(&from, &on, &pot, &x); err != nil {
			return nil, fmt.Errorf("read carry-overs: %w", err)
		}
		ref := "close of term " + from + ": unearmarked"
		if pot != "" {
			ref = "close of term " + from + ": earmarked " + pot
		}
		out = append(out, statement.Receipt{ID: carriedOverReceiptIDPrefix + from, ReceivedOn: on,
			Amount: moneyOf(x, money.USD.Code), USD: money.FormatUSD(x), FeeUSD: money.FormatUSD(0), BankRef: ref})
	}
	return out, carried.Err()
}

// statementRefunds lists the refunds paid to the donor from the term by
// asOf that the view has not reversed.
func statementRefunds(ctx context.Context, v *projections.View, donor, term, asOf string) (statement.Refunds, error) {
	out := statement.Refunds{Refunds: []statement.Refund{}}
	rows, err := v.Tx.QueryContext(ctx, `SELECT r0.refund_id, r0.paid_on, r0.amount_minor, r0.reason FROM refunds r0
		WHERE r0.fund = ?1 AND r0.donor_id = ?2 AND r0.term_id = ?3 AND r0.fund_seq <= ?4 AND r0.paid_on <= ?5 AND `+projections.NotReversedRow("r0", "fund_seq", "?4", "?5")+`
		ORDER BY r0.paid_on, r0.refund_id`, v.Fund, donor, term, int64(v.FundSeq), asOf)
	if err != nil {
		return out, fmt.Errorf("read refunds: %w", err)
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var (
			r statement.Refund
			x int64
		)
		if err := rows.Scan(&r.ID, &r.PaidOn, &x, &r.Note); err != nil {
			return out, fmt.Errorf("read refunds: %w", err)
		}
		r.USD = money.FormatUSD(x)
		total += x
		out.Refunds = append(out.Refunds, r)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read refunds: %w", err)
	}
	out.TotalUSD = money.FormatUSD(total)
	return out, nil
}

// paidFor groups what the participant's money paid for by line, cluster,
// region and income group.
func paidFor(p *participant, lines map[string]projections.Line, clusters map[string]string) statement.PaidFor {
	out := statement.PaidFor{Lines: []statement.LineUse{}, Clusters: []statement.ClusterUse{}, Regions: []statement.GroupUse{},
		IncomeGroups: []statement.GroupUse{}, IncomeGroupFY: projections.IncomeGroupFY}
	byLine := map[string]*lineSplit{}
	byCluster := map[string]int64{}
	regions, incomes := placeGroups{}, placeGroups{}
	var total int64
	for k, usd := range p.spentBy {
		l := byLine[k.line]
		if l == nil {
			l = &lineSplit{}
			byLine[k.line] = l
		}
		if k.earmarked {
			l.earmarked += usd
		} else {
			l.proRata += usd
		}
		byCluster[lines[k.line].ClusterID] += usd
		region, income := projections.Classify(k.where.Country)
		city := k.where.Label()
		regions.add(region, city, usd)
		incomes.add(income, city, usd)
		total += usd
	}
	out.Lines = lineUses(byLine, lines)
	cids := make([]string, 0, len(byCluster))
	for id := range byCluster {
		cids = append(cids, id)
	}
	sort.Strings(cids) // the fund-wide lines ("") first
	for _, id := range cids {
		name := clusters[id]
		if name == "" && id != "" {
			name = id
		}
		out.Clusters = append(out.Clusters, statement.ClusterUse{ClusterID: id, Name: name, USD: money.FormatUSD(byCluster[id]), Pct: projections.Percent(byCluster[id], total)})
	}
	out.Regions, out.IncomeGroups = regions.uses(total), incomes.uses(total)
	out.TotalUSD = money.FormatUSD(total)
	return out
}

// lineSplit is what a donor's money paid on one line, from its earmarked
// money and pro rata from the pool.
type lineSplit struct{ earmarked, proRata int64 }

// lineUses lists the lines a donor's money paid for, in reading order.
func lineUses(byLine map[string]*lineSplit, lines map[string]projections.Line) []statement.LineUse {
	ids := make([]string, 0, len(byLine))
	for id := range byLine {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return projections.LineLess(ids[i], ids[j], lines) })
	out := []statement.LineUse{}
	for _, id := range ids {
		l := byLine[id]
		out = append(out, statement.LineUse{LineID: id, Title: lines[id].Title, ClusterID: lines[id].ClusterID,
			EarmarkedUSD: money.FormatUSD(l.earmarked), ProRataUSD: money.FormatUSD(l.proRata), TotalUSD: money.FormatUSD(l.earmarked + l.proRata)})
	}
	return out
}

// placeGroup is what a donor's money paid in one region or income group,
// and the cities it reached there.
type placeGroup struct {
	usd    int64
	cities map[string]bool
}

// placeGroups are the groups of one classification, by name.
type placeGroups map[string]*placeGroup

func (m placeGroups) add(name, city string, x int64) {
	g := m[name]
	if g == nil {
		g = &placeGroup{cities: map[string]bool{}}
		m[name] = g
	}
	g.usd += x
	if city != "" {
		g.cities[city] = true
	}
}

// uses lists the groups in reading order, each with its share of total and
// at most statement.MaxCitiesList of its cities.
func (m placeGroups) uses(total int64) []statement.GroupUse {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return projections.GroupLess(names[i], names[j]) })
	gs := []statement.GroupUse{}
	for _, n := range names {
		g := m[n]
		var cities []string
		for c := range g.cities {
			cities = append(cities, c)
		}
		sort.Strings(cities)
		if len(cities) > statement.MaxCitiesList {
			cities = cities[:statement.MaxCitiesList]
		}
		gs = append(gs, statement.GroupUse{Name: n, USD: money.FormatUSD(g.usd), Pct: projections.Percent(g.usd, total), Cities: cities})
	}
	return gs
}

// entitlement says what the donor is entitled to at the term's close: while
// the term is open, its unallocated balance today, refunded or carried over
// as the close will decide; once closed, what the close carried over or
// refunded to it.
func entitlement(t projections.ReportTerm, p *participant, refunds []statement.Refund) statement.Entitlement {
	if t.ClosedOn == "" {
		return statement.Entitlement{Kind: statement.EntitlementPending, USD: money.FormatUSD(p.unallocated)}
	}
	var atClose int64
	for _, r := range refunds {
		if strings.HasPrefix(r.ID, "close:"+t.ID+":") {
			atClose += usdCents(r.USD)
		}
	}
	if t.Disposition == domain.DispositionRefund {
		return statement.Entitlement{Kind: statement.EntitlementRefund, USD: money.FormatUSD(atClose),
			Note: "The close refunded it on " + t.ClosedOn + " (see the refunds)."}
	}
	e := statement.Entitlement{Kind: statement.EntitlementCarryOver, USD: money.FormatUSD(p.carriedOut), ToTermID: t.ToTermID}
	if atClose > 0 {
		e.Note = "Money earmarked to a budget line outside any cluster, " + usdText(atClose) + ", was refunded at the close (see the refunds)."
	}
	return e
}

// usdText prints US cents for a note: "US$ 1,234.50".
func usdText(x int64) string { return "US$ " + money.Grouped(money.FormatUSD(x)) }
