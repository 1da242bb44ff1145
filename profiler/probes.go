package profiler

import "github.com/linkprof/linkprof/trace"

// probeSpec is one probe on a library function.
type probeSpec struct {
	symbol  string     // NCCL's public name; pSYMBOL is the same code
	program string     // BPF program name in bpf/nccl.c
	kind    trace.Kind // passed as the attach cookie
	ret     bool       // a return probe
}

// ncclProbes are the probes put on every NCCL library. Hot paths are
// entry-only; return probes are on communicator creation alone.
var ncclProbes = []probeSpec{
	{"ncclAllReduce", "coll_redop", trace.AllReduce, false},
	{"ncclReduceScatter", "coll_redop", trace.ReduceScatter, false},
	{"ncclBroadcast", "coll_root", trace.Broadcast, false},
	{"ncclGather", "coll_root", trace.Gather, false},
	{"ncclScatter", "coll_root", trace.Scatter, false},
	{"ncclReduce", "coll_reduce", trace.Reduce, false},
	{"ncclAllGather", "coll_plain", trace.AllGather, false},
	{"ncclAlltoAll", "coll_plain", trace.AlltoAll, false},
	{"ncclSend", "coll_onebuf", trace.Send, false},
	{"ncclRecv", "coll_onebuf", trace.Recv, false},
	{"ncclBcast", "coll_onebuf", trace.Bcast, false},
	{"ncclGroupStart", "group_start", trace.GroupStart, false},
	{"ncclGroupEnd", "group_end", trace.GroupEnd, false},
	{"ncclCommInitRank", "comm_init_rank", trace.CommInitRank, false},
	{"ncclCommInitRank", "comm_init_return", trace.CommInitRank, true},
	{"ncclCommInitRankConfig", "comm_init_rank", trace.CommInitRankConfig, false},
	{"ncclCommInitRankConfig", "comm_init_return", trace.CommInitRankConfig, true},
	{"ncclCommInitAll", "comm_init_all", trace.CommInitAll, false},
	{"ncclCommInitAll", "comm_init_return", trace.CommInitAll, true},
	{"ncclCommSplit", "comm_split", trace.CommSplit, false},
	{"ncclCommSplit", "comm_init_return", trace.CommSplit, true},
	{"ncclCommDestroy", "comm_destroy", trace.CommDestroy, false},
}

// loaderProbe fires when the dynamic loader changes the link map (dlopen,
// dlclose), so a newly loaded NCCL is attached at once.
var loaderProbe = probeSpec{"_dl_debug_state", "library_load", trace.LibraryLoad, false}

// ncclMarker is the symbol that makes an ELF file an NCCL library.
const ncclMarker = "ncclAllReduce"

// ncclWanted lists every symbol name InspectELF should look for: the public
// names and their p-prefixed twins.
func ncclWanted() map[string]bool {
	w := map[string]bool{}
	for _, p := range ncclProbes {
		w[p.symbol] = true
		w["p"+p.symbol] = true
	}
	return w
}

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
