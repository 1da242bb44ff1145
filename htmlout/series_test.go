package htmlout

import (
	"math"
	"testing"
)

func sum(s *series, layer string) float64 {
	t := 0.0
	for _, v := range s.layers[layer] {
		t += v
	}
	return t
}

// A span is spread over the buckets it covers in proportion to time.
func TestSeriesSpreads(t *testing.T) {
	s := newSeries()
	s.add("AllReduce", 300, 0, 3*firstWidth)
	s.add("AllReduce", 10, 5*firstWidth, 5*firstWidth) // a point
	want := []float64{100, 100, 100, 0, 0, 10}
	got := s.layers["AllReduce"]
	if len(got) != len(want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("buckets %v, want %v", got, want)
		}
	}
}

// Ten hours of 10 ms intervals stay within maxBuckets per layer, bytes
// kept: memory does not grow with the recording. Times start late and
// one call lands before the first interval (the grid grows at the front).
func TestSeriesBounded(t *testing.T) {
	s := newSeries()
	const start, step, n = int64(5e12), int64(1e7), 3_600_000
	for i := range int64(n) {
		s.add(totalLayer, 1000, start+i*step, start+(i+1)*step)
	}
	s.add("AllGather", 7, start-3*step, start-step)
	if s.n > maxBuckets || len(s.layers[totalLayer]) > maxBuckets || len(s.layers["AllGather"]) != s.n {
		t.Fatalf("%d buckets (%d, %d)", s.n, len(s.layers[totalLayer]), len(s.layers["AllGather"]))
	}
	if got := sum(s, totalLayer); math.Abs(got-1000*n) > 1e-3*n {
		t.Errorf("total %.0f, want %d", got, 1000*n)
	}
	if got := sum(s, "AllGather"); math.Abs(got-7) > 1e-9 {
		t.Errorf("AllGather %.3f, want 7", got)
	}
	if first := s.lo * s.width; first > start-3*step || first+s.width <= start-3*step {
		t.Errorf("first bucket at %d, want the one holding %d", first, start-3*step)
	}
}

// Merging series of different widths keeps every byte.
func TestSeriesMerge(t *testing.T) {
	a, b := newSeries(), newSeries()
	a.add("Send", 100, 1e9, 1e9+1e6)
	for i := range int64(10_000) {
		b.add("Send", 1, 1e9+i*1e6, 1e9+(i+1)*1e6) // coarsens b
	}
	a.merge(b)
	if got := sum(a, "Send"); math.Abs(got-10_100) > 1e-6 {
		t.Errorf("merged %.3f, want 10100", got)
	}
}
