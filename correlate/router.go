package correlate

import (
	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/internal/placement"
	"github.com/linkprof/linkprof/trace"
)

// router reads a trace once, in file order, and is the one place that
// decides what engines see: metadata decoded once (typed records), sample
// times on the monotonic clock (Aligner), CUDA graph launches expanded and
// nested NCCL calls dropped (both need a process's events in order, so
// they happen here, before events are dealt), ranks' arrivals at each
// collective counted, and work placed on GPUs (internal/placement): its
// events go to the engine that owns that GPU.
type router struct {
	sh     *shards
	res    *Result
	align  Aligner
	exp    expander
	nested nestedCalls
	match  *arrivals.Matcher
	place  *placement.Placement
	route  func(*item) // r.item, made once
	starts []StartSink
	// groups are the open ncclGroupStart/End of each thread and the
	// shards that got their calls: the group's end goes to each of them
	// (one thread may group calls on several GPUs' communicators).
	groups map[threadKey]uint64
	// Matched collectives per communicator, and the sink that gets them
	// with every rank's arrival (skew.go; arr is reused).
	matched map[int]uint64
	arrSink ArrivalSink
	arr     Arrival
	named   namedGroups // members of groups named by string (named.go)
	net     *netRoute
}

// StartSink wants the recording's start record before any data (the
// timeline's time origin): an engine's sink, or the arrival sink, which
// the router calls once for a sink the engines share.
type StartSink interface {
	Start(s trace.Start)
}

func newRouter(sh *shards, res *Result, sinks []Sink, arr ArrivalSink) *router {
	r := &router{sh: sh, res: res, match: arrivals.NewMatcher(), place: placement.New(), groups: map[threadKey]uint64{},
		matched: map[int]uint64{}, arrSink: arr, net: newNetRoute()}
	r.net.sink, _ = arr.(NICSink)
	r.match.Keep, r.match.Closed = arr != nil, r.closed
	r.route = r.item
	for _, s := range sinks {
		if ss, ok := s.(StartSink); ok {
			r.starts = append(r.starts, ss)
		}
	}
	if ss, ok := arr.(StartSink); ok {
		r.starts = append(r.starts, ss)
	}
	return r
}

// event drops the inner half of a nested call, expands a graph launch,
// and routes what the event stands for.
func (r *router) event(ev trace.Event) {
	if r.nested.inner(&ev) {
		return
	}
	if !r.exp.active && !ev.Kind.IsGraph() {
		r.item(&item{ev: ev})
		return
	}
	r.exp.expand(&ev, r.route)
}

// item counts an item's arrival at its collective and routes it to the
// engine of its GPU: its communicator's, else its process's. A
// communicator's creation places the communicator, and may place a
// process that nothing else placed.
func (r *router) item(it *item) {
	ev := &it.ev
	r.observeArrival(it)
	if ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0 {
		r.created(ev.Pid, ev.Comm, ev.Rank, ev.NRanks, ev.CommDevice())
	}
	r.observeNamed(ev)
	it.gpu = r.place.CallGPU(ev.Pid, ev.Comm)
	s := r.shardOfGPU(it.gpu)
	if ev.Kind == trace.GroupEnd && ev.GroupDepth <= 1 {
		r.endGroup(it, s)
		return
	}
	var share float32
	var state int
	it.noNVLink, share, state = r.net.decide(it)
	r.push(s, it)
	if share > 0 {
		cp := *it
		cp.net, cp.share, cp.rankGPU, cp.gpu = true, share, it.gpu, state
		r.push(r.shardOfGPU(state), &cp)
	}
}

// push queues an item for shard s, noting the shards a thread's open group
// reached (its end goes to each).
func (r *router) push(s int, it *item) {
	if it.ev.GroupDepth > 0 && len(r.sh.engines) > 1 {
		r.groups[threadKey{it.ev.Pid, it.ev.Tid}] |= 1 << s
	}
	r.sh.push(s, it)
}

// endGroup sends a group's end to every shard that got its calls.
func (r *router) endGroup(it *item, own int) {
	k := threadKey{it.ev.Pid, it.ev.Tid}
	mask := r.groups[k] | 1<<own
	delete(r.groups, k)
	for s := range r.sh.engines {
		if mask&(1<<s) != 0 {
			r.sh.push(s, it)
		}
	}
}

