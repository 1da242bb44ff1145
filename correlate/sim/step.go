package sim

import (
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// step issues step s's calls on every rank and runs them on the GPUs.
func (g *gen) step(s int, t0 int64) {
	c := g.cfg
	skew := make([]int64, c.Ranks)
	for r := range skew {
		if c.SkewNs > 0 {
			skew[r] = g.rng.Int64N(c.SkewNs)
		}
	}
	if c.Graph != nil {
		t0 = g.graphStep(s, t0, skew)
	}
	ops := c.stepOps(s)
	groupEnd := int64(len(ops)+1) * c.HostGapNs
	for i, op := range ops {
		ready := int64(0)
		for r := 0; r < c.Ranks; r++ {
			at := t0 + int64(i+1)*c.HostGapNs + skew[r]
			g.call(r, op, at)
			g.count(op, r)
			launch := at
			if c.Group {
				launch = t0 + groupEnd + skew[r]
			}
			ready = max(ready, launch+c.LagNs)
		}
		g.execute(op, ready)
	}
	if c.Group {
		for r := 0; r < c.Ranks; r++ {
			g.marker(r, trace.GroupStart, t0+skew[r], 0)
			g.marker(r, trace.GroupEnd, t0+groupEnd+skew[r], 1)
		}
	}
	g.flushEvents()
	next := t0 + c.StepGapNs
	g.addBlobs(next + c.LagNs)
	g.samplesUntil(next + c.LagNs)
}

func (g *gen) call(r int, op Op, at int64) {
	peer := op.Root
	if op.Kind == trace.Send || op.Kind == trace.Recv {
		peer = int32((r + 1) % g.cfg.Ranks)
	}
	depth := int32(0)
	if g.cfg.Group {
		depth = 1
	}
	stack := int32(-1)
	if g.cfg.Stacks {
		stack = int32(op.Kind)
	}
	comm, stream := Comm(r), uint64(Stream)
	if op.Kind.IsCustomCollective() {
		// The custom all-reduce object, and no stream argument.
		comm, stream = CustomComm(r), 0
	}
	g.events = append(g.events, trace.Event{
		TsNs: uint64(at), Pid: Pid(r), Tid: Pid(r), Kind: op.Kind, StackID: stack, Count: op.Count,
		Comm: comm, Stream: stream, SendBuff: 0x10000, RecvBuff: 0x20000, DataType: op.DType,
		RedOp: 0, Peer: peer, GroupDepth: depth, Rank: -1, NRanks: -1,
	})
}

// CustomComm is rank r's custom all-reduce object.
func CustomComm(r int) uint64 { return 0x7e0000002000 + uint64(r)<<20 }

// count adds an executed call of rank r to the truth.
func (g *gen) count(op Op, r int) {
	g.truth.Calls[op.Kind.Op()]++
	g.truth.Payload[op.Kind.Op()] += op.Count * op.DType.Size()
}

func (g *gen) marker(r int, k trace.Kind, at int64, depth int32) {
	g.events = append(g.events, trace.Event{TsNs: uint64(at), Pid: Pid(r), Tid: Pid(r), Kind: k,
		StackID: -1, DataType: -1, RedOp: -1, Peer: -1, GroupDepth: depth})
}

// execute runs one collective on every GPU at once (a ring waits for its
// slowest rank), after the previous one, at a link rate that varies.
func (g *gen) execute(op Op, ready int64) {
	c := g.cfg
	p := op.Count * op.DType.Size()
	start := max(ready, g.gpuFree)
	wires := make([]correlate.Wire, c.Ranks)
	var most float64
	for r := range wires {
		w := correlate.RingWire(op.Kind, p, r, c.Ranks, int(op.Root))
		f := g.factor(correlate.ProtocolOf(op.Kind, w.Msg))
		w.Tx, w.Rx = w.Tx*f, w.Rx*f
		wires[r] = w
		most = max(most, w.Tx, w.Rx)
	}
	rate := c.LinkBps * (0.85 + 0.3*g.rng.Float64())
	end := start + int64(most/rate*1e9) + 1000
	for r, w := range wires {
		if w.Tx+w.Rx == 0 {
			continue
		}
		s := Segment{GPU: r, StartNs: start, EndNs: end, Tx: w.Tx, Rx: w.Rx, Op: op.Kind.Op(), Payload: p}
		g.links[r].add(s)
		g.truth.OpTx[s.Op] += w.Tx
		g.truth.OpRx[s.Op] += w.Rx
		if c.KeepSegments {
			g.truth.Segments = append(g.truth.Segments, s)
		}
	}
	g.gpuFree = end
}

func (g *gen) flushEvents() {
	slices.SortStableFunc(g.events, func(a, b trace.Event) int {
		return int(int64(a.TsNs) - int64(b.TsNs))
	})
	g.evbuf = g.evbuf[:0]
	for _, ev := range g.events {
		g.evbuf = trace.AppendEvent(g.evbuf, ev)
	}
	g.truth.Events += uint64(len(g.events))
	if len(g.evbuf) > 0 {
		_ = g.w.WriteEvents(g.evbuf)
	}
	g.events = g.events[:0]
}

// addBlobs starts unexplained transfers due before horizon.
func (g *gen) addBlobs(horizon int64) {
	for len(g.blobs) > 0 && g.cfg.StartMonoNs+g.blobs[0].AtNs < horizon {
		b := g.blobs[0]
		g.blobs = g.blobs[1:]
		at := g.cfg.StartMonoNs + b.AtNs
		s := Segment{GPU: b.GPU, StartNs: at, EndNs: at + int64(b.Bytes/g.cfg.LinkBps*1e9) + 1000, Tx: b.Bytes, Rx: b.Bytes}
		g.links[b.GPU].add(s)
		g.truth.UnexplTx += b.Bytes
		g.truth.UnexplRx += b.Bytes
		g.truth.BlobWindows = append(g.truth.BlobWindows, s)
	}
}
