package main

import (
	"math"
	"testing"
)

// Four resolved 1 ms intervals at 200 GB/s inside the calls' window count;
// an idle one, a 20 ms stalled one and a busy one outside the window do not.
func TestRateWhileBusy(t *testing.T) {
	a := newAgg()
	add := func(start, end int64, tx float64) {
		a.intervals[0] = append(a.intervals[0], span{start, end})
		a.ivTx[0] = append(a.ivTx[0], tx)
	}
	const ms = 1_000_000
	for i := int64(0); i < 4; i++ {
		add(i*ms, (i+1)*ms, 200*ms)
	}
	add(4*ms, 5*ms, 0)        // idle
	add(5*ms, 25*ms, 100*ms)  // stalled sampler: unresolved
	add(40*ms, 41*ms, 300*ms) // busy, outside the window
	s := sigStats{spans: map[int][]span{0: {{10 * ms, 24 * ms}, {ms / 2, 12 * ms}}}}
	rate, ok := a.gbps(s)
	if !ok || math.Abs(rate-200) > 1e-9 {
		t.Fatalf("rate %v ok %v, want 200 GB/s", rate, ok)
	}
	s = sigStats{spans: map[int][]span{0: {{ms / 2, 2 * ms}}}}
	if _, ok := a.gbps(s); ok {
		t.Fatal("two busy intervals gave a rate; want none below minBusy")
	}
}

func TestMergeJoinsOverlaps(t *testing.T) {
	got := merge([]span{{5, 9}, {1, 3}, {2, 4}, {9, 10}})
	want := []span{{1, 4}, {5, 10}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("merge = %v, want %v", got, want)
	}
}
