package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/iati"
	"github.com/unesco-uil/mdfm-ledger/money"
	"github.com/unesco-uil/mdfm-ledger/statement"
)

// IATIQuery asks for a fund's IATI files.
type IATIQuery struct {
	Fund string
	// Term is the term of the activity file; empty means every term whose
	// first event is on or before AsOf, one iati-activity each. The
	// organisation file takes no term.
	Term string
	// AsOf is a date, YYYY-MM-DD: transactions dated on or before it, and
	// the activity status then. Required; the caller fills in today.
	AsOf string
	// AtSeq limits the files to what the ledger knew at that fund_seq; 0
	// means everything the read model has.
	AtSeq uint64
}

// IATIStamp says what an IATI file was computed from. It is written into
// the file as an XML comment after the declaration (see Render), which
// schema validation ignores, so that a published file names the event it
// can be checked against.
type IATIStamp struct {
	Fund      string
	Term      string // "" for every term, or the organisation file
	AsOf      string
	AtSeq     uint64 // as asked; 0 for none
	DateAxis  string
	FundSeq   uint64
	ChainHead string
	// GeneratedAt is the file's generated-datetime: the recorded time of
	// the event at FundSeq, not the clock of the request, so that asking
	// again with at_seq = FundSeq gives the same bytes.
	GeneratedAt string
}

func (s IATIStamp) comment() string {
	c := fmt.Sprintf("mdfm-ledger fund=%s", s.Fund)
	if s.Term != "" {
		c += " term=" + s.Term
	}
	c += fmt.Sprintf(" as_of=%s date_axis=%s", s.AsOf, s.DateAxis)
	if s.AtSeq != 0 {
		c += fmt.Sprintf(" at_seq=%d", s.AtSeq)
	}
	c += fmt.Sprintf(" fund_seq=%d chain_head=%s", s.FundSeq, s.ChainHead)
	// "--" may not appear inside an XML comment; ids may hold it.
	return "<!-- " + strings.ReplaceAll(c, "--", "- -") + " -->\n"
}

// stamp inserts the stamp's comment after the XML declaration.
func (s IATIStamp) stamp(doc []byte) []byte {
	decl, rest, ok := bytes.Cut(doc, []byte("?>\n"))
	if !ok {
		return doc
	}
	out := make([]byte, 0, len(doc)+200)
	out = append(out, decl...)
	out = append(out, "?>\n"...)
	out = append(out, s.comment()...)
	return append(out, rest...)
}

// IATIActivitiesReport is a fund's activity file as data: one iati.Activity
// per term.
type IATIActivitiesReport struct {
	IATIStamp
	Activities []iati.Activity
}

// Render writes the activity file (iati.RenderActivities) with the stamp.
// Its errors wrap iati.ErrInvalidInput when the read model holds data the
// IATI standard cannot carry.
func (r IATIActivitiesReport) Render() ([]byte, error) {
	doc, err := iati.RenderActivities(r.Activities, r.GeneratedAt)
	if err != nil {
		return nil, fmt.Errorf("iati activities of fund %s: %w", r.Fund, err)
	}
	return r.stamp(doc), nil
}

// IATIOrganisationReport is the organisation file as data.
type IATIOrganisationReport struct {
	IATIStamp
	Organisation iati.Organisation
}

// Render writes the organisation file (iati.RenderOrganisation) with the
// stamp.
func (r IATIOrganisationReport) Render() ([]byte, error) {
	doc, err := iati.RenderOrganisation(r.Organisation, r.GeneratedAt)
	if err != nil {
		return nil, fmt.Errorf("iati organisation of fund %s: %w", r.Fund, err)
	}
	return r.stamp(doc), nil
}