// created places a new communicator (and its process, as a last resort).
func (r *router) created(pid uint32, handle uint64, rank, nranks int32, dev *int) {
	gpu, changed := r.place.RankGuess(pid, rank, nranks)
	r.placed(pid, gpu, changed)
	if nranks > 0 {
		r.net.sizes[commKey{pid, handle}] = int(nranks)
	}
	if dev == nil {
		return
	}
	r.place.Comm(pid, handle, *dev)
}

// sample times a sample and routes it to the engine of its GPU.
func (r *router) sample(smp trace.Sample) {
	t, nvml := r.align.SampleTime(&smp)
	s := 0
	if len(r.sh.engines) > 1 {
		s = r.sh.gpuShard(int(smp.GPU))
	}
	r.sh.pushSample(s, timedSample{t: t, nvml: nvml, state: int(smp.GPU), r: nvmlRead(&smp)})
}

// nicSample adds a NIC read; a finished round of them is a read of the
// network link, routed to the engine that owns it.
func (r *router) nicSample(s trace.NICSample) {
	if state, t, read, ok := r.net.sample(&s); ok {
		r.sh.pushSample(r.shardOfGPU(state), timedSample{t: t, state: state, r: read})
	}
}

// endNICs routes each host's last round of NIC reads.
func (r *router) endNICs() {
	r.net.endAll(func(state int, t int64, read counterRead) {
		r.sh.pushSample(r.shardOfGPU(state), timedSample{t: t, state: state, r: read})
	})
}

func (r *router) shardOfGPU(gpu int) int {
	if len(r.sh.engines) == 1 || gpu < 0 {
		return 0
	}
	return r.sh.gpuShard(gpu)
}

// placed tells the engines a process's GPU changed.
func (r *router) placed(pid uint32, gpu int, changed bool) {
	if changed {
		r.sh.broadcast(func(e *Engine) { e.setGPU(pid, gpu) })
	}
}

// meta keeps a metadata record in the result and hands the engines what
// they must learn from it, after the data before it.
func (r *router) meta(rec trace.Record) error {
	v, ok, err := rec.Meta()
	if err != nil || !ok {
		return err
	}
	m := &r.res.Meta
	switch v := v.(type) {
	case trace.Start:
		m.Start = v
		r.net.merged = len(v.Hosts) > 0
		r.align.Add(v.Clock)
		for _, s := range r.starts {
			s.Start(v)
		}
	case trace.Stop:
		m.Stop = &v
		r.align.Add(v.Clock)
	case trace.Clock:
		r.align.Add(v)
	case trace.Process:
		m.Processes = append(m.Processes, v)
		r.net.addProcess(v)
		gpu, _ := r.place.Process(v)
		r.sh.broadcast(func(e *Engine) { e.addProcess(v, gpu) })
	case trace.Comm:
		m.Comms = append(m.Comms, v)
		r.sh.broadcast(func(e *Engine) { e.addComm(v) })
		r.created(v.Pid, v.Handle, v.Rank, v.NRanks, v.CUDADevice)
	case trace.GPU:
		m.GPUs = append(m.GPUs, v)
		r.net.hostGPUs++
		r.place.GPU(v)
		r.sh.gpuShard(v.Index)
		r.sh.broadcast(func(e *Engine) { e.addGPU(v) })
	case trace.Stack:
		m.Stacks[v.ID] = v
	case trace.Mappings:
		m.Mappings[v.Pid] = append(m.Mappings[v.Pid], v.Mappings...)
	case trace.Note:
		m.Notes = append(m.Notes, v)
	case trace.Lost:
		m.Lost = v.Count
	case trace.Stall:
		m.Stalls = append(m.Stalls, v)
	case trace.NIC:
		m.NICs = append(m.NICs, v)
		state, peak := r.net.addNIC(v)
		r.sh.gpuShard(state)
		r.sh.broadcast(func(e *Engine) { e.addNet(state, peak) })
	}
	return nil
}
