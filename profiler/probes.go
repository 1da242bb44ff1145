package profiler

import "github.com/linkprof/linkprof/trace"

// probeSpec is one probe on a library function. Entry probes run
// nccl_entry, return probes nccl_return (bpf/nccl.c).
type probeSpec struct {
	symbol string     // the public name; for NCCL pSYMBOL is the same code
	kind   trace.Kind // the attach cookie's low 16 bits
	ret    bool       // a return probe
	args   argMap     // which argument fills which event field
	// extra is or'ed into the cookie: flags and how the count argument is
	// read (see LP_COOKIE_* in bpf/event.h).
	extra uint64
	// optional symbols are not reported missing (variants few builds have).
	optional bool
}

// cookie is what the BPF program gets as bpf_get_attach_cookie.
func (s probeSpec) cookie() uint64 { return uint64(s.kind) | s.args.cookie() | s.extra }

// argMap names the argument (1-based, 0 none) that fills each event field
// of a call read straight from its arguments (enum lp_arg in bpf/event.h).
type argMap struct {
	send, recv, count, dtype, redop, peer, comm, stream int
}

// cookie packs the map at LP_COOKIE_ARG's bits: 4 bits a field from bit 24.
func (a argMap) cookie() uint64 {
	var c uint64
	for i, n := range [...]int{a.send, a.recv, a.count, a.dtype, a.redop, a.peer, a.comm, a.stream} {
		c |= uint64(n&0xf) << (24 + 4*i)
	}
	return c
}

// NCCL's collectives by signature (docs/nccl-facts.md).
var (
	// (sendbuff, recvbuff, count, datatype, op, comm, stream)
	redopArgs = argMap{send: 1, recv: 2, count: 3, dtype: 4, redop: 5, comm: 6, stream: 7}
	// (sendbuff, recvbuff, count, datatype, root, comm, stream)
	rootArgs = argMap{send: 1, recv: 2, count: 3, dtype: 4, peer: 5, comm: 6, stream: 7}
	// ncclReduce: (sendbuff, recvbuff, count, datatype, op, root, comm, stream)
	reduceArgs = argMap{send: 1, recv: 2, count: 3, dtype: 4, redop: 5, peer: 6, comm: 7, stream: 8}
	// (sendbuff, recvbuff, count, datatype, comm, stream)
	plainArgs = argMap{send: 1, recv: 2, count: 3, dtype: 4, comm: 5, stream: 6}
	// (buff, count, datatype, peer|root, comm, stream): a send's buffer is
	// sent, a receive's received, a bcast's both.
	sendArgs  = argMap{send: 1, count: 2, dtype: 3, peer: 4, comm: 5, stream: 6}
	recvArgs  = argMap{recv: 1, count: 2, dtype: 3, peer: 4, comm: 5, stream: 6}
	bcastArgs = argMap{send: 1, recv: 1, count: 2, dtype: 3, peer: 4, comm: 5, stream: 6}
)

// ncclProbes are the probes put on every NCCL library. Hot paths are
// entry-only; return probes are on communicator creation alone.
var ncclProbes = []probeSpec{
	{symbol: "ncclAllReduce", kind: trace.AllReduce, args: redopArgs},
	{symbol: "ncclReduceScatter", kind: trace.ReduceScatter, args: redopArgs},
	{symbol: "ncclBroadcast", kind: trace.Broadcast, args: rootArgs},
	{symbol: "ncclGather", kind: trace.Gather, args: rootArgs},
	{symbol: "ncclScatter", kind: trace.Scatter, args: rootArgs},
	{symbol: "ncclReduce", kind: trace.Reduce, args: reduceArgs},
	{symbol: "ncclAllGather", kind: trace.AllGather, args: plainArgs},
	{symbol: "ncclAlltoAll", kind: trace.AlltoAll, args: plainArgs},
	{symbol: "ncclSend", kind: trace.Send, args: sendArgs},
	{symbol: "ncclRecv", kind: trace.Recv, args: recvArgs},
	{symbol: "ncclBcast", kind: trace.Bcast, args: bcastArgs},
	{symbol: "ncclGroupStart", kind: trace.GroupStart},
	{symbol: "ncclGroupEnd", kind: trace.GroupEnd},
	{symbol: "ncclCommInitRank", kind: trace.CommInitRank},
	{symbol: "ncclCommInitRank", kind: trace.CommInitRank, ret: true},
	{symbol: "ncclCommInitRankConfig", kind: trace.CommInitRankConfig},
	{symbol: "ncclCommInitRankConfig", kind: trace.CommInitRankConfig, ret: true},
	{symbol: "ncclCommInitAll", kind: trace.CommInitAll},
	{symbol: "ncclCommInitAll", kind: trace.CommInitAll, ret: true},
	{symbol: "ncclCommSplit", kind: trace.CommSplit},
	{symbol: "ncclCommSplit", kind: trace.CommSplit, ret: true},
	{symbol: "ncclCommDestroy", kind: trace.CommDestroy},
}

// loaderProbe fires when the dynamic loader changes the link map (dlopen,
// dlclose), so a newly loaded NCCL is attached at once.
var loaderProbe = probeSpec{symbol: "_dl_debug_state", kind: trace.LibraryLoad}

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