// IATIActivities builds the activity file of a fund from one snapshot of
// the read model: for each term (q.Term, or every term started by q.AsOf)
// one iati.Activity with
//
//   - the donors of its reported pledges and receipts as funding
//     participating orgs, typed by iati.OrgTypeForDonorKind, by donor id;
//   - the term's target split into calendar-year budgets
//     (iati.YearlyBudgets), valued on the term's first day;
//   - transactions by date, then fund_seq: every pledge as 11 (incoming
//     commitment: a pledge here is a signed contribution agreement; the
//     ledger records no unsigned pledge, so 13 is never written), in its
//     currency at its amount as last amended by AsOf, less what a
//     cancellation wrote off (a pledge cancelled before any payment is
//     left out), valued on its signing date; every receipt as 1 and every
//     expenditure as 4, in the currency paid, valued on received_on or
//     spent_on, the date whose rate the ledger recorded, with the US dollar
//     amount for the recipient countries;
//   - status closed once the term's close is dated by AsOf, finalisation
//     after its end, implementation from its start, pipeline before.
//
// A reversed receipt or expenditure is left out together with its
// reversal (IATI values here are never negative): the file shows what
// stands. Errors are *errs.Error (invalid_date, unknown_fund,
// unknown_term, invalid_at_seq, no_data_as_of before the term's first
// event, or before every term's when q.Term is empty) or an
// infrastructure error.
func (s *Store) IATIActivities(ctx context.Context, q IATIQuery) (IATIActivitiesReport, error) {
	if !ValidDate(q.AsOf) {
		return IATIActivitiesReport{}, InvalidDate("as_of", q.AsOf)
	}
	v, err := s.OpenView(ctx, "iati activities", q.Fund, q.AtSeq)
	if err != nil {
		return IATIActivitiesReport{}, err
	}
	defer v.Tx.Rollback()
	var terms []TermSpan
	if q.Term != "" {
		t, err := v.PickTermSpan(ctx, q.Term, q.AsOf)
		if err != nil {
			return IATIActivitiesReport{}, err
		}
		terms = []TermSpan{t}
	} else {
		all, err := v.termSpans(ctx)
		if err != nil {
			return IATIActivitiesReport{}, err
		}
		if len(all) == 0 {
			return IATIActivitiesReport{}, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term yet", q.Fund))
		}
		for _, t := range all {
			if t.first <= q.AsOf {
				terms = append(terms, t)
			}
		}
		if len(terms) == 0 {
			return IATIActivitiesReport{}, asOfRefusal("any term of fund "+q.Fund, q.AsOf, all[0].first)
		}
	}
	stamp, err := v.iatiStamp(ctx, q)
	if err != nil {
		return IATIActivitiesReport{}, err
	}
	r := IATIActivitiesReport{IATIStamp: stamp}
	donors, err := v.iatiDonors(ctx, q.AsOf)
	if err != nil {
		return IATIActivitiesReport{}, err
	}
	for _, t := range terms {
		a, err := v.iatiActivity(ctx, t, q.AsOf, donors)
		if err != nil {
			return IATIActivitiesReport{}, fmt.Errorf("iati activity of fund %s term %s: %w", q.Fund, t.ID, err)
		}
		r.Activities = append(r.Activities, a)
	}
	return r, nil
}

