// Package tablediff digests the tables of an SQLite database and finds the
// first row where two databases differ. The read model's verify uses it to
// compare a replay with the live read model (docs/DESIGN.md, "Audit"); it
// knows nothing of the read model's tables but their primary keys and the
// fund and fund_seq columns a difference names.
package tablediff

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/unesco-uil/mdfm-ledger/internal/progress"
)

// Difference is the first difference between two read models: the table,
// the key of the first row that differs (with its fund and fund_seq when the
// row has them) and both values.
type Difference struct {
	Table   string
	Row     string
	Fund    string
	FundSeq uint64
	Reason  string
}

// table is one table of a read model and the columns of its primary key.
type table struct {
	name string
	key  []string // empty: ordered by rowid
}

func tables(ctx context.Context, tx *sql.Tx) ([]table, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var ts []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for i := range ts {
		rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, ts[i].name)
		if err != nil {
			return nil, fmt.Errorf("key of table %s: %w", ts[i].name, err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("key of table %s: %w", ts[i].name, err)
			}
			ts[i].key = append(ts[i].key, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("key of table %s: %w", ts[i].name, err)
		}
	}
	return ts, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (t table) selectAll() string {
	order := "rowid"
	if len(t.key) > 0 {
		q := make([]string, len(t.key))
		for i, k := range t.key {
			q[i] = quoteIdent(k)
		}
		order = strings.Join(q, ", ")
	}
	return "SELECT * FROM " + quoteIdent(t.name) + " ORDER BY " + order
}

// tableRows iterates over a table's rows in key order.
type tableRows struct {
	rows *sql.Rows
	cols []string
	key  []int // positions of the key columns
	vals []any
}

func openRows(ctx context.Context, tx *sql.Tx, t table) (*tableRows, error) {
	rows, err := tx.QueryContext(ctx, t.selectAll())
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", t.name, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, fmt.Errorf("read table %s: %w", t.name, err)
	}
	tr := &tableRows{rows: rows, cols: cols, vals: make([]any, len(cols))}
	for _, k := range t.key {
		tr.key = append(tr.key, slices.Index(cols, k))
	}
	return tr, nil
}

// next reads the next row into vals; false at the end.
func (tr *tableRows) next() (bool, error) {
	if !tr.rows.Next() {
		return false, tr.rows.Err()
	}
	ptrs := make([]any, len(tr.vals))
	for i := range tr.vals {
		tr.vals[i] = nil
		ptrs[i] = &tr.vals[i]
	}
	return true, tr.rows.Scan(ptrs...)
}

func (tr *tableRows) keyVals() []any {
	out := make([]any, len(tr.key))
	for i, k := range tr.key {
		out[i] = tr.vals[k]
	}
	return out
}

func (tr *tableRows) keyString() string {
	if len(tr.key) == 0 {
		return tr.rowString()
	}
	parts := make([]string, len(tr.key))
	for i, k := range tr.key {
		parts[i] = tr.cols[k] + "=" + formatValue(tr.vals[k])
	}
	return strings.Join(parts, " ")
}

func (tr *tableRows) rowString() string {
	parts := make([]string, len(tr.cols))
	for i, c := range tr.cols {
		parts[i] = c + "=" + formatValue(tr.vals[i])
	}
	return strings.Join(parts, " ")
}

func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return strconv.Quote(v)
	case []byte:
		return "x'" + hex.EncodeToString(v) + "'"
	}
	return fmt.Sprintf("%v", v)
}

// writeValue hashes a value with its type, so that 1 and "1" differ. It
// writes through a buffer: a digest hashes every value of the read model,
// and a Write of a few bytes at a time to the hash was most of its cost.
func writeValue(w *bufio.Writer, v any) {
	var num [24]byte
	switch v := v.(type) {
	case nil:
		w.WriteByte('n')
	case int64:
		w.WriteByte('i')
		w.Write(strconv.AppendInt(num[:0], v, 10))
	case float64:
		w.WriteByte('f')
		w.Write(strconv.AppendUint(num[:0], math.Float64bits(v), 16))
	case string:
		w.WriteByte('s')
		w.Write(strconv.AppendInt(num[:0], int64(len(v)), 10))
		w.WriteByte(':')
		w.WriteString(v)
	case []byte:
		w.WriteByte('b')
		w.Write(strconv.AppendInt(num[:0], int64(len(v)), 10))
		w.WriteByte(':')
		w.Write(v)
	default:
		fmt.Fprintf(w, "?%T:%v", v, v)
	}
	w.WriteByte(';')
}

