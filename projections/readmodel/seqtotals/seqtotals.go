// Package seqtotals keeps the running totals of the postings by position in
// a fund's log as well as by date (issue 10), so that a report at an
// at_seq below the fund's head ("the books as they stood after event N")
// reads what it shows rather than every posting up to N.
//
// A fund's log is cut into buckets of Every() fund_seq: bucket b holds the
// events (b−1)·K+1 … b·K. Schema version 9 adds:
//
//   - posting_day_buckets: posting_days split by bucket, so that the days of
//     a month as the ledger knew them at the end of a bucket are a sum of
//     rows with bucket ≤ b; schema version 15 replaces it with
//     posting_day_seq, each day's totals at the end of each bucket that
//     changed it, so that they are each day's last row with bucket ≤ b;
//   - posting_seq_snapshots and posting_seq_checkpoints: at the event b·K
//     (a boundary) whose bucket has postings, the monthly checkpoints
//     (posting_checkpoints) then, every key of the month of the bucket's
//     earliest-dated posting (from_month) and of every later month: the
//     months before it the bucket did not change. The rows of a boundary
//     are written together at the end of the table's key order (upto_seq
//     first), which costs the fold far less than rows scattered by month
//     and key;
//   - posting_checkpoint_months.bucket: the bucket of the month's first
//     posting, so that the months a fund had at a boundary are known.
//
// The totals of a key as of a date D at fund_seq S are then, with
// B = S − S mod K and M the last month before D's month that the fund had
// at B: the checkpoint of M in the last snapshot at or below B whose
// from_month is M or before (the buckets after it posted nothing dated in
// or before M), plus each day of D's month up to D as it stood at the end
// of bucket B/K (its last row of posting_day_seq with bucket ≤ B/K, found
// by posting_day_seq_day for each day and key of posting_days), plus the postings after B up to S
// dated on or before D (fewer than K events). A reversal's legs are
// postings of the reversing event (its fund_seq, the reversed event's
// date), so they count from the reversal's position as in the postings.
//
// Every row is a function of the log, not of how it was cut into batches:
// the projector flushes its totals at every boundary event, so that all of a
// fund's events in one flush are in one bucket. A rebuild, the live
// projector and an audit's replay write the same rows, and the migration
// derives them from the postings.
package seqtotals

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/sqlstmt"
)

// DefaultEvery is K, the fund_seq between two position checkpoints. A
// report at an at_seq reads fewer than K events' postings after its
// checkpoint; the fold writes, at each boundary, the checkpoint rows the
// bucket changed. Changing it changes what the tables hold: it takes a
// rebuild (or a migration).
const DefaultEvery = 1024

var every int64 = DefaultEvery

// Every returns K.
func Every() int64 { return every }

// SetEvery sets K for the read models written and read from now on in
// this process, and returns a function that restores it. It is for tests,
// whose histories are shorter than DefaultEvery: a read model must be
// written and read with the same K.
func SetEvery(k int64) (restore func()) {
	if k < 1 {
		panic("seqtotals: K must be positive")
	}
	old := every
	every = k
	return func() { every = old }
}

// Bucket returns the bucket of fund_seq seq: ⌈seq/K⌉.
func Bucket(seq uint64) int64 { return (int64(seq) + every - 1) / every }

// Boundary reports whether the event at fund_seq seq ends a bucket.
func Boundary(seq uint64) bool { return int64(seq)%every == 0 }

// Expand writes K into a migration's SQL (in place of {K}).
func Expand(sql string) string { return strings.ReplaceAll(sql, "{K}", strconv.FormatInt(every, 10)) }

const keyCols = `term_id, account, event_type, line_id, donor_id, earmark`

