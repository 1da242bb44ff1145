package profiler

import "github.com/linkprof/linkprof/trace"

// probeSpec is one probe on a library function. Entry probes run
// nccl_entry, return probes nccl_return (bpf/nccl.c).
type probeSpec struct {
	symbol string     // the public name; for NCCL pSYMBOL is the same code
	kind   trace.Kind // the attach cookie's low 16 bits
	ret    bool       // a return probe
	// extra is or'ed into the cookie: how to read the arguments (see
	// LP_COOKIE_* in bpf/event.h).
	extra uint64
	// optional symbols are not reported missing (variants few builds have).
	optional bool
}

// cookie is what the BPF program gets as bpf_get_attach_cookie.
func (s probeSpec) cookie() uint64 { return uint64(s.kind) | s.extra }

// ncclProbes are the probes put on every NCCL library. Hot paths are
// entry-only; return probes are on communicator creation alone.
var ncclProbes = []probeSpec{
	{symbol: "ncclAllReduce", kind: trace.AllReduce, ret: false},
	{symbol: "ncclReduceScatter", kind: trace.ReduceScatter, ret: false},
	{symbol: "ncclBroadcast", kind: trace.Broadcast, ret: false},
	{symbol: "ncclGather", kind: trace.Gather, ret: false},
	{symbol: "ncclScatter", kind: trace.Scatter, ret: false},
	{symbol: "ncclReduce", kind: trace.Reduce, ret: false},
	{symbol: "ncclAllGather", kind: trace.AllGather, ret: false},
	{symbol: "ncclAlltoAll", kind: trace.AlltoAll, ret: false},
	{symbol: "ncclSend", kind: trace.Send, ret: false},
	{symbol: "ncclRecv", kind: trace.Recv, ret: false},
	{symbol: "ncclBcast", kind: trace.Bcast, ret: false},
	{symbol: "ncclGroupStart", kind: trace.GroupStart, ret: false},
	{symbol: "ncclGroupEnd", kind: trace.GroupEnd, ret: false},
	{symbol: "ncclCommInitRank", kind: trace.CommInitRank, ret: false},
	{symbol: "ncclCommInitRank", kind: trace.CommInitRank, ret: true},
	{symbol: "ncclCommInitRankConfig", kind: trace.CommInitRankConfig, ret: false},
	{symbol: "ncclCommInitRankConfig", kind: trace.CommInitRankConfig, ret: true},
	{symbol: "ncclCommInitAll", kind: trace.CommInitAll, ret: false},
	{symbol: "ncclCommInitAll", kind: trace.CommInitAll, ret: true},
	{symbol: "ncclCommSplit", kind: trace.CommSplit, ret: false},
	{symbol: "ncclCommSplit", kind: trace.CommSplit, ret: true},
	{symbol: "ncclCommDestroy", kind: trace.CommDestroy, ret: false},
}

// loaderProbe fires when the dynamic loader changes the link map (dlopen,
// dlclose), so a newly loaded NCCL is attached at once.
var loaderProbe = probeSpec{symbol: "_dl_debug_state", kind: trace.LibraryLoad, ret: false}

// ncclMarker is the symbol that makes an ELF file an NCCL library.
const ncclMarker = "ncclAllReduce"

// resolveSymbol picks the one name to probe for a function. NCCL exports
// ncclX and pncclX at one address; probing both would double every event.
func resolveSymbol(lib *LibraryInfo, symbol string) (string, bool) {
	if lib.Has(symbol) {
		return symbol, true
	}
	if lib.Has("p" + symbol) {
		return "p" + symbol, true
	}
	return "", false
}
