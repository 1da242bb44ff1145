// Package report turns an analysis into report.json (the contract of
// docs/design.md), report.txt, and the side-by-side comparison of two
// recordings; WriteAll also writes the pprof profile and the timeline.
package report

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Version of report.json. 2: bursts from the recording's own activity,
// listed one by one (bursts.list), fitted wire factors (calibration).
// 3: arrivals (who waits for whom) and stalls, added beside the rest.
// 4: paths (calls, bytes, busy time and achieved rates per path, op and
// size bucket); ops lists the collectives outside NCCL that ran.
const Version = 4

// Report is report.json. Sizes in bytes, times in ns.
type Report struct {
	Version        int                `json:"version"`
	DurationNs     int64              `json:"duration_ns"`
	LostEvents     uint64             `json:"lost_events"`
	Truncated      bool               `json:"truncated,omitempty"`
	Simulated      bool               `json:"simulated,omitempty"`
	Processes      []Process          `json:"processes"`
	GPUs           []GPU              `json:"gpus"`
	Ops            []Op               `json:"ops"`
	Paths          []PathRow          `json:"paths"`
	Unattributed   Unattributed       `json:"unattributed"`
	Bursts         Bursts             `json:"bursts"`
	Comms          []Comm             `json:"comms"`
	MessageSizes   []SizeBin          `json:"message_sizes"`
	TopCollectives []Top              `json:"top_collectives"`
	Calibration    []correlate.FitRow `json:"calibration"`
	Graphs         []graphs.Summary   `json:"graphs"`
	Analysis       Analysis           `json:"analysis"`
	// Arrivals is each rank's wait for the last rank of its collectives;
	// Stalls, the collectives the recorder found stuck
	// (docs/stragglers.md).
	Arrivals Arrivals `json:"arrivals"`
	Stalls   []Stall  `json:"stalls"`
	// Hosts are the recordings a merged recording was made of (linkprof
	// merge, hosts.go), with how each host's clock was placed; absent for
	// one host.
	Hosts []trace.Host `json:"hosts,omitempty"`
	// Net is the host's network link and Links the bytes per kind of
	// link, present when NICs were sampled (net.go).
	Net   *Net        `json:"net,omitempty"`
	Links []LinkTotal `json:"links,omitempty"`
	// Notes are what the recorder wrote down: warnings (a GPU that
	// disappeared, a GPU without NVLink) and facts.
	Notes []Note `json:"notes"`
}

// Note is one recorder note, timed from the start of the recording.
type Note struct {
	AtNs  int64  `json:"at_ns"`
	Level string `json:"level"`
	Text  string `json:"text"`
	// Source is "analysis" for what the analysis found (at_ns 0); empty
	// for the recorder's notes.
	Source string `json:"source,omitempty"`
}

// Link is a pair of attributed (or unattributed) byte counts.
type Link struct {
	TxBytes uint64 `json:"nvlink_tx_bytes"`
	RxBytes uint64 `json:"nvlink_rx_bytes"`
}

// Unattributed is the link traffic no recorded collective explains, and
// the known paths outside NCCL calls that could (empty when it is small).
type Unattributed struct {
	Link
	NetBytes
	Hints []Hint `json:"hints"`
}

// Hint is one known way of moving collective traffic that linkprof's NCCL
// probes do not see (internal/paths.Known).
type Hint struct {
	Path      string `json:"path"`
	Framework string `json:"framework"`
	Explains  string `json:"explains"`
	ToNCCL    string `json:"to_nccl"` // the setting that routes it through NCCL
	Probed    bool   `json:"probed"`  // linkprof records its calls when its library is found
	// CallsSeen is how many of its calls the recording holds (those of
	// the kinds its probes record, paths.Path.Kinds; for graph replays,
	// launches of graphs captured before the recording, which cannot be
	// expanded).
	CallsSeen uint64 `json:"calls_seen"`
}

// Traffic is what a group of calls did.
type Traffic struct {
	Calls        uint64 `json:"calls"`
	PayloadBytes uint64 `json:"payload_bytes"`
	Link
	// NetBytes are the bytes attributed on the network link (NICs
	// sampled; absent when none).
	NetBytes
	// GPUTimeNs is modelled GPU execution (docs/attribution.md section
	// 4), not measured, summed over the group's calls: for an op, over
	// all ranks, so it can exceed duration_ns.
	GPUTimeNs int64 `json:"gpu_time_ns"`
}

// Op is one op kind. Calls counts collectives executed.
type Op struct {
	Op string `json:"op"`
	Traffic
	Incomplete uint64 `json:"incomplete"` // calls whose expected bytes were not all seen
}