// IATIOrganisation builds the organisation file of the reporting
// organisation for a fund: its total budget per calendar year, the targets
// of the terms started by q.AsOf split by iati.YearlyBudgets and added up
// by year (terms do not overlap, so a year's parts never do). Errors are
// those of IATIActivities; q.Term must be empty.
func (s *Store) IATIOrganisation(ctx context.Context, q IATIQuery) (IATIOrganisationReport, error) {
	if !ValidDate(q.AsOf) {
		return IATIOrganisationReport{}, InvalidDate("as_of", q.AsOf)
	}
	if q.Term != "" {
		return IATIOrganisationReport{}, fmt.Errorf("iati organisation: the organisation file has no term (got %q)", q.Term)
	}
	v, err := s.OpenView(ctx, "iati organisation", q.Fund, q.AtSeq)
	if err != nil {
		return IATIOrganisationReport{}, err
	}
	defer v.Tx.Rollback()
	all, err := v.termSpans(ctx)
	if err != nil {
		return IATIOrganisationReport{}, err
	}
	if len(all) == 0 {
		return IATIOrganisationReport{}, domain.Codes.New(domain.CodeUnknownTerm, "term", fmt.Sprintf("fund %s has no term yet", q.Fund))
	}
	stamp, err := v.iatiStamp(ctx, q)
	if err != nil {
		return IATIOrganisationReport{}, err
	}
	r := IATIOrganisationReport{IATIStamp: stamp, Organisation: iati.Organisation{LastUpdated: stamp.GeneratedAt}}
	type year struct {
		start, end string
		minor      int64
	}
	var years []*year
	byYear := map[string]*year{}
	for _, t := range all {
		if t.first > q.AsOf {
			continue
		}
		bs, err := iati.YearlyBudgets(t.startsOn, t.endsOn, money.FormatUSD(t.targetMinor), "")
		if err != nil {
			return IATIOrganisationReport{}, fmt.Errorf("iati organisation: budgets of term %s: %w", t.ID, err)
		}
		for _, b := range bs {
			minor, err := money.ParseMinor(b.Value, money.USD)
			if errors.Is(err, money.ErrNotPositive) {
				minor, err = 0, nil // a year of a zero target
			}
			if err != nil {
				return IATIOrganisationReport{}, fmt.Errorf("iati organisation: budget %s of term %s: %w", b.Value, t.ID, err)
			}
			y := byYear[b.PeriodStart[:4]]
			if y == nil {
				y = &year{start: b.PeriodStart, end: b.PeriodEnd}
				byYear[b.PeriodStart[:4]] = y
				years = append(years, y)
			}
			y.start, y.end = min(y.start, b.PeriodStart), max(y.end, b.PeriodEnd)
			var ok bool
			if y.minor, ok = money.AddChecked(y.minor, minor); !ok {
				return IATIOrganisationReport{}, fmt.Errorf("iati organisation: %w", errOverflow)
			}
		}
	}
	if len(years) == 0 {
		return IATIOrganisationReport{}, asOfRefusal("any term of fund "+q.Fund, q.AsOf, all[0].first)
	}
	sort.Slice(years, func(i, j int) bool { return years[i].start < years[j].start })
	for _, y := range years {
		r.Organisation.TotalBudgets = append(r.Organisation.TotalBudgets, iati.Budget{PeriodStart: y.start, PeriodEnd: y.end, Value: money.FormatUSD(y.minor)})
	}
	return r, nil
}

func (v *View) iatiStamp(ctx context.Context, q IATIQuery) (IATIStamp, error) {
	at, err := v.RecordedAt(ctx, v.FundSeq)
	if err != nil {
		return IATIStamp{}, err
	}
	return IATIStamp{Fund: v.Fund, Term: q.Term, AsOf: q.AsOf, AtSeq: q.AtSeq, DateAxis: DateAxisEffective,
		FundSeq: v.FundSeq, ChainHead: v.ChainHead, GeneratedAt: at}, nil
}

