package report

import (
	"math/rand/v2"
	"testing"
)

// The union of spans that arrive about in end order is the time a bitmap
// of them covers, past the spans kept apart too, while no span reaches
// back before the kept ones.
func TestSpanUnionMatchesCoveredTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var u spanUnion
		covered := make([]bool, 20_000)
		// Spans in about end order: each starts near the last one's end,
		// some overlap it (a second stream), some are grouped (equal).
		at := int64(0)
		for range 400 {
			start := at + rng.Int64N(30) - 10
			end := start + 1 + rng.Int64N(40)
			if rng.IntN(5) == 0 {
				start = max(0, start-rng.Int64N(60))
			}
			start = max(start, 0)
			u.add(start, end)
			if rng.IntN(4) == 0 {
				u.add(start, end) // a grouped call: the same span again
			}
			for x := start; x < end; x++ {
				covered[x] = true
			}
			at = end
		}
		var want int64
		for _, c := range covered {
			if c {
				want++
			}
		}
		if got := u.total(); got != want {
			t.Fatalf("trial %d: union %d, covered %d (kept %v)", trial, got, want, u.kept)
		}
	}
}

// Past twice keptSpans disjoint spans the oldest are folded into the
// total: the kept list stays bounded and the total exact for spans in
// order.
func TestSpanUnionIsBounded(t *testing.T) {
	var u spanUnion
	for i := range int64(10_000) {
		u.add(10*i, 10*i+4)
	}
	if len(u.kept) < keptSpans || len(u.kept) > 2*keptSpans || u.total() != 40_000 {
		t.Fatalf("kept %d spans, total %d; want %d to %d and 40000", len(u.kept), u.total(), keptSpans, 2*keptSpans)
	}
	var o spanUnion
	o.add(100_000, 100_010)
	// Before every kept span: counted in full, though [10, 14), folded,
	// covered 2 of it (the approximation spanUnion documents).
	o.add(5, 12)
	u.merge(&o)
	if got := u.total(); got != 40_000+10+7 {
		t.Fatalf("after merge %d, want %d", got, 40_000+10+7)
	}
}
