package donors

import (
	"math/big"
	"math/bits"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// TestApportion checks the two-dimensional largest-remainder split on
// random tables: every row and column adds up to its total, and every
// cell is its proportional value rounded down or up.
func TestApportion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cols := rapid.SliceOfN(rapid.Int64Range(0, 1_000_000_000_000), 1, 12).Draw(t, "cols")
		var total int64
		for _, c := range cols {
			total += c
		}
		// Rows: total split at random cut points.
		n := rapid.IntRange(1, 12).Draw(t, "rows")
		rows := make([]int64, n)
		left := total
		for i := range n - 1 {
			rows[i] = rapid.Int64Range(0, left).Draw(t, "row")
			left -= rows[i]
		}
		rows[n-1] = left
		checkApportioned(t, rows, cols)
	})
}

// TestApportionMovesCents: tables where giving each row's cents to the
// columns with the most left leaves a row's cent with no column that can
// take it (a cell whose proportional value is whole takes none), so that
// cents move along an augmenting path (placeCent). A cell of a whole
// value rounded up fails it, and so does a cent left unplaced.
func TestApportionMovesCents(t *testing.T) {
	for _, c := range []struct{ rows, cols []int64 }{
		{[]int64{4, 5, 9}, []int64{4, 7, 7}},
		{[]int64{12, 2, 10}, []int64{6, 9, 0, 9}},
		{[]int64{1, 1, 6, 10}, []int64{7, 3, 8}},
		{[]int64{8, 7, 6}, []int64{6, 2, 10, 3}},
	} {
		checkApportioned(t, c.rows, c.cols)
	}
}

// checkApportioned fails t unless apportion splits rows by cols so that
// every row and column adds up to its total and every cell is its
// proportional value rounded down or up (exactly it when it is whole).
func checkApportioned(t interface{ Fatalf(string, ...any) }, rows, cols []int64) {
	var total int64
	for _, c := range cols {
		total += c
	}
	x, err := apportion(rows, cols)
	if err != nil {
		t.Fatalf("apportion(%v, %v): %v", rows, cols, err)
	}
	colSum := make([]int64, len(cols))
	for i, r := range rows {
		var rowSum int64
		for j, c := range cols {
			rowSum += x[i][j]
			colSum[j] += x[i][j]
			if total == 0 {
				continue
			}
			var q, m big.Int
			q.Mul(big.NewInt(r), big.NewInt(c))
			q.QuoRem(&q, big.NewInt(total), &m)
			lo := q.Int64()
			if x[i][j] != lo && !(x[i][j] == lo+1 && m.Sign() > 0) {
				t.Fatalf("rows %v, cols %v: cell (%d, %d) = %d, proportional %d·%d/%d is %d and remainder %d", rows, cols, i, j, x[i][j], r, c, total, lo, m.Int64())
			}
		}
		if rowSum != r {
			t.Fatalf("rows %v, cols %v: row %d adds up to %d, want %d", rows, cols, i, rowSum, r)
		}
	}
	for j, c := range cols {
		if colSum[j] != c {
			t.Fatalf("rows %v, cols %v: column %d adds up to %d, want %d", rows, cols, j, colSum[j], c)
		}
	}
}

func TestApportionRefuses(t *testing.T) {
	for _, c := range []struct{ rows, cols []int64 }{
		{[]int64{1, 2}, []int64{4}},
		{[]int64{-1, 2}, []int64{1}},
		{[]int64{1}, []int64{2, -1}},
	} {
		if _, err := apportion(c.rows, c.cols); err == nil {
			t.Errorf("apportion(%v, %v) answers no error", c.rows, c.cols)
		}
	}
}