// Process is a recorded process and its traffic.
type Process struct {
	Pid  uint32 `json:"pid"`
	Comm string `json:"comm"`
	Rank int    `json:"rank"` // -1 unknown (a process without NCCL calls)
	GPU  int    `json:"gpu"`  // where the analysis placed it; -1 none
	// Host and HostPid are its host and its pid there, in a merged
	// recording (pid is the merged one).
	Host    string `json:"host,omitempty"`
	HostPid uint32 `json:"host_pid,omitempty"`
	// The Kubernetes pod it ran in, when it ran in one (docs/fleet.md).
	Pod          string `json:"pod,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
	Traffic
}

// GPU is one sampled GPU (counted here, from the streaming analysis).
type GPU struct {
	Index     int    `json:"index"`
	UUID      string `json:"uuid"`
	Name      string `json:"name,omitempty"`
	Simulated bool   `json:"simulated,omitempty"`
	// Host and HostIndex are its host and its index there (NVML's), in a
	// merged recording.
	Host          string  `json:"host,omitempty"`
	HostIndex     *int    `json:"host_index,omitempty"`
	Samples       uint64  `json:"samples"` // successful reads
	FailedSamples uint64  `json:"failed_samples"`
	SampleHz      float64 `json:"sample_hz"`
	TxBytes       uint64  `json:"tx_bytes"`
	RxBytes       uint64  `json:"rx_bytes"`
	Unattributed  Link    `json:"unattributed"`
	Bursts        uint64  `json:"bursts"`
	DutyCycle     float64 `json:"duty_cycle"` // burst time over sampled time
	// Link rates over the sampled span: mean TX and the fastest interval
	// (the larger of TX and RX), and the share of intervals above the
	// burst threshold.
	MeanTxBytesPerS float64 `json:"mean_tx_bytes_per_s"`
	PeakBytesPerS   float64 `json:"peak_bytes_per_s"`
	BusyFraction    float64 `json:"busy_fraction"`
}

// Bursts summarizes link bursts over all GPUs.
type Bursts struct {
	Count          uint64            `json:"count"`
	DurationP50Ns  int64             `json:"duration_p50_ns"`
	DurationP99Ns  int64             `json:"duration_p99_ns"`
	PeakBytesPerS  float64           `json:"peak_bytes_per_s"`
	IdleGapP50Ns   int64             `json:"idle_gap_p50_ns"`
	IdleGapP99Ns   int64             `json:"idle_gap_p99_ns"`
	DutyCycle      float64           `json:"duty_cycle"` // mean over GPUs
	Labels         map[string]uint64 `json:"labels"`     // bursts per label
	UnattributedTx uint64            `json:"unattributed_tx_bytes"`
	// Rule says what a burst is in this report: the recording's own
	// (docs/attribution.md) or --burst-threshold's fraction of peak.
	Rule string `json:"rule"`
	// List has every burst in time order, up to 100,000; Omitted counts
	// those past it.
	List    []BurstRow `json:"list"`
	Omitted uint64     `json:"omitted,omitempty"`
}

// BurstRow is one burst. StartNs is from the recording's start.
type BurstRow struct {
	GPU            int       `json:"gpu"`
	StartNs        int64     `json:"start_ns"`
	DurationNs     int64     `json:"duration_ns"`
	TxBytes        uint64    `json:"tx_bytes"`
	RxBytes        uint64    `json:"rx_bytes"`
	UnattributedTx uint64    `json:"unattributed_tx_bytes"`
	PeakBytesPerS  float64   `json:"peak_bytes_per_s"`
	Label          string    `json:"label"`
	Ops            []BurstOp `json:"ops"`
	Top            *BurstTop `json:"top_collective,omitempty"`
	// Host is a network burst's host in a merged recording (its NICs'
	// host); absent otherwise.
	Host      string `json:"host,omitempty"`
	hostIndex int    // a network burst's host index, named by netSection
}

// BurstOp is what one op carried in a burst.
type BurstOp struct {
	Op      string `json:"op"`
	Calls   int    `json:"calls"`
	TxBytes uint64 `json:"nvlink_tx_bytes"`
	RxBytes uint64 `json:"nvlink_rx_bytes"`
}

// BurstTop is the collective signature that carried most of a burst.
type BurstTop struct {
	Op       string `json:"op"`
	DataType string `json:"dtype"`
	Count    uint64 `json:"count"`
	Calls    int    `json:"calls"`
	TxBytes  uint64 `json:"nvlink_tx_bytes"`
	RxBytes  uint64 `json:"nvlink_rx_bytes"`
}

// Comm is one communicator in one process.
type Comm struct {
	Pid    uint32 `json:"pid"`
	Handle string `json:"handle"`
	Rank   int    `json:"rank"`
	NRanks int    `json:"nranks"`
	// GPU is the communicator's GPU (the CUDA device current when it was
	// created, as NVML numbers it); -1 unknown.
	GPU int `json:"gpu"`
	Traffic
}

// SizeBin is one power-of-two payload class: sizes in (upper/2, upper].
type SizeBin struct {
	UpperBytes uint64 `json:"upper_bytes"`
	Traffic
}

// Top is one collective signature among the heaviest by link bytes.
type Top struct {
	Op       string `json:"op"`
	DataType string `json:"dtype"`
	Count    uint64 `json:"count"`
	NRanks   int    `json:"nranks"`
	Protocol string `json:"protocol"`
	Traffic
}

// Analysis says how the analysis went.
type Analysis struct {
	Events        uint64 `json:"events"`
	CapturedCalls uint64 `json:"captured_calls"` // issued into CUDA graphs: not in ops[].calls
	ReplayedCalls uint64 `json:"replayed_calls"` // of ops[].calls, run by graph launches
	GraphLaunches uint64 `json:"graph_launches"`
	UnmappedCalls uint64 `json:"unmapped_calls"` // on no sampled GPU
	// GuessedCommCalls ran on communicators created before linkprof
	// attached: their size was taken as GuessedNRanks, one rank per GPU.
	GuessedCommCalls uint64 `json:"guessed_comm_calls"`
	GuessedNRanks    int    `json:"guessed_nranks,omitempty"`
	LateItems        uint64 `json:"late_items"`
	ClockPairs       int    `json:"clock_pairs"`
}
