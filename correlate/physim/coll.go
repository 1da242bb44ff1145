package physim

import "github.com/linkprof/linkprof/trace"

// initComm creates c on every rank: the return probe of ncclCommInitRank
// and the Comm record the recorder writes from it. Init takes a while and
// ranks finish it apart.
func (w *world) initComm(c *comm) {
	for r := range w.n {
		w.host[r] += 80_000_000 + w.rng.Int64N(40_000_000)
		ev := trace.Event{Kind: trace.CommInitRank, Flags: trace.FlagReturn, Comm: c.handle(r),
			Aux: 0x7ffd_1000_0000 + uint64(r)<<12, Rank: int32(r), NRanks: int32(w.n), DataType: -1, RedOp: -1, Peer: -1}
		w.emit(r, ev)
		w.record(w.host[r], trace.RecComm, trace.Comm{Pid: Pid(r), Handle: c.handle(r), Rank: int32(r),
			NRanks: int32(w.n), Kind: "CommInitRank", TsNs: uint64(w.host[r])})
		w.host[r] += w.cpu()
	}
}

// count adds one executed call to the truth.
func (w *world) count(op string, payload uint64) {
	o := w.truth.op(op)
	o.Calls++
	o.Payload += payload
}

func redOp(k trace.Kind) trace.RedOp {
	if k == trace.AllReduce || k == trace.ReduceScatter {
		return 0 // sum
	}
	return -1
}

// collective issues one collective of kind k (count elements of bf16, as
// the NCCL argument says) on every rank of c. Bcast is torch's broadcast:
// ncclBcast calls ncclBroadcast inside NCCL, so both probes fire, on one
// thread about 10 us apart, for one broadcast.
func (w *world) collective(c *comm, k trace.Kind, count uint64, root int) {
	var last int64
	for r := range w.n {
		ev := call(k, count, int32(root))
		ev.Comm, ev.Stream, ev.RedOp = c.handle(r), stream(r, c.lane), redOp(k)
		w.emit(r, ev)
		if k == trace.Bcast {
			w.host[r] += 8_000 + w.rng.Int64N(5_000)
			ev.Kind = trace.Broadcast
			w.emit(r, ev)
		}
		w.host[r] += w.cpu()
		last = max(last, w.host[r])
		w.count(k.Op(), count*bf16.Size())
	}
	op := k.Op()
	w.transfer(c.lane, w.ready(c, last, false), w.proto.ringWire(k, count*bf16.Size(), root, w.n),
		&tag{txOp: op, rxOp: op, graph: -1, phase: w.phase})
}

// ready is when a call whose last rank returned at last may move bytes,
// after a lazy connection if it is the communicator's first (p2p: first
// point-to-point) call.
func (w *world) ready(c *comm, last int64, p2p bool) int64 {
	if !c.connected || p2p && !c.p2p {
		last = w.connect(last)
		c.connected = true
		c.p2p = c.p2p || p2p
	}
	return last + w.startDelay()
}

// alltoall is ncclAlltoAll (NCCL >= 2.28): count elements per peer,
// carried over point-to-point connections.
func (w *world) alltoall(c *comm, count uint64) {
	var last int64
	for r := range w.n {
		ev := call(trace.AlltoAll, count, -1)
		ev.Comm, ev.Stream = c.handle(r), stream(r, c.lane)
		w.emit(r, ev)
		w.host[r] += w.cpu()
		last = max(last, w.host[r])
		w.count("AlltoAll", count*bf16.Size())
	}
	bytes := make([][]uint64, w.n)
	for r := range bytes {
		bytes[r] = make([]uint64, w.n)
		for q := range bytes[r] {
			bytes[r][q] = count * bf16.Size()
		}
	}
	w.transfer(c.lane, w.ready(c, last, true), w.proto.p2pWire(bytes),
		&tag{txOp: "AlltoAll", rxOp: "AlltoAll", graph: -1, phase: w.phase})
}

// alltoallv is torch's all_to_all_single with splits on older NCCL: a
// group of ncclSend and ncclRecv, one pair per peer, itself included,
// launched at ncclGroupEnd. counts[r][q] is what r sends q (elements).
func (w *world) alltoallv(c *comm, counts [][]uint64) {
	var last int64
	marker := func(r int, k trace.Kind, depth int32) {
		w.emit(r, trace.Event{Kind: k, DataType: -1, RedOp: -1, Peer: -1, Rank: -1, NRanks: -1, GroupDepth: depth})
		w.host[r] += w.cpu()
	}
	for r := range w.n {
		marker(r, trace.GroupStart, 0)
		for q := range w.n {
			for _, k := range []trace.Kind{trace.Send, trace.Recv} {
				n := counts[r][q]
				if k == trace.Recv {
					n = counts[q][r]
				}
				ev := call(k, n, int32(q))
				ev.Comm, ev.Stream, ev.GroupDepth = c.handle(r), stream(r, c.lane), 1
				w.emit(r, ev)
				w.host[r] += w.cpu()
				w.count(k.Op(), n*bf16.Size())
			}
		}
		marker(r, trace.GroupEnd, 1)
		last = max(last, w.host[r])
	}
	bytes := make([][]uint64, w.n)
	for r := range bytes {
		bytes[r] = make([]uint64, w.n)
		for q := range bytes[r] {
			bytes[r][q] = counts[r][q] * bf16.Size()
		}
	}
	w.transfer(c.lane, w.ready(c, last, true), w.proto.p2pWire(bytes),
		&tag{txOp: "Send", rxOp: "Recv", graph: -1, phase: w.phase})
}

// peerCopy is a cudaMemcpyPeerAsync from GPU src to dst on a copy
// engine: link bytes no NCCL call explains, on a lane of its own.
func (w *world) peerCopy(l, src, dst int, bytes float64) {
	wire := make([]dir, w.n)
	wire[src].tx, wire[dst].rx = bytes, bytes
	w.transfer(l, w.latest(), wire, &tag{graph: -1, phase: w.phase})
}
