package merge

import (
	"math/rand/v2"
	"testing"
)

// A host clock 5 s ahead that gains 50 µs a second (50 ppm) over 60 s, seen
// through 6,000 collectives whose arrivals differ by up to ±200 µs of
// jitter, one in ten of them a straggler 30 ms late: the window medians
// follow the drift, so the offset is right within 40 µs anywhere in the
// recording, where one median for the whole recording would be up to
// 1.5 ms off at its ends.
func TestFitFollowsDrift(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const base, ppm = 5_000_000_000, 50
	truth := func(at int64) int64 { return base + at/1_000_000*ppm }
	var est []estimate
	for i := range 6000 {
		at := int64(i) * 10_000_000 // every 10 ms, host time from 0
		jitter := rng.Int64N(400_000) - 200_000
		if i%10 == 0 {
			jitter = 30_000_000
		}
		est = append(est, estimate{at: at, diff: truth(at) + jitter})
	}
	a := fit(est)
	if len(a.knots) != 6 {
		t.Errorf("%d knots for 60 s, want one per 10 s window", len(a.knots))
	}
	for at := int64(0); at <= 60_000_000_000; at += 5_000_000_000 {
		if e := a.offset(at) - truth(at); e < -40_000 || e > 40_000 {
			t.Errorf("at %d s: offset %d, truth %d (error %d ns)", at/1e9, a.offset(at), truth(at), e)
		}
		if got, want := a.toRef(at), at-truth(at); got < want-40_000 || got > want+40_000 {
			t.Errorf("host time %d on the reference's clock: %d, want %d", at, got, want)
		}
	}
}

// Fewer collectives than a window needs still give one offset, their
// median; an even count takes the middle two's mean.
func TestFitFewCollectives(t *testing.T) {
	a := fit([]estimate{{at: 1, diff: 10}, {at: 2, diff: 40}, {at: 3, diff: 20}, {at: 4, diff: 1000}})
	if len(a.knots) != 1 || a.offset(0) != 30 || a.offset(1e12) != 30 {
		t.Errorf("knots %+v, want one at offset 30", a.knots)
	}
}
