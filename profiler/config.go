package profiler

import (
	"context"
	"io"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// Config says what to record and where.
type Config struct {
	Pids     []uint32 // -p
	PidOf    string   // --pid-of: regexp on process name or command line
	All      bool     // --all: every process that maps NCCL
	Children bool     // --children: descendants too, also ones born later
	Command  []string // launch mode: record this command from its first instruction
	Duration time.Duration
	Dir      string
	Force    bool
	Probe    ProbeOptions
	Args     []string // the command line, kept in the trace
	Workload string   // demo or card name, kept in the trace

	// Status, when set, receives the live status line.
	Status io.Writer
	// StatusTTY rewrites the status line in place instead of printing lines.
	StatusTTY bool
	// StatusWidth, with StatusTTY, gives the terminal's width in columns,
	// asked before each rewrite: the line is shortened to fit, since a
	// wrapped line cannot be rewritten in place. Nil or 0: no limit.
	StatusWidth func() int
	// Sampler, when set, records NVLink counters beside the events.
	Sampler LinkSampler
	// NICs, when set, records network device counters beside them
	// (package nic).
	NICs NICSampler
	// Simulated marks the link as the demo's simulation.
	Simulated bool
	// Credential runs a launched command as another user (sudo's caller).
	Credential *Credential
	// CommandEnv is the launched command's environment (nil: linkprof's).
	CommandEnv []string
	// CommandOutput receives the launched command's stdout and stderr
	// (nil: linkprof's own).
	CommandOutput io.Writer
	// Ready, when set, is called once the initial targets are attached.
	Ready func()
	// OnLibrary, when set, is called after probes are attached to a library.
	OnLibrary func(trace.Library)
	// StallAfter, when positive, turns on live stall detection: a
	// collective some ranks entered and others did not, or one every rank
	// entered with the links flat since, for longer than this is reported
	// on the status line and in the trace (docs/stragglers.md).
	StallAfter time.Duration
	// OnStall is a shell command run once, at the first stall, with
	// LINKPROF_STALL_* describing it; its output goes to DIR/on-stall.log.
	OnStall string
	// NoTargetsOK lets a recording run with no target processes (--nvml-only).
	NoTargetsOK bool
	// Watch keeps recording when every target exited, and records the
	// processes that start matching PidOf while it runs (a recorder left
	// running on a node, whose servers come and go): none need match at
	// the start.
	Watch bool
	// Rotate, when positive, is continuous mode: Dir is a parent folder
	// and the recording moves to a new timestamped folder under it
	// (trace.RotatedDir) every Rotate, each one complete and analysable
	// on its own (docs/fleet.md).
	Rotate time.Duration
	// Keep, with Rotate, bounds the folders under Dir: before each new
	// folder is made (the first included) the oldest are removed so that
	// at most Keep remain, the new one counted. 0: no bound.
	Keep int
	// OnRotate, when set, receives each folder closed by a rotation, on
	// the recorder's housekeeping goroutine: it must return quickly.
	OnRotate func(closed string)
	// Observer, when set, sees events, samples and records as they are
	// written (live metrics).
	Observer Observer
}

// Credential is a user and group to run a launched command as.
type Credential struct {
	Uid, Gid uint32
}

// LinkSampler samples NVLink counters into the trace until ctx is done.
type LinkSampler interface {
	Run(ctx context.Context, w *trace.Writer) error
	Rates() map[int]float64
}

// NICSampler samples network device counters into the trace until ctx is
// done. Its records (WriteHeader) go in before any event.
type NICSampler interface {
	WriteHeader(w *trace.Writer) error
	Run(ctx context.Context, w *trace.Writer) error
}

// Summary is what a finished recording reports.
type Summary struct {
	Dir        string // the folder written last (with Rotate, the last of several)
	Reason     string
	Duration   time.Duration
	Events     uint64
	Lost       uint64
	ByKind     map[trace.Kind]uint64
	Processes  int // target processes seen
	NCCLProcs  int // of which map NCCL
	ExitStatus *int
}
