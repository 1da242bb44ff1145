package correlate

import (
	"math"
	"sync"

	"github.com/linkprof/linkprof/trace"
)

// shardItem is a batch for one engine: metadata to apply, or data.
type shardItem struct {
	apply   func(*Engine)
	events  []item
	samples []timedSample
}

// batchItems is how many events or samples go to an engine at once.
const batchItems = 4096

// batchPool is how many batches each engine has: the reader fills one
// while the engine works through the others; it waits when all are queued,
// so memory stays bounded and no batch is allocated after the start.
const batchPool = 12

// shards runs one engine per sink, each on its own goroutine, fed batches
// in file order; batches come back through free for reuse.
type shards struct {
	engines []*Engine
	in      []chan shardItem
	free    []chan shardItem
	wg      sync.WaitGroup
	gpuSlot map[int]int
	pidGPU  map[uint32]int
	bufs    []shardItem
	exp     expander
	arrive  *arrivals
	nested  nestedCalls
	route   func(*item) // sh.item, made once
	stopped bool
}

// newShards starts an engine per sink; learning (the first pass) when
// learners is not nil, one per sink, else applying known.
func newShards(opts Options, sinks []Sink, learners []*learner, known *learned) *shards {
	n := len(sinks)
	sh := &shards{gpuSlot: map[int]int{}, pidGPU: map[uint32]int{}, bufs: make([]shardItem, n), arrive: newArrivals()}
	for i, s := range sinks {
		var ln *learner
		if learners != nil {
			ln = learners[i]
		}
		e := newEngine(opts, s, ln, known)
		in, free := make(chan shardItem, batchPool+1), make(chan shardItem, batchPool)
		for range batchPool - 1 {
			free <- newBatch()
		}
		sh.engines, sh.in, sh.free = append(sh.engines, e), append(sh.in, in), append(sh.free, free)
		sh.wg.Add(1)
		go func() {
			defer sh.wg.Done()
			for it := range in {
				e.consume(&it)
				if it.apply == nil {
					free <- shardItem{events: it.events[:0], samples: it.samples[:0]}
				}
			}
		}()
	}
	for i := range sh.bufs {
		sh.bufs[i] = newBatch()
	}
	sh.route = sh.item
	return sh
}

func (e *Engine) consume(it *shardItem) {
	if it.apply != nil {
		it.apply(e)
	}
	for i := range it.events {
		e.addItem(&it.events[i])
	}
	for i := range it.samples {
		e.order.addSample(e, &it.samples[i])
	}
}

func (sh *shards) gpuShard(gpu int) int {
	s, ok := sh.gpuSlot[gpu]
	if !ok {
		s = len(sh.gpuSlot) % len(sh.engines)
		sh.gpuSlot[gpu] = s
	}
	return s
}

func (sh *shards) pidShard(pid uint32) int {
	if len(sh.engines) == 1 {
		return 0
	}
	if g, ok := sh.pidGPU[pid]; ok && g >= 0 {
		return sh.gpuShard(g)
	}
	return 0
}

// event expands an event's CUDA graph launches (graph state is per
// process and needs all of its events in order, so this happens before
// routing) and routes what it stands for to its process's engine.
func (sh *shards) event(ev trace.Event) {
	if sh.nested.inner(&ev) {
		return
	}
	if !sh.exp.active && !ev.Kind.IsGraph() {
		sh.item(&item{ev: ev})
		return
	}
	sh.exp.expand(&ev, sh.route)
}

// item routes an item to the engine of its process's GPU, its arrival
// at its communicator's collective counted first.
func (sh *shards) item(it *item) {
	sh.arrive.observe(it)
	s := sh.pidShard(it.ev.Pid)
	b := &sh.bufs[s]
	b.events = append(b.events, *it)
	if len(b.events) >= batchItems {
		sh.flush(s)
	}
}

