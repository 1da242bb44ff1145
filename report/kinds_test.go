package report

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// The op tallies are indexed by kind: every kind must fit, or two kinds
// would share a tally.
func TestKindsFit(t *testing.T) {
	for _, k := range trace.Kinds() {
		if int(k) >= maxKinds {
			t.Fatalf("kind %s is %d, past maxKinds %d", k, k, maxKinds)
		}
	}
}

// Every collective kind has a place in ops, NCCL's before the others, and
// CUDAGraph last.
func TestOpOrderHasEveryCollective(t *testing.T) {
	at := map[trace.Kind]int{}
	for i, k := range opOrder {
		at[k] = i
	}
	for _, k := range trace.Kinds() {
		if !k.IsCollective() && !k.IsCustomCollective() || k == trace.Bcast {
			continue
		}
		i, ok := at[k]
		if !ok {
			t.Errorf("%s is not in opOrder", k)
		}
		if k.IsCustomCollective() && i < at[trace.Recv] {
			t.Errorf("%s comes before NCCL's ops", k)
		}
	}
	if opOrder[len(opOrder)-1] != trace.GraphLaunch {
		t.Errorf("opOrder ends with %s, want CUDAGraph", opOrder[len(opOrder)-1])
	}
}
