package trace

// A merged trace (linkprof merge, format 1.2) holds the recordings of one
// job made on several hosts, one recorder each. Its Start record lists the
// hosts; every pid, GPU index and time in it is qualified:
//   - pids (and tids) are MergedPid(host, pid): the host's index in the
//     high bits, so two hosts' pid 1 stay two processes;
//   - a host's GPU g is its GPUBase+g (and Process and GPU records name the
//     host);
//   - times are on the first host's monotonic clock, and wall-clock
//     stamps on its wall clock (docs/design.md, "Merging hosts").

// Host is one recording a merged trace was made from.
type Host struct {
	Name   string `json:"name"`   // its Start.Host, "#2", "#3"... added when two are the same
	Folder string `json:"folder"` // the recording folder, as given to merge
	Index  int    `json:"index"`  // in Start.Hosts, from 0: the high bits of its pids
	// GPUBase is the merged index of its GPU 0; it has GPUs of them.
	GPUBase int `json:"gpu_base"`
	GPUs    int `json:"gpus"`
	// Clock is how its clock was placed on the first host's: "collectives"
	// (the median difference of the collectives they share) or "wall"
	// (their wall clocks); empty for the first host.
	Clock string `json:"clock,omitempty"`
	// OffsetNs is its monotonic clock minus the first host's at the middle
	// of its recording (Knots follow a drift between the clocks); 0 for
	// the first host.
	OffsetNs int64       `json:"offset_ns"`
	Knots    []ClockKnot `json:"knots,omitempty"`
	// Collectives is how many collectives it shares with the hosts placed
	// before it. Once its clock is placed, their arrivals differ from
	// those hosts' by CollectiveSkewNs at the median (0 when placed by
	// them) and SpreadNs (half the interquartile range) around it: a host
	// whose ranks are always late by S looks like a clock S ahead to the
	// collectives rule.
	Collectives      int   `json:"collectives"`
	CollectiveSkewNs int64 `json:"collective_skew_ns"`
	SpreadNs         int64 `json:"spread_ns"`
	// WallSkewNs is its wall clock minus the first host's once the
	// monotonic clocks are placed: NTP's disagreement plus the
	// collectives rule's error (0 when placed by the wall clocks).
	WallSkewNs int64 `json:"wall_skew_ns"`
	// Truncated: its recorder did not finish (no Stop record).
	Truncated bool `json:"truncated,omitempty"`
}

// ClockKnot is one point of a host's offset: at host time AtNs, its
// monotonic clock is OffsetNs ahead of the first host's. Between knots the
// offset is interpolated, beyond them extrapolated from the nearest two.
type ClockKnot struct {
	AtNs     int64 `json:"at_ns"`
	OffsetNs int64 `json:"offset_ns"`
}

// hostPidShift puts a host's index above every pid: the kernel's pids are
// below 2^22 (PID_MAX_LIMIT on 64-bit).
const hostPidShift = 22

// MaxHosts is how many hosts a merged trace can hold in its pids.
const MaxHosts = 1 << (32 - hostPidShift)

// MergedPid is a host's pid (or tid) in a merged trace; host 0 keeps its
// pids.
func MergedPid(host int, pid uint32) uint32 { return uint32(host)<<hostPidShift | pid }

// SplitPid is MergedPid's inverse: the host's index and its own pid.
func SplitPid(pid uint32) (host int, local uint32) {
	return int(pid >> hostPidShift), pid & (1<<hostPidShift - 1)
}

// HostOf is the host a pid of a merged trace belongs to; nil when the
// trace is not merged.
func (s *Start) HostOf(pid uint32) *Host {
	h, _ := SplitPid(pid)
	if h < len(s.Hosts) {
		return &s.Hosts[h]
	}
	return nil
}

// HostOfGPU is the host a GPU index of a merged trace belongs to; nil when
// the trace is not merged or no host has the GPU.
func (s *Start) HostOfGPU(gpu int) *Host {
	for i := range s.Hosts {
		if h := &s.Hosts[i]; gpu >= h.GPUBase && gpu < h.GPUBase+h.GPUs {
			return h
		}
	}
	return nil
}
