package correlate

import (
	"math"
	"sync"
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
// in file order by the router; batches come back through free for reuse.
// GPUs are dealt among the engines (gpuShard).
type shards struct {
	engines []*Engine
	in      []chan shardItem
	free    []chan shardItem
	wg      sync.WaitGroup
	gpuSlot map[int]int
	bufs    []shardItem
	stopped bool
}

// newShards starts an engine per sink; learning (the first pass) when
// learners is not nil, one per sink, else applying known.
func newShards(opts Options, sinks []Sink, learners []*learner, known *learned) *shards {
	n := len(sinks)
	sh := &shards{gpuSlot: map[int]int{}, bufs: make([]shardItem, n)}
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

// broadcast gives every engine a metadata change, after the data before it.
func (sh *shards) broadcast(apply func(*Engine)) {
	for s, ch := range sh.in {
		sh.flush(s)
		ch <- shardItem{apply: apply}
	}
}

// push queues an item for shard s.
func (sh *shards) push(s int, it *item) {
	b := &sh.bufs[s]
	b.events = append(b.events, *it)
	if len(b.events) >= batchItems {
		sh.flush(s)
	}
}

// pushSample queues a timed sample for shard s.
func (sh *shards) pushSample(s int, ts timedSample) {
	b := &sh.bufs[s]
	b.samples = append(b.samples, ts)
	if len(b.samples) >= batchItems {
		sh.flush(s)
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
	var net GPUSummary // the network links, summed over hosts
	hasNet := false
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
		for state, n := range e.netSummaries() {
			if len(sh.engines) == 1 || sh.gpuShard(state) == i {
				net.addLink(n)
				hasNet = true
			}
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
	if hasNet {
		res.Net = &net
	}
	for _, idx := range order {
		res.GPUs = append(res.GPUs, owned[idx])
	}
}
