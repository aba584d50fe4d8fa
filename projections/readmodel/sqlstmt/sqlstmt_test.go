package sqlstmt

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// TestExecRows writes 130 rows, two of them with a key given twice, in
// upserts of at most RowsPerStatement rows through a transaction's cached
// statements, then again in a second transaction (the statements now
// prepared on the database), and reads the sums back.
func TestExecRows(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	m := Multi{Head: `INSERT INTO t (k, v) VALUES `, Cols: 2, Tail: ` ON CONFLICT (k) DO UPDATE SET v = v + excluded.v`}
	var c Cache
	defer c.Close()
	var args []any
	for k := range 128 {
		args = append(args, k, 1)
	}
	args = append(args, 0, 10, 127, 10) // in the third statement, after the rows they add to
	for round := range 2 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var queries []string
		exec := func(ctx context.Context, q string, a ...any) (sql.Result, error) {
			queries = append(queries, q)
			st, err := c.InTx(ctx, tx, q)
			if err != nil {
				return nil, err
			}
			return st.ExecContext(ctx, a...)
		}
		if err := c.ExecRows(ctx, exec, m, args); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c.PrepareNew(ctx, db)
		if len(queries) != 3 || queries[0] != queries[1] || queries[2] != `INSERT INTO t (k, v) VALUES (?, ?), (?, ?)`+m.Tail {
			t.Fatalf("round %d: %d statements, the last %q", round, len(queries), queries[len(queries)-1])
		}
		if len(c.prepared) != 2 {
			t.Fatalf("round %d: %d statements prepared on the database, want 2", round, len(c.prepared))
		}
	}
	var n, sum, first, last int64
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(v), (SELECT v FROM t WHERE k = 0), (SELECT v FROM t WHERE k = 127) FROM t`).Scan(&n, &sum, &first, &last); err != nil {
		t.Fatal(err)
	}
	if n != 128 || sum != 2*(128+20) || first != 22 || last != 22 {
		t.Errorf("rows %d, sum %d, k=0 %d, k=127 %d; want 128, 296, 22, 22", n, sum, first, last)
	}
	if err := c.ExecRows(ctx, nil, m, []any{1}); err == nil {
		t.Error("a row of one value in rows of two was written")
	}
}
