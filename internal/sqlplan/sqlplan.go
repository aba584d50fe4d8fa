// Package sqlplan reads SQLite's plan of a query, for the tests that check
// that a report or the fold searches an index rather than reading a whole
// table (issue 10: without statistics SQLite's planner sometimes prefers a
// range that grows with the log).
package sqlplan

import (
	"context"
	"database/sql"
	"testing"
)

// Querier is what runs a query: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Of returns the steps of SQLite's plan of query with args (EXPLAIN QUERY
// PLAN's detail column), in order; it fails t if the plan cannot be read.
func Of(t testing.TB, q Querier, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("plan of %s: %v", query, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}
