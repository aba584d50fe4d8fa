package readmodel

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unesco-uil/mdfm-ledger/domain"
	"github.com/unesco-uil/mdfm-ledger/eventlog"
	"github.com/unesco-uil/mdfm-ledger/events"
	"github.com/unesco-uil/mdfm-ledger/internal/ledgertest"
	"github.com/unesco-uil/mdfm-ledger/internal/testnats"
	"github.com/unesco-uil/mdfm-ledger/projections/readmodel/schema"
)

// TestMigrateFromVersion1 takes a read model written at schema version 1
// (its rows are those a fresh model has for events of the first types, in
// the columns version 1 had), opens it, which migrates it, and checks that
// it equals a fresh model table by table, index by index, before and after
// both apply events of every new type.
func TestMigrateFromVersion1(t *testing.T) {
	_, log := testnats.Log(t)
	w := ledgertest.Writer(t, log, "mdfm")
	res := ledgertest.Scenario(t, w)

	dir := t.TempDir()
	fresh := foldedStore(t, log, filepath.Join(dir, "fresh.db"))

	oldPath := filepath.Join(dir, "v1.db")
	writeVersion1(t, oldPath, fresh.Path())
	old, err := Open(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var v int
	if err := old.read.QueryRowContext(t.Context(), `SELECT version FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() || v < 2 {
		t.Fatalf("schema version %d after migration (%v), want %d", v, err, SchemaVersion())
	}
	compare(t, old, fresh)

	// Events of the new types, then both models follow.
	m := ledgertest.MustSubmit
	m(t, w, "cluster", "olu", &domain.RegisterCluster{ID: "ESD", Name: "Education for Sustainable Development", TechnicalPartner: "A partner"})
	m(t, w, "city", "olu", &domain.RegisterCity{ID: "cork", Name: "Cork", Country: "IE"})
	m(t, w, "coordinator", "olu", &domain.AppointCoordinator{ClusterID: "ESD", CityID: "cork", TermID: ledgertest.Term})
	m(t, w, "pledge", "olu", &domain.RecordPledge{ID: "P-1", DonorID: "osaka", TermID: ledgertest.Term, Amount: ledgertest.Money("1000000", "JPY"),
		USDRate: "0.0091", Earmark: &domain.EarmarkInput{ClusterID: "ESD"}, SignedOn: "2021-01-10", DueOn: "2021-06-30"})
	m(t, w, "pay", "olu", &domain.RecordContribution{ID: "c-jpy", DonorID: "osaka", TermID: ledgertest.Term, PledgeID: "P-1",
		Amount: ledgertest.Money("400000", "JPY"), USDRate: "0.0092", ReceivedOn: "2021-02-01"})
	m(t, w, "interest", "olu", &domain.RecordInterest{ID: "I-1", TermID: ledgertest.Term, Amount: ledgertest.USD("12.34"), EarnedOn: "2021-03-31"})
	m(t, w, "amend", "olu", &domain.AmendPledge{ID: "P-1", DueOn: "2021-09-30", Reason: "later", AmendedOn: "2021-04-01"})
	m(t, w, "reverse", "olu", &domain.ReverseEvent{ID: "X-1", EventID: res["spend"].Events[0].ID, Reason: "wrong line"})
	m(t, w, "refund", "olu", &domain.RecordRefund{ID: "R-1", DonorID: "hamburg", TermID: ledgertest.Term, Amount: ledgertest.USD("100.00"), PaidOn: "2021-05-01"})
	for _, s := range []*Store{old, fresh} {
		if err := catchUp(t, log, s); err != nil {
			t.Fatal(err)
		}
	}
	compare(t, old, fresh)
}

// catchUp applies the events of the log past s's checkpoint, in batches:

// scenarioEvents writes ledgertest.Scenario through a writer on a new log
// and returns the log and its events.
func scenarioEvents(t *testing.T) (*eventlog.Log, []events.Event) {
	t.Helper()
	_, log := testnats.Log(t)
	ledgertest.Scenario(t, ledgertest.Writer(t, log, "mdfm"))
	var evs []events.Event
	if err := log.ReadAll(t.Context(), 0, func(e events.Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return log, evs
}

// the projector loop without the projector, which imports this package.
// foldedStore opens a new read model at path, closed when the test ends,
// and folds the whole log into it.
func foldedStore(t *testing.T, log *eventlog.Log, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := catchUp(t, log, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func catchUp(t *testing.T, log *eventlog.Log, s *Store) error {
	cp, err := s.Checkpoint(t.Context())
	if err != nil {
		return err
	}
	var evs []events.Event
	if err := log.ReadAll(t.Context(), cp, func(e events.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		return err
	}
	for len(evs) > 0 {
		n := min(len(evs), MaxBatchEvents)
		if err := s.ApplyBatch(t.Context(), evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

// writeVersion1 writes at path a read model of schema version 1 holding
// the rows of the model at from, in the columns version 1 had.
func writeVersion1(t *testing.T, path, from string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := t.Context()
	for _, q := range []string{
		`CREATE TABLE schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL) STRICT`,
		migrations[0],
		`INSERT INTO schema_version (id, version) VALUES (1, 1)`,
		`DELETE FROM checkpoint`,
		`ATTACH DATABASE '` + from + `' AS src`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, n := range tableNames(t, db, `SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name != 'schema_version'`) {
		var cols string
		if err := db.QueryRowContext(ctx, `SELECT group_concat(name, ', ') FROM pragma_table_info(?)`, n).Scan(&cols); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO main.`+n+` (`+cols+`) SELECT `+cols+` FROM src.`+n); err != nil {
			t.Fatalf("copy %s: %v", n, err)
		}
	}
	if _, err := db.ExecContext(ctx, `DETACH DATABASE src`); err != nil {
		t.Fatal(err)
	}
}

