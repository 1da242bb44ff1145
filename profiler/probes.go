package profiler

import "github.com/linkprof/linkprof/trace"

// probeSpec is one probe on a library function. Entry probes run
// nccl_entry, return probes comm_init_return (bpf/nccl.c).
type probeSpec struct {
	symbol string     // NCCL's public name; pSYMBOL is the same code
	kind   trace.Kind // passed as the attach cookie
	ret    bool       // a return probe
}

// ncclProbes are the probes put on every NCCL library. Hot paths are
// entry-only; return probes are on communicator creation alone.
var ncclProbes = []probeSpec{
	{"ncclAllReduce", trace.AllReduce, false},
	{"ncclReduceScatter", trace.ReduceScatter, false},
	{"ncclBroadcast", trace.Broadcast, false},
	{"ncclGather", trace.Gather, false},
	{"ncclScatter", trace.Scatter, false},
	{"ncclReduce", trace.Reduce, false},
	{"ncclAllGather", trace.AllGather, false},
	{"ncclAlltoAll", trace.AlltoAll, false},
	{"ncclSend", trace.Send, false},
	{"ncclRecv", trace.Recv, false},
	{"ncclBcast", trace.Bcast, false},
	{"ncclGroupStart", trace.GroupStart, false},
	{"ncclGroupEnd", trace.GroupEnd, false},
	{"ncclCommInitRank", trace.CommInitRank, false},
	{"ncclCommInitRank", trace.CommInitRank, true},
	{"ncclCommInitRankConfig", trace.CommInitRankConfig, false},
	{"ncclCommInitRankConfig", trace.CommInitRankConfig, true},
	{"ncclCommInitAll", trace.CommInitAll, false},
	{"ncclCommInitAll", trace.CommInitAll, true},
	{"ncclCommSplit", trace.CommSplit, false},
	{"ncclCommSplit", trace.CommSplit, true},
	{"ncclCommDestroy", trace.CommDestroy, false},
}

// loaderProbe fires when the dynamic loader changes the link map (dlopen,
// dlclose), so a newly loaded NCCL is attached at once.
var loaderProbe = probeSpec{"_dl_debug_state", trace.LibraryLoad, false}

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
