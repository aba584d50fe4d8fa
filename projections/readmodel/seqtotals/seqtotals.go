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
//     rows with bucket ≤ b;
//   - posting_seq_checkpoints: versions of the monthly checkpoints
//     (posting_checkpoints). At the event b·K (a boundary), for each month
//     and key whose checkpoint the bucket changed (the key had a posting in
//     the bucket dated in or before the month), or for every key of a month
//     the bucket created, the checkpoint's totals then, with upto_seq b·K;
//   - posting_checkpoint_months.bucket: the bucket of the month's first
//     posting, so that the months a fund had at a boundary are known.
//
// The totals of a key as of a date D at fund_seq S are then, with
// B = S − S mod K: the latest version at or below B of the checkpoint of
// the last month before D's month that existed at B, plus the day buckets
// of D's month up to D with bucket ≤ B/K, plus the postings after B up to S
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
CREATE TABLE posting_seq_checkpoints (
	fund         TEXT NOT NULL,
	month        TEXT NOT NULL,
	term_id      TEXT NOT NULL,
	account      TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	line_id      TEXT NOT NULL,
	donor_id     TEXT NOT NULL,
	earmark      TEXT NOT NULL,
	upto_seq     INTEGER NOT NULL, -- a boundary: the totals at this fund_seq
	debit_minor  INTEGER NOT NULL,
	credit_minor INTEGER NOT NULL,
	legs         INTEGER NOT NULL,
	PRIMARY KEY (fund, month, term_id, account, event_type, line_id, donor_id, earmark, upto_seq)
) STRICT, WITHOUT ROWID;
-- What each bucket adds to each month's checkpoint (its postings dated in
-- or before the month), then added up over the buckets: the versions of a
-- month the bucket changed after the one that created it, and the version
-- of every key at the bucket that created it.
INSERT INTO posting_seq_checkpoints
WITH d AS (SELECT fund, bucket AS b, substr(effective_on, 1, 7) AS pm, ` + keyCols + `,
		SUM(debit_minor) AS dd, SUM(credit_minor) AS cc, SUM(legs) AS n
	FROM posting_day_buckets GROUP BY fund, b, pm, ` + keyCols + `),
mk AS (SELECT m.fund, m.month, m.bucket AS bm, d.b, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark,
		SUM(d.dd) AS dd, SUM(d.cc) AS cc, SUM(d.n) AS n
	FROM posting_checkpoint_months m JOIN d ON d.fund = m.fund AND d.pm <= m.month
	GROUP BY m.fund, m.month, d.b, d.term_id, d.account, d.event_type, d.line_id, d.donor_id, d.earmark),
cum AS (SELECT fund, month, bm, b, ` + keyCols + `, SUM(dd) OVER w AS dd, SUM(cc) OVER w AS cc, SUM(n) OVER w AS n FROM mk
	WINDOW w AS (PARTITION BY fund, month, ` + keyCols + ` ORDER BY b)),
heads AS (SELECT fund, fund_seq / {K} AS lb FROM fund_heads)
SELECT c.fund, c.month, ` + keyCols + `, c.b * {K}, c.dd, c.cc, c.n FROM cum c JOIN heads h ON h.fund = c.fund WHERE c.b > c.bm AND c.b <= h.lb
UNION ALL
SELECT c.fund, c.month, ` + keyCols + `, c.bm * {K}, c.dd, c.cc, c.n
	FROM (SELECT fund, month, bm, ` + keyCols + `, MAX(b), dd, cc, n FROM cum WHERE b <= bm GROUP BY fund, month, ` + keyCols + `) c
	JOIN heads h ON h.fund = c.fund WHERE c.bm <= h.lb;