// Migration is schema version 9's SQL (Expand it): the tables above,
// filled from the postings of an older read model as the fold would have
// written them.
const Migration = `
ALTER TABLE posting_checkpoint_months ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;
UPDATE posting_checkpoint_months AS m SET bucket = f.b
	FROM (SELECT fund, substr(effective_on, 1, 7) AS month, (MIN(fund_seq) + {K} - 1) / {K} AS b FROM postings GROUP BY fund, month) AS f
	WHERE f.fund = m.fund AND f.month = m.month;
CREATE TABLE posting_day_buckets (
	fund         TEXT NOT NULL,
	effective_on TEXT NOT NULL,
	bucket       INTEGER NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, effective_on, bucket, term_id, account, event_type, line_id, donor_id, earmark)
) STRICT, WITHOUT ROWID;
INSERT INTO posting_day_buckets
	SELECT fund, effective_on, (fund_seq + {K} - 1) / {K}, ` + keyCols + `,
		COALESCE(SUM(CASE WHEN amount_minor > 0 THEN amount_minor END), 0),
		COALESCE(SUM(CASE WHEN amount_minor <= 0 THEN amount_minor END), 0), count(*)
	FROM postings GROUP BY fund, effective_on, 3, ` + keyCols + `;
CREATE TABLE posting_seq_snapshots (
	fund       TEXT NOT NULL,
	upto_seq   INTEGER NOT NULL, -- a boundary whose bucket has postings
	from_month TEXT NOT NULL,    -- the month of its earliest-dated posting
	PRIMARY KEY (fund, upto_seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE posting_seq_checkpoints (
	fund         TEXT NOT NULL,
	upto_seq     INTEGER NOT NULL, -- the totals at this boundary
	month        TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, upto_seq, month, term_id, account, event_type, line_id, donor_id, earmark)
) STRICT, WITHOUT ROWID;
INSERT INTO posting_seq_snapshots
	SELECT p.fund, p.b * {K}, MIN(p.pm) FROM (SELECT fund, (fund_seq + {K} - 1) / {K} AS b, substr(effective_on, 1, 7) AS pm FROM postings) p
	JOIN fund_heads h ON h.fund = p.fund WHERE p.b <= h.fund_seq / {K} GROUP BY p.fund, p.b;
-- What each bucket adds to each month's checkpoint (its postings dated in
-- or before the month), added up over the buckets: the checkpoint of a
-- month and key from each bucket that changed it to the next; each
-- snapshot takes, for the months it holds, the value of the interval it
-- falls in.
INSERT INTO posting_seq_checkpoints
WITH d AS (SELECT fund, bucket AS b, substr(effective_on, 1, 7) AS pm, ` + keyCols + `,
		SUM(debit_minor) AS dd, SUM(credit_minor) AS cc, SUM(legs) AS n
	FROM posting_day_buckets GROUP BY fund, b, pm, ` + keyCols + `),
mk AS (SELECT m.fund, m.month, m.bucket AS bm, d.b, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark,
		SUM(d.dd) AS dd, SUM(d.cc) AS cc, SUM(d.n) AS n
	FROM posting_checkpoint_months m JOIN d ON d.fund = m.fund AND d.pm <= m.month
	GROUP BY m.fund, m.month, d.b, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark),
ivl AS (SELECT fund, month, bm, b, ` + keyCols + `, SUM(dd) OVER w AS dd, SUM(cc) OVER w AS cc, SUM(n) OVER w AS n,
		COALESCE(LEAD(b) OVER w, 1 << 60) AS nb FROM mk
	WINDOW w AS (PARTITION BY fund, month, ` + keyCols + ` ORDER BY b))
SELECT i.fund, s.upto_seq, i.month, i.term_id, i.account, i.event_type, i.line_id, i.donor_id, i.earmark, i.dd, i.cc, i.n
	FROM ivl i JOIN posting_seq_snapshots s ON s.fund = i.fund AND s.upto_seq >= i.b * {K} AND s.upto_seq < i.nb * {K}
		AND s.upto_seq >= i.bm * {K} AND s.from_month <= i.month
	ORDER BY i.fund, s.upto_seq, i.month, i.term_id, i.account, i.event_type, i.line_id, i.donor_id, i.earmark;
`

// DaySeqMigration is schema version 15's SQL: the day totals by bucket
// of version 9 (posting_day_buckets, what each bucket added to a day)
// become posting_day_seq, what each day's totals were at the end of each
// bucket that changed them. A day's totals as the ledger knew them at a
// boundary are then one row, its last up to the boundary's bucket, found
// by a seek of posting_day_seq_day, rather than the sum of every earlier
// bucket's rows (issue 10: on a log of random dates, 31,000 rows for half
// a month at at_seq 500,000 of 1,000,000). The table is keyed by bucket
// first, so that the fold appends a bucket's rows together at the end of
// the fund's (keyed by day and key first, a rebuild wrote them at 17,000
// places of a b-tree of 3 million rows at each boundary: 60 % more CPU);
// the index is one of the reports', which a rebuild makes once it is done.
const DaySeqMigration = `
CREATE TABLE posting_day_seq (
	fund         TEXT NOT NULL,
	effective_on TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	bucket       INTEGER NOT NULL,
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, bucket, effective_on, ` + keyCols + `)
) STRICT, WITHOUT ROWID;
INSERT INTO posting_day_seq
	SELECT fund, effective_on, ` + keyCols + `, bucket, SUM(debit_minor) OVER w, SUM(credit_minor) OVER w, SUM(legs) OVER w
	FROM posting_day_buckets
	WINDOW w AS (PARTITION BY fund, effective_on, ` + keyCols + ` ORDER BY bucket ROWS UNBOUNDED PRECEDING)
	ORDER BY fund, bucket, effective_on, ` + keyCols + `;
CREATE INDEX posting_day_seq_day ON posting_day_seq (fund, effective_on, ` + keyCols + `, bucket, debit_minor, credit_minor, legs);
DROP TABLE posting_day_buckets;
`

