package trace

import "fmt"

// Kind says which function an event came from. Values equal enum lp_kind in
// bpf/event.h and are part of the trace format: append, never renumber.
type Kind uint16

const (
	KindNone Kind = iota
	AllReduce
	AllGather
	ReduceScatter
	Broadcast
	Bcast
	Reduce
	AlltoAll
	Gather
	Scatter
	Send
	Recv
	GroupStart
	GroupEnd
	CommInitRank
	CommInitRankConfig
	CommInitAll
	CommSplit
	CommDestroy
	LibraryLoad
	// CUDA graphs (bpf/event.h; fields per kind in docs/trace-format.md).
	StreamBeginCapture
	StreamEndCapture // return probe: Comm is the captured graph
	GraphInstantiate // return probe: Comm the graph, Aux the new exec
	GraphLaunch      // Aux the exec
	GraphExecDestroy // Aux the exec
	GraphDestroy     // Comm the graph
	// Collectives outside NCCL, from the extra-probe table.
	CustomAllReduce
	// Stream joins (a stream waiting on an event recorded on a capturing
	// stream joins the capture).
	EventRecord     // Aux the event, Stream the stream
	StreamWaitEvent // Stream the waiting stream, Aux the event
	// SetDevice is cudaSetDevice, probed for the thread's device (the
	// count of communicator-creation events); it writes no event.
	SetDevice
	// Collectives outside NCCL by path (profiler/extra's table; Path names
	// the path). Appended after SetDevice: values are the trace format.
	SymmMemOneShotAllReduce
	SymmMemTwoShotAllReduce
	SymmMemReduceScatter
	SymmMemAllGather
	FlashInferAllReduce
	FlashInferAllReduceFusion
	DeepEPDispatch
	DeepEPCombine
	PplxDispatch
	PplxCombine
	NVSHMEMAllReduce
	NVSHMEMAllGather
	NVSHMEMAlltoAll
	NVSHMEMBroadcast
	kindCount
)

// FlagDriver marks a CUDA driver API call (libcuda); a runtime call
// (libcudart) may make one inside itself, and both are probed.
const FlagDriver = 2

// FlagCommName marks an event whose Comm is the FNV-1a hash of a group name
// (torch symmetric memory's group_name): the same value in every process of
// the group, unlike a handle (docs/trace-format.md).
const FlagCommName = 4

var kindNames = [...]string{
	KindNone:                  "None",
	AllReduce:                 "AllReduce",
	AllGather:                 "AllGather",
	ReduceScatter:             "ReduceScatter",
	Broadcast:                 "Broadcast",
	Bcast:                     "Bcast",
	Reduce:                    "Reduce",
	AlltoAll:                  "AlltoAll",
	Gather:                    "Gather",
	Scatter:                   "Scatter",
	Send:                      "Send",
	Recv:                      "Recv",
	GroupStart:                "GroupStart",
	GroupEnd:                  "GroupEnd",
	CommInitRank:              "CommInitRank",
	CommInitRankConfig:        "CommInitRankConfig",
	CommInitAll:               "CommInitAll",
	CommSplit:                 "CommSplit",
	CommDestroy:               "CommDestroy",
	LibraryLoad:               "LibraryLoad",
	StreamBeginCapture:        "StreamBeginCapture",
	StreamEndCapture:          "StreamEndCapture",
	GraphInstantiate:          "GraphInstantiate",
	GraphLaunch:               "GraphLaunch",
	GraphExecDestroy:          "GraphExecDestroy",
	GraphDestroy:              "GraphDestroy",
	CustomAllReduce:           "CustomAllReduce",
	EventRecord:               "EventRecord",
	StreamWaitEvent:           "StreamWaitEvent",
	SetDevice:                 "SetDevice",
	SymmMemOneShotAllReduce:   "SymmMemOneShotAllReduce",
	SymmMemTwoShotAllReduce:   "SymmMemTwoShotAllReduce",
	SymmMemReduceScatter:      "SymmMemReduceScatter",
	SymmMemAllGather:          "SymmMemAllGather",
	FlashInferAllReduce:       "FlashInferAllReduce",
	FlashInferAllReduceFusion: "FlashInferAllReduceFusion",
	DeepEPDispatch:            "DeepEPDispatch",
	DeepEPCombine:             "DeepEPCombine",
	PplxDispatch:              "PplxDispatch",
	PplxCombine:               "PplxCombine",
	NVSHMEMAllReduce:          "NVSHMEMAllReduce",
	NVSHMEMAllGather:          "NVSHMEMAllGather",
	NVSHMEMAlltoAll:           "NVSHMEMAlltoAll",
	NVSHMEMBroadcast:          "NVSHMEMBroadcast",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint16(k))
}

