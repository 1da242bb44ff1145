package correlate

import (
	"fmt"
	"io"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Meta is the small part of a trace kept whole: what was recorded, from
// where, and the stacks and mappings that symbolization needs.
type Meta struct {
	Start     trace.Start
	Stop      *trace.Stop
	Processes []trace.Process
	GPUs      []trace.GPU
	Comms     []trace.Comm
	Stacks    map[int32]trace.Stack
	Mappings  map[uint32][]trace.Mapping // every snapshot's, latest last
	Notes     []trace.Note
	Stalls    []trace.Stall // the recorder's live stall reports, in file order
	Lost      uint64
	Truncated bool
}

// Result is the outcome of one analysis.
type Result struct {
	Meta  Meta
	Stats Stats
	GPUs  []GPUSummary
	Fit   []FitRow
	// Graphs are the CUDA graphs captured or launched, in ID order.
	Graphs []graphs.Summary
	// ProcessGPUs is the GPU each process was placed on at the end
	// (internal/placement), -1 none: what the analysis used, which a process
	// record's own GPU field may not say (placed by its communicator).
	ProcessGPUs map[uint32]int
	// Arrivals is what the matching of calls across ranks covered.
	Arrivals ArrivalSummary
}

// DurationNs is the span of the recording: its start and stop clocks, else
// the first and last event or sample.
func (r *Result) DurationNs() int64 {
	if r.Meta.Stop != nil && r.Meta.Start.Clock.MonoNs > 0 && r.Meta.Stop.Clock.MonoNs > r.Meta.Start.Clock.MonoNs {
		return r.Meta.Stop.Clock.MonoNs - r.Meta.Start.Clock.MonoNs
	}
	return r.Stats.LastNs - r.Stats.FirstNs
}

// Analyze streams the trace of a recording folder through an Engine.
func Analyze(dir string, opts Options, sink Sink) (*Result, error) {
	return AnalyzeShards(dir, opts, []Sink{sink})
}

// AnalyzeShards analyzes with one Engine per sink, each on its own
// goroutine, the GPUs dealt among them (a process's calls go with its
// GPU). GPUs share nothing in the model, so the result is the same as one
// engine's, split across the sinks; each sink sees whole GPUs.
//
// It reads the trace twice: the first pass fits the wire factors, the
// bytes per launch of graphs captured before the recording and each long
// segment's floor; the second applies them to every call and feeds the
// sinks. Options.NoCalibrate skips the first pass.
func AnalyzeShards(dir string, opts Options, sinks []Sink) (*Result, error) {
	return AnalyzeArrivals(dir, opts, sinks, nil)
}

// AnalyzeArrivals is AnalyzeShards that also hands every collective
// matched across its communicator's ranks to arr (nil: none), from the
// goroutine that reads the trace, in the attributing pass.
func AnalyzeArrivals(dir string, opts Options, sinks []Sink, arr ArrivalSink) (*Result, error) {
	var known *learned
	if !opts.NoCalibrate {
		var err error
		if known, err = learnPass(dir, opts, len(sinks)); err != nil {
			return nil, err
		}
	}
	res, err := readPass(dir, opts, sinks, nil, known, arr)
	if err != nil {
		return nil, err
	}
	if known != nil {
		res.Fit = known.fit.Rows()
	}
	return res, nil
}

// learnPass is the learning pass: engines without sinks that model the
// GPUs with the protocol table. One pass: a second, placing calls in the
// fit's rows with the factors the first fitted, helped served models whose
// protocol guess was 2x off on the simulator and hurt graphs captured
// before the recording (docs/attribution.md, "Limits").
func learnPass(dir string, opts Options, n int) (*learned, error) {
	sinks, learners := make([]Sink, n), make([]*learner, n)
	for i := range sinks {
		sinks[i], learners[i] = discard{}, newLearner()
	}
	if _, err := readPass(dir, opts, sinks, learners, nil, nil); err != nil {
		return nil, err
	}
	for _, ln := range learners[1:] {
		learners[0].merge(ln)
	}
	return learners[0].result(), nil
}

// readPass streams the trace of dir through one set of engines. This
// goroutine reads, checks, decodes, times and routes records (router.go);
// the engines run on their own.
func readPass(dir string, opts Options, sinks []Sink, learners []*learner, known *learned, arr ArrivalSink) (*Result, error) {
	f, err := trace.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &Result{Meta: Meta{Stacks: map[int32]trace.Stack{}, Mappings: map[uint32][]trace.Mapping{}}}
	sh := newShards(opts, sinks, learners, known)
	defer sh.stop()
	rt := newRouter(sh, res, sinks, arr)
	for {
		rec, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading trace: %w", err)
		}
		switch rec.Type {
		case trace.RecEvents:
			err = rec.Events(rt.event)
		case trace.RecSamples:
			err = rec.Samples(rt.sample)
		default:
			err = rt.meta(rec)
		}
		if err != nil {
			return nil, fmt.Errorf("reading trace: %w", err)
		}
	}
	res.Meta.Truncated = f.Truncated
	sh.finish(res)
	res.Graphs = rt.exp.summaries()
	res.ProcessGPUs = rt.place.Processes()
	rt.arrivalSummary()
	res.Stats.ClockPairs = rt.align.Pairs()
	return res, nil
}

// discard is a learning pass's sink.
type discard struct{}

func (discard) Call(*Call)         {}
func (discard) Interval(*Interval) {}
func (discard) Burst(*Burst)       {}