// tableNames returns the names query lists in db.
func tableNames(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// compare fails the test unless a and b have the same tables, rows and
// indexes.
func compare(t *testing.T, a, b *Store) {
	t.Helper()
	if f, err := CompareStores(t.Context(), a, b); err != nil || f != nil {
		t.Fatalf("migrated and fresh read models differ: %+v (%v)", f, err)
	}
	idx := func(s *Store) map[string]string {
		rows, err := s.read.QueryContext(t.Context(), `SELECT name, COALESCE(sql, '') FROM sqlite_schema WHERE type = 'index'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var n, q string
			if err := rows.Scan(&n, &q); err != nil {
				t.Fatal(err)
			}
			m[n] = q
		}
		return m
	}
	ia, ib := idx(a), idx(b)
	if len(ia) != len(ib) {
		t.Fatalf("indexes differ: %v and %v", ia, ib)
	}
	for n, q := range ia {
		if ib[n] != q {
			t.Errorf("index %s: %q and %q", n, q, ib[n])
		}
	}
}

// TestMigrateEventSubjects takes a read model of the illustrative history
// (receipts, fees, refunds, pledges, allocations, expenditures and
// reversals of each kind) as schema version 3 had it, without
// event_subjects and the event list's indexes (nor the running totals of
// versions 5 and 6), opens it, which migrates it, and checks that it equals a fresh
// model: the migrations derive the rows the fold writes (issues 7 and 10).
func TestMigrateEventSubjects(t *testing.T) {
	_, log := testnats.Log(t)
	ledgertest.Illustrative(t, ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund))
	dir := t.TempDir()
	fresh := foldedStore(t, log, filepath.Join(dir, "fresh.db"))
	var n int
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(*) FROM event_subjects`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("the fold wrote %d subjects (%v)", n, err)
	}
	// The position checkpoints (every 4 events here: TestMain) of more
	// than one version of a month, and of months made in between.
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(DISTINCT upto_seq) FROM posting_seq_checkpoints`).Scan(&n); err != nil || n < 5 {
		t.Fatalf("the fold wrote checkpoints at %d fund_seq (%v)", n, err)
	}
	oldPath := filepath.Join(dir, "v3.db")
	for _, q := range []string{
		`VACUUM INTO '` + oldPath + `'`,
	} {
		if _, err := fresh.write.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db, err := sql.Open("sqlite", oldPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TABLE event_subjects`, `DROP INDEX events_type`, `DROP INDEX events_actor`,
		// and what version 5 added: its migration derives the running
		// totals from the postings.
		`DROP TABLE posting_days`, `DROP TABLE posting_totals`, `DROP INDEX events_effective`,
		// and version 6's: the monthly checkpoints from the day totals,
		// the receipt totals from the receipts (reversed ones among them).
		`DROP TABLE posting_checkpoint_months`, `DROP TABLE posting_checkpoints`, `DROP TABLE receipt_days`, `DROP INDEX contributions_donor_date`,
		// (and version 13's fees of the receipts, which that index covered)
		`ALTER TABLE contributions DROP COLUMN fee_minor`, `ALTER TABLE contributions DROP COLUMN fee_seq`, `ALTER TABLE contributions DROP COLUMN fee_reversed`,
		// and version 7's indexes of the rows by fund_seq.
		`DROP INDEX contributions_seq`, `DROP INDEX expenditures_seq`, `DROP INDEX refunds_seq`, `DROP INDEX interest_seq`,
		// and version 8's index of the reversals by the row they reverse.
		`DROP INDEX reversals_reversed`,
		// and version 9's totals by position, from the postings.
		// (version 15's day totals by position, in place of version 9's)
		`DROP TABLE posting_day_seq`, `DROP TABLE posting_seq_checkpoints`, `DROP TABLE posting_seq_snapshots`,
		// and version 10's covering indexes, in place of version 1's.
		`CREATE INDEX contributions_donor ON contributions (fund, donor_id, term_id)`,
		`DROP INDEX fees_contribution`, `CREATE INDEX fees_contribution ON fees (fund, contribution_id)`,
		// and version 11's approvals, and version 12's index.
		`DROP TABLE approvals`, `DROP INDEX postings_donor`,
		// and version 14's receipts by position.
		`DROP TABLE receipt_seq_totals`, `DROP INDEX contributions_reversed`,
		`UPDATE schema_version SET version = 3`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	// Up to version 10 the migrations derive what the fold wrote; the
	// fresh model as version 10 had it is without approvals.
	fresh10 := versionOf(t, fresh, filepath.Join(dir, "fresh10.db"), 10, append([]string{`DROP TABLE approvals`, `DROP INDEX postings_donor`}, undo15to13...)...)
	defer fresh10.Close()
	migrations = schema.Migrations[:10]
	old, err := Open(oldPath)
	migrations = schema.Migrations
	if err != nil {
		t.Fatal(err)
	}
	compare(t, old, fresh10)
	old.Close()

	// Version 11 empties it, as an approval was reversed (il-rv-3), and a
	// replay makes it the fresh model.
	if old, err = Open(oldPath); err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	for _, n := range tableNames(t, old.read, `SELECT name FROM sqlite_schema WHERE type = 'table'`) {
		var rows int
		if err := old.read.QueryRowContext(t.Context(), `SELECT count(*) FROM `+n).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"checkpoint": 1, "schema_version": 1}[n]; rows != want {
			t.Errorf("after the migration to version 11, %s has %d rows, want %d", n, rows, want)
		}
	}
	if cp, err := old.Checkpoint(t.Context()); err != nil || cp != 0 {
		t.Fatalf("checkpoint %d (%v) after the migration to version 11, want 0", cp, err)
	}
	if err := catchUp(t, log, old); err != nil {
		t.Fatal(err)
	}
	compare(t, old, fresh)
}

// TestMigrateApprovals takes a read model of ledgertest.Scenario (no
// approval reversed) as version 10 had it, without approvals, and checks
// that the migration to version 11 derives them from the allocations: it
// equals a fresh model without a replay.
func TestMigrateApprovals(t *testing.T) {
	_, log := testnats.Log(t)
	ledgertest.Scenario(t, ledgertest.Writer(t, log, "mdfm"))
	dir := t.TempDir()
	fresh := foldedStore(t, log, filepath.Join(dir, "fresh.db"))
	var n int
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(*) FROM approvals`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("the fold wrote %d approvals (%v)", n, err)
	}
	migrateAndCompare(t, fresh, filepath.Join(dir, "v10.db"), 10, append([]string{`DROP TABLE approvals`, `DROP INDEX postings_donor`}, undo15to13...)...)
}

// TestMigrateReceiptFees takes a read model of the illustrative history
// (receipts with fees, one reversed with its fee) as version 12 had it,
// without the fees on the receipts' rows, and checks that the migration
// to version 13 derives them: it equals a fresh model without a replay.
func TestMigrateReceiptFees(t *testing.T) {
	fresh, dir := illustrativeStore(t)
	var fees, reversed int
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(*), COALESCE(SUM(fee_reversed), 0) FROM contributions WHERE fee_seq > 0`).Scan(&fees, &reversed); err != nil || fees == 0 || reversed == 0 {
		t.Fatalf("the fold wrote %d receipts with a fee, %d of them reversed (%v): want some of each", fees, reversed, err)
	}
	migrateAndCompare(t, fresh, filepath.Join(dir, "v12.db"), 12, undo15to13...)
}

