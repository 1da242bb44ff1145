package correlate

import (
	"fmt"

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
	Lost      uint64
	Truncated bool
}

// Result is the outcome of one analysis.
type Result struct {
	Meta  Meta
	Stats Stats
	GPUs  []GPUSummary
	Fit   []FitRow
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
	f, err := trace.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return AnalyzeReader(f.Reader, opts, sink)
}

// AnalyzeReader is Analyze on an open trace.
func AnalyzeReader(r *trace.Reader, opts Options, sink Sink) (*Result, error) {
	e := New(opts, sink)
	res := &Result{Meta: Meta{Stacks: map[int32]trace.Stack{}, Mappings: map[uint32][]trace.Mapping{}}}
	done := make(chan struct{})
	defer close(done)
	recs, recycle := readAhead(r, done)
	for p := range recs {
		if p.err != nil {
			return nil, fmt.Errorf("reading trace: %w", p.err)
		}
		for i := range p.events {
			e.addEvent(&p.events[i])
		}
		for i := range p.samples {
			e.order.addSample(e, &p.samples[i])
		}
		if err := res.add(e, p.rec); err != nil {
			return nil, fmt.Errorf("reading trace: %w", err)
		}
		select {
		case recycle <- p:
		default:
		}
	}
	res.Meta.Truncated = r.Truncated
	res.Stats = e.Finish()
	res.GPUs, res.Fit = e.GPUs(), e.Fit()
	return res, nil
}

func (res *Result) add(e *Engine, rec trace.Record) error {
	m := &res.Meta
	switch rec.Type {
	case trace.RecEvents, trace.RecSamples:
		return nil // decoded by readAhead
	case trace.RecStart:
		if err := rec.JSON(&m.Start); err != nil {
			return err
		}
		e.AddClock(m.Start.Clock)
	case trace.RecStop:
		m.Stop = &trace.Stop{}
		if err := rec.JSON(m.Stop); err != nil {
			return err
		}
		e.AddClock(m.Stop.Clock)
	case trace.RecProcess:
		return decode(rec, func(p trace.Process) { m.Processes = append(m.Processes, p); e.AddProcess(p) })
	case trace.RecComm:
		return decode(rec, func(c trace.Comm) { m.Comms = append(m.Comms, c); e.AddComm(c) })
	case trace.RecGPU:
		return decode(rec, func(g trace.GPU) { m.GPUs = append(m.GPUs, g); e.AddGPU(g) })
	case trace.RecClock:
		return decode(rec, e.AddClock)
	case trace.RecStack:
		return decode(rec, func(s trace.Stack) { m.Stacks[s.ID] = s })
	case trace.RecMappings:
		return decode(rec, func(s trace.Mappings) { m.Mappings[s.Pid] = append(m.Mappings[s.Pid], s.Mappings...) })
	case trace.RecNote:
		return decode(rec, func(n trace.Note) { m.Notes = append(m.Notes, n) })
	case trace.RecLost:
		return decode(rec, func(l trace.Lost) { m.Lost = l.Count })
	}
	return nil
}

func decode[T any](rec trace.Record, fn func(T)) error {
	var v T
	if err := rec.JSON(&v); err != nil {
		return err
	}
	fn(v)
	return nil
}
