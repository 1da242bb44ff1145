package trace

// Clock is one reading of both clocks, taken back to back. Analysis maps
// wall-clock times (NVML) onto the monotonic clock of the BPF events.
type Clock struct {
	Source string `json:"source"` // start, stop, periodic, nvml-start, ...
	MonoNs int64  `json:"mono_ns"`
	WallNs int64  `json:"wall_ns"`
	// UncertaintyNs is the time between the two readings.
	UncertaintyNs int64 `json:"uncertainty_ns,omitempty"`
}

// Start opens every trace.
type Start struct {
	Tool      string   `json:"tool"` // "linkprof <version>"
	Host      string   `json:"host"`
	Kernel    string   `json:"kernel"`
	Args      []string `json:"args"`
	Clock     Clock    `json:"clock"`
	Simulated bool     `json:"simulated,omitempty"` // the link is the demo's simulation
	Workload  string   `json:"workload,omitempty"`
	// Hosts are the recordings a merged trace was made from (format 1.2,
	// host.go); empty for a recording of one host.
	Hosts []Host `json:"hosts,omitempty"`
}

// Stop closes a trace that finished cleanly.
type Stop struct {
	Clock      Clock  `json:"clock"`
	Reason     string `json:"reason"` // duration, signal, command-exited, targets-exited, error
	Events     uint64 `json:"events"`
	Lost       uint64 `json:"lost"`
	ExitStatus *int   `json:"exit_status,omitempty"` // launch mode: the command's
	Error      string `json:"error,omitempty"`
}

// Process describes a recorded process.
type Process struct {
	Pid       uint32   `json:"pid"`
	PPid      uint32   `json:"ppid"`
	Comm      string   `json:"comm"`
	Cmdline   []string `json:"cmdline"`
	Exe       string   `json:"exe"`
	SeenNs    int64    `json:"seen_ns"` // monotonic time linkprof attached
	Launched  bool     `json:"launched,omitempty"`
	Rank      int      `json:"rank"`       // from RANK in its environment, -1 unknown
	LocalRank int      `json:"local_rank"` // from LOCAL_RANK, -1 unknown
	WorldSize int      `json:"world_size"` // from WORLD_SIZE, -1 unknown
	GPU       int      `json:"gpu"`        // from NVML compute processes, -1 unknown
	// CUDAVisibleDevices is the process's CUDA_VISIBLE_DEVICES, which maps
	// its CUDA device ordinals onto the machine's GPUs (empty: unset).
	CUDAVisibleDevices string `json:"cuda_visible_devices,omitempty"`
	// The Kubernetes pod it runs in, when it runs in one (1.2): the pod's
	// UID and the container's ID from its cgroup, the pod's name from its
	// HOSTNAME, its namespace from the service account files in its root.
	PodUID       string `json:"pod_uid,omitempty"`
	Pod          string `json:"pod,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
	ContainerID  string `json:"container_id,omitempty"`
	// LocalWorldSize is LOCAL_WORLD_SIZE (ranks on this host), 0 unset
	// (1.2).
	LocalWorldSize int `json:"local_world_size,omitempty"`
	// NCCLEnv holds the NCCL variables that choose its transports and
	// network devices (nic.EnvKeys: NCCL_P2P_DISABLE, NCCL_SHM_DISABLE,
	// NCCL_SOCKET_IFNAME, ...), those set (1.2).
	NCCLEnv map[string]string `json:"nccl_env,omitempty"`
	// The NCCL library it maps (empty until one is found).
	NCCLPath    string `json:"nccl_path,omitempty"`
	NCCLBuildID string `json:"nccl_build_id,omitempty"`
	NCCLVersion string `json:"nccl_version,omitempty"`
	// Host is the host it ran on, in a merged trace (format 1.2).
	Host string `json:"host,omitempty"`
}

// Library is a library a process maps whose symbols were probed.
type Library struct {
	Pid     uint32   `json:"pid"`
	Path    string   `json:"path"` // as in /proc/PID/maps
	Dev     uint64   `json:"dev"`
	Inode   uint64   `json:"inode"`
	BuildID string   `json:"build_id,omitempty"`
	Version string   `json:"version,omitempty"`
	Role    string   `json:"role"`    // nccl, loader, ...
	Probed  []string `json:"probed"`  // symbols with a probe
	Missing []string `json:"missing"` // wanted symbols it lacks
	// AttachedNs is the monotonic time the probes were in place.
	AttachedNs int64 `json:"attached_ns"`
}

// Comm is a communicator learned from a ncclCommInit*/Split return.
type Comm struct {
	Pid    uint32 `json:"pid"`
	Handle uint64 `json:"handle"`
	Rank   int32  `json:"rank"`   // -1 unknown (split)
	NRanks int32  `json:"nranks"` // -1 unknown (split)
	Kind   string `json:"kind"`
	Parent uint64 `json:"parent,omitempty"`
	TsNs   uint64 `json:"ts_ns"`
	// CUDADevice is the CUDA device ordinal the communicator was created
	// on (the thread's current device; ncclCommInitAll's device list), in
	// the process's numbering; nil when the recorder did not see it.
	CUDADevice *int `json:"cuda_device,omitempty"`
	// UniqueID is the FNV-1a 64 hash of the ncclUniqueId the communicator
	// was created with (Event.CommUniqueID; format 1.2): the same in all
	// its ranks on every host. 0 unknown.
	UniqueID uint64 `json:"unique_id,omitempty"`
}

// Lost is the cumulative count of events the ring buffer dropped.
type Lost struct {
	MonoNs int64  `json:"mono_ns"`
	Count  uint64 `json:"count"`
}

// Stack is a user stack captured at a probe, leaf first.
type Stack struct {
	ID    int32    `json:"id"`
	Pid   uint32   `json:"pid"`
	Addrs []uint64 `json:"addrs"`
}

// Mapping is one executable mapping of a process.
type Mapping struct {
	Start   uint64 `json:"start"`
	End     uint64 `json:"end"`
	Offset  uint64 `json:"offset"`
	Path    string `json:"path"`
	BuildID string `json:"build_id,omitempty"`
}

// Mappings is a snapshot of a process's executable mappings.
type Mappings struct {
	Pid      uint32    `json:"pid"`
	MonoNs   int64     `json:"mono_ns"`
	Mappings []Mapping `json:"mappings"`
}

// Note keeps a warning or fact in the trace (e.g. "NVML not found").
type Note struct {
	MonoNs int64  `json:"mono_ns"`
	Level  string `json:"level"` // info, warn
	Text   string `json:"text"`
}
