package physim

import (
	"math/rand/v2"

	"github.com/linkprof/linkprof/trace"
)

const bf16 = trace.DataType(9)

// Pid is rank r's process id.
func Pid(r int) uint32 { return uint32(5100 + 7*r) }

// comm is a communicator spanning every rank, issued on its own stream.
type comm struct {
	id        int
	lane      int
	connected bool // its lazy connection is made (first call)
	p2p       bool // its point-to-point connections are made
}

// handle is rank r's ncclComm_t of c.
func (c *comm) handle(r int) uint64 { return 0x7f3a_0000_0000 + uint64(r)<<28 + uint64(c.id+1)<<16 }

// stream is rank r's cudaStream_t for lane l.
func stream(r, l int) uint64 { return 0x5c00_0000 + uint64(r)<<20 + uint64(l+1)<<8 }

// world is the ranks' hosts: each rank's thread issues calls at its own
// clock, with its own CPU jitter; the engine runs what they enqueue.
type world struct {
	rng     *rand.Rand
	n       int
	proto   Protocols
	host    []int64 // per rank: when its thread is next free
	events  []trace.Event
	eng     *engine
	truth   *Truth
	phase   int
	comms   []*comm
	baseBps float64 // this seed's typical solo link rate
	scale   float64 // Scenario.Scale
	start   int64   // the recording's start (monotonic)
	clock   *clocks
	recs    []jsonRec // metadata records due during the recording
}

// cpu is the host time one probed API call costs, with an occasional
// hiccup (scheduler, GC, page fault).
func (w *world) cpu() int64 {
	d := 6_000 + w.rng.Int64N(10_000)
	if w.rng.IntN(50) == 0 {
		d += 50_000 + w.rng.Int64N(750_000)
	}
	return d
}

// emit writes a probe event of rank r at its current host time.
func (w *world) emit(r int, ev trace.Event) {
	ev.TsNs, ev.Pid, ev.Tid = uint64(w.host[r]), Pid(r), Pid(r)
	ev.StackID = -1
	w.events = append(w.events, ev)
	w.truth.HostEvents[ev.Kind.String()]++
	if ev.Kind.IsCollective() {
		w.truth.HostPayload[ev.Kind.String()] += ev.PayloadBytes()
	}
}

// call is a NCCL API event with the "none" values the probes write.
func call(k trace.Kind, count uint64, peer int32) trace.Event {
	return trace.Event{Kind: k, Count: count, DataType: bf16, RedOp: -1, Peer: peer,
		Rank: -1, NRanks: -1, SendBuff: 0x7f80_0000_0000, RecvBuff: 0x7f90_0000_0000}
}

// startDelay is how long after its last rank enqueued a collective its
// kernel really begins: usually microseconds, now and then much longer
// (the GPU was busy with work nothing recorded).
func (w *world) startDelay() int64 {
	d := 3_000 + w.rng.Int64N(40_000)
	if w.rng.IntN(30) == 0 {
		d += 100_000 + w.rng.Int64N(900_000)
	}
	return d
}

// connect models NCCL's lazy connection inside a communicator's first
// call (or first point-to-point call): every rank blocks in it until all
// have entered and the connection is made, 0.2-1.5 s later. It returns
// when bytes may flow.
func (w *world) connect(entered int64) int64 {
	done := entered + 200_000_000 + w.rng.Int64N(1_300_000_000)
	for r := range w.host {
		w.host[r] = max(w.host[r], done+5_000+w.rng.Int64N(50_000))
	}
	return done
}

// transfer queues a transfer of the given per-GPU bytes on lane l.
func (w *world) transfer(l int, ready int64, wire []dir, tg *tag) {
	small := true
	for _, d := range wire {
		small = small && d.tx < 1<<20
	}
	solo := w.baseBps * (0.8 + 0.3*w.rng.Float64())
	lat := 8_000 + w.rng.Int64N(15_000)
	if small {
		solo *= 0.4 // LL and short rings never reach the link's rate
	}
	w.eng.push(l, &item{ready: ready, latNs: lat, wire: wire, solo: solo, tag: tg})
}

// compute queues a kernel of d ns on lane l, enqueued by every rank now.
func (w *world) compute(l int, d int64) {
	ready := int64(0)
	for r := range w.host {
		ready = max(ready, w.host[r])
		w.host[r] += 2_000 + w.rng.Int64N(3_000)
	}
	w.eng.push(l, &item{ready: ready, durNs: d})
}

// sync waits, on every rank, for all queued GPU work (torch.cuda.synchronize).
func (w *world) sync() {
	end := w.eng.drain()
	for r := range w.host {
		// ranks wake apart; now and then one is late by up to 2 ms
		// (Python overhead, another thread holding the GIL)
		wake := 5_000 + w.rng.Int64N(60_000)
		if w.rng.IntN(5) == 0 {
			wake += w.rng.Int64N(2_000_000)
		}
		w.host[r] = max(w.host[r], end) + wake
	}
}

// idle sleeps every rank for about d.
func (w *world) idle(d int64) {
	for r := range w.host {
		w.host[r] += d + w.rng.Int64N(d/50+1)
	}
}

// delay holds rank r back by d before its next call.
func (w *world) delay(r int, d int64) { w.host[r] += d }

func (w *world) latest() int64 {
	var m int64
	for _, h := range w.host {
		m = max(m, h)
	}
	return m
}
