package correlate

import (
	"math"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// Replays of a graph captured before the recording move 3 MB each, but a
// row counts the launches made in its stretch while their bytes run
// later: every row holds 5 MB (1.67 launches' worth) and counts 2
// launches, or 1 every third row. The fitted bytes per launch must be the
// 5 MB x rows over the launches counted (3 MB), not the least-squares
// answer over rows with a miscounted regressor, nor one that trimmed the
// rows counting 1.
func TestLaunchOnlyRowsFitTheRatio(t *testing.T) {
	f := newFitter()
	graph := f.col(column{graph: 1, pid: 7})
	var bytes, launches float64
	for i := range 60 {
		a := 2.0
		if i%3 == 2 {
			a = 1
		}
		f.add(5e6, []entry{{col: graph, a: a}})
		bytes, launches = bytes+5e6, launches+a
	}
	fd := f.solve()
	got, want := fd.values[column{graph: 1, pid: 7}], bytes/launches
	if math.Abs(got-want) > 1e-6*want {
		t.Fatalf("bytes per launch %.0f, want %.0f (all bytes over all launches)", got, want)
	}
	row := fd.Rows()[0]
	if row.Segments != 60 || row.Residual <= 0.1 {
		t.Errorf("fit row %+v: want the 60 stretches counted and their misfit (about 0.2) reported", row)
	}
	if len(f.rows) != 0 {
		t.Errorf("solve left %d rows behind; the summed rows must not stay", len(f.rows))
	}
}

// A row with a graph's launches and other calls stays a row of its own.
func TestMixedRowsAreNotSummed(t *testing.T) {
	f := newFitter()
	graph := f.col(column{graph: 1, pid: 7})
	other := f.col(column{class: 80, nranks: 2})
	f.add(10e6, []entry{{col: graph, a: 1}, {col: other, a: 8e6}})
	f.add(3e6, []entry{{col: graph, a: 1}})
	if len(f.rows) != 1 || f.sums[graph] == nil || f.sums[graph].n != 1 {
		t.Fatalf("rows %d, sums %+v: want the mixed row kept and the launch-only row summed", len(f.rows), f.sums)
	}
}

// The summed row weighs in the fit as much as the rows it stands for: five
// rows that share a graph's launches with a small call and count one
// launch too many (an edge: 25% off) move the bytes per launch that 60
// stretches of launches alone agree on as 5 rows against 60 (2%), not as
// 5 against one (weighted as one row, the sum let them pull it 22% low).
func TestSummedRowWeighsAsItsRows(t *testing.T) {
	f := newFitter()
	graph := f.col(column{graph: 1, pid: 7})
	small := f.col(column{kind: trace.AllGather, class: 64, nranks: 2})
	for i := range 60 {
		a := float64(1 + i%3)
		f.add(3e6*a, []entry{{col: graph, a: a}})
	}
	for range 5 {
		f.add(2*64e3+3e6*3, []entry{{col: graph, a: 4}, {col: small, a: 64e3}})
	}
	got := f.solve().values[column{graph: 1, pid: 7}]
	if math.Abs(got/3e6-1) > 0.03 {
		t.Errorf("bytes per launch %.0f, want 3000000 within 3%%: the five miscounted rows outweighed sixty", got)
	}
}
