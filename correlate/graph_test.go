package correlate_test

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

const steps, recapture = 40, 20

// graphServing is a decode loop served from CUDA graphs: every rank
// captures two 16 MiB all-reduces, a custom all-reduce and an all-gather,
// replays them at steps 1-19, then destroys graph and exec and captures an
// all-reduce and a broadcast under the same handles, replayed at steps
// 21-39; one eager all-gather per step between the launches; every graph
// call also seen as its driver twin.
func graphServing() sim.Config {
	return sim.Config{Ranks: 2, Steps: steps, Seed: 5, StepGapNs: 12_000_000, SkewNs: 60_000, LagNs: 400_000,
		JitterNs: 150_000, NoiseBps: 2e7, Stacks: true,
		Ops: []sim.Op{{Kind: trace.AllGather, Count: 2 << 20, DType: bf16}},
		Graph: &sim.Graph{Recapture: recapture, Driver: true,
			Ops: []sim.Op{
				{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
				{Kind: trace.CustomAllReduce, Count: 4 << 20, DType: bf16},
				{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
				{Kind: trace.AllGather, Count: 1 << 20, DType: bf16},
			},
			Ops2: []sim.Op{
				{Kind: trace.AllReduce, Count: 4 << 20, DType: bf16},
				{Kind: trace.Broadcast, Count: 2 << 20, DType: bf16},
			}}}
}

func TestGraphReplaysCountedAndAttributed(t *testing.T) {
	truth, c, res := run(t, graphServing(), correlate.Options{})
	const ranks, first, second = 2, recapture - 1, steps - recapture - 1 // launches per rank of each graph
	wantCalls := map[string]uint64{
		"AllReduce":       ranks * (first*2 + second),
		"CustomAllReduce": ranks * first,
		"AllGather":       ranks * (steps + first),
		"Broadcast":       ranks * second,
	}
	wantCaptured := map[string]uint64{"AllReduce": ranks * 3, "CustomAllReduce": ranks, "AllGather": ranks, "Broadcast": ranks}
	for op, n := range wantCalls {
		if c.calls[op] != n || truth.Calls[op] != n {
			t.Errorf("%s: %d calls executed, sim says %d, want %d", op, c.calls[op], truth.Calls[op], n)
		}
		if c.captured[op] != wantCaptured[op] || truth.Captured[op] != wantCaptured[op] {
			t.Errorf("%s: %d capture-time calls, sim says %d, want %d", op, c.captured[op], truth.Captured[op], wantCaptured[op])
		}
	}
	if len(c.calls) != len(wantCalls) || c.capturedRan != 0 {
		t.Errorf("calls %v; %d capture-time calls moved bytes", c.calls, c.capturedRan)
	}
	if c.phases["graph-replay"] != ranks*(first*4+second*2) || c.phases["eager"] != ranks*steps {
		t.Errorf("phases %v", c.phases)
	}
	st := res.Stats
	if st.GraphLaunches != ranks*(first+second) || st.ReplayedCalls != c.phases["graph-replay"] || st.CapturedCalls != ranks*6 {
		t.Errorf("stats %+v", st)
	}
	for op, want := range truth.OpTx {
		got := min(c.tx[op], want) + min(c.rx[op], truth.OpRx[op])
		if share := got / (want + truth.OpRx[op]); share < 0.98 {
			t.Errorf("%s: %.2f%% of its link bytes attributed to it", op, 100*share)
		}
	}
	t.Logf("right share %.4f, unattributed tx %.3g (truth %.3g)", rightShare(truth, c), c.unTx, truth.UnexplTx)
}

// Graphs: one per capture, in capture-end order (ranks' skew decides the
// order within a step); the recaptured graph has the old one's handle;
// launches resolve to the graph their exec came from.
func TestGraphSummaries(t *testing.T) {
	_, _, res := run(t, graphServing(), correlate.Options{})
	if len(res.Graphs) != 4 {
		t.Fatalf("%d graphs, want 4", len(res.Graphs))
	}
	if res.Graphs[0].Pid == res.Graphs[1].Pid || res.Graphs[2].Pid == res.Graphs[3].Pid {
		t.Errorf("each capture step makes one graph per rank: %+v", res.Graphs)
	}
	for i, g := range res.Graphs {
		r := int(g.Pid - sim.Pid(0))
		n, launches, destroyed := 4, recapture-1, true
		if i >= 2 {
			n, launches, destroyed = 2, steps-recapture-1, false
		}
		if g.ID != i+1 || g.Pid != sim.Pid(r) || g.Handle != sim.GraphHandle(r) || g.Stream != sim.Stream ||
			len(g.Captured) != n || g.Launches != launches || g.ExecutedCalls != n*launches || g.Destroyed != destroyed || g.Unknown {
			t.Errorf("graph %d: %+v", i+1, g)
		}
	}
	if c := res.Graphs[0].Captured[1]; c.Op != "CustomAllReduce" || c.Count != 4<<20 || c.PayloadBytes != 8<<20 ||
		c.Comm != sim.CustomComm(int(res.Graphs[0].Pid-sim.Pid(0))) {
		t.Errorf("captured custom all-reduce %+v", c)
	}
}

type callList []correlate.Call

func (l *callList) Call(c *correlate.Call)       { *l = append(*l, *c) }
func (l *callList) Interval(*correlate.Interval) {}
func (l *callList) Burst(*correlate.Burst)       {}

// A custom all-reduce names its own object, not an NCCL communicator: its
// size comes from the process's widest communicator when the environment
// says nothing; it moves the ring's bytes with no protocol overhead.
func TestCustomAllReduceRanks(t *testing.T) {
	var evs []trace.Event
	for i, n := range []int32{2, 4} {
		evs = append(evs, trace.Event{TsNs: 100, Pid: 7, Tid: 7, Kind: trace.CommInitRank, Flags: trace.FlagReturn,
			Comm: uint64(0xc0 + i), Rank: 1, NRanks: n})
	}
	evs = append(evs, trace.Event{TsNs: 200, Pid: 7, Tid: 7, Kind: trace.CustomAllReduce, Comm: 0xfa, Count: 1 << 20, DataType: bf16})
	dir := writeTrace(t, func(w *trace.Writer) {
		w.WriteJSON(trace.RecProcess, trace.Process{Pid: 7, GPU: 0, Rank: -1, LocalRank: -1, WorldSize: -1})
		w.WriteJSON(trace.RecGPU, trace.GPU{Index: 0})
		writeEvents(w, evs)
	})
	var got callList
	if _, err := correlate.Analyze(dir, correlate.Options{}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("calls %+v", got)
	}
	c := got[0]
	if c.Rank != 1 || c.NRanks != 4 || c.ExpTx != 1.5*(2<<20) || c.Protocol != correlate.Simple || c.Phase.String() != "eager" {
		t.Errorf("custom all-reduce rank %d of %d, expected tx %.0f, protocol %s, phase %s", c.Rank, c.NRanks, c.ExpTx, c.Protocol, c.Phase)
	}
}
