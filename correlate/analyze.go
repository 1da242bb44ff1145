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
	NICs      []trace.NIC   // the sampled network devices (format 1.2)
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
	// Net is the host's network link (the sampled NICs summed), nil when
	// no NIC was sampled; NICs, each NIC's own counts (Index order).
	Net  *GPUSummary
	NICs []NICSummary
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
// It reads the trace two to four times: the learning passes fit the wire
// factors, the bytes per launch of graphs captured before the recording
// and each long segment's floor (learn); the last pass applies them to
// every call and feeds the sinks. Options.NoCalibrate skips learning.
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
		if known, err = learn(dir, opts, len(sinks)); err != nil {
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

// Learning passes: the first models the GPUs with the protocol table's
// factors; where the factors to model with that its fit gives (those
// below the table's, Fitted.modelled) moved more than learnTolerance from
// those it modelled with, another pass models with them, at most
// maxLearnPasses in all (each reads the whole trace: a third pass,
// docs/attribution.md section 11, took a recording's analysis beyond 1 us
// per event). A factor 18% high makes a call run long in
// the model, so part of it is counted in the row of the calls after it,
// and their fit takes its bytes (physim twocomms seed 8 on 2 ranks: an
// all-to-all modelled at 1.18 for the simulator's 1.0 gave the 16 KiB
// all-reduces after it 1.735 for 2.04). The fit's priors stay the table's
// in every pass: only the modelled times, so the rows, change.
const (
	maxLearnPasses = 2
	learnTolerance = 0.01
)

// learn runs the learning passes and returns the last one's result.
func learn(dir string, opts Options, n int) (*learned, error) {
	var known *learned
	var model *Fitted // nil: the protocol table's factors
	for range maxLearnPasses {
		var err error
		if known, err = learnPass(dir, opts, n, model); err != nil {
			return nil, err
		}
		next := known.fit.modelled()
		if next.change(model) < learnTolerance {
			break
		}
		model = next
	}
	return known, nil
}

// learnPass is one learning pass: engines without sinks that model the
// GPUs with model's factors of classes of calls (nil: the protocol
// table's) and collect the fit's rows. Launches of graphs captured before
// the recording keep no bytes in every pass (they count by their windows,
// launchsplit.go): queued with the bytes a pass learnt, a second pass
// fixed one seed of the simulator and doubled another's error
// (docs/attribution.md, "Limits").
func learnPass(dir string, opts Options, n int, model *Fitted) (*learned, error) {
	sinks, learners := make([]Sink, n), make([]*learner, n)
	for i := range sinks {
		sinks[i], learners[i] = discard{}, newLearner(model)
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
		case trace.RecNICSamples:
			err = rec.NICSamples(rt.nicSample)
		default:
			err = rt.meta(rec)
		}
		if err != nil {
			return nil, fmt.Errorf("reading trace: %w", err)
		}
	}
	res.Meta.Truncated = f.Truncated
	rt.endNICs()
	sh.finish(res)
	res.NICs = rt.net.nics
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