// TestSplitInflow checks that interest is split so that no participant's
// part of the allocations is negative, and that an impossible split is
// reported.
func TestSplitInflow(t *testing.T) {
	for _, c := range []struct {
		name           string
		delta, weights []int64
		total          int64
		want           []int64
		ok             bool
	}{
		// Pro rata 1:3 when every claim is met.
		{"pro rata", []int64{-10, -30}, []int64{1, 3}, 100, []int64{25, 75}, true},
		// A donor refunded its money and interest needs the interest.
		{"claim", []int64{10, -50}, []int64{0, 5}, 10, []int64{10, 0}, true},
		// Rounding: the cent goes where the claim is.
		{"a cent", []int64{1, 0, -1}, []int64{1, 1, 1}, 1, []int64{1, 0, 0}, true},
		{"short", []int64{5, -5}, []int64{1, 1}, 0, nil, false},
	} {
		got, ok := splitInflow(c.delta, c.total, c.weights)
		if ok != c.ok || (ok && !equalInts(got, c.want)) {
			t.Errorf("%s: splitInflow(%v, %d, %v) = %v, %v; want %v, %v", c.name, c.delta, c.total, c.weights, got, ok, c.want, c.ok)
		}
		for i := range got {
			if got[i] < 0 || got[i]-c.delta[i] < 0 {
				t.Errorf("%s: part %d is %d for a claim of %d", c.name, i, got[i], c.delta[i])
			}
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestApportionAsSorted checks apportion against the way it gave the
// cents before it selected the columns (issue 10): every column sorted for
// each row, stably, by the cents it has left and its remainder. Equal
// columns (ties of both) are drawn often, as in a term of many equal
// expenditures.
func TestApportionAsSorted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sizes := rapid.SliceOfN(rapid.Int64Range(0, 400), 1, 5).Draw(t, "sizes")
		cols := rapid.SliceOfN(rapid.SampledFrom(sizes), 1, 300).Draw(t, "cols")
		var total int64
		for _, c := range cols {
			total += c
		}
		n := rapid.IntRange(1, 60).Draw(t, "rows")
		rows := make([]int64, n)
		left := total
		for i := range n - 1 {
			rows[i] = rapid.Int64Range(0, left/int64(rapid.IntRange(1, 4).Draw(t, "cut"))).Draw(t, "row")
			left -= rows[i]
		}
		rows[n-1] = left
		got, err := apportion(rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		want := apportionBySort(rows, cols, total)
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Fatalf("cell (%d, %d) = %d, sorting the columns gives %d", i, j, got[i][j], want[i][j])
				}
			}
		}
	})
}

// apportionBySort is apportion as it was before its columns were selected:
// for each row, all columns sorted stably by cents left, then remainder,
// and a cell without a remainder skipped; the cents that leaves without a
// column are placed by the same augmenting paths (placeCent).
func apportionBySort(rows, cols []int64, total int64) [][]int64 {
	x := make([][]int64, len(rows))
	for i := range x {
		x[i] = make([]int64, len(cols))
	}
	if total == 0 {
		return x
	}
	rem := make([][]uint64, len(rows))
	up := make([][]bool, len(rows))
	rowLeft := make([]int64, len(rows))
	colLeft := append([]int64(nil), cols...)
	for i, r := range rows {
		rem[i] = make([]uint64, len(cols))
		up[i] = make([]bool, len(cols))
		rowLeft[i] = r
		for j, c := range cols {
			hi, lo := bits.Mul64(uint64(r), uint64(c))
			q, rm := bits.Div64(hi, lo, uint64(total))
			x[i][j], rem[i][j] = int64(q), rm
			rowLeft[i] -= int64(q)
			colLeft[j] -= int64(q)
		}
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rowLeft[order[a]] > rowLeft[order[b]] })
	js := make([]int, len(cols))
	for _, i := range order {
		if rowLeft[i] == 0 {
			continue
		}
		for j := range js {
			js[j] = j
		}
		sort.SliceStable(js, func(a, b int) bool {
			ja, jb := js[a], js[b]
			if colLeft[ja] != colLeft[jb] {
				return colLeft[ja] > colLeft[jb]
			}
			return rem[i][ja] > rem[i][jb]
		})
		placed := 0
		for _, j := range js {
			if placed == int(rowLeft[i]) || colLeft[j] == 0 {
				break
			}
			if rem[i][j] == 0 {
				continue // a whole number of cents takes none
			}
			x[i][j]++
			up[i][j] = true
			colLeft[j]--
			placed++
		}
		rowLeft[i] -= int64(placed)
	}
	for _, i := range order {
		for ; rowLeft[i] > 0; rowLeft[i]-- {
			if !placeCent(i, x, rem, up, colLeft) {
				panic("no augmenting path")
			}
		}
	}
	return x
}
