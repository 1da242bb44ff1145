package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// item is an event as an engine takes it: graph expansion already done.
// Expansion needs every event of a process in order, so it runs once, where
// the trace is read, before events are dealt to engines.
type item struct {
	ev    trace.Event
	gpu   int // its communicator's GPU, else its process's; -1 none (the router's placement)
	phase graphs.Phase
	// synth marks a replayed collective made from a launch (not a
	// recorded event, so not counted in Stats.Events).
	synth bool
	graph int32 // graph ID; 0 none (and for capture-time calls: IDs come at capture end)
	// launch numbers the graph's launches; for a launch item, calls is
	// how many collectives it replays.
	launch int32
	calls  int32
	// unknown marks a launch of a graph captured before the recording:
	// its contents, so its bytes, are unknown (the fit learns them).
	unknown bool
	// arrive gathers the ranks' arrivals at this collective (nil when
	// its communicator's creation was not recorded).
	arrive *arrival
	// net marks the copy of a collective that models its share on the
	// host's network link (gpu is then netState, rankGPU its rank's GPU,
	// share its fraction of the ring bytes there); noNVLink, that NCCL's
	// P2P transport is off, so NVLink carries none of it (netroute.go).
	net      bool
	noNVLink bool
	share    float32
	rankGPU  int
}

// expander runs the CUDA-graph model over recorded events in file order
// (one ring buffer: each thread's events in program order). Until a
// process makes a graph call, events pass through untouched: traces
// without graphs pay one comparison per event.
type expander struct {
	model  *graphs.Model
	active bool
	calls  []graphs.Call
}

// expand hands out the items one recorded event stands for: the event
// itself, labelled with its phase, then the collectives a launch replays.
func (x *expander) expand(ev *trace.Event, out func(*item)) {
	if !x.active {
		if !ev.Kind.IsGraph() {
			out(&item{ev: *ev})
			return
		}
		x.active, x.model = true, graphs.New()
	}
	x.calls = x.model.AddTo(x.calls[:0], *ev)
	it := item{ev: *ev}
	if len(x.calls) > 0 && x.calls[0].Phase == graphs.Capture {
		it.phase = graphs.Capture
	}
	g := x.model.Launched()
	if g != nil {
		it.phase, it.graph, it.launch, it.calls = graphs.Replay, int32(g.ID), int32(g.Launches-1), int32(g.Collectives())
		it.unknown = g.Unknown
	}
	out(&it)
	for i := range x.calls {
		c := &x.calls[i]
		if c.Phase == graphs.Replay {
			out(&item{ev: c.Event, phase: graphs.Replay, synth: true, graph: int32(c.Graph.ID), launch: int32(c.Launch)})
		}
	}
}

// summaries describes every graph seen, for report.json.
func (x *expander) summaries() []graphs.Summary {
	out := []graphs.Summary{}
	if x.model == nil {
		return out
	}
	for _, g := range x.model.Graphs() {
		out = append(out, g.Summary())
	}
	return out
}