`

// DayBucketsUpsert adds a flush's day totals to posting_day_buckets.
var DayBucketsUpsert = sqlstmt.Multi{
	Head: `INSERT INTO posting_day_buckets (fund, effective_on, bucket, ` + keyCols + `, debit_minor, credit_minor, legs) VALUES `,
	Cols: 12,
	Tail: ` ON CONFLICT (fund, effective_on, bucket, ` + keyCols + `) DO UPDATE SET
		debit_minor = debit_minor + excluded.debit_minor, credit_minor = credit_minor + excluded.credit_minor, legs = legs + excluded.legs`,
}

// snapshot writes the versions of a boundary: ?1 the fund, ?2 its fund_seq,
// ?3 K. The keys the bucket posted to, each from the month of its earliest
// posting in the bucket, are read from the bucket's postings (fewer than K
// events'), and the months the fund has then (the boundary event is the
// last one folded) from posting_checkpoint_months.
const snapshot = `WITH ch AS (SELECT ` + keyCols + `, MIN(substr(effective_on, 1, 7)) AS m
		FROM postings WHERE fund = ?1 AND fund_seq > ?2 - ?3 AND fund_seq <= ?2 GROUP BY ` + keyCols + `)
	INSERT INTO posting_seq_checkpoints (fund, month, ` + keyCols + `, upto_seq, debit_minor, credit_minor, legs)
	SELECT c.fund, c.month, c.term_id, c.account, c.event_type, c.line_id, c.donor_id, c.earmark, ?2, c.debit_minor, c.credit_minor, c.legs
		FROM ch JOIN posting_checkpoint_months m ON m.fund = ?1 AND m.month >= ch.m
		JOIN posting_checkpoints c ON c.fund = ?1 AND c.month = m.month AND c.term_id = ch.term_id AND c.account = ch.account
			AND c.event_type = ch.event_type AND c.line_id = ch.line_id AND c.donor_id = ch.donor_id AND c.earmark = ch.earmark
	UNION
	SELECT c.fund, c.month, c.term_id, c.account, c.event_type, c.line_id, c.donor_id, c.earmark, ?2, c.debit_minor, c.credit_minor, c.legs
		FROM posting_checkpoint_months m JOIN posting_checkpoints c ON c.fund = m.fund AND c.month = m.month
		WHERE m.fund = ?1 AND m.bucket = ?2 / ?3`

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
	if _, err := exec(ctx, snapshot, fund, int64(seq), every); err != nil {
		return fmt.Errorf("write the checkpoints of fund %s at fund_seq %d: %w", fund, seq, err)
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
// text the index 1).
func AtSeq(cols, filter, asOf string, next int) string {
	month := `substr(` + asOf + `, 1, 7)`
	upto, bucket, seq := "?"+strconv.Itoa(next), "?"+strconv.Itoa(next+1), "?"+strconv.Itoa(next+2)
	// The postings after the checkpoint are read by their fund_seq alone
	// (materialized): by the filter's or the date's index SQLite would
	// read every posting of the term or account up to the date.
	return `WITH tail AS MATERIALIZED (SELECT term_id, account, event_type, line_id, donor_id, earmark, amount_minor, effective_on
			FROM postings WHERE fund = ?1 AND fund_seq > ` + upto + ` AND fund_seq <= ` + seq + `)
		SELECT ` + cols + `, d, c, n FROM (
			SELECT h.term_id, h.account, h.event_type, h.line_id, h.donor_id, h.earmark,
				v.debit_minor AS d, v.credit_minor AS c, v.legs AS n
			FROM posting_checkpoints h JOIN posting_seq_checkpoints v ON v.fund = h.fund AND v.month = h.month
				AND v.term_id = h.term_id AND v.account = h.account AND v.event_type = h.event_type
				AND v.line_id = h.line_id AND v.donor_id = h.donor_id AND v.earmark = h.earmark
				AND v.upto_seq = (SELECT MAX(w.upto_seq) FROM posting_seq_checkpoints w WHERE w.fund = h.fund AND w.month = h.month
					AND w.term_id = h.term_id AND w.account = h.account AND w.event_type = h.event_type
					AND w.line_id = h.line_id AND w.donor_id = h.donor_id AND w.earmark = h.earmark AND w.upto_seq <= ` + upto + `)
			WHERE h.fund = ?1 AND h.month = (SELECT MAX(month) FROM posting_checkpoint_months
				WHERE fund = ?1 AND month < ` + month + ` AND bucket <= ` + bucket + `)) WHERE ` + filter + `
		UNION ALL
		SELECT ` + cols + `, debit_minor, credit_minor, legs FROM posting_day_buckets
			WHERE fund = ?1 AND effective_on >= ` + month + ` || '-01' AND effective_on <= ` + asOf + ` AND bucket <= ` + bucket + ` AND ` + filter + `
		UNION ALL
		SELECT ` + cols + `, MAX(amount_minor, 0), MIN(amount_minor, 0), 1 FROM tail WHERE effective_on <= ` + asOf + ` AND ` + filter
}

// Args returns the named values of AtSeq's SQL at fund_seq seq.
func Args(seq uint64) []any {
	upto := int64(seq) - int64(seq)%every
	return []any{upto, upto / every, int64(seq)}
}
