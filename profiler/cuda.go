package profiler

import "github.com/linkprof/linkprof/trace"

// cookieDriver or's LP_FLAG_DRIVER into the event's flags (LP_COOKIE_FLAGS
// in bpf/event.h).
const cookieDriver = uint64(trace.FlagDriver) << 16

// Capture begin's arguments: (stream, mode); the CUDA 10.0 driver ABI,
// cuStreamBeginCapture, has no mode.
var (
	captureArgs       = argMap{stream: 1, peer: 2}
	captureNoModeArgs = argMap{stream: 1}
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
	for _, f := range names {
		spec := probeSpec{symbol: f.symbol, kind: f.kind, args: f.args, extra: extra, optional: f.optional}
		specs = append(specs, spec)
		if f.kind == trace.StreamEndCapture || f.kind == trace.GraphInstantiate {
			spec.ret = true
			specs = append(specs, spec)
		}
	}
	return specs
}

type graphName struct {
	symbol   string
	kind     trace.Kind
	optional bool
	args     argMap
}

type graphNames []graphName

// cudartFunctions are libcudart's (CUDA 12 and 13 signatures; the _ptsz
// variants are what code built for per-thread default streams calls).
var cudartFunctions = graphNames{
	{"cudaStreamBeginCapture", trace.StreamBeginCapture, false, captureArgs},
	{"cudaStreamBeginCapture_ptsz", trace.StreamBeginCapture, true, captureArgs},
	{"cudaStreamEndCapture", trace.StreamEndCapture, false, argMap{}},
	{"cudaStreamEndCapture_ptsz", trace.StreamEndCapture, true, argMap{}},
	{"cudaGraphInstantiate", trace.GraphInstantiate, false, argMap{}},
	{"cudaGraphInstantiateWithFlags", trace.GraphInstantiate, false, argMap{}},
	{"cudaGraphInstantiateWithParams", trace.GraphInstantiate, true, argMap{}},
	{"cudaGraphInstantiateWithParams_ptsz", trace.GraphInstantiate, true, argMap{}},
	{"cudaGraphLaunch", trace.GraphLaunch, false, argMap{}},
	{"cudaGraphLaunch_ptsz", trace.GraphLaunch, true, argMap{}},
	{"cudaGraphExecDestroy", trace.GraphExecDestroy, false, argMap{}},
	{"cudaGraphDestroy", trace.GraphDestroy, false, argMap{}},
	{"cudaEventRecord", trace.EventRecord, false, argMap{}},
	{"cudaEventRecord_ptsz", trace.EventRecord, true, argMap{}},
	{"cudaEventRecordWithFlags", trace.EventRecord, true, argMap{}},
	{"cudaEventRecordWithFlags_ptsz", trace.EventRecord, true, argMap{}},
	{"cudaStreamWaitEvent", trace.StreamWaitEvent, false, argMap{}},
	{"cudaStreamWaitEvent_ptsz", trace.StreamWaitEvent, true, argMap{}},
	// The thread's device, for the communicators it creates (no event).
	{"cudaSetDevice", trace.SetDevice, true, argMap{}},
}

// driverFunctions are libcuda.so.1's. cuStreamBeginCapture is the CUDA
// 10.0 one-argument ABI; cuda.h maps the name to cuStreamBeginCapture_v2.
var driverFunctions = graphNames{
	{"cuStreamBeginCapture", trace.StreamBeginCapture, false, captureNoModeArgs},
	{"cuStreamBeginCapture_v2", trace.StreamBeginCapture, false, captureArgs},
	{"cuStreamBeginCapture_v2_ptsz", trace.StreamBeginCapture, true, captureArgs},
	{"cuStreamEndCapture", trace.StreamEndCapture, false, argMap{}},
	{"cuStreamEndCapture_ptsz", trace.StreamEndCapture, true, argMap{}},
	{"cuGraphInstantiate", trace.GraphInstantiate, false, argMap{}},
	{"cuGraphInstantiate_v2", trace.GraphInstantiate, false, argMap{}},
	{"cuGraphInstantiateWithFlags", trace.GraphInstantiate, false, argMap{}},
	{"cuGraphInstantiateWithParams", trace.GraphInstantiate, true, argMap{}},
	{"cuGraphInstantiateWithParams_ptsz", trace.GraphInstantiate, true, argMap{}},
	{"cuGraphLaunch", trace.GraphLaunch, false, argMap{}},
	{"cuGraphLaunch_ptsz", trace.GraphLaunch, true, argMap{}},
	{"cuGraphExecDestroy", trace.GraphExecDestroy, false, argMap{}},
	{"cuGraphDestroy", trace.GraphDestroy, false, argMap{}},
}

var (
	cudartProbes = graphProbes(cudartFunctions, 0)
	driverProbes = graphProbes(driverFunctions, cookieDriver)
)
