package correlate

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// A trimmed row joins the chunk of its segment it sums best with, never a
// row across idle link; a chunk that moved nothing joins the one before as
// it is added.
func TestTrimmedRowJoinsItsSegment(t *testing.T) {
	f := newFitter()
	col := f.col(column{kind: trace.AllReduce, class: fitClass(4 << 20), nranks: 2})
	one := func(a float64) []entry { return []entry{{col: col, a: a}} }
	f.addOn(0, false, 100e6, one(100e6)) // seq 1: a segment's first chunk
	f.addOn(0, true, 60e6, one(95e6))    // seq 2: counted calls whose bytes fell after the cut
	f.addOn(0, true, 0, one(1e5))        // nothing moved: joins seq 2
	f.addOn(0, true, 45e6, one(10e6))    // seq 3: those bytes
	f.addOn(0, false, 30e6, one(10e6))   // seq 4: a new segment, misfit for another reason
	if len(f.rows) != 4 || f.rows[1].entries[0].a != 95e6+1e5 {
		t.Fatalf("rows %+v: want 4, the empty chunk in the second", f.rows)
	}
	m := f.byClass()
	x := []float64{1}
	keep := []bool{true, true, false, false}
	out := f.mergeTrimmed(keep, m, x, len(f.rows))
	if len(out) != 3 || out[1].b != 105e6 || out[1].entries[0].a != 105.1e6 || out[2].seq != 4 {
		t.Errorf("merged rows %+v: want seq 3 in seq 2 (105 MB), seq 4 alone", out)
	}
	if f.rows[1].b != 60e6 {
		t.Error("merging changed the fitter's own rows")
	}
	if out := f.mergeTrimmed([]bool{true, true, true, false}, m, x, len(f.rows)); out != nil {
		t.Errorf("a row after idle link joined its neighbour: %+v", out)
	}
}
