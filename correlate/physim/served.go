package physim

import (
	"fmt"

	"github.com/linkprof/linkprof/trace"
)

// model is the served model stand-in's shape for one seed.
type model struct {
	layers      int     // two all-reduces each (attention, MLP)
	decodeCount uint64  // elements per decode all-reduce
	stepNs      int64   // one decode step on the GPU
	prefillBps  float64 // a prefill wave's link rate (TX of a GPU)
}

const hidden = 4096

// newModel draws a model whose prefill waves run at 3-12 GB/s (a TP-2
// stand-in on H200 peaks at 7-11 GiB/s) and whose decode floor is 50-100
// times lower: the decode all-reduce size follows from the floor.
func (w *world) newModel() model {
	m := model{layers: 16 + w.rng.IntN(17), stepNs: 15_000_000 + w.rng.Int64N(15_000_000),
		prefillBps: 3e9 + 9e9*w.rng.Float64()}
	floor := m.prefillBps / (50 + 50*w.rng.Float64())
	perCall := floor * float64(m.stepNs) / 1e9 / float64(2*m.layers) // wire bytes
	const probe = 4 << 10
	perByte := w.proto.ringWire(trace.AllReduce, probe, -1, w.n)[0].tx / probe
	m.decodeCount = max(256, uint64(perCall/perByte/float64(bf16.Size()))/64*64)
	return m
}

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
	m := w.newModel()
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
		w.runPhase(fmt.Sprintf("prefill %d", wave), 0, func() { w.prefill(m, c) })
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

// prefill is one wave of 2 x layers all-reduces of a 128-512 token chunk
// (chunked prefill), spaced by kernels so that it moves bytes at the
// model's prefill rate: per NVML read, the rate is the wave's, not a
// spike of one large transfer.
func (w *world) prefill(m model, c *comm) {
	count := uint64(128+w.rng.IntN(385)) * hidden
	wire := w.proto.ringWire(trace.AllReduce, count*bf16.Size(), -1, w.n)[0].tx
	each := wire / m.prefillBps * 1e9 // ns per all-reduce at that rate
	gap := max(20_000, int64(each-wire/w.baseBps*1e9))
	for range 2 * m.layers {
		w.compute(c.lane, gap)
		w.collective(c, trace.AllReduce, count, -1)
	}
}