// sample times a sample and routes it to the engine of its GPU.
func (sh *shards) sample(align *Aligner, smp trace.Sample) {
	s := 0
	if len(sh.engines) > 1 {
		s = sh.gpuShard(int(smp.GPU))
	}
	t, nvml := align.SampleTime(&smp)
	b := &sh.bufs[s]
	b.samples = append(b.samples, timedSample{t: t, nvml: nvml, s: smp})
	if len(b.samples) >= batchItems {
		sh.flush(s)
	}
}

func (sh *shards) flush(s int) {
	b := sh.bufs[s]
	if len(b.events) == 0 && len(b.samples) == 0 {
		return
	}
	sh.in[s] <- b
	sh.bufs[s] = <-sh.free[s]
}

func newBatch() shardItem {
	return shardItem{events: make([]item, 0, batchItems), samples: make([]timedSample, 0, batchItems)}
}

// broadcast gives every engine a metadata record, after the data before it.
func (sh *shards) broadcast(apply func(*Engine), rec trace.Record) {
	switch rec.Type {
	case trace.RecGPU:
		var g trace.GPU
		if rec.JSON(&g) == nil {
			sh.gpuShard(g.Index)
		}
	case trace.RecProcess:
		var p trace.Process
		if rec.JSON(&p) == nil {
			if g := gpuOfProcess(p); g >= 0 || sh.pidGPU[p.Pid] < 0 {
				sh.pidGPU[p.Pid] = g
			} else if _, ok := sh.pidGPU[p.Pid]; !ok {
				sh.pidGPU[p.Pid] = -1
			}
		}
	case trace.RecComm:
		// The engines' last resort too (Engine.AddComm): rank r on GPU r.
		var c trace.Comm
		if rec.JSON(&c) == nil && c.Rank >= 0 && c.NRanks > 1 {
			if g, ok := sh.pidGPU[c.Pid]; !ok || g < 0 {
				sh.pidGPU[c.Pid] = int(c.Rank)
			}
		}
	}
	for s, ch := range sh.in {
		sh.flush(s)
		ch <- shardItem{apply: apply}
	}
}

func (sh *shards) stop() {
	if !sh.stopped {
		sh.stopped = true
		for _, ch := range sh.in {
			close(ch)
		}
		sh.wg.Wait()
	}
}

// finish drains the engines and merges what they found.
func (sh *shards) finish(res *Result) {
	for s := range sh.in {
		sh.flush(s)
	}
	sh.stop()
	st := Stats{FirstNs: math.MaxInt64}
	owned := map[int]GPUSummary{}
	var order []int
	for i, e := range sh.engines {
		s := e.Finish()
		st.Events += s.Events
		st.Calls += s.Calls
		st.UnmappedCalls += s.UnmappedCalls
		st.GuessedCalls += s.GuessedCalls
		st.GuessedRanks = max(st.GuessedRanks, s.GuessedRanks)
		st.CapturedCalls += s.CapturedCalls
		st.ReplayedCalls += s.ReplayedCalls
		st.GraphLaunches += s.GraphLaunches
		st.LateItems += s.LateItems
		st.ClockPairs = max(st.ClockPairs, s.ClockPairs)
		if s.LastNs > 0 {
			st.FirstNs, st.LastNs = min(st.FirstNs, s.FirstNs), max(st.LastNs, s.LastNs)
		}
		for _, g := range e.GPUs() {
			if i == 0 {
				order = append(order, g.Index)
			}
			if len(sh.engines) == 1 || sh.gpuShard(g.Index) == i {
				owned[g.Index] = g
			}
		}
	}
	if st.FirstNs == math.MaxInt64 {
		st.FirstNs = 0
	}
	res.Stats = st
	res.Graphs = sh.exp.summaries()
	for _, idx := range order {
		res.GPUs = append(res.GPUs, owned[idx])
	}
}

// gpuOfProcess is the GPU AddProcess assigns: NVML's, else LOCAL_RANK.
func gpuOfProcess(p trace.Process) int {
	if p.GPU >= 0 {
		return p.GPU
	}
	return p.LocalRank
}
