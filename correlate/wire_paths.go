package correlate

import "github.com/linkprof/linkprof/trace"

// libraryWire is what one rank sends and receives for a collective of a
// library path outside NCCL (profiler/extra/libraries.go; the models are
// tabled in docs/paths.md). Like NCCL's, these are priors: calibration
// learns each kind's factor per size class from the recording.
func libraryWire(k trace.Kind, payload uint64, rank, nranks, root int) Wire {
	switch k {
	case trace.FlashInferAllReduce, trace.FlashInferAllReduceFusion, trace.NVSHMEMAllReduce:
		// TensorRT-LLM's kernels run two-shot (a reduce-scatter, then an
		// all-gather: what a ring moves) or one-shot (each rank pushes its
		// whole input to every peer, (n-1) x S) on small inputs.
		return RingWire(trace.AllReduce, payload, rank, nranks, root)
	case trace.DeepEPDispatch, trace.DeepEPCombine, trace.PplxDispatch, trace.PplxCombine:
		return expertWire(payload, nranks)
	case trace.NVSHMEMAllGather, trace.NVSHMEMAlltoAll:
		// fcollect and alltoall count per PE, as NCCL's all-gather and
		// all-to-all do.
		return RingWire(trace.AllGather, payload, rank, nranks, root)
	case trace.NVSHMEMBroadcast:
		return starWire(payload, rank, nranks, root)
	}
	return Wire{Msg: payload}
}

// expertWire is an expert-parallel dispatch or combine of this rank's
// tokens (the x the probe read): with experts spread evenly over the ranks,
// (n-1)/n of the tokens go to (dispatch) or come back from (combine) other
// ranks, and as much arrives. A token picked by experts on several ranks
// goes to each: the top-k fan-out is not read, so this is a lower bound.
func expertWire(payload uint64, nranks int) Wire {
	v := float64(nranks-1) / float64(nranks) * float64(payload)
	return Wire{Msg: payload, Tx: v, Rx: v}
}

// starWire is a broadcast in which every rank takes the buffer from the
// root (NVSHMEM's on NVLink): the root sends it n-1 times. With the rank
// or root unknown each rank gets the average.
func starWire(payload uint64, rank, nranks, root int) Wire {
	s, n := float64(payload), float64(nranks)
	switch {
	case rank < 0 || root < 0 || root >= nranks:
		v := (n - 1) / n * s
		return Wire{Msg: payload, Tx: v, Rx: v}
	case rank == root:
		return Wire{Msg: payload, Tx: (n - 1) * s}
	}
	return Wire{Msg: payload, Rx: s}
}
