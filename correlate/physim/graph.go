package physim

import (
	"fmt"

	"github.com/linkprof/linkprof/trace"
)

// graph is a CUDA graph every rank captured from the same code: one
// replay runs body on the launch's lane, with no host NCCL call.
type graph struct {
	id     int
	lane   int
	body   []graphOp
	hidden bool // captured before the recording: no trace says what it holds
}

// graphOp is one node of a graph: a collective, or a kernel of computeNs.
type graphOp struct {
	c         *comm
	kind      trace.Kind
	count     uint64
	computeNs int64
}

// Exec is rank r's cudaGraphExec_t of graph g; GraphHandle its cudaGraph_t.
func Exec(r, g int) uint64        { return 0xe100_0000 + uint64(r)<<16 + uint64(g+1)<<4 }
func GraphHandle(r, g int) uint64 { return 0x9100_0000 + uint64(r)<<16 + uint64(g+1)<<4 }

// GraphName is what truth calls the replays of a hidden graph.
func GraphName(g int) string { return fmt.Sprintf("graph %d", g) }

// graphEvent is a CUDA graph API event with the "none" values.
func graphEvent(k trace.Kind) trace.Event {
	return trace.Event{Kind: k, DataType: -1, RedOp: -1, Peer: -1, Rank: -1, NRanks: -1}
}

// capture records g on every rank while the recorder watches: the NCCL
// calls on the capturing stream are written but do not run.
func (w *world) capture(g *graph) {
	for r := range w.n {
		ev := graphEvent(trace.StreamBeginCapture)
		ev.Stream, ev.Peer = stream(r, g.lane), 0 // global capture mode
		w.emit(r, ev)
		w.host[r] += w.cpu()
		for _, op := range g.body {
			if op.c == nil {
				continue
			}
			ev := call(op.kind, op.count, -1)
			ev.Comm, ev.Stream, ev.RedOp = op.c.handle(r), stream(r, g.lane), redOp(op.kind)
			w.emit(r, ev)
			w.truth.Captured[op.kind.Op()]++
			w.host[r] += w.cpu()
		}
		end := graphEvent(trace.StreamEndCapture)
		end.Flags, end.Stream, end.Comm = trace.FlagReturn, stream(r, g.lane), GraphHandle(r, g.id)
		w.emit(r, end)
		w.host[r] += 200_000 + w.rng.Int64N(300_000) // instantiation is slow
		inst := graphEvent(trace.GraphInstantiate)
		inst.Flags, inst.Comm, inst.Aux = trace.FlagReturn, GraphHandle(r, g.id), Exec(r, g.id)
		w.emit(r, inst)
		w.host[r] += w.cpu()
	}
}

// launch replays g on every rank. The collectives inside wait for every
// rank's launch, as eager ones wait for every rank's call.
func (w *world) launch(g *graph) {
	var last int64
	for r := range w.n {
		ev := graphEvent(trace.GraphLaunch)
		ev.Aux, ev.Stream = Exec(r, g.id), stream(r, g.lane)
		w.emit(r, ev)
		w.host[r] += w.cpu()
		last = max(last, w.host[r])
		if g.hidden {
			w.truth.graph(r, g.id).Launches++
		}
	}
	ready := last + w.startDelay()
	for _, op := range g.body {
		if op.c == nil {
			w.eng.push(g.lane, &item{ready: ready, durNs: op.computeNs})
			continue
		}
		tg := &tag{txOp: op.kind.Op(), rxOp: op.kind.Op(), graph: -1, phase: w.phase}
		if g.hidden {
			tg = &tag{graph: g.id, phase: w.phase}
		} else {
			for range w.n {
				w.count(op.kind.Op(), op.count*bf16.Size())
			}
		}
		w.transfer(g.lane, ready, w.proto.ringWire(op.kind, op.count*bf16.Size(), -1, w.n), tg)
	}
}