func digestTable(ctx context.Context, tx *sql.Tx, t table) (string, error) {
	tr, err := openRows(ctx, tx, t)
	if err != nil {
		return "", err
	}
	defer tr.rows.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(h, 64<<10)
	for _, c := range tr.cols {
		writeValue(w, c)
	}
	w.WriteByte('\n')
	for {
		ok, err := tr.next()
		if err != nil {
			return "", fmt.Errorf("read table %s: %w", t.name, err)
		}
		if !ok {
			break
		}
		for _, v := range tr.vals {
			writeValue(w, v)
		}
		w.WriteByte('\n')
	}
	w.Flush() // a hash's Write never fails
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Digests returns, for every table, the SHA-256 (hex) of its column names
// and of its rows in primary-key order, each value written with its type.
func Digests(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	d, err := DigestAll(ctx, tx)
	if err != nil {
		return nil, err
	}
	return d.digests, nil
}

// Digested is every table of one database and its digest (Digests), as
// CompareDigested compares them.
type Digested struct {
	digests map[string]string
	tables  []table
}

// DigestAll digests every table of a database read in txs: read
// transactions on connections of their own that see the same state (one
// is enough). The tables are shared out among them as each finishes one,
// so that with two a digest runs on two cores (issue 10: digesting both
// sides was a quarter of an audit at 1,000,000 events). Each table
// digested is a step of ctx's report (progress.Step).
func DigestAll(ctx context.Context, txs ...*sql.Tx) (*Digested, error) {
	if len(txs) == 0 {
		return nil, errors.New("digest: no transaction")
	}
	ts, err := tables(ctx, txs[0])
	if err != nil {
		return nil, err
	}
	sums := make([]string, len(ts))
	var (
		digested atomic.Int64
		next     atomic.Int64
		wg       sync.WaitGroup
		errs     = make([]error, len(txs))
	)
	for w, tx := range txs {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ts); i = int(next.Add(1) - 1) {
				if sums[i], errs[w] = digestTable(ctx, tx, ts[i]); errs[w] != nil {
					next.Store(int64(len(ts))) // the others stop after their table
					return
				}
				progress.Step(ctx, "digested table %s (%d of %d)", ts[i].name, digested.Add(1), len(ts))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &Digested{digests: make(map[string]string, len(ts)), tables: ts}
	for i, t := range ts {
		d.digests[t.name] = sums[i]
	}
	return d, nil
}

// Compare compares two databases, each read in the open transaction given,
// table by table (in name order) and returns the first difference: the
// table, the key of the first row that differs and both values, or nil when
// every table is identical.
func Compare(ctx context.Context, txA, txB *sql.Tx, nameA, nameB string) (*Difference, error) {
	// The two sides are digested at once: each reads its own file on its
	// own connection.
	var (
		dB   *Digested
		errB error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		dB, errB = DigestAll(ctx, txB)
	}()
	dA, err := DigestAll(ctx, txA)
	<-done
	if err != nil {
		return nil, err
	}
	if errB != nil {
		return nil, errB
	}
	return CompareDigested(ctx, txA, dA, txB, dB, nameA, nameB)
}

// CompareDigested is Compare of two databases already digested (dA of the
// database txA reads, dB of txB's): it reads only the rows of a table whose
// digests differ, to find its first difference.
func CompareDigested(ctx context.Context, txA *sql.Tx, dA *Digested, txB *sql.Tx, dB *Digested, nameA, nameB string) (*Difference, error) {
	names := map[string]table{}
	for _, t := range dA.tables {
		names[t.name] = t
	}
	for _, t := range dB.tables {
		if _, ok := names[t.name]; !ok {
			names[t.name] = t
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	for _, n := range sorted {
		da, okA := dA.digests[n]
		db, okB := dB.digests[n]
		switch {
		case !okA:
			return &Difference{Table: n, Reason: fmt.Sprintf("table in %s, missing in %s", nameB, nameA)}, nil
		case !okB:
			return &Difference{Table: n, Reason: fmt.Sprintf("table in %s, missing in %s", nameA, nameB)}, nil
		case da == db:
			continue
		}
		return firstDifference(ctx, txA, txB, names[n], nameA, nameB)
	}
	return nil, nil
}

// firstDifference walks two versions of a table in key order, side by side,
// to the first row that differs.
func firstDifference(ctx context.Context, txA, txB *sql.Tx, t table, nameA, nameB string) (*Difference, error) {
	ra, err := openRows(ctx, txA, t)
	if err != nil {
		return nil, err
	}
	defer ra.rows.Close()
	rb, err := openRows(ctx, txB, t)
	if err != nil {
		return nil, err
	}
	defer rb.rows.Close()
	f := &Difference{Table: t.name}
	if !slices.Equal(ra.cols, rb.cols) {
		f.Reason = fmt.Sprintf("columns differ: %s (%s), %s (%s)", nameA, strings.Join(ra.cols, ", "), nameB, strings.Join(rb.cols, ", "))
		return f, nil
	}
	for {
		okA, err := ra.next()
		if err != nil {
			return nil, fmt.Errorf("read table %s: %w", t.name, err)
		}
		okB, err := rb.next()
		if err != nil {
			return nil, fmt.Errorf("read table %s: %w", t.name, err)
		}
		switch {
		case !okA && !okB:
			f.Reason = "digests differ but no row does"
			return f, nil
		case !okB:
			return missing(f, ra, nameA, nameB), nil
		case !okA:
			return missing(f, rb, nameB, nameA), nil
		}
		if len(ra.key) > 0 {
			switch c := compareKeys(ra.keyVals(), rb.keyVals()); {
			case c < 0:
				return missing(f, ra, nameA, nameB), nil
			case c > 0:
				return missing(f, rb, nameB, nameA), nil
			}
		}
		var diffs []string
		for i, c := range ra.cols {
			va, vb := formatValue(ra.vals[i]), formatValue(rb.vals[i])
			if va != vb || fmt.Sprintf("%T", ra.vals[i]) != fmt.Sprintf("%T", rb.vals[i]) {
				diffs = append(diffs, fmt.Sprintf("%s: %s %s, %s %s", c, nameA, va, nameB, vb))
			}
		}
		if len(diffs) > 0 {
			locate(f, ra)
			f.Row = ra.keyString()
			f.Reason = strings.Join(diffs, "; ")
			return f, nil
		}
	}
}

// missing reports a row that one read model has and the other lacks.
func missing(f *Difference, has *tableRows, nameHas, nameLacks string) *Difference {
	locate(f, has)
	f.Row = has.keyString()
	f.Reason = fmt.Sprintf("row in %s, missing in %s: %s", nameHas, nameLacks, has.rowString())
	return f
}

// locate fills in the fund and fund_seq of a row that has them.
func locate(f *Difference, tr *tableRows) {
	for i, c := range tr.cols {
		switch v := tr.vals[i].(type) {
		case string:
			if c == "fund" {
				f.Fund = v
			}
		case int64:
			if c == "fund_seq" && v > 0 {
				f.FundSeq = uint64(v)
			}
		}
	}
}

// compareKeys orders keys as SQLite does for the column types the schema
// uses: NULL, then numbers, then text (BINARY collation), then blobs.
func compareKeys(a, b []any) int {
	for i := range a {
		if c := compareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func typeRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64:
		return 1
	case string:
		return 2
	}
	return 3
}

func compareValue(a, b any) int {
	if ra, rb := typeRank(a), typeRank(b); ra != rb {
		return ra - rb
	}
	switch a := a.(type) {
	case nil:
		return 0
	case int64:
		switch b := b.(type) {
		case int64:
			return cmpOrdered(a, b)
		case float64:
			return cmpOrdered(float64(a), b)
		}
	case float64:
		switch b := b.(type) {
		case int64:
			return cmpOrdered(a, float64(b))
		case float64:
			return cmpOrdered(a, b)
		}
	case string:
		return strings.Compare(a, b.(string))
	case []byte:
		if bb, ok := b.([]byte); ok {
			return strings.Compare(string(a), string(bb))
		}
	}
	return 0
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