// iatiDonors reads the donors registered by the view's fund_seq as of
// asOf: a participating organisation is named as the donor stood on the
// file's date (see AmendDonors).
func (v *View) iatiDonors(ctx context.Context, asOf string) (map[string]*statement.Donor, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT donor_id, name, kind, country, city FROM donors WHERE fund = ? AND fund_seq <= ?`, v.Fund, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read donors: %w", err)
	}
	defer rows.Close()
	out := map[string]*statement.Donor{}
	for rows.Next() {
		d := &statement.Donor{}
		if err := rows.Scan(&d.ID, &d.Name, &d.Kind, &d.Country, &d.City); err != nil {
			return nil, fmt.Errorf("read donors: %w", err)
		}
		out[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read donors: %w", err)
	}
	return out, v.AmendDonors(ctx, asOf, "", out)
}

// iatiTx is a transaction with what orders it.
type iatiTx struct {
	seq int64
	tx  iati.Transaction
}

// iatiActivity builds the activity of term t as of asOf: its head, budgets,
// and the pledges, receipts and expenditures standing at the view as
// transactions, by date then fund_seq.
func (v *View) iatiActivity(ctx context.Context, t TermSpan, asOf string, donors map[string]*statement.Donor) (iati.Activity, error) {
	a := iatiActivityHead(v.Fund, t, asOf)
	var err error
	if a.LastUpdated, err = v.termLastUpdated(ctx, t.ID); err != nil {
		return a, err
	}
	a.Budgets, err = iati.YearlyBudgets(t.startsOn, t.endsOn, money.FormatUSD(t.targetMinor), t.startsOn)
	if err != nil {
		return a, fmt.Errorf("budgets: %w", err)
	}
	b := &iatiBuild{donors: donors, funding: map[string]bool{}}
	pledges, err := v.iatiPledges(ctx, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if err := b.addPledges(pledges); err != nil {
		return a, err
	}
	receipts, err := v.iatiReceipts(ctx, t.ID, asOf)
	if err != nil {
		return a, err
	}
	if err := b.addReceipts(receipts); err != nil {
		return a, err
	}
	if err := v.iatiExpenditures(ctx, t.ID, asOf, b); err != nil {
		return a, err
	}
	a.Transactions, a.Donors = b.finish()
	return a, nil
}

// iatiActivityHead is the activity of term t without its transactions:
// title, description, dates and status as of asOf.
func iatiActivityHead(fund string, t TermSpan, asOf string) iati.Activity {
	a := iati.Activity{
		FundID:   fund,
		TermID:   t.ID,
		Title:    fmt.Sprintf("Learning Cities Multi-donor Funding Modality (%s), term %s", strings.ToUpper(fund), t.ID),
		StartsOn: t.startsOn,
		EndsOn:   t.endsOn,
		Description: fmt.Sprintf("Pooled fund of the UNESCO Global Network of Learning Cities, held in trust by the UNESCO Institute for Lifelong Learning (UIL) "+
			"as administrative agent: contributions of member cities, countries, companies and foundations for the term %s to %s, "+
			"with a target of %s USD, allocated to the network's thematic clusters and to UIL's capacity-building, research and communication lines.",
			t.startsOn, t.endsOn, money.FormatUSD(t.targetMinor)),
	}
	switch {
	case t.closedOn != "" && t.closedOn <= asOf:
		a.Status = iati.StatusClosed
	case asOf > t.endsOn:
		a.Status = iati.StatusFinalisation
	case asOf >= t.startsOn:
		a.Status = iati.StatusImplementation
	default:
		a.Status = iati.StatusPipeline
	}
	return a
}

// termLastUpdated is when the last event of the term the view knows was
// recorded.
func (v *View) termLastUpdated(ctx context.Context, term string) (string, error) {
	var last int64
	err := v.Tx.QueryRowContext(ctx, `SELECT max(
			(SELECT fund_seq FROM terms WHERE fund = ?1 AND term_id = ?2),
			COALESCE((SELECT max(fund_seq) FROM postings WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0),
			COALESCE((SELECT max(fund_seq) FROM budget_lines WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0),
			COALESCE((SELECT max(proposed_seq) FROM allocations WHERE fund = ?1 AND term_id = ?2 AND proposed_seq <= ?3), 0),
			COALESCE((SELECT fund_seq FROM term_closes WHERE fund = ?1 AND term_id = ?2 AND fund_seq <= ?3), 0))`,
		v.Fund, term, int64(v.FundSeq)).Scan(&last)
	if err != nil {
		return "", fmt.Errorf("read last event: %w", err)
	}
	return v.RecordedAt(ctx, uint64(last))
}

// iatiBuild collects an activity's transactions and the donors that
// funded them.
type iatiBuild struct {
	donors  map[string]*statement.Donor
	funding map[string]bool
	txs     []iatiTx
}

// participant is the registered donor of a transaction, now among those
// that funded the activity.
func (b *iatiBuild) participant(donorID string) (iati.Participant, error) {
	d, ok := b.donors[donorID]
	if !ok {
		return iati.Participant{}, fmt.Errorf("%w: donor %s is not registered", ErrInconsistent, donorID)
	}
	b.funding[donorID] = true
	return iati.Participant{Name: d.Name, Type: iati.OrgTypeForDonorKind(d.Kind)}, nil
}

// iatiValue writes an amount in its currency.
func iatiValue(minor int64, code string) (string, error) {
	cur, err := money.LookupCurrency(code)
	if err != nil {
		return "", fmt.Errorf("%w: currency %q: %v", ErrInconsistent, code, err)
	}
	return money.Format(minor, cur), nil
}

// finish returns the transactions by date then fund_seq, and the donors
// that funded them in id order.
func (b *iatiBuild) finish() ([]iati.Transaction, []iati.Participant) {
	sort.Slice(b.txs, func(i, j int) bool {
		if b.txs[i].tx.Date != b.txs[j].tx.Date {
			return b.txs[i].tx.Date < b.txs[j].tx.Date
		}
		return b.txs[i].seq < b.txs[j].seq
	})
	var txs []iati.Transaction
	for _, x := range b.txs {
		txs = append(txs, x.tx)
	}
	ids := make([]string, 0, len(b.funding))
	for id := range b.funding {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var donors []iati.Participant
	for _, id := range ids {
		d := b.donors[id]
		donors = append(donors, iati.Participant{Name: d.Name, Type: iati.OrgTypeForDonorKind(d.Kind)})
	}
	return txs, donors
}

// iatiPledge is a pledge of the term as the activity shows it.
type iatiPledge struct {
	id, donor, cur, signed, earmark string
	seq, minor                      int64
}

// iatiPledges reads the term's pledges signed by asOf: the amount as last
// amended by asOf (amendments that changed a term, by fund_seq), less what
// cancellations by then wrote off.
func (v *View) iatiPledges(ctx context.Context, term, asOf string) ([]iatiPledge, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT p.pledge_id, p.donor_id, p.currency, p.signed_on, p.earmark, p.created_seq,
			COALESCE((SELECT c.amount_minor FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'amended' AND c.terms_changed = 1
					AND c.effective_on <= ?3 AND c.fund_seq <= ?4
				ORDER BY c.fund_seq DESC LIMIT 1), p.signed_amount_minor)
			- COALESCE((SELECT SUM(c.written_off_minor) FROM pledge_changes c
				WHERE c.fund = p.fund AND c.pledge_id = p.pledge_id AND c.kind = 'cancelled' AND c.effective_on <= ?3 AND c.fund_seq <= ?4), 0)
		FROM pledges p
		WHERE p.fund = ?1 AND p.term_id = ?2 AND p.signed_on <= ?3 AND p.created_seq <= ?4`,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	defer rows.Close()
	var pledges []iatiPledge
	for rows.Next() {
		var p iatiPledge
		if err := rows.Scan(&p.id, &p.donor, &p.cur, &p.signed, &p.earmark, &p.seq, &p.minor); err != nil {
			return nil, fmt.Errorf("read pledges: %w", err)
		}
		pledges = append(pledges, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pledges: %w", err)
	}
	return pledges, nil
}

// addPledges adds the pledges still worth something as incoming
// commitments.
func (b *iatiBuild) addPledges(pledges []iatiPledge) error {
	for _, p := range pledges {
		if p.minor <= 0 {
			continue // cancelled before anything was paid
		}
		org, err := b.participant(p.donor)
		if err != nil {
			return err
		}
		value, err := iatiValue(p.minor, p.cur)
		if err != nil {
			return err
		}
		desc := "Contribution agreement signed"
		if p.earmark != "" {
			desc += ", earmarked to " + strings.Replace(p.earmark, ":", " ", 1)
		}
		b.txs = append(b.txs, iatiTx{p.seq, iati.Transaction{Ref: p.id, Type: iati.TypeIncomingCommitment, Date: p.signed, ValueDate: p.signed,
			Currency: p.cur, Value: value, Description: desc, ProviderOrg: org}})
	}
	return nil
}

// iatiStanding keeps rows x whose event stands at fund_seq ?4: a reversal
// known there takes its event out; the reversal is dated on the reversed
// event's day, so on any as_of they stand or fall together.
const iatiStanding = `NOT EXISTS (SELECT 1 FROM reversals r WHERE r.fund = x.fund AND r.reversed_fund_seq = x.fund_seq AND r.fund_seq <= ?4)`

// iatiReceipt is a receipt of the term as the activity shows it.
type iatiReceipt struct {
	id, donor, pledge, cur, on string
	minor, usd, seq            int64
}

// iatiReceipts reads the term's standing receipts by asOf.
func (v *View) iatiReceipts(ctx context.Context, term, asOf string) ([]iatiReceipt, error) {
	rows, err := v.Tx.QueryContext(ctx, `SELECT x.contribution_id, x.donor_id, x.pledge_id, x.currency, x.amount_minor, x.usd_minor, x.received_on, x.fund_seq
		FROM contributions x WHERE x.fund = ?1 AND x.term_id = ?2 AND x.received_on <= ?3 AND x.fund_seq <= ?4 AND `+iatiStanding,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	var receipts []iatiReceipt
	for rows.Next() {
		var r iatiReceipt
		if err := rows.Scan(&r.id, &r.donor, &r.pledge, &r.cur, &r.minor, &r.usd, &r.on, &r.seq); err != nil {
			return nil, fmt.Errorf("read receipts: %w", err)
		}
		receipts = append(receipts, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read receipts: %w", err)
	}
	return receipts, nil
}

// addReceipts adds the receipts as incoming funds.
func (b *iatiBuild) addReceipts(receipts []iatiReceipt) error {
	for _, r := range receipts {
		org, err := b.participant(r.donor)
		if err != nil {
			return err
		}
		value, err := iatiValue(r.minor, r.cur)
		if err != nil {
			return err
		}
		desc := "Contribution received"
		if r.pledge != "" {
			desc += ", paying pledge " + r.pledge
		}
		b.txs = append(b.txs, iatiTx{r.seq, iati.Transaction{Ref: r.id, Type: iati.TypeIncomingFunds, Date: r.on, ValueDate: r.on,
			Currency: r.cur, Value: value, ValueUSD: money.FormatUSD(r.usd), Description: desc, ProviderOrg: org}})
	}
	return nil
}

// iatiExpenditures adds the term's standing expenditures by asOf as
// expenditure transactions.
func (v *View) iatiExpenditures(ctx context.Context, term, asOf string, b *iatiBuild) error {
	rows, err := v.Tx.QueryContext(ctx, `SELECT x.expenditure_id, x.currency, x.amount_minor, x.usd_minor, x.spent_on, x.payee, x.description, x.country, x.fund_seq
		FROM expenditures x WHERE x.fund = ?1 AND x.term_id = ?2 AND x.spent_on <= ?3 AND x.fund_seq <= ?4 AND `+iatiStanding,
		v.Fund, term, asOf, int64(v.FundSeq))
	if err != nil {
		return fmt.Errorf("read expenditures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, cur, on, payee, desc, country string
			minor, usd, xseq                  int64
		)
		if err := rows.Scan(&id, &cur, &minor, &usd, &on, &payee, &desc, &country, &xseq); err != nil {
			return fmt.Errorf("read expenditures: %w", err)
		}
		value, err := iatiValue(minor, cur)
		if err != nil {
			return err
		}
		tx := iati.Transaction{Ref: id, Type: iati.TypeExpenditure, Date: on, ValueDate: on, Currency: cur, Value: value,
			ValueUSD: money.FormatUSD(usd), Description: desc, RecipientCountry: country}
		if strings.TrimSpace(payee) != "" {
			tx.ReceiverOrg = iati.Participant{Name: payee}
		}
		b.txs = append(b.txs, iatiTx{xseq, tx})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read expenditures: %w", err)
	}
	return nil
}
