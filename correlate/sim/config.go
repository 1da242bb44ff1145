// Package sim writes recordings of a simulated multi-rank NCCL workload
// whose link traffic is known exactly: host enqueue times, a GPU stream
// model with lag, protocol factors, sampling jitter and gaps, background
// traffic no collective explains. Tests and benchmarks of the analysis
// assert against the Truth it returns.
package sim

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// Op is one collective every rank issues in a step.
type Op struct {
	Kind  trace.Kind
	Count uint64
	DType trace.DataType
	Root  int32 // Broadcast, Reduce, Gather, Scatter; Send/Recv: ignored
}

// Blob is traffic no collective explains (a peer copy, custom all-reduce).
type Blob struct {
	AtNs  int64 // offset from the recording's start
	GPU   int
	Bytes float64 // each direction
}

// Config describes the simulated workload and recorder.
type Config struct {
	Ranks int
	Steps int
	Ops   []Op // issued in order by every rank in each step
	// Cycle, when set, replaces Ops: step s issues Cycle[s % len(Cycle)]
	// (phases that take turns, each finished before the next step).
	Cycle       [][]Op
	Group       bool  // wrap each step's ops in ncclGroupStart/End
	HostGapNs   int64 // between two calls of one rank
	StepGapNs   int64 // from one step's first call to the next's
	SkewNs      int64 // ranks enqueue up to this much apart
	LagNs       int64 // GPU work queued ahead: a collective starts this long after its enqueue at the earliest
	LinkBps     float64
	PeakBps     float64
	Factors     map[correlate.Protocol]float64 // true wire factors; missing: docs/nccl-facts.md's
	SampleNs    int64                          // NVML sampling period
	NVMLCallNs  int64                          // duration of one NVML read
	JitterNs    int64                          // sampling period jitter (uniform +-)
	FailEvery   int                            // every n-th read fails (0: none)
	NoNVMLTime  bool                           // samples carry no NVML timestamp
	NoiseBps    float64                        // constant background, each direction
	Blobs       []Blob                         // sorted by AtNs
	WallOffset  int64                          // wall - monotonic
	StartMonoNs int64
	Stacks      bool // capture a stack per op kind in a fake binary
	Seed        uint64
	// KeepSegments returns every GPU execution in Truth (tests, not benchmarks).
	KeepSegments bool
	// Graph serves steps from CUDA graph replays (see Graph).
	Graph *Graph
	// AttachedLate records as linkprof attached to running ranks does: no
	// communicator init, no RANK/WORLD_SIZE in the environment; each
	// process's GPU comes from NVML.
	AttachedLate bool
}

// Truth is what really crossed the links.
type Truth struct {
	Calls       map[string]uint64  // per op, over all ranks: executed (eager and replayed)
	Captured    map[string]uint64  // per op, capture-time calls (not executed)
	Launches    uint64             // graph launches, over all ranks
	Payload     map[string]uint64  // per op
	OpTx        map[string]float64 // per op, wire bytes over all GPUs
	OpRx        map[string]float64
	UnexplTx    float64 // blobs and noise
	UnexplRx    float64
	Events      uint64
	Samples     uint64
	EndNs       int64     // monotonic time of the last sample
	Segments    []Segment // GPU executions, kept when KeepSegments
	BlobWindows []Segment
}

// Segment is one stretch of link traffic on one GPU.
type Segment struct {
	GPU            int
	StartNs, EndNs int64
	Tx, Rx         float64
	Op             string // "" for unexplained traffic
	Payload        uint64 // the collective's payload (count x dtype size)
}

// stepOps are the calls every rank issues in step s.
func (c Config) stepOps(s int) []Op {
	if len(c.Cycle) > 0 {
		return c.Cycle[s%len(c.Cycle)]
	}
	return c.Ops
}
