package htmlout

// series is one GPU's byte counts in equal time buckets, one row per
// layer (an op, unattributed, the measured total). Buckets sit on a grid
// of absolute monotonic time: bucket k covers [k*width, (k+1)*width), so
// two series coarsened to one width line up. It holds at most maxBuckets
// buckets: when the span grows past that, the width doubles and
// neighbours merge, so memory is bounded by layers x maxBuckets however
// long the recording.
type series struct {
	width  int64 // ns, a power of two
	lo     int64 // absolute index of the first bucket
	n      int   // buckets in use, from lo
	layers map[string][]float64
}

// maxBuckets bounds a GPU's time buckets: a chart 2000 points wide is as
// fine as a screen shows, and 8 GPUs x 14 layers x 2000 stay below 2 MiB.
const maxBuckets = 2000

// firstWidth is the finest bucket (about 1 µs); a short recording keeps
// it until its span needs more than maxBuckets.
const firstWidth = 1 << 10

func newSeries() *series { return &series{width: firstWidth, layers: map[string][]float64{}} }

// add spreads v bytes evenly over [t0, t1) (a point when t1 <= t0).
func (s *series) add(layer string, v float64, t0, t1 int64) {
	if v == 0 {
		return
	}
	t1 = max(t1, t0+1)
	s.cover(t0, t1-1)
	row := s.row(layer)
	for k := floorDiv(t0, s.width); k <= floorDiv(t1-1, s.width); k++ {
		a, b := max(t0, k*s.width), min(t1, (k+1)*s.width)
		row[k-s.lo] += v * float64(b-a) / float64(t1-t0)
	}
}

// row is a layer's buckets, made on first use.
func (s *series) row(layer string) []float64 {
	r, ok := s.layers[layer]
	if !ok {
		r = make([]float64, s.n, max(s.n, 64))
		s.layers[layer] = r
	}
	return r
}

// cover makes the buckets span times t0..t1, coarsening first if the
// span would need more than maxBuckets.
func (s *series) cover(t0, t1 int64) {
	if s.n == 0 {
		s.lo = floorDiv(t0, s.width)
	}
	for {
		lo, hi := min(s.lo, floorDiv(t0, s.width)), max(s.lo+int64(s.n)-1, floorDiv(t1, s.width))
		if hi-lo+1 <= maxBuckets {
			s.grow(lo, hi)
			return
		}
		s.coarsen()
	}
}

// grow extends every layer with zeros to buckets lo..hi.
func (s *series) grow(lo, hi int64) {
	front, n := int(s.lo-lo), int(hi-lo+1)
	if front == 0 && n == s.n {
		return
	}
	for name, r := range s.layers {
		g := make([]float64, n, max(n, cap(r)))
		copy(g[front:], r)
		s.layers[name] = g
	}
	s.lo, s.n = lo, n
}

// coarsen doubles the width, merging buckets 2j and 2j+1 of the grid.
func (s *series) coarsen() {
	lo := floorDiv(s.lo, 2)
	n := int(floorDiv(s.lo+int64(s.n)-1, 2) - lo + 1)
	for name, r := range s.layers {
		c := make([]float64, n, cap(r))
		for i, v := range r {
			c[floorDiv(s.lo+int64(i), 2)-lo] += v
		}
		s.layers[name] = c
	}
	s.width *= 2
	s.lo, s.n = lo, n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// merge adds o's buckets to s, each spread over its time span.
func (s *series) merge(o *series) {
	for name, r := range o.layers {
		for i, v := range r {
			t0 := (o.lo + int64(i)) * o.width
			s.add(name, v, t0, t0+o.width)
		}
	}
}