// DaySeqUpsert writes a day's totals at the end of a bucket: each row's
// values are the day's totals up to then, so a later flush in the same
// bucket replaces them.
var DaySeqUpsert = sqlstmt.Multi{
	Head: `INSERT INTO posting_day_seq (fund, effective_on, ` + keyCols + `, bucket, debit_minor, credit_minor, legs) VALUES `,
	Cols: 12,
	Tail: ` ON CONFLICT (fund, bucket, effective_on, ` + keyCols + `) DO UPDATE SET
		debit_minor = excluded.debit_minor, credit_minor = excluded.credit_minor, legs = excluded.legs`,
}

// DaySeqFromDays is DaySeqUpsert for the live fold, which flushes the
// current bucket of each fund, the last one: a day's totals at its end are
// the day's row of posting_days once the flush has added to it, copied for
// each of the flush's days (rows of fund, date, key and bucket).
var DaySeqFromDays = sqlstmt.Multi{
	Head: `INSERT INTO posting_day_seq (fund, effective_on, ` + keyCols + `, bucket, debit_minor, credit_minor, legs)
		SELECT p.fund, p.effective_on, p.term_id, p.account, p.event_type, p.line_id, p.donor_id, p.earmark, v.column9, p.debit_minor, p.credit_minor, p.legs
		FROM (VALUES `,
	Cols: 9,
	Tail: `) v JOIN posting_days p ON p.fund = v.column1 AND p.effective_on = v.column2 AND p.term_id = v.column3 AND p.account = v.column4
			AND p.event_type = v.column5 AND p.line_id = v.column6 AND p.donor_id = v.column7 AND p.earmark = v.column8
		WHERE true
		ON CONFLICT (fund, bucket, effective_on, ` + keyCols + `) DO UPDATE SET
			debit_minor = excluded.debit_minor, credit_minor = excluded.credit_minor, legs = excluded.legs`,
}

// snapshot writes the checkpoints of a boundary: ?1 the fund, ?2 its
// fund_seq, ?3 K. The bucket's postings (fewer than K events') give the
// month of the earliest-dated one; the checkpoint of every key of that
// month and the later ones (posting_checkpoints, all of whose rows the
// fold has flushed) are copied, in their order, to the end of the table.
var snapshot = [2]string{`INSERT INTO posting_seq_snapshots
		SELECT ?1, ?2, MIN(substr(effective_on, 1, 7)) FROM postings WHERE fund = ?1 AND fund_seq > ?2 - ?3 AND fund_seq <= ?2
		HAVING count(*) > 0`, `INSERT INTO posting_seq_checkpoints
		SELECT fund, ?2, month, ` + keyCols + `, debit_minor, credit_minor, legs FROM posting_checkpoints
		WHERE fund = ?1 AND month >= (SELECT from_month FROM posting_seq_snapshots WHERE fund = ?1 AND upto_seq = ?2)
		ORDER BY month, ` + keyCols + ` -- ?3 unused`}

// AtBoundary is called by the fold after each event, fund_seq seq of fund:
// when the event ends a bucket it flushes the totals added up so far (so
// that a fund's events in one flush are always in one bucket) and writes
// the checkpoint versions of the boundary.
func AtBoundary(ctx context.Context, fund string, seq uint64, flush func(context.Context) error,
	exec func(context.Context, string, ...any) (sql.Result, error)) error {
	if !Boundary(seq) {
		return nil
	}
	if err := flush(ctx); err != nil {
		return err
	}
	for _, q := range snapshot {
		if _, err := exec(ctx, q, fund, int64(seq), every); err != nil {
			return fmt.Errorf("write the checkpoints of fund %s at fund_seq %d: %w", fund, seq, err)
		}
	}
	return nil
}

