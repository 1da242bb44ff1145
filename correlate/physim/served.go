package physim

import (
	"fmt"

	"github.com/linkprof/linkprof/trace"
)

// model is the served model stand-in's shape for one seed.
type model struct {
	layers      int    // two all-reduces each (attention, MLP)
	decodeCount uint64 // elements per decode all-reduce: batch x hidden
	stepNs      int64  // one decode step on the GPU
}

const hidden = 4096

// decodeBody is one decode step: per all-reduce, the kernels before it.
func (m model) decodeBody(c *comm) []graphOp {
	var ops []graphOp
	gap := m.stepNs / int64(2*m.layers)
	for range 2 * m.layers {
		ops = append(ops, graphOp{computeNs: gap}, graphOp{c: c, kind: trace.AllReduce, count: m.decodeCount})
	}
	return ops
}

// served runs decode steps, a prefill wave every 150-400 ms. graphs is ""
// (eager decode), "seen" (a graph captured while recording) or "before"
// (captured before it: the recorder attached to running ranks).
func served(w *world, graphs string) {
	m := model{layers: 16 + w.rng.IntN(17), decodeCount: uint64(1+w.rng.IntN(8)) * hidden,
		stepNs: 12_000_000 + w.rng.Int64N(13_000_000)}
	c := w.newComm()
	var g *graph
	switch graphs {
	case "before":
		c.connected, c.p2p = true, true
		g = &graph{id: 0, lane: c.lane, body: m.decodeBody(c), hidden: true}
	case "seen":
		w.initComm(c)
		w.decodeEager(m, c) // warm-up: the lazy connection
		w.sync()
		g = &graph{id: 0, lane: c.lane, body: m.decodeBody(c)}
		w.capture(g)
	default:
		w.initComm(c)
	}
	ratio := 50 + 50*w.rng.Float64()
	end := w.latest() + int64(3e9*w.scale)
	for wave := 0; w.latest() < end; wave++ {
		next := w.latest() + 150_000_000 + w.rng.Int64N(250_000_000)
		for w.latest() < next {
			if g != nil {
				w.launch(g)
			} else {
				w.decodeEager(m, c)
			}
			w.sync()
		}
		w.runPhase(fmt.Sprintf("prefill %d", wave), 0, func() { w.prefill(m, c, ratio) })
	}
}

func (w *world) decodeEager(m model, c *comm) {
	for _, op := range m.decodeBody(c) {
		if op.c == nil {
			w.compute(c.lane, op.computeNs)
			continue
		}
		w.collective(c, op.kind, op.count, -1)
	}
}

// prefill is one wave of 2 x layers large all-reduces, spaced by kernels
// so that its link rate is ratio times the decode floor's.
func (w *world) prefill(m model, c *comm, ratio float64) {
	count := uint64(512+w.rng.IntN(3585)) * hidden
	floor := w.proto.ringWire(trace.AllReduce, m.decodeCount*bf16.Size(), -1, w.n)[0].tx *
		float64(2*m.layers) / float64(m.stepNs) * 1e9
	wire := w.proto.ringWire(trace.AllReduce, count*bf16.Size(), -1, w.n)[0].tx
	each := wire / (ratio * floor) * 1e9 // ns per all-reduce at the target rate
	gap := max(20_000, int64(each-wire/w.baseBps*1e9))
	for range 2 * m.layers {
		w.compute(c.lane, gap)
		w.collective(c, trace.AllReduce, count, -1)
	}
}
