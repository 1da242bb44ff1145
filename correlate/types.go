package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Options tune the analysis. Zero fields take the defaults.
type Options struct {
	// BurstThreshold, when set, replaces the recording's own burst rule
	// (burst.go): an interval above this fraction of the GPU's peak link
	// bandwidth (per direction) is part of a burst.
	BurstThreshold float64
	// ReorderNs is how late an event or sample may arrive in the file
	// relative to the newest time seen (ring-buffer and flush delay).
	ReorderNs int64
	// Tolerance lets a collective absorb this fraction above its expected
	// wire bytes when nothing else is pending (counter and timing noise).
	Tolerance float64
	// NoCalibrate keeps the protocol table's wire factors instead of
	// fitting them (no first pass: graphs captured before the recording
	// then stay unattributed).
	NoCalibrate bool
	// DefaultPeakBps is used for GPUs whose peak link bandwidth is unknown.
	DefaultPeakBps float64
}

// Defaults for Options.
const (
	DefaultReorderNs = 3_000_000_000
	DefaultTolerance = 0.03
	DefaultPeakBps   = 450e9 // H100/H200 NVLink 4, 18 links, per direction
)

func (o Options) withDefaults() Options {
	if o.ReorderNs <= 0 {
		o.ReorderNs = DefaultReorderNs
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.DefaultPeakBps <= 0 {
		o.DefaultPeakBps = DefaultPeakBps
	}
	return o
}

// Link is the kind of link a byte counter counts (docs/attribution.md,
// "Network links").
type Link uint8

const (
	// NVLink is a GPU's NVLink counters, read through NVML.
	NVLink Link = iota
	// Net is the host's network link: the sampled NICs' counters summed
	// (package nic), which carry NCCL's network transport.
	Net
)

func (l Link) String() string {
	if l == Net {
		return "net"
	}
	return "nvlink"
}

// Call is one executed collective with its modelled GPU execution and the
// link bytes attributed to it. Sinks must not keep the pointer.
type Call struct {
	Pid      uint32
	Tid      uint32
	Kind     trace.Kind
	DataType trace.DataType
	Count    uint64
	Payload  uint64 // count x dtype size, as passed
	Comm     uint64
	Stream   uint64
	StackID  int32
	Caller   uint64 // return address into the direct caller (--stacks), 0 unknown
	Rank     int    // in its communicator, -1 unknown
	NRanks   int
	GPU      int // -1: not on a sampled GPU
	// Link is the link whose bytes the call carries: NVLink, or, for the
	// share of a collective that crosses the network (LinkSink.LinkCall),
	// Net.
	Link      Link
	Grouped   bool
	EnqueueNs int64 // host time of the call
	LaunchNs  int64 // host time its work was launched (GroupEnd for grouped calls)
	Msg       uint64
	Protocol  Protocol // the protocol table's guess
	Factor    float64  // wire bytes per ring-algorithm byte: fitted, else the table's
	ExpTx     float64  // expected wire bytes: ring bytes x Factor
	ExpRx     float64
	StartNs   int64 // modelled GPU execution; 0 when no bytes were seen
	EndNs     int64
	TxBytes   float64 // attributed
	RxBytes   float64
	Complete  bool // its expected bytes were all seen
	// Phase is how the call relates to CUDA graphs. Capture calls are not
	// executions: no bytes, no GPU time, emitted when issued.
	Phase  graphs.Phase
	Graph  int // graph ID (Replay; 0 for Capture: IDs come at capture end)
	Launch int // the graph's launch number (Replay)
	// Burst is the label of the burst the call's last bytes landed in, ""
	// when none.
	Burst string
	// ring bytes before the wire factor; for a launch of a graph captured
	// before the recording (Kind GraphLaunch) 1: its factor is its bytes.
	baseTx, baseRx float64
	arrive         *arrival
	// groupCalls is how many calls the group of point-to-point calls
	// launched with this one has (fitgroup.go), 0 outside such a group.
	groupCalls int
	// state is the engine's model of the link it runs on: the GPU's index
	// for NVLink, netState for the network link; -1 none.
	state int
}

// Executed reports whether the call ran: eager or replayed, not captured.
func (c *Call) Executed() bool { return c.Phase != graphs.Capture }

func (c *Call) exp(d int) float64 {
	if d == tx {
		return c.ExpTx
	}
	return c.ExpRx
}

func (c *Call) addBytes(d int, b float64) {
	if d == tx {
		c.TxBytes += b
	} else {
		c.RxBytes += b
	}
}

// GPUTimeNs is the modelled GPU execution time.
func (c *Call) GPUTimeNs() int64 {
	if c.EndNs > c.StartNs {
		return c.EndNs - c.StartNs
	}
	return 0
}

// Interval is the traffic of one GPU (or, Link Net, the host's network
// link; GPU -1) between two successful samples.
type Interval struct {
	GPU              int
	Link             Link
	Host             int // a network link's host: its index in a merged trace's hosts, else 0
	StartNs, EndNs   int64
	TxBytes, RxBytes float64
	UnTx, UnRx       float64 // the part no collective explains
	// readLatestNs is the latest the counters ending it can have been
	// read: NVML's timestamp may precede the counter snapshot inside its
	// ~1 ms call, so a collective launched up to then may have moved some
	// of the interval's bytes.
	readLatestNs int64
}

// GraphLaunch is one CUDA graph launch (cudaGraphLaunch / cuGraphLaunch)
// of a recorded graph. Sinks must not keep the pointer.
type GraphLaunch struct {
	Pid         uint32
	Tid         uint32
	Stream      uint64
	Exec        uint64
	TsNs        int64
	Rank        int // the process's rank, -1 unknown
	Graph       int // graph ID (report.json graphs[].id)
	Launch      int // numbers the graph's launches from 0
	Collectives int // collectives the launch replays
}

// LaunchSink is a Sink that also wants the graph launches, in time order
// per process (the timeline).
type LaunchSink interface {
	Sink
	GraphLaunch(l *GraphLaunch)
}

// Sink receives the analysis as it streams out, in time order per GPU.
// It sees NVLink only: each executed collective once, through Call.
type Sink interface {
	Call(c *Call)
	Interval(iv *Interval) // valid during the call only
	Burst(b *Burst)
}

// LinkSink is a Sink that also wants the links other than NVLink (the
// host's network link, Link Net). A collective whose traffic crosses the
// network is its Call (count calls there; its NVLink bytes, none when
// NCCL's P2P transport is off) and also a LinkCall carrying only its bytes
// on that link. The link's intervals and bursts come through LinkInterval
// and LinkBurst (GPU -1).
type LinkSink interface {
	Sink
	LinkCall(c *Call)
	LinkInterval(iv *Interval)
	LinkBurst(b *Burst)
}