// AtSeq returns the SQL of the running totals of a fund as of a date at
// fund_seq seq below its head, as projections.TotalsAsOf does at the head:
// rows of cols followed by d, c and n whose sums by cols are the sums of
// the postings dated on or before the date known at seq. filter is a
// condition on the key's columns; fund is ?1 and asOf the date's
// placeholder; Args's three values are ?next, ?next+1 and ?next+2 (numbered,
// not named: SQLite gives a named parameter that comes before ?1 in the
// text the index 1): the checkpoint's boundary, its bucket and seq. The
// postings between the checkpoint and seq are added to it when seq is
// after it, and taken from it when seq is before it (Args picks the
// boundary nearer seq), so that a report reads at most K/2 events'
// postings besides the checkpoint.
func AtSeq(cols, filter, asOf string, next int) string {
	month := `substr(` + asOf + `, 1, 7)`
	upto, bucket, seq := "?"+strconv.Itoa(next), "?"+strconv.Itoa(next+1), "?"+strconv.Itoa(next+2)
	// Three parts, added up:
	//   - the checkpoint of last, the last month before the date's that
	//     the fund had at the checkpoint;
	//   - the days of the date's month up to it: each day and key the fund
	//     has at its head (posting_days), then that day's totals at the end
	//     of the checkpoint's bucket, its last row up to it. CROSS JOIN
	//     keeps posting_days the outer loop: SQLite, without statistics,
	//     would read every bucket's rows of the month's days first;
	//   - the postings between the checkpoint and seq, added when seq is
	//     after it, taken away when before (sign), read by their fund_seq
	//     alone (materialized): by the filter's or the date's index SQLite
	//     would read every posting of the term or account up to the date.
	last := `(SELECT MAX(month) FROM posting_checkpoint_months WHERE fund = ?1 AND month < ` + month + ` AND bucket <= ` + bucket + `)`
	sign := `(CASE WHEN ` + seq + ` >= ` + upto + ` THEN 1 ELSE -1 END)`
	return `WITH tail AS MATERIALIZED (SELECT term_id, account, event_type, line_id, donor_id, earmark, amount_minor, effective_on
			FROM postings WHERE fund = ?1 AND fund_seq > min(` + upto + `, ` + seq + `) AND fund_seq <= max(` + upto + `, ` + seq + `))
		SELECT ` + cols + `, d, c, n FROM (
			SELECT ` + keyCols + `, debit_minor AS d, credit_minor AS c, legs AS n FROM posting_seq_checkpoints
			WHERE fund = ?1 AND month = ` + last + ` AND upto_seq = (SELECT upto_seq FROM posting_seq_snapshots
				WHERE fund = ?1 AND upto_seq <= ` + upto + ` AND from_month <= ` + last + ` ORDER BY upto_seq DESC LIMIT 1)) WHERE ` + filter + `
		UNION ALL
		SELECT ` + cols + `, d, c, n FROM (
			SELECT p.term_id, p.account, p.event_type, p.line_id, p.donor_id, p.earmark, s.debit_minor AS d, s.credit_minor AS c, s.legs AS n
			FROM posting_days p CROSS JOIN posting_day_seq s ON s.fund = p.fund AND s.effective_on = p.effective_on AND s.term_id = p.term_id
				AND s.account = p.account AND s.event_type = p.event_type AND s.line_id = p.line_id AND s.donor_id = p.donor_id AND s.earmark = p.earmark
				AND s.bucket = (SELECT MAX(x.bucket) FROM posting_day_seq x WHERE x.fund = p.fund AND x.effective_on = p.effective_on
					AND x.term_id = p.term_id AND x.account = p.account AND x.event_type = p.event_type AND x.line_id = p.line_id
					AND x.donor_id = p.donor_id AND x.earmark = p.earmark AND x.bucket <= ` + bucket + `)
			WHERE p.fund = ?1 AND p.effective_on >= ` + month + ` || '-01' AND p.effective_on <= ` + asOf + `) WHERE ` + filter + `
		UNION ALL
		SELECT ` + cols + `, ` + sign + ` * MAX(amount_minor, 0), ` + sign + ` * MIN(amount_minor, 0), ` + sign + ` FROM tail WHERE effective_on <= ` + asOf + ` AND ` + filter
}

// Args returns the values of AtSeq's SQL at fund_seq seq of a fund whose
// last fund_seq in the read model is head: the boundary at or below seq,
// or the one after it when that is nearer and the read model has folded
// it (its checkpoint and day buckets are written as the fold passes it).
// A report at seq then reads fewer than K/2 events' postings besides the
// checkpoint, not up to K (issue 10).
func Args(seq, head uint64) []any {
	s := int64(seq)
	upto := s - s%every
	if next := upto + every; s-upto > every/2 && next <= int64(head) {
		upto = next
	}
	return []any{upto, upto / every, s}
}
