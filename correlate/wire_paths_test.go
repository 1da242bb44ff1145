package correlate

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// Each library path's bytes per call at 4 ranks, 1 MiB read from the call,
// against figures worked by hand from docs/paths.md's table.
func TestLibraryWire(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		k          trace.Kind
		rank, root int
		want       Wire
	}{
		{trace.FlashInferAllReduce, 1, -1, Wire{Msg: mib, Tx: 1.5 * mib, Rx: 1.5 * mib}},
		{trace.FlashInferAllReduceFusion, 0, -1, Wire{Msg: mib, Tx: 1.5 * mib, Rx: 1.5 * mib}},
		{trace.NVSHMEMAllReduce, 2, -1, Wire{Msg: mib, Tx: 1.5 * mib, Rx: 1.5 * mib}},
		{trace.DeepEPDispatch, 0, -1, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
		{trace.DeepEPCombine, 3, -1, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
		{trace.PplxDispatch, -1, -1, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
		{trace.PplxCombine, 1, -1, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
		{trace.NVSHMEMAllGather, 1, -1, Wire{Msg: 4 * mib, Tx: 3 * mib, Rx: 3 * mib}},
		{trace.NVSHMEMAlltoAll, 1, -1, Wire{Msg: 4 * mib, Tx: 3 * mib, Rx: 3 * mib}},
		{trace.NVSHMEMBroadcast, 2, 2, Wire{Msg: mib, Tx: 3 * mib}},
		{trace.NVSHMEMBroadcast, 0, 2, Wire{Msg: mib, Rx: mib}},
		{trace.NVSHMEMBroadcast, -1, 2, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
		{trace.NVSHMEMBroadcast, 1, 7, Wire{Msg: mib, Tx: 0.75 * mib, Rx: 0.75 * mib}},
	}
	for _, c := range cases {
		if got := RingWire(c.k, mib, c.rank, 4, c.root); got != c.want {
			t.Errorf("%v rank %d root %d: %+v, want %+v", c.k, c.rank, c.root, got, c.want)
		}
	}
	// One rank moves nothing; a custom path keeps its payload as is (no NCCL protocol).
	if got := RingWire(trace.DeepEPDispatch, mib, 0, 1, -1); got != (Wire{Msg: mib}) {
		t.Errorf("one rank: %+v", got)
	}
	if p := ProtocolOf(trace.FlashInferAllReduce, 1024); p != Simple {
		t.Errorf("FlashInfer protocol %v, want Simple", p)
	}
}
