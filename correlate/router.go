package correlate

import (
	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/trace"
)

// router reads a trace once, in file order, and is the one place that
// decides what engines see: metadata decoded once (typed records), sample
// times on the monotonic clock (Aligner), CUDA graph launches expanded and
// nested NCCL calls dropped (both need a process's events in order, so
// they happen here, before events are dealt), ranks' arrivals at each
// collective counted, and each process placed on a GPU (processGPUs): its
// events go to the engine that owns that GPU.
type router struct {
	sh     *shards
	res    *Result
	align  Aligner
	exp    expander
	nested nestedCalls
	match  *arrivals.Matcher
	gpus   processGPUs
	route  func(*item) // r.item, made once
	starts []StartSink
	// Matched collectives per communicator, and the sink that gets them
	// with every rank's arrival (skew.go; arr is reused).
	matched map[int]uint64
	arrSink ArrivalSink
	arr     Arrival
}

// StartSink is a Sink that wants the recording's start record before any
// data (the timeline's time origin).
type StartSink interface {
	Sink
	Start(s trace.Start)
}

func newRouter(sh *shards, res *Result, sinks []Sink, arr ArrivalSink) *router {
	r := &router{sh: sh, res: res, match: arrivals.NewMatcher(), gpus: processGPUs{}, matched: map[int]uint64{}, arrSink: arr}
	r.match.Keep, r.match.Closed = arr != nil, r.closed
	r.route = r.item
	for _, s := range sinks {
		if ss, ok := s.(StartSink); ok {
			r.starts = append(r.starts, ss)
		}
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
// engine of its process's GPU. A communicator's creation may place a
// process that nothing else placed.
func (r *router) item(it *item) {
	ev := &it.ev
	r.observeArrival(it)
	if ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0 {
		gpu, changed := r.gpus.comm(ev.Pid, ev.Rank, ev.NRanks)
		r.placed(ev.Pid, gpu, changed)
	}
	r.sh.push(r.shardOf(ev.Pid), it)
}

// sample times a sample and routes it to the engine of its GPU.
func (r *router) sample(smp trace.Sample) {
	t, nvml := r.align.SampleTime(&smp)
	s := 0
	if len(r.sh.engines) > 1 {
		s = r.sh.gpuShard(int(smp.GPU))
	}
	r.sh.pushSample(s, timedSample{t: t, nvml: nvml, s: smp})
}

func (r *router) shardOf(pid uint32) int {
	if len(r.sh.engines) == 1 {
		return 0
	}
	if g, ok := r.gpus[pid]; ok && g >= 0 {
		return r.sh.gpuShard(g)
	}
	return 0
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
		gpu, _ := r.gpus.process(v)
		r.sh.broadcast(func(e *Engine) { e.addProcess(v, gpu) })
	case trace.Comm:
		m.Comms = append(m.Comms, v)
		r.sh.broadcast(func(e *Engine) { e.addComm(v) })
		gpu, changed := r.gpus.comm(v.Pid, v.Rank, v.NRanks)
		r.placed(v.Pid, gpu, changed)
	case trace.GPU:
		m.GPUs = append(m.GPUs, v)
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
	}
	return nil
}
