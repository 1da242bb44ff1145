package report

import (
	"slices"
	"testing"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/internal/paths"
)

// Launches of graphs captured before the recording cannot be expanded:
// the graph-replay path becomes a hint, with those launches counted.
func TestHintForUnknownGraphs(t *testing.T) {
	if !slices.ContainsFunc(paths.Known, func(p paths.Path) bool { return p.Name == graphReplayPath }) {
		t.Fatalf("paths.Known has no %q", graphReplayPath)
	}
	r := &Report{Ops: []Op{{Op: "AllReduce", Traffic: Traffic{Calls: 4, Link: Link{TxBytes: 98}}}, {Op: "CustomAllReduce", Traffic: Traffic{Calls: 6}},
		{Op: "DeepEPDispatch", Traffic: Traffic{Calls: 5}}, {Op: "DeepEPCombine", Traffic: Traffic{Calls: 5}}},
		Unattributed: Unattributed{Link: Link{TxBytes: 2}},
		Graphs:       []graphs.Summary{{ID: 1, Unknown: true, Launches: 3}, {ID: 2, Launches: 5}}}
	var got []string
	for _, h := range hints(r) {
		got = append(got, h.Path)
		want := map[string]uint64{graphReplayPath: 3, "vllm custom all-reduce": 6, "sglang custom all-reduce": 6,
			"deepep dispatch/combine": 10}[h.Path]
		if h.CallsSeen != want {
			t.Errorf("hint %+v: calls seen %d, want %d", h, h.CallsSeen, want)
		}
	}
	want := []string{"vllm custom all-reduce", "torch symmetric memory all-reduce", "sglang custom all-reduce", graphReplayPath,
		"flashinfer all-reduce", "deepep dispatch/combine", "pplx dispatch/combine", "nvshmem stream collectives"}
	if !slices.Equal(got, want) {
		t.Errorf("hints %v, want %v", got, want)
	}
	r.Unattributed.TxBytes = 0 // below 1% of link TX: nothing to explain
	if h := hints(r); len(h) != 0 {
		t.Errorf("hints %v with no unattributed traffic", h)
	}
}
