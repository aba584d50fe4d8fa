package tablediff

import (
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// open makes an SQLite file holding one table of postings-like rows.
func open(t *testing.T, name string, rows ...string) *sql.Tx {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stmts := append([]string{`CREATE TABLE lines (fund TEXT, fund_seq INTEGER, minor INTEGER, note TEXT, PRIMARY KEY (fund, fund_seq)) STRICT`}, rows...)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	tx, err := db.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

func TestCompareNamesTheFirstRowThatDiffers(t *testing.T) {
	same := []string{
		`INSERT INTO lines VALUES ('mdfm', 1, 100, 'a')`,
		`INSERT INTO lines VALUES ('mdfm', 2, 250, 'b')`,
	}
	a := open(t, "a", append(same, `INSERT INTO lines VALUES ('mdfm', 3, 300, 'c')`)...)
	b := open(t, "b", append(same, `INSERT INTO lines VALUES ('mdfm', 3, 301, 'c')`)...)
	d, err := Compare(t.Context(), a, b, "replay", "live")
	if err != nil {
		t.Fatal(err)
	}
	if d == nil {
		t.Fatal("a row differs, Compare found none")
	}
	if d.Table != "lines" || d.Fund != "mdfm" || d.FundSeq != 3 || !strings.Contains(d.Reason, "301") {
		t.Fatalf("difference %+v, want table lines, fund mdfm, fund_seq 3, naming 301", d)
	}
	da, err := Digests(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Digests(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if da["lines"] == db["lines"] {
		t.Fatal("tables that differ have the same digest")
	}
}

func TestCompareIdentical(t *testing.T) {
	rows := []string{`INSERT INTO lines VALUES ('mdfm', 1, 100, 'a')`}
	d, err := Compare(t.Context(), open(t, "a", rows...), open(t, "b", rows...), "replay", "live")
	if err != nil || d != nil {
		t.Fatalf("identical files: difference %+v, error %v", d, err)
	}
}

func TestCompareMissingRow(t *testing.T) {
	a := open(t, "a", `INSERT INTO lines VALUES ('mdfm', 1, 100, 'a')`, `INSERT INTO lines VALUES ('mdfm', 2, 5, 'x')`)
	b := open(t, "b", `INSERT INTO lines VALUES ('mdfm', 1, 100, 'a')`)
	d, err := Compare(t.Context(), a, b, "replay", "live")
	if err != nil || d == nil || d.FundSeq != 2 || !strings.Contains(d.Reason, "live") {
		t.Fatalf("a row missing in live: difference %+v, error %v", d, err)
	}
}

// TestDigestTellsValuesApart: two tables that differ in one value only, by
// its type, in a real's last digit, after a NUL byte, by where a comma
// falls, or NULL against empty, digest differently; the same rows digest
// the same.
func TestDigestTellsValuesApart(t *testing.T) {
	digest := func(name string, rows ...string) string {
		t.Helper()
		db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range append([]string{`CREATE TABLE v (id INTEGER PRIMARY KEY, a, b)`}, rows...) {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		tx, err := db.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		d, err := Digests(t.Context(), tx)
		if err != nil {
			t.Fatal(err)
		}
		return d["v"]
	}
	for _, tc := range []struct{ name, a, b string }{
		{"an integer and its text", `INSERT INTO v VALUES (1, 1, NULL)`, `INSERT INTO v VALUES (1, '1', NULL)`},
		{"an integer and a real", `INSERT INTO v VALUES (1, 1, NULL)`, `INSERT INTO v VALUES (1, 1.0, NULL)`},
		{"reals apart in the 17th digit", `INSERT INTO v VALUES (1, 0.30000000000000004, NULL)`, `INSERT INTO v VALUES (1, 0.3, NULL)`},
		{"text after a NUL byte", `INSERT INTO v VALUES (1, 'a' || char(0) || 'b', NULL)`, `INSERT INTO v VALUES (1, 'a' || char(0) || 'c', NULL)`},
		{"a comma in a value or between two", `INSERT INTO v VALUES (1, 'x,', 'y')`, `INSERT INTO v VALUES (1, 'x', ',y')`},
		{"NULL and empty text", `INSERT INTO v VALUES (1, NULL, NULL)`, `INSERT INTO v VALUES (1, '', NULL)`},
		{"text and a blob of its bytes", `INSERT INTO v VALUES (1, 'ab', NULL)`, `INSERT INTO v VALUES (1, X'6162', NULL)`},
		{"a row split in two", `INSERT INTO v VALUES (1, 'a', 'b')`, `INSERT INTO v VALUES (1, 'a', NULL); INSERT INTO v VALUES (2, 'b', NULL)`},
	} {
		if digest("a", tc.a) == digest("b", tc.b) {
			t.Errorf("%s: the same digest", tc.name)
		}
		if digest("a", tc.a) != digest("b", tc.a) {
			t.Errorf("%s: the same rows digest differently", tc.name)
		}
	}
}

// TestDigestAllOnTwoConnections: a database digested on two connections at
// once, its tables shared out between them, has the digests it has on one,
// and a table changed in it is found by CompareDigested.
func TestDigestAllOnTwoConnections(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "many.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// WAL: the snapshots read before the update below keep what they saw.
	if _, err := db.Exec(`PRAGMA journal_mode = WAL`); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		for _, s := range []string{
			fmt.Sprintf(`CREATE TABLE t%d (k INTEGER PRIMARY KEY, v TEXT) STRICT`, i),
			fmt.Sprintf(`INSERT INTO t%d WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < %d) SELECT k, 'row ' || k FROM n`, i, 100*(i+1)),
		} {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	begin := func() *sql.Tx {
		tx, err := db.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Rollback() })
		return tx
	}
	one, err := DigestAll(t.Context(), begin())
	if err != nil {
		t.Fatal(err)
	}
	txA, txB := begin(), begin()
	two, err := DigestAll(t.Context(), txA, txB)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.digests) != 9 || !maps.Equal(one.digests, two.digests) {
		t.Fatalf("on two connections %v, on one %v", two.digests, one.digests)
	}
	if d, err := CompareDigested(t.Context(), txA, two, txB, one, "a", "b"); err != nil || d != nil {
		t.Fatalf("the same database compared: %+v, %v", d, err)
	}
	if _, err := db.Exec(`UPDATE t7 SET v = 'changed' WHERE k = 500`); err != nil {
		t.Fatal(err)
	}
	txC := begin()
	changed, err := DigestAll(t.Context(), txC, begin())
	if err != nil {
		t.Fatal(err)
	}
	d, err := CompareDigested(t.Context(), txA, two, txC, changed, "before", "after")
	if err != nil {
		t.Fatal(err)
	}
	if d == nil || d.Table != "t7" || !strings.Contains(d.Row, "k=500") || !strings.Contains(d.Reason, "changed") {
		t.Fatalf("difference %+v, want table t7, row k=500", d)
	}
}
