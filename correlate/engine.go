package correlate

import (
	"math"

	"github.com/linkprof/linkprof/trace"
)

// Engine is the model of the GPUs one shard owns. The router (router.go)
// feeds it routed, timed items in file order; Finish ends it. Memory is
// bounded by the work in flight and the reorder window, not by the
// trace's length.
type Engine struct {
	opts    Options
	sink    Sink
	out     linkOut
	learn   *learner // first pass: collects the fit's rows and the floors
	known   *learned // second pass: what the first learned
	procs   map[uint32]*procInfo
	comms   map[commKey]trace.Comm
	gpus    map[int]*gpuState
	gpuList []*gpuState
	streams map[streamKey]*stream
	groups  map[groupKey][]*Call
	named   namedGroups // members of groups named by string (named.go)
	order   reorder
	stats   Stats
	// Finished calls and launches are reused: sinks never keep them, and
	// millions of short-lived objects would keep the collector busy.
	freeCalls    []*Call
	freeLaunches []*launch
}

type commKey struct {
	pid    uint32
	handle uint64
}

// streamKey is a stream of a process on a GPU: a process driving several
// GPUs may use the same handle (the default stream) on each.
type streamKey struct {
	pid    uint32
	stream uint64
	gpu    int
}

type groupKey struct{ pid, tid uint32 }

type procInfo struct {
	p   trace.Process
	gpu int // resolved GPU index, -1 none
	// The last communicator and stream it used: calls repeat them, and
	// this saves a map lookup per call.
	lastComm   uint64
	lastRank   [2]int
	lastGuess  bool // lastRank is gpuPeers' guess
	haveComm   bool
	lastStream streamKey
	stream     *stream
}

// Stats counts what the analysis did with its input.
type Stats struct {
	Events        uint64
	Calls         uint64 // executed: eager and replayed
	CapturedCalls uint64 // issued into a CUDA graph (not executed)
	ReplayedCalls uint64 // of Calls, run by graph launches
	GraphLaunches uint64
	UnmappedCalls uint64 // of processes on no sampled GPU: counted, no bytes
	// GuessedCalls ran on communicators nothing recorded describes (created
	// before linkprof attached): their size was taken as GuessedRanks, the
	// GPUs of the NCCL processes (Engine.gpuPeers).
	GuessedCalls uint64
	GuessedRanks int
	LateItems    uint64 // arrived later than Options.ReorderNs
	ClockPairs   int    // monotonic/wall pairs used for NVML timestamps
	FirstNs      int64
	LastNs       int64
}

func newEngine(opts Options, sink Sink, learn *learner, known *learned) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		opts: opts, sink: sink, out: newLinkOut(sink), learn: learn, known: known,
		procs: map[uint32]*procInfo{}, comms: map[commKey]trace.Comm{},
		gpus: map[int]*gpuState{}, streams: map[streamKey]*stream{}, groups: map[groupKey][]*Call{},
	}
	e.order.window = opts.ReorderNs
	e.stats.FirstNs = math.MaxInt64
	return e
}

// addProcess records a process and the GPU the router placed it on.
func (e *Engine) addProcess(p trace.Process, gpu int) {
	e.procs[p.Pid] = &procInfo{p: p, gpu: gpu}
	for _, q := range e.procs {
		q.haveComm = false // a guessed communicator size counts the processes' GPUs
	}
}

// setGPU moves a process to the GPU the router learnt for it.
func (e *Engine) setGPU(pid uint32, gpu int) {
	if p := e.procs[pid]; p != nil {
		p.gpu = gpu
	} else {
		e.procs[pid] = &procInfo{p: trace.Process{Pid: pid, Rank: -1, LocalRank: -1, WorldSize: -1, GPU: -1}, gpu: gpu}
	}
	for _, q := range e.procs {
		q.haveComm = false
	}
}

// addComm records a communicator's rank and size in one process.
func (e *Engine) addComm(c trace.Comm) {
	if old, ok := e.comms[commKey{c.Pid, c.Handle}]; ok && c.NRanks < 0 {
		c.Rank, c.NRanks = old.Rank, old.NRanks
	}
	e.comms[commKey{c.Pid, c.Handle}] = c
	if p := e.procs[c.Pid]; p != nil {
		p.haveComm = false
	}
}

