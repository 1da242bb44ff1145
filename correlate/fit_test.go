package correlate

import (
	"slices"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// The fit's rows list an op's sizes in order: the labels are the classes'
// upper sizes (1.19MiB, ...), which a sort on the label got wrong.
func TestFitRowsInSizeOrder(t *testing.T) {
	f := newFitter()
	for _, msg := range []uint64{3 << 20, 1<<20 + 1, 1 << 20, 1_300_000} {
		col := f.col(column{kind: trace.AllReduce, class: fitClass(msg), nranks: 2})
		f.add(float64(msg), []entry{{col: col, a: float64(msg)}})
	}
	var got []string
	for _, r := range f.solve().Rows() {
		got = append(got, r.SizeBucket)
	}
	want := []string{"1MiB", "1.19MiB", "1.41MiB", "3.36MiB"}
	if !slices.Equal(got, want) {
		t.Fatalf("sizes listed %v, want %v", got, want)
	}
}