// Op is the report's name for a collective: ncclBcast counts as Broadcast,
// as the op list of docs/design.md has no Bcast.
func (k Kind) Op() string {
	if k == Bcast {
		return Broadcast.String()
	}
	return k.String()
}

// IsCollective reports whether the kind is an NCCL call that moves data (and
// so counts as a call).
func (k Kind) IsCollective() bool { return k >= AllReduce && k <= Recv }

// IsCustomCollective reports whether the kind is a collective outside NCCL
// (found by the extra-probe table), which moves data too.
func (k Kind) IsCustomCollective() bool {
	return k == CustomAllReduce || k >= SymmMemOneShotAllReduce && k < kindCount
}

// Path names the way a collective's bytes move: "nccl" for NCCL's own
// calls, else the library path of a kind from the extra-probe table
// (docs/paths.md). Empty for kinds that are not collectives.
func (k Kind) Path() string {
	switch {
	case k.IsCollective():
		return "nccl"
	case k == CustomAllReduce:
		return "custom-all-reduce"
	case k >= SymmMemOneShotAllReduce && k <= SymmMemAllGather:
		return "symm-mem"
	case k == FlashInferAllReduce || k == FlashInferAllReduceFusion:
		return "flashinfer"
	case k == DeepEPDispatch || k == DeepEPCombine:
		return "deepep"
	case k == PplxDispatch || k == PplxCombine:
		return "pplx"
	case k >= NVSHMEMAllReduce && k <= NVSHMEMBroadcast:
		return "nvshmem"
	}
	return ""
}

// Collective names what a collective does whatever its path, so calls of
// one size that took different paths compare in one place (report.json
// paths): every path's all-reduce is "AllReduce", NCCL's ops are their Op;
// MoE dispatch and combine (DeepEP, pplx) are "Dispatch" and "Combine",
// which no single NCCL call does. Empty for kinds that are not collectives.
func (k Kind) Collective() string {
	switch k {
	case CustomAllReduce, SymmMemOneShotAllReduce, SymmMemTwoShotAllReduce, FlashInferAllReduce,
		FlashInferAllReduceFusion, NVSHMEMAllReduce:
		return AllReduce.String()
	case SymmMemReduceScatter:
		return ReduceScatter.String()
	case SymmMemAllGather, NVSHMEMAllGather:
		return AllGather.String()
	case NVSHMEMAlltoAll:
		return AlltoAll.String()
	case NVSHMEMBroadcast:
		return Broadcast.String()
	case DeepEPDispatch, PplxDispatch:
		return "Dispatch"
	case DeepEPCombine, PplxCombine:
		return "Combine"
	}
	if k.IsCollective() {
		return k.Op()
	}
	return ""
}

// IsGraph reports whether the kind is a CUDA graph API call (stream joins
// included).
func (k Kind) IsGraph() bool {
	return k >= StreamBeginCapture && k <= GraphDestroy || k == EventRecord || k == StreamWaitEvent
}

// IsCommCreate reports whether the kind creates a communicator.
func (k Kind) IsCommCreate() bool { return k >= CommInitRank && k <= CommSplit }

// Kinds lists every known kind, in value order.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindCount-1)
	for k := AllReduce; k < kindCount; k++ {
		ks = append(ks, k)
	}
	return ks
}

// DataType is ncclDataType_t.
type DataType int32

var dataTypes = []struct {
	name string
	size uint64
}{
	{"int8", 1}, {"uint8", 1}, {"int32", 4}, {"uint32", 4}, {"int64", 8}, {"uint64", 8},
	{"float16", 2}, {"float32", 4}, {"float64", 8}, {"bfloat16", 2}, {"fp8e4m3", 1}, {"fp8e5m2", 1},
}

func (d DataType) String() string {
	if d >= 0 && int(d) < len(dataTypes) {
		return dataTypes[d].name
	}
	if d == -1 {
		return "none"
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Size is the element size in bytes, 0 when unknown.
func (d DataType) Size() uint64 {
	if d >= 0 && int(d) < len(dataTypes) {
		return dataTypes[d].size
	}
	return 0
}

// RedOp is ncclRedOp_t.
type RedOp int32

func (r RedOp) String() string {
	switch {
	case r == -1:
		return "none"
	case r >= 0 && r <= 4:
		return [...]string{"sum", "prod", "max", "min", "avg"}[r]
	case r >= 5:
		return fmt.Sprintf("user(%d)", int32(r))
	}
	return fmt.Sprintf("redop(%d)", int32(r))
}
