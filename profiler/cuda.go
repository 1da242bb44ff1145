package profiler

import "github.com/linkprof/linkprof/trace"

// Cookie bits above the kind (LP_COOKIE_* in bpf/event.h).
const (
	cookieDriver = uint64(trace.FlagDriver) << 16 // LP_FLAG_DRIVER into the event's flags
	cookieNoMode = uint64(1) << 52                // cuStreamBeginCapture v1 has no mode argument
)

// Markers: a defined symbol of this name makes a file that library,
// whatever its name (cudart is often linked statically into extensions).
const (
	cudartMarker = "cudaGraphLaunch"
	driverMarker = "cuGraphLaunch"
)

// graphProbes are the probes of the CUDA graph API: enough to know which
// collectives a graph captured and when it is replayed. Event record and
// stream wait tell which other streams joined a capture: torch issues NCCL
// on its own stream, joined to the capturing one through an event. They
// are probed in the runtime only (torch calls them around every collective;
// NCCL's statically linked runtime calls the driver's for its internal
// streams, which never matter here), and the BPF side drops them while no
// capture is open in the process. Capture end and
// instantiation return their handle through a pointer: they need return
// probes; launches stay entry-only (the hot path).
func graphProbes(names graphNames, extra uint64) []probeSpec {
	var specs []probeSpec
	add := func(sym string, kind trace.Kind, ret, optional bool, more uint64) {
		specs = append(specs, probeSpec{symbol: sym, kind: kind, extra: extra | more, optional: optional})
		if ret {
			specs = append(specs, probeSpec{symbol: sym, kind: kind, ret: true, extra: extra | more, optional: optional})
		}
	}
	for _, f := range names {
		add(f.symbol, f.kind, f.kind == trace.StreamEndCapture || f.kind == trace.GraphInstantiate, f.optional, f.extra)
	}
	return specs
}

type graphName struct {
	symbol   string
	kind     trace.Kind
	optional bool
	extra    uint64
}

type graphNames []graphName

// cudartFunctions are libcudart's (CUDA 12 and 13 signatures; the _ptsz
// variants are what code built for per-thread default streams calls).
var cudartFunctions = graphNames{
	{"cudaStreamBeginCapture", trace.StreamBeginCapture, false, 0},
	{"cudaStreamBeginCapture_ptsz", trace.StreamBeginCapture, true, 0},
	{"cudaStreamEndCapture", trace.StreamEndCapture, false, 0},
	{"cudaStreamEndCapture_ptsz", trace.StreamEndCapture, true, 0},
	{"cudaGraphInstantiate", trace.GraphInstantiate, false, 0},
	{"cudaGraphInstantiateWithFlags", trace.GraphInstantiate, false, 0},
	{"cudaGraphInstantiateWithParams", trace.GraphInstantiate, true, 0},
	{"cudaGraphInstantiateWithParams_ptsz", trace.GraphInstantiate, true, 0},
	{"cudaGraphLaunch", trace.GraphLaunch, false, 0},
	{"cudaGraphLaunch_ptsz", trace.GraphLaunch, true, 0},
	{"cudaGraphExecDestroy", trace.GraphExecDestroy, false, 0},
	{"cudaGraphDestroy", trace.GraphDestroy, false, 0},
	{"cudaEventRecord", trace.EventRecord, false, 0},
	{"cudaEventRecord_ptsz", trace.EventRecord, true, 0},
	{"cudaEventRecordWithFlags", trace.EventRecord, true, 0},
	{"cudaEventRecordWithFlags_ptsz", trace.EventRecord, true, 0},
	{"cudaStreamWaitEvent", trace.StreamWaitEvent, false, 0},
	{"cudaStreamWaitEvent_ptsz", trace.StreamWaitEvent, true, 0},
}

// driverFunctions are libcuda.so.1's. cuStreamBeginCapture is the CUDA
// 10.0 one-argument ABI; cuda.h maps the name to cuStreamBeginCapture_v2.
var driverFunctions = graphNames{
	{"cuStreamBeginCapture", trace.StreamBeginCapture, false, cookieNoMode},
	{"cuStreamBeginCapture_v2", trace.StreamBeginCapture, false, 0},
	{"cuStreamBeginCapture_v2_ptsz", trace.StreamBeginCapture, true, 0},
	{"cuStreamEndCapture", trace.StreamEndCapture, false, 0},
	{"cuStreamEndCapture_ptsz", trace.StreamEndCapture, true, 0},
	{"cuGraphInstantiate", trace.GraphInstantiate, false, 0},
	{"cuGraphInstantiate_v2", trace.GraphInstantiate, false, 0},
	{"cuGraphInstantiateWithFlags", trace.GraphInstantiate, false, 0},
	{"cuGraphInstantiateWithParams", trace.GraphInstantiate, true, 0},
	{"cuGraphInstantiateWithParams_ptsz", trace.GraphInstantiate, true, 0},
	{"cuGraphLaunch", trace.GraphLaunch, false, 0},
	{"cuGraphLaunch_ptsz", trace.GraphLaunch, true, 0},
	{"cuGraphExecDestroy", trace.GraphExecDestroy, false, 0},
	{"cuGraphDestroy", trace.GraphDestroy, false, 0},
}

var (
	cudartProbes = graphProbes(cudartFunctions, 0)
	driverProbes = graphProbes(driverFunctions, cookieDriver)
)
