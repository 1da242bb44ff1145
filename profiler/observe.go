package profiler

import (
	"time"

	"github.com/linkprof/linkprof/trace"
)

// observeEvery is how often an Observer gets the recorder's Progress.
const observeEvery = time.Second

// Observer sees what the recorder records as it goes (live metrics). Its
// methods must be quick and must not block.
type Observer interface {
	// Event sees every event read from the probes, on the pump goroutine.
	Event(e *trace.Event)
	// Sample sees every NVLink counter sample written, under the trace
	// writer's lock.
	Sample(s trace.Sample)
	// Record sees every metadata record written (processes, GPUs,
	// stalls, ...), under the trace writer's lock. Records a rotation
	// repeats at the top of a new folder are not seen again.
	Record(t trace.RecordType, v any)
	// Progress is called every second and once at the end.
	Progress(p Progress)
}

// Progress is the recorder's state, for an Observer.
type Progress struct {
	Targets   int    // live target processes
	NCCLProcs int    // of which map NCCL
	Lost      uint64 // events the ring buffer dropped since the start
}

// startObserver hands the observer what the writer writes, before data
// flows.
func (r *recorder) startObserver() {
	if o := r.cfg.Observer; o != nil {
		r.w.TapSamples(o.Sample)
		r.w.TapRecords(o.Record)
	}
}

// observe tells the observer where the recording stands.
func (r *recorder) observe() {
	o := r.cfg.Observer
	if o == nil {
		return
	}
	p := Progress{NCCLProcs: r.disc.ncclProcesses()}
	r.mu.Lock()
	p.Targets = len(r.targets)
	r.mu.Unlock()
	p.Lost, _ = r.probes.Lost()
	o.Progress(p)
}