// TestMigrateReceiptSeqTotals takes a read model of the illustrative
// history (receipts in two currencies, one reversed) as version 13 had it,
// without the receipts by position, and checks that the migration to
// version 14 derives them: it equals a fresh model without a replay.
func TestMigrateReceiptSeqTotals(t *testing.T) {
	fresh, dir := illustrativeStore(t)
	var rows, runs, currencies, reversed int
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(*), count(*) FILTER (WHERE receipts > 1), count(DISTINCT currency),
		(SELECT count(*) FROM contributions WHERE reversed_by != '') FROM receipt_seq_totals`).Scan(&rows, &runs, &currencies, &reversed); err != nil {
		t.Fatal(err)
	}
	if runs == 0 || currencies < 2 || reversed == 0 {
		t.Fatalf("the fold wrote %d receipts by position, %d after another of the same donor, in %d currencies, %d receipts reversed: want some of each, two currencies",
			rows, runs, currencies, reversed)
	}
	migrateAndCompare(t, fresh, filepath.Join(dir, "v13.db"), 13, append(slices.Clone(undo15), undo14...)...)
}

// TestMigrateDaySeq takes a read model of the illustrative history, folded
// with TestMain's K (days changed by more than one bucket), as version 14
// had it, with what each bucket added to a day, and checks that the
// migration to version 15 derives each day's totals at the end of each
// bucket: it equals a fresh model without a replay.
func TestMigrateDaySeq(t *testing.T) {
	fresh, dir := illustrativeStore(t)
	var rows, later int
	if err := fresh.read.QueryRowContext(t.Context(), `SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM posting_day_seq y
		WHERE y.fund = x.fund AND y.effective_on = x.effective_on AND y.term_id = x.term_id AND y.account = x.account AND y.event_type = x.event_type
			AND y.line_id = x.line_id AND y.donor_id = x.donor_id AND y.earmark = x.earmark AND y.bucket < x.bucket)) FROM posting_day_seq x`).Scan(&rows, &later); err != nil {
		t.Fatal(err)
	}
	if later == 0 {
		t.Fatalf("posting_day_seq has %d rows, none a later bucket's of a day and key: want some", rows)
	}
	migrateAndCompare(t, fresh, filepath.Join(dir, "v14.db"), 14, undo15...)
}

// illustrativeStore folds the illustrative history into a new read model
// in a new folder, and returns both.
func illustrativeStore(t *testing.T) (*Store, string) {
	t.Helper()
	_, log := testnats.Log(t)
	ledgertest.Illustrative(t, ledgertest.IllustrativeWriter(t, log, eventlog.DefaultFund))
	dir := t.TempDir()
	return foldedStore(t, log, filepath.Join(dir, "fresh.db")), dir
}

// migrateAndCompare makes a copy of fresh as of version (versionOf), opens
// it, which migrates it to the current version, and checks that it equals
// fresh.
func migrateAndCompare(t *testing.T, fresh *Store, path string, version int, undo ...string) {
	t.Helper()
	versionOf(t, fresh, path, version, undo...).Close()
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	compare(t, old, fresh)
}

// undo13 takes a read model back to version 12: without the fees on the
// receipts' rows, and the index that listed the receipts as it was.
var undo13 = []string{
	`DROP INDEX contributions_donor_date`,
	`ALTER TABLE contributions DROP COLUMN fee_minor`, `ALTER TABLE contributions DROP COLUMN fee_seq`, `ALTER TABLE contributions DROP COLUMN fee_reversed`,
	`CREATE INDEX contributions_donor_date ON contributions (fund, donor_id, term_id, received_on, contribution_id,
	fund_seq, amount_minor, currency, usd_rate, usd_minor, bank_ref, pledge_id)`,
}

// undo14 takes a read model back to version 13: without the receipts by
// position.
var undo14 = []string{`DROP TABLE receipt_seq_totals`, `DROP INDEX contributions_reversed`}

// undo15 takes a read model back to version 14: what each bucket added to
// each day (posting_day_buckets, as version 9 made it), from the day's
// totals at the end of each bucket.
var undo15 = []string{
	`CREATE TABLE posting_day_buckets (
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
) STRICT, WITHOUT ROWID`,
	`INSERT INTO posting_day_buckets SELECT fund, effective_on, bucket, term_id, account, event_type, line_id, donor_id, earmark,
		debit_minor - LAG(debit_minor, 1, 0) OVER w, credit_minor - LAG(credit_minor, 1, 0) OVER w, legs - LAG(legs, 1, 0) OVER w
	FROM posting_day_seq WINDOW w AS (PARTITION BY fund, effective_on, term_id, account, event_type, line_id, donor_id, earmark ORDER BY bucket)`,
	`DROP TABLE posting_day_seq`,
}

// undo15to13 takes a read model back to version 12.
var undo15to13 = slices.Concat(undo15, undo14, undo13)

// versionOf copies s to path, changes the copy by undo (what the versions
// after version undid added), marks it as of version and opens it without
// migrating it further.
func versionOf(t *testing.T, s *Store, path string, version int, undo ...string) *Store {
	t.Helper()
	if _, err := s.write.ExecContext(t.Context(), `VACUUM INTO '`+path+`'`); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undo, fmt.Sprintf(`UPDATE schema_version SET version = %d`, version)) {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	migrations = schema.Migrations[:version]
	defer func() { migrations = schema.Migrations }()
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
