package correlate

import (
	"maps"
	"math"
	"slices"
)

// Rows that hold only the launches of one graph captured before the
// recording are summed into one row per graph. Such a launch counts in the
// row of its launch time, but the model cannot know when its bytes ran (it
// looks finished at once), so a row's launch count is off by one at
// either edge: an error in the regressor, not in the bytes. Least squares
// over such rows is biased low (errors in variables), and trimming drops
// the rows that counted one launch too few (they look like outliers) but
// not those that counted one too many. The sum of bytes over the sum of
// launches has no such bias: the edges fall either way and cancel
// (physim served-graphs-before, 8 ranks: -12% per launch before, see
// docs/attribution.md section 6).

// launchSum is the running sum of one graph's launch-only rows, in
// constant memory, with what the residual of the per-row fit needs.
type launchSum struct {
	b, a       float64 // bytes and launches
	n          int     // rows summed
	s0, s1, s2 float64 // sums of b², a·b, a² over (b+rowNoise)²
}

func (s *launchSum) add(b, a float64) {
	w := 1 / ((b + rowNoise) * (b + rowNoise))
	s.b, s.a, s.n = s.b+b, s.a+a, s.n+1
	s.s0, s.s1, s.s2 = s.s0+b*b*w, s.s1+a*b*w, s.s2+a*a*w
}

func (s *launchSum) merge(o *launchSum) {
	s.b, s.a, s.n = s.b+o.b, s.a+o.a, s.n+o.n
	s.s0, s.s1, s.s2 = s.s0+o.s0, s.s1+o.s1, s.s2+o.s2
}

// weight is the summed row's weight in the fit: as much as the rows it
// stands for would have had together (each weighted by its bytes, fit.go),
// so a graph's many stretches of launches alone are not outweighed by the
// few it shares with other calls.
func (s *launchSum) weight() float64 {
	if s.a <= 0 {
		return 0
	}
	return math.Sqrt(s.s2) / s.a
}

// squares is the sum over the summed rows of their squared relative
// misfit at bytes per launch x.
func (s *launchSum) squares(x float64) float64 {
	return max(0, s.s0-2*x*s.s1+x*x*s.s2)
}

// launchOnly reports the graph column of a row that holds only one
// graph's launches.
func (f *fitter) launchOnly(entries []entry) (int, bool) {
	if len(entries) != 1 || !f.cols[entries[0].col].isGraph() {
		return 0, false
	}
	return entries[0].col, true
}

// addLaunchOnly sums a launch-only row into its graph's row.
func (f *fitter) addLaunchOnly(col int, b, a float64) {
	s := f.sums[col]
	if s == nil {
		s = &launchSum{}
		f.sums[col] = s
	}
	s.add(b, a)
}

// summedRows appends one row per graph's launch sum to the rows; the
// returned index is where they start.
func (f *fitter) summedRows() int {
	first := len(f.rows)
	cols := slices.Sorted(maps.Keys(f.sums)) // the same trace fits the same
	for _, col := range cols {
		s := f.sums[col]
		f.rows = append(f.rows, row{b: s.b, entries: []entry{{col: col, a: s.a}}, sum: s})
	}
	return first
}
