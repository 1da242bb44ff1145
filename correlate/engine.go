package correlate

import (
	"math"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Engine is one streaming analysis. Feed it a trace's records in file order
// (Add* methods), then call Finish. Memory is bounded by the work in flight
// and Options.ReorderNs of events and samples, not by the trace's length.
type Engine struct {
	opts    Options
	sink    Sink
	align   Aligner
	learn   *learner // first pass: collects the fit's rows and the floors
	known   *learned // second pass: what the first learned
	procs   map[uint32]*procInfo
	comms   map[commKey]trace.Comm
	gpus    map[int]*gpuState
	gpuList []*gpuState
	streams map[streamKey]*stream
	groups  map[groupKey][]*Call
	order   reorder
	stats   Stats
	exp     expander // for AddEvent; AnalyzeReader expands before routing
	// Finished calls and launches are reused: sinks never keep them, and
	// millions of short-lived objects would keep the collector busy.
	freeCalls    []*Call
	freeLaunches []*launch
}

type commKey struct {
	pid    uint32
	handle uint64
}

type streamKey struct {
	pid    uint32
	stream uint64
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
	lastStream uint64
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

// New starts an analysis that reports to sink.
func New(opts Options, sink Sink) *Engine { return newEngine(opts, sink, nil, nil) }

func newEngine(opts Options, sink Sink, learn *learner, known *learned) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		opts: opts, sink: sink, learn: learn, known: known,
		procs: map[uint32]*procInfo{}, comms: map[commKey]trace.Comm{},
		gpus: map[int]*gpuState{}, streams: map[streamKey]*stream{}, groups: map[groupKey][]*Call{},
	}
	e.order.window = opts.ReorderNs
	e.stats.FirstNs = math.MaxInt64
	return e
}

// AddProcess records a process; its GPU comes from NVML, else LOCAL_RANK.
func (e *Engine) AddProcess(p trace.Process) {
	e.procs[p.Pid] = &procInfo{p: p, gpu: gpuOfProcess(p)}
	for _, q := range e.procs {
		q.haveComm = false // a guessed communicator size counts the processes' GPUs
	}
}

// AddComm records a communicator's rank and size in one process.
func (e *Engine) AddComm(c trace.Comm) {
	if old, ok := e.comms[commKey{c.Pid, c.Handle}]; ok && c.NRanks < 0 {
		c.Rank, c.NRanks = old.Rank, old.NRanks
	}
	e.comms[commKey{c.Pid, c.Handle}] = c
	if p := e.procs[c.Pid]; p != nil {
		p.haveComm = false
		// Last resort, for processes NVML and the environment say nothing
		// of: on one node, tensor-parallel rank r usually drives GPU r.
		if p.gpu < 0 && c.Rank >= 0 && c.NRanks > 1 {
			p.gpu = int(c.Rank)
		}
	}
}

// AddGPU records a sampled GPU.
func (e *Engine) AddGPU(g trace.GPU) {
	st := e.gpu(g.Index)
	if g.PeakLinkBps > 0 {
		st.peakBps = g.PeakLinkBps
	}
}

// AddClock records a monotonic/wall clock pair.
func (e *Engine) AddClock(c trace.Clock) { e.align.Add(c) }

func (e *Engine) gpu(i int) *gpuState {
	g := e.gpus[i]
	if g == nil {
		g = &gpuState{index: i, peakBps: e.opts.DefaultPeakBps}
		g.sum.Index = i
		e.gpus[i] = g
		e.gpuList = append(e.gpuList, g)
		for key, s := range e.streams {
			if e.gpuOf(key.pid) == i {
				g.streams = append(g.streams, s)
			}
		}
	}
	return g
}

// AddEvent queues a probe event, CUDA graph launches expanded into the
// collectives they replay. Feed a process's events in trace order.
func (e *Engine) AddEvent(ev trace.Event) { e.exp.expand(&ev, e.addItem) }

// Graphs describes the CUDA graphs AddEvent saw.
func (e *Engine) Graphs() []graphs.Summary { return e.exp.summaries() }

func (e *Engine) addItem(it *item) {
	ev := &it.ev
	if !it.synth {
		e.stats.Events++
	}
	if ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0 && ev.Kind != trace.CommSplit {
		e.AddComm(trace.Comm{Pid: ev.Pid, Handle: ev.Comm, Rank: ev.Rank, NRanks: ev.NRanks, TsNs: ev.TsNs})
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

// AddSample queues an NVML sample.
func (e *Engine) AddSample(s trace.Sample) {
	t, fromNVML := e.align.SampleTime(&s)
	e.order.addSample(e, &timedSample{t: t, nvml: fromNVML, s: s})
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
	e.stats.ClockPairs = e.align.Pairs()
	if e.stats.FirstNs == math.MaxInt64 {
		e.stats.FirstNs = 0
	}
	return e.stats
}

// GPUs summarizes each sampled GPU, by index order of first appearance.
func (e *Engine) GPUs() []GPUSummary {
	out := make([]GPUSummary, 0, len(e.gpuList))
	for _, g := range e.gpuList {
		out = append(out, g.sum)
	}
	return out
}

// Fit reports the wire factors and graph bytes the second pass applied.
func (e *Engine) Fit() []FitRow {
	if e.known == nil {
		return nil
	}
	return e.known.fit.Rows()
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
		e.sink.Call(c)
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
