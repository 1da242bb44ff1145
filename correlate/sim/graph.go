package sim

import "github.com/linkprof/linkprof/trace"

// Graph makes the simulated ranks serve decode steps from a CUDA graph:
// each rank captures Ops at step 0 and launches the graph at the start of
// every later step, before the step's eager Ops. Not combined with Group.
type Graph struct {
	Ops []Op
	// Recapture, when > 0, is the step at which every rank destroys its
	// exec and graph and captures Ops2 instead under the same handles (the
	// driver reuses freed handles).
	Recapture int
	Ops2      []Op
	// Driver writes each graph call twice, as libcudart does: the runtime
	// call and the driver call it makes inside (trace.FlagDriver).
	Driver bool
}

// GraphHandle and ExecHandle are rank r's cudaGraph_t and cudaGraphExec_t.
func GraphHandle(r int) uint64 { return 0x9000_0000 + uint64(r)<<12 }
func ExecHandle(r int) uint64  { return 0xe000_0000 + uint64(r)<<12 }

// graphStep issues a step's graph calls on every rank and runs what a
// launch replays; it returns when the step's eager calls may begin.
func (g *gen) graphStep(s int, t0 int64, skew []int64) int64 {
	gc, c := g.cfg.Graph, g.cfg
	if s == 0 || s == gc.Recapture {
		ops := gc.Ops
		if s > 0 {
			ops = gc.Ops2
		}
		for r := 0; r < c.Ranks; r++ {
			g.capture(r, s > 0, ops, t0+skew[r])
		}
		return t0 + int64(len(ops)+3)*c.HostGapNs
	}
	ops := gc.Ops
	if gc.Recapture > 0 && s > gc.Recapture {
		ops = gc.Ops2
	}
	ready := int64(0)
	for r := 0; r < c.Ranks; r++ {
		g.graphCall(r, trace.Event{Kind: trace.GraphLaunch, Aux: ExecHandle(r), Stream: Stream}, t0+skew[r])
		ready = max(ready, t0+skew[r]+c.LagNs)
		for _, op := range ops {
			g.count(op, r)
		}
	}
	g.truth.Launches += uint64(c.Ranks)
	for _, op := range ops {
		g.execute(op, ready)
	}
	return t0
}

// capture records ops into rank r's graph and instantiates it, after
// destroying the previous graph and exec when redo is set.
func (g *gen) capture(r int, redo bool, ops []Op, at int64) {
	gap := g.cfg.HostGapNs
	if redo {
		g.graphCall(r, trace.Event{Kind: trace.GraphExecDestroy, Aux: ExecHandle(r)}, at-gap/2)
		g.graphCall(r, trace.Event{Kind: trace.GraphDestroy, Comm: GraphHandle(r)}, at-gap/4)
	}
	g.graphCall(r, trace.Event{Kind: trace.StreamBeginCapture, Stream: Stream}, at)
	for i, op := range ops {
		g.call(r, op, at+int64(i+1)*gap)
		g.truth.Captured[op.Kind.Op()]++
	}
	end := at + int64(len(ops)+1)*gap
	g.graphCall(r, trace.Event{Kind: trace.StreamEndCapture, Stream: Stream, Comm: GraphHandle(r), Flags: trace.FlagReturn}, end)
	g.graphCall(r, trace.Event{Kind: trace.GraphInstantiate, Comm: GraphHandle(r), Aux: ExecHandle(r), Flags: trace.FlagReturn}, end+gap/2)
}

// graphCall writes a graph API event of rank r, and its driver twin.
func (g *gen) graphCall(r int, ev trace.Event, at int64) {
	ev.TsNs, ev.Pid, ev.Tid, ev.StackID = uint64(at), Pid(r), Pid(r), -1
	ev.DataType, ev.RedOp, ev.Peer, ev.Rank, ev.NRanks = -1, -1, -1, -1, -1
	g.events = append(g.events, ev)
	if g.cfg.Graph.Driver {
		ev.TsNs += 100
		ev.Flags |= trace.FlagDriver
		g.events = append(g.events, ev)
	}
}