// addGPU records a sampled GPU.
func (e *Engine) addGPU(g trace.GPU) {
	st := e.gpu(g.Index)
	if g.PeakLinkBps > 0 {
		st.peakBps = g.PeakLinkBps
	}
}

func (e *Engine) gpu(i int) *gpuState {
	g := e.gpus[i]
	if g == nil {
		g = &gpuState{index: i, link: linkOf(i), peakBps: e.opts.DefaultPeakBps}
		g.seg.minQuietNs = minQuietOf(g.link)
		g.sum.Index = i
		e.gpus[i] = g
		e.gpuList = append(e.gpuList, g)
		for key, s := range e.streams {
			if key.gpu == i {
				g.streams = append(g.streams, s)
			}
		}
	}
	return g
}

func (e *Engine) addItem(it *item) {
	ev := &it.ev
	if !it.synth && !it.net {
		e.stats.Events++
	}
	if ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0 && ev.Kind != trace.CommSplit {
		e.addComm(trace.Comm{Pid: ev.Pid, Handle: ev.Comm, Rank: ev.Rank, NRanks: ev.NRanks, TsNs: ev.TsNs})
		return
	}
	switch {
	case ev.Kind.IsCollective(), ev.Kind.IsCustomCollective(), ev.Kind == trace.GroupEnd:
	case ev.Kind == trace.GraphLaunch && it.graph != 0:
	default:
		return
	}
	e.order.addEvent(e, it)
}

// Finish processes everything still queued, ends open bursts and emits
// every call, finished or not. It returns the analysis's counters.
func (e *Engine) Finish() Stats {
	e.order.release(e, math.MaxInt64)
	for key, calls := range e.groups {
		e.launch(calls, calls[len(calls)-1].EnqueueNs)
		delete(e.groups, key)
	}
	for _, g := range e.gpuList {
		if g.seg.open {
			e.closeSegment(g)
		}
		e.emitTail(g, math.MaxInt64)
		for _, s := range g.streams {
			for l := s.front(); l != nil; l = s.front() {
				s.drop()
				e.emit(g, l)
			}
		}
	}
	if e.stats.FirstNs == math.MaxInt64 {
		e.stats.FirstNs = 0
	}
	return e.stats
}

// GPUs summarizes each sampled GPU, by index order of first appearance.
func (e *Engine) GPUs() []GPUSummary {
	out := make([]GPUSummary, 0, len(e.gpuList))
	for _, g := range e.gpuList {
		if g.link == NVLink {
			out = append(out, g.sum)
		}
	}
	return out
}

func (e *Engine) seen(t int64) {
	e.stats.FirstNs = min(e.stats.FirstNs, t)
	e.stats.LastNs = max(e.stats.LastNs, t)
}

// emit hands a launch's calls to the sink, labelled with their burst, and
// recycles them; g is nil for calls on no sampled GPU.
func (e *Engine) emit(g *gpuState, l *launch) {
	if e.learn != nil && g != nil {
		e.learn.finished(g, l)
	}
	label := ""
	if g != nil && l.burstSeq != 0 {
		label = g.bursts.labels[l.burstSeq]
	}
	for _, c := range l.calls {
		c.Burst = label
		e.out.call(c)
		*c = Call{}
		e.freeCalls = append(e.freeCalls, c)
	}
	calls, waits := l.calls[:0], l.waits[:0]
	clear(l.calls)
	clear(l.waits[:cap(l.waits)])
	*l = launch{calls: calls, waits: waits}
	e.freeLaunches = append(e.freeLaunches, l)
}

func (e *Engine) allocCall() *Call {
	if n := len(e.freeCalls); n > 0 {
		c := e.freeCalls[n-1]
		e.freeCalls = e.freeCalls[:n-1]
		return c
	}
	return &Call{}
}

func (e *Engine) allocLaunch() *launch {
	if n := len(e.freeLaunches); n > 0 {
		l := e.freeLaunches[n-1]
		e.freeLaunches = e.freeLaunches[:n-1]
		return l
	}
	return &launch{}
}
