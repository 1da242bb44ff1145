package report

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
)

// Two engines (one GPU each) that both saw more bursts than the list
// holds: the merged list is the earliest maxListedBursts of all, in time
// order, from both GPUs, and the rest are counted as omitted.
func TestBurstListKeepsTheEarliestOfEveryShard(t *testing.T) {
	shards := []*Aggregator{NewAggregator(), NewAggregator()}
	for gpu, a := range shards {
		for i := range maxListedBursts + 10 {
			start := int64(10*i + gpu)
			a.Burst(&correlate.Burst{GPU: gpu, StartNs: start, EndNs: start + 5})
		}
	}
	shards[0].Merge(shards[1])
	b := bursts(shards[0], nil, correlate.Options{}, 0)
	if len(b.List) != maxListedBursts || b.Omitted != maxListedBursts+20 {
		t.Fatalf("listed %d, omitted %d; want %d and %d", len(b.List), b.Omitted, maxListedBursts, maxListedBursts+20)
	}
	perGPU := map[int]int{}
	for i, r := range b.List {
		perGPU[r.GPU]++
		if i > 0 && r.StartNs < b.List[i-1].StartNs {
			t.Fatalf("burst %d starts at %d, before the one listed ahead of it (%d)", i, r.StartNs, b.List[i-1].StartNs)
		}
	}
	if perGPU[0] != maxListedBursts/2 || perGPU[1] != maxListedBursts/2 {
		t.Errorf("listed per GPU %v; want the earliest %d of each", perGPU, maxListedBursts/2)
	}
}
