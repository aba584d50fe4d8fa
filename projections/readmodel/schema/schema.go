// Package schema holds the read model's schema: the SQL of each version,
// which package readmodel applies in order (it is data, kept apart from
// the fold's code).
package schema

import "github.com/unesco-uil/mdfm-ledger/projections/readmodel/seqtotals"

// Migrations is the ordered list of schema changes. Migrations[i] brings
// the schema from version i to version i+1. Entries are only ever
// appended: a read model written by an older projector is migrated
// forward on Open, and Verify compares files of the same version only.
var Migrations = []string{
	// 1: the log index, the checkpoint, the entities of the first event
	// types and the postings.
	`
CREATE TABLE checkpoint (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	stream_seq INTEGER NOT NULL CHECK (stream_seq >= 0)
) STRICT;
INSERT INTO checkpoint (id, stream_seq) VALUES (1, 0);

CREATE TABLE fund_heads (
	fund       TEXT PRIMARY KEY,
	fund_seq   INTEGER NOT NULL CHECK (fund_seq > 0),
	chain_head TEXT NOT NULL,
	stream_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	stream_seq   INTEGER NOT NULL UNIQUE,
	id           TEXT NOT NULL UNIQUE,
	type         TEXT NOT NULL,
	v            INTEGER NOT NULL,
	effective_on TEXT NOT NULL,
	recorded_at  TEXT NOT NULL,
	actor        TEXT NOT NULL,
	command_id   TEXT NOT NULL,
	command_hash TEXT NOT NULL,
	prev_hash    TEXT NOT NULL,
	hash         TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX events_command ON events (fund, command_id);

CREATE TABLE terms (
	fund         TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	starts_on    TEXT NOT NULL,
	ends_on      TEXT NOT NULL,
	target_minor INTEGER NOT NULL,
	fee_rate     TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id)
) STRICT;

CREATE TABLE donors (
	fund     TEXT NOT NULL,
	donor_id TEXT NOT NULL,
	name     TEXT NOT NULL,
	kind     TEXT NOT NULL,
	country  TEXT NOT NULL,
	city     TEXT NOT NULL,
	fund_seq INTEGER NOT NULL,
	PRIMARY KEY (fund, donor_id)
) STRICT;

CREATE TABLE contributions (
	fund            TEXT NOT NULL,
	contribution_id TEXT NOT NULL,
	donor_id        TEXT NOT NULL,
	term_id         TEXT NOT NULL,
	pledge_id       TEXT NOT NULL,
	amount_minor    INTEGER NOT NULL,
	currency        TEXT NOT NULL,
	usd_rate        TEXT NOT NULL,
	usd_minor       INTEGER NOT NULL,
	received_on     TEXT NOT NULL,
	bank_ref        TEXT NOT NULL,
	fund_seq        INTEGER NOT NULL,
	PRIMARY KEY (fund, contribution_id)
) STRICT;
CREATE INDEX contributions_donor ON contributions (fund, donor_id, term_id);

CREATE TABLE fees (
	fund            TEXT NOT NULL,
	fund_seq        INTEGER NOT NULL,
	contribution_id TEXT NOT NULL,
	donor_id        TEXT NOT NULL,
	term_id         TEXT NOT NULL,
	fee_rate        TEXT NOT NULL,
	amount_minor    INTEGER NOT NULL,
	effective_on    TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX fees_contribution ON fees (fund, contribution_id);

CREATE TABLE budget_lines (
	fund         TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	title        TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	cluster_id   TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	PRIMARY KEY (fund, line_id)
) STRICT;

CREATE TABLE allocations (
	fund          TEXT NOT NULL,
	allocation_id TEXT NOT NULL,
	line_id       TEXT NOT NULL,
	term_id       TEXT NOT NULL,
	amount_minor  INTEGER NOT NULL,
	note          TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('proposed', 'approved')),
	proposed_by   TEXT NOT NULL,
	proposed_on   TEXT NOT NULL,
	proposed_seq  INTEGER NOT NULL,
	approved_by   TEXT NOT NULL DEFAULT '',
	approved_on   TEXT NOT NULL DEFAULT '',
	approved_seq  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (fund, allocation_id)
) STRICT;
CREATE INDEX allocations_line ON allocations (fund, line_id);

CREATE TABLE expenditures (
	fund           TEXT NOT NULL,
	expenditure_id TEXT NOT NULL,
	allocation_id  TEXT NOT NULL,
	line_id        TEXT NOT NULL,
	term_id        TEXT NOT NULL,
	amount_minor   INTEGER NOT NULL,
	currency       TEXT NOT NULL,
	usd_rate       TEXT NOT NULL,
	usd_minor      INTEGER NOT NULL,
	spent_on       TEXT NOT NULL,
	payee          TEXT NOT NULL,
	description    TEXT NOT NULL,
	country        TEXT NOT NULL,
	city           TEXT NOT NULL,
	fund_seq       INTEGER NOT NULL,
	PRIMARY KEY (fund, expenditure_id)
) STRICT;
CREATE INDEX expenditures_allocation ON expenditures (fund, allocation_id);

-- One row per leg of an event; debits positive, credits negative. The legs
-- of one (fund, fund_seq) sum to zero.
CREATE TABLE postings (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	leg          INTEGER NOT NULL,
	event_type   TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	effective_on TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq, leg)
) STRICT;
-- The balance query: one fund and term, by date, by what the ledger knew.
-- It covers every column the query reads.
CREATE INDEX postings_balance ON postings (fund, term_id, effective_on, fund_seq, account, event_type, amount_minor);
-- Trial balance and statements across terms.
CREATE INDEX postings_account ON postings (fund, account, effective_on);
`,
	// 2: the event types of issue 3 — pledges, interest, refunds, reversals,
	// carry-overs, term closes and the cluster registry — and the earmark,
	// pledge and reversal columns of the postings. A read model at version 1
	// never applied an event with an earmark, a pledge, a city id or a
	// reversal (they all follow a pledge_recorded, city_registered or
	// money event of the new types, at which the version 1 projector
	// stopped), so the defaults of the added columns are what replay gives.
	`
ALTER TABLE postings ADD COLUMN earmark TEXT NOT NULL DEFAULT '';
ALTER TABLE postings ADD COLUMN pledge_id TEXT NOT NULL DEFAULT '';
-- The id of the event a reversal leg reverses. Such legs carry the reversed
-- event's type in event_type, so that a sum by type nets out what was
-- reversed: a reversed receipt is no longer received, a reversed fee no
-- longer charged.
ALTER TABLE postings ADD COLUMN reversal_of TEXT NOT NULL DEFAULT '';
DROP INDEX postings_balance;
CREATE INDEX postings_balance ON postings (fund, term_id, effective_on, fund_seq, account, event_type, earmark, amount_minor);
CREATE INDEX postings_pledge ON postings (fund, pledge_id, effective_on) WHERE pledge_id != '';

-- reversed_by is the reversal id once the row's event is reversed.
ALTER TABLE contributions ADD COLUMN earmark TEXT NOT NULL DEFAULT '';
ALTER TABLE contributions ADD COLUMN pledge_settled_usd_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contributions ADD COLUMN reversed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX contributions_pledge ON contributions (fund, pledge_id) WHERE pledge_id != '';
ALTER TABLE fees ADD COLUMN earmark TEXT NOT NULL DEFAULT '';
ALTER TABLE fees ADD COLUMN reversed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE expenditures ADD COLUMN city_id TEXT NOT NULL DEFAULT '';
ALTER TABLE expenditures ADD COLUMN reversed_by TEXT NOT NULL DEFAULT '';

-- A pledge as it stands now: amount, rate, US dollar value and due date as
-- last amended (signed_* as recorded), what receipts paid against it, what
-- its memo account still expects, what its cancellation wrote off.
CREATE TABLE pledges (
	fund                  TEXT NOT NULL,
	pledge_id             TEXT NOT NULL,
	donor_id              TEXT NOT NULL,
	term_id               TEXT NOT NULL,
	currency              TEXT NOT NULL,
	amount_minor          INTEGER NOT NULL,
	usd_rate              TEXT NOT NULL,
	usd_minor             INTEGER NOT NULL,
	signed_amount_minor   INTEGER NOT NULL,
	signed_usd_rate       TEXT NOT NULL,
	signed_usd_minor      INTEGER NOT NULL,
	earmark               TEXT NOT NULL,
	signed_on             TEXT NOT NULL,
	due_on                TEXT NOT NULL,
	status                TEXT NOT NULL CHECK (status IN ('recorded', 'amended', 'cancelled')),
	paid_minor            INTEGER NOT NULL DEFAULT 0,
	paid_usd_minor        INTEGER NOT NULL DEFAULT 0,
	outstanding_usd_minor INTEGER NOT NULL,
	written_off_minor     INTEGER NOT NULL DEFAULT 0,
	written_off_usd_minor INTEGER NOT NULL DEFAULT 0,
	cancelled_on          TEXT NOT NULL DEFAULT '',
	created_seq           INTEGER NOT NULL,
	PRIMARY KEY (fund, pledge_id)
) STRICT;
CREATE INDEX pledges_term ON pledges (fund, term_id, signed_on);

-- Every amendment and cancellation of a pledge, in the fund's order. An
-- amendment with terms_changed 0 changed none of amount, rate, value and due
-- date: the revaluation that follows the reversal of a receipt paying a
-- pledge amended since, dated on the receipt's day. It moves the memo
-- account only, and does not make the pledge's value as of a date.
CREATE TABLE pledge_changes (
	fund                         TEXT NOT NULL,
	fund_seq                     INTEGER NOT NULL,
	pledge_id                    TEXT NOT NULL,
	kind                         TEXT NOT NULL CHECK (kind IN ('amended', 'cancelled')),
	terms_changed                INTEGER NOT NULL CHECK (terms_changed IN (0, 1)),
	effective_on                 TEXT NOT NULL,
	amount_minor                 INTEGER NOT NULL,
	usd_rate                     TEXT NOT NULL,
	usd_minor                    INTEGER NOT NULL,
	due_on                       TEXT NOT NULL,
	reason                       TEXT NOT NULL,
	outstanding_usd_change_minor INTEGER NOT NULL,
	written_off_minor            INTEGER NOT NULL,
	written_off_usd_minor        INTEGER NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX pledge_changes_pledge ON pledge_changes (fund, pledge_id, fund_seq);

CREATE TABLE interest (
	fund         TEXT NOT NULL,
	interest_id  TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	earned_on    TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	reversed_by  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (fund, interest_id)
) STRICT;

CREATE TABLE refunds (
	fund         TEXT NOT NULL,
	refund_id    TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	paid_on      TEXT NOT NULL,
	reason       TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	reversed_by  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (fund, refund_id)
) STRICT;
CREATE INDEX refunds_donor ON refunds (fund, donor_id, term_id);

-- The pots a refund was drawn from ('' is the unearmarked pot).
CREATE TABLE refund_funding (
	fund         TEXT NOT NULL,
	refund_id    TEXT NOT NULL,
	leg          INTEGER NOT NULL,
	earmark      TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	PRIMARY KEY (fund, refund_id, leg)
) STRICT;

-- One row per event_reversed: a receipt's reversal is two rows with the same
-- reversal_id, its fee's and its own.
CREATE TABLE reversals (
	fund              TEXT NOT NULL,
	fund_seq          INTEGER NOT NULL,
	reversal_id       TEXT NOT NULL,
	event_id          TEXT NOT NULL,
	reversed_fund_seq INTEGER NOT NULL,
	reversed_type     TEXT NOT NULL,
	reason            TEXT NOT NULL,
	effective_on      TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq),
	UNIQUE (fund, event_id)
) STRICT;
CREATE INDEX reversals_id ON reversals (fund, reversal_id);

CREATE TABLE carry_overs (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	from_term_id TEXT NOT NULL,
	to_term_id   TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	to_earmark   TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	effective_on TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;

-- Whose money a carry-over moved.
CREATE TABLE carry_over_shares (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	donor_id     TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	PRIMARY KEY (fund, fund_seq, donor_id)
) STRICT;

CREATE TABLE term_closes (
	fund               TEXT NOT NULL,
	term_id            TEXT NOT NULL,
	closed_on          TEXT NOT NULL,
	disposition        TEXT NOT NULL CHECK (disposition IN ('carry_over', 'refund')),
	to_term_id         TEXT NOT NULL,
	unallocated_minor  INTEGER NOT NULL,
	carried_over_minor INTEGER NOT NULL,
	refunded_minor     INTEGER NOT NULL,
	fund_seq           INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id)
) STRICT;

-- The approved allocations a close let keep their unspent money.
CREATE TABLE term_close_allocations (
	fund          TEXT NOT NULL,
	term_id       TEXT NOT NULL,
	allocation_id TEXT NOT NULL,
	line_id       TEXT NOT NULL,
	amount_minor  INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id, allocation_id)
) STRICT;

CREATE TABLE cities (
	fund     TEXT NOT NULL,
	city_id  TEXT NOT NULL,
	name     TEXT NOT NULL,
	country  TEXT NOT NULL,
	fund_seq INTEGER NOT NULL,
	PRIMARY KEY (fund, city_id)
) STRICT;

CREATE TABLE clusters (
	fund              TEXT NOT NULL,
	cluster_id        TEXT NOT NULL,
	name              TEXT NOT NULL,
	technical_partner TEXT NOT NULL,
	fund_seq          INTEGER NOT NULL,
	PRIMARY KEY (fund, cluster_id)
) STRICT;

CREATE TABLE coordinators (
	fund       TEXT NOT NULL,
	cluster_id TEXT NOT NULL,
	term_id    TEXT NOT NULL,
	city_id    TEXT NOT NULL,
	fund_seq   INTEGER NOT NULL,
	PRIMARY KEY (fund, cluster_id, term_id, city_id)
) STRICT;

-- Members of a cluster in a term; a coordinator is a member too, from its
-- appointment (fund_seq) unless it joined before.
CREATE TABLE members (
	fund       TEXT NOT NULL,
	cluster_id TEXT NOT NULL,
	term_id    TEXT NOT NULL,
	city_id    TEXT NOT NULL,
	fund_seq   INTEGER NOT NULL,
	PRIMARY KEY (fund, cluster_id, term_id, city_id)
) STRICT;
`,
	// 3: donor amendments (issue 8). A donor's row in donors stays as
	// registered; its name, kind, country and city as of a day are that row
	// changed by the amendments dated on or before the day, in date order,
	// then in the fund's order (domain.Donor.AsOf). Reports read them as of
	// their as_of among the amendments known at their fund_seq.
	`
-- One row per donor_amended; a field it did not change is NULL. city ''
-- is a city removed.
CREATE TABLE donor_amendments (
	fund         TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	donor_id     TEXT NOT NULL,
	effective_on TEXT NOT NULL,
	name         TEXT,
	kind         TEXT,
	country      TEXT,
	city         TEXT,
	reason       TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX donor_amendments_donor ON donor_amendments (fund, donor_id, effective_on, fund_seq);
`,
	// 4: the event list's filters (issue 7). event_subjects holds the donor
	// and budget line each event concerns (events.SubjectOf; a reversal,
	// those of the event it reverses), one row for each event that names
	// one. Rows for the events already applied are derived here from the
	// entity tables that hold them, which is what the fold writes.
	`
CREATE TABLE event_subjects (
	fund     TEXT NOT NULL,
	fund_seq INTEGER NOT NULL,
	donor_id TEXT NOT NULL,
	line_id  TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
CREATE INDEX event_subjects_donor ON event_subjects (fund, donor_id, fund_seq) WHERE donor_id != '';
CREATE INDEX event_subjects_line ON event_subjects (fund, line_id, fund_seq) WHERE line_id != '';
-- The list by type and by actor, in the fund's order: a page reads what it
-- shows, not the history before it.
CREATE INDEX events_type ON events (fund, type, fund_seq);
CREATE INDEX events_actor ON events (fund, actor, fund_seq);

INSERT INTO event_subjects (fund, fund_seq, donor_id, line_id)
SELECT fund, fund_seq, donor_id, '' FROM donors
UNION ALL SELECT fund, fund_seq, donor_id, '' FROM donor_amendments
UNION ALL SELECT fund, created_seq, donor_id, '' FROM pledges
UNION ALL SELECT c.fund, c.fund_seq, p.donor_id, '' FROM pledge_changes c JOIN pledges p ON p.fund = c.fund AND p.pledge_id = c.pledge_id
UNION ALL SELECT fund, fund_seq, donor_id, '' FROM contributions
UNION ALL SELECT fund, fund_seq, donor_id, '' FROM fees
UNION ALL SELECT fund, fund_seq, donor_id, '' FROM refunds
UNION ALL SELECT fund, fund_seq, '', line_id FROM budget_lines
UNION ALL SELECT fund, proposed_seq, '', line_id FROM allocations
-- An approval's row in allocations is cleared when it is reversed; its
-- postings stay, and name its line.
UNION ALL SELECT fund, fund_seq, '', max(line_id) FROM postings WHERE event_type = 'allocation_approved' AND reversal_of = '' GROUP BY fund, fund_seq
UNION ALL SELECT fund, fund_seq, '', line_id FROM expenditures;
INSERT INTO event_subjects (fund, fund_seq, donor_id, line_id)
SELECT r.fund, r.fund_seq, s.donor_id, s.line_id FROM reversals r
JOIN event_subjects s ON s.fund = r.fund AND s.fund_seq = r.reversed_fund_seq;
`,
	// 5: running totals of the postings (issue 10), so that the balance and
	// the trial balance read what they show instead of summing the history.
	// posting_days holds the postings of one day added up per account key,
	// posting_totals the same over every day: a report as of a date is the
	// totals less the days after it, which costs nothing for as of today.
	// Both are folded from the postings (readmodel.applier.addTotals) and
	// filled here from those of an older read model. Only the latest fund_seq
	// has totals: a report at an earlier at_seq sums the postings.
	`
-- debit_minor is the sum of the positive legs, credit_minor of the others
-- (zero or negative), legs their number: a key whose legs are all after a
-- date has no row in a trial balance as of that date.
CREATE TABLE posting_days (
	fund         TEXT NOT NULL,
	effective_on TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark)
) STRICT;
CREATE TABLE posting_totals (
	fund         TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id, account, event_type, line_id, donor_id, earmark)
) STRICT;
INSERT INTO posting_days
	SELECT fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark,
		COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN amount_minor <= 0 THEN amount_minor END), 0), count(*)
	FROM postings GROUP BY fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark;
INSERT INTO posting_totals
	SELECT fund, term_id, account, event_type, line_id, donor_id, earmark, SUM(debit_minor), SUM(credit_minor), SUM(legs)
	FROM posting_days GROUP BY fund, term_id, account, event_type, line_id, donor_id, earmark;
-- The first effective date of a fund (no_data_as_of) without reading all
-- its events.
CREATE INDEX events_effective ON events (fund, effective_on, fund_seq);
`,
	// 6: running totals for reports as of any date and for the donor
	// statement (issue 10). posting_checkpoints holds, for each month in
	// which the fund has postings (posting_checkpoint_months), the running
	// totals at the end of that month, every key up to then: a report as of
	// a date reads the checkpoint of the last such month before the date's
	// month and the days of that month up to the date
	// (projections.TotalsAsOf), so its cost is the keys it shows and a
	// month of days, whatever the date. A back-dated entry adds itself to
	// the checkpoints of its month and after (readmodel.applier.flushTotals).
	// receipt_days adds up each donor's standing receipts by term, day and
	// currency (a receipt's reversal takes it out on its day), so that a
	// statement gives a donor's totals and the number of its receipts
	// without reading every one. All are filled here from an older read
	// model's rows, as the fold would have written them.
	`
CREATE TABLE posting_checkpoint_months (
	fund  TEXT NOT NULL,
	month TEXT NOT NULL, -- YYYY-MM
	PRIMARY KEY (fund, month)
) STRICT;
CREATE TABLE posting_checkpoints (
	fund         TEXT NOT NULL,
	month        TEXT NOT NULL, -- the totals at the end of this month
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, month, term_id, account, event_type, line_id, donor_id, earmark)
) STRICT;
INSERT INTO posting_checkpoint_months SELECT DISTINCT fund, substr(effective_on, 1, 7) FROM posting_days;
INSERT INTO posting_checkpoints
	SELECT m.fund, m.month, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark,
		SUM(d.debit_minor), SUM(d.credit_minor), SUM(d.legs)
	FROM posting_checkpoint_months m JOIN posting_days d ON d.fund = m.fund AND substr(d.effective_on, 1, 7) <= m.month
	GROUP BY m.fund, m.month, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark;

-- receipts is the number of standing receipts; a day whose receipts were
-- all reversed keeps its row, with zeros, as the fold leaves it.
CREATE TABLE receipt_days (
	fund         TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	received_on  TEXT NOT NULL,
	currency     TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	usd_minor    INTEGER NOT NULL,
	receipts     INTEGER NOT NULL,
	PRIMARY KEY (fund, term_id, donor_id, received_on, currency)
) STRICT;
INSERT INTO receipt_days
	SELECT fund, term_id, donor_id, received_on, currency,
		SUM(CASE WHEN reversed_by = '' THEN amount_minor ELSE 0 END), SUM(CASE WHEN reversed_by = '' THEN usd_minor ELSE 0 END),
		SUM(reversed_by = '')
	FROM contributions GROUP BY fund, term_id, donor_id, received_on, currency;
-- A statement lists a donor's latest receipts: read from the end.
CREATE INDEX contributions_donor_date ON contributions (fund, donor_id, term_id, received_on, contribution_id);
`,
	// 7: the rows of an event by its fund_seq (issue 10). A reversal finds
	// the row of the receipt, expenditure, refund or interest it reverses by
	// fund_seq (readmodel.unfoldRow, unfoldContribution, addReceipt); these
	// tables are keyed by their own id, so without these indexes each
	// reversal read every row of its fund: the fold slowed down as the
	// history grew.
	`
CREATE INDEX contributions_seq ON contributions (fund, fund_seq);
CREATE INDEX expenditures_seq ON expenditures (fund, fund_seq);
CREATE INDEX refunds_seq ON refunds (fund, fund_seq);
CREATE INDEX interest_seq ON interest (fund, fund_seq);
`,
	// 8: reversals by the row they reverse (issue 10). The reports keep
	// the rows no reversal known at their view reversed
	// (projections.NotReversed), one look-up per row; by the primary key
	// each read every reversal of the fund up to the view's fund_seq, so a
	// statement cost its expenditures times the fund's reversals.
	`
CREATE INDEX reversals_reversed ON reversals (fund, reversed_fund_seq, fund_seq, effective_on);
`,
	// 9: running totals by position (issue 10): a report at an at_seq
	// below the head reads a checkpoint at or below it. See seqtotals.
	seqtotals.Migration,
	// 10: a donor's statement lists its receipts, each with its fee, from
	// the indexes alone (issue 10). Each listed receipt read its row and
	// its fee's row at random places in a file of 2 GB at 1,000,000
	// events: about a third of a statement's time. contributions_donor
	// was a prefix of contributions_donor_date: one b-tree less a receipt.
	`
DROP INDEX contributions_donor;
DROP INDEX contributions_donor_date;
CREATE INDEX contributions_donor_date ON contributions (fund, donor_id, term_id, received_on, contribution_id,
	fund_seq, amount_minor, currency, usd_rate, usd_minor, bank_ref, pledge_id);
DROP INDEX fees_contribution;
CREATE INDEX fees_contribution ON fees (fund, contribution_id, fund_seq, amount_minor);
`,
	// 11: which allocation each approval approved. An allocation's row
	// names only its standing approval (approved_seq), so a report at a
	// view before an approval's reversal had to guess the allocation of
	// that approval by its line and amount, and guessed wrong when two
	// allocations had both (TestStatementsAddUpToTheTerm found it). The
	// allocation of a reversed approval is in its event only: a read model
	// in which an approval was ever reversed is emptied here, to be
	// replayed from the log as a new one is; in any other, every approval
	// is the standing one of its allocation.
	`
CREATE TABLE approvals (
	fund          TEXT NOT NULL,
	fund_seq      INTEGER NOT NULL,
	allocation_id TEXT NOT NULL,
	PRIMARY KEY (fund, fund_seq)
) STRICT;
INSERT INTO approvals (fund, fund_seq, allocation_id)
SELECT fund, approved_seq, allocation_id FROM allocations WHERE approved_seq > 0;
CREATE TEMP TABLE reset_11 AS SELECT EXISTS (SELECT 1 FROM reversals r
	JOIN events e ON e.fund = r.fund AND e.fund_seq = r.reversed_fund_seq
	WHERE e.type = 'allocation_approved') AS yes;
DELETE FROM allocations WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM budget_lines WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM carry_over_shares WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM carry_overs WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM cities WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM clusters WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM contributions WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM coordinators WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM donor_amendments WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM donors WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM event_subjects WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM events WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM expenditures WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM fees WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM fund_heads WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM interest WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM members WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM pledge_changes WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM pledges WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_checkpoint_months WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_checkpoints WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_day_buckets WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_days WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_seq_checkpoints WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_seq_snapshots WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM posting_totals WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM postings WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM receipt_days WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM refund_funding WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM refunds WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM reversals WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM term_close_allocations WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM term_closes WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM terms WHERE (SELECT yes FROM temp.reset_11);
DELETE FROM approvals WHERE (SELECT yes FROM temp.reset_11);
UPDATE checkpoint SET stream_seq = 0 WHERE (SELECT yes FROM temp.reset_11);
DROP TABLE temp.reset_11;
`,
	// 12: a donor's postings by date (issue 10). A statement below the
	// head finds the donor's first entry up to the view: the minimum over
	// the fund's postings up to the view read every one of them (0.6 s at
	// 900,000 of 1,000,000 events); this index gives the first of the
	// donor's postings in date order that the view has.
	`
CREATE INDEX postings_donor ON postings (fund, donor_id, effective_on, fund_seq) WHERE donor_id != '';
`,
	// 13: a receipt carries the fee charged on it (issue 10). A statement
	// looked up the fee of each of its page's 1,000 receipts in fees, at a
	// random place of an index of every fee (half a warm statement's time
	// at 1,000,000 events), and asked reversals about each receipt and
	// each fee. fee_minor adds up the fees charged on the receipt,
	// fee_seq is the last one's fund_seq (0 for none), fee_reversed is 1
	// once one of them is reversed: a view at or after fee_seq, with none
	// reversed, reads the fee from the receipt's row; any other asks fees.
	// reversed_by, set at the head once the receipt is reversed, lets a
	// receipt never reversed skip its look-up in reversals
	// (projections.NotReversedRow). contributions_donor_date covers them.
	`
ALTER TABLE contributions ADD COLUMN fee_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contributions ADD COLUMN fee_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contributions ADD COLUMN fee_reversed INTEGER NOT NULL DEFAULT 0;
UPDATE contributions SET (fee_minor, fee_seq, fee_reversed) = (SELECT COALESCE(SUM(f.amount_minor), 0), COALESCE(MAX(f.fund_seq), 0), COALESCE(MAX(f.reversed_by != ''), 0)
	FROM fees f WHERE f.fund = contributions.fund AND f.contribution_id = contributions.contribution_id);
DROP INDEX contributions_donor_date;
CREATE INDEX contributions_donor_date ON contributions (fund, donor_id, term_id, received_on, contribution_id,
	fund_seq, amount_minor, currency, usd_rate, usd_minor, bank_ref, pledge_id, reversed_by, fee_minor, fee_seq, fee_reversed);
`,
	// 14: a donor's receipts added up by position (issue 10). A statement
	// below the head added up the donor's receipts up to the view, one row
	// a receipt (90-116 ms for a donor with 125,000 of them at at_seq
	// 500,000 of 1,000,000). receipt_seq_totals holds, for each receipt,
	// what the donor's receipts of the term in that currency came to up
	// to and including it, in fund_seq order: every receipt, reversed or
	// not, whatever its date. The view's totals are then the last row at
	// or before it, less its receipts the view counts out (reversed by
	// then, found by contributions_reversed; or dated after as_of).
	`
CREATE TABLE receipt_seq_totals (
	fund         TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	currency     TEXT NOT NULL,
	fund_seq     INTEGER NOT NULL,
	receipts     INTEGER NOT NULL,
	amount_minor INTEGER NOT NULL,
	usd_minor    INTEGER NOT NULL,
	PRIMARY KEY (fund, donor_id, term_id, currency, fund_seq)
) STRICT, WITHOUT ROWID;
INSERT INTO receipt_seq_totals
	SELECT fund, donor_id, term_id, currency, fund_seq, count(*) OVER w, SUM(amount_minor) OVER w, SUM(usd_minor) OVER w
	FROM contributions
	WINDOW w AS (PARTITION BY fund, donor_id, term_id, currency ORDER BY fund_seq ROWS UNBOUNDED PRECEDING);
CREATE INDEX contributions_reversed ON contributions (fund, donor_id, term_id) WHERE reversed_by != '';
`,
	// 15: the day totals by position are what each day came to at the end
	// of each bucket, not what each bucket added (issue 10). See
	// seqtotals.DaySeqMigration.
	seqtotals.DaySeqMigration,
}
