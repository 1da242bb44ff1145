package profiler

import (
	"slices"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// One process drives two GPUs (nccl-tests -g 2) with
// CUDA_VISIBLE_DEVICES=1,0: the stall watch checks the links of the GPUs
// its communicators were created on (device 0 is GPU 1), as the analysis
// places them, not the GPUs of the ranks' numbers.
func TestStallWatchPlacesRanksAsTheAnalysis(t *testing.T) {
	w := newStallWatch(time.Second)
	w.record(trace.RecProcess, trace.Process{Pid: 7, GPU: -1, Rank: -1, LocalRank: -1, WorldSize: -1, CUDAVisibleDevices: "1,0"})
	for rank, handle := range []uint64{0xa, 0xb} {
		dev := rank
		w.record(trace.RecComm, trace.Comm{Pid: 7, Handle: handle, Rank: int32(rank), NRanks: 2, CUDADevice: &dev})
		w.event(&trace.Event{Kind: trace.CommInitRank, Flags: trace.FlagReturn, Pid: 7, Comm: handle,
			Rank: int32(rank), NRanks: 2, Count: uint64(dev) + 1})
	}
	var got []int
	w.mu.Lock()
	for _, c := range w.match.Comms() { // in order of creation: 0xa, 0xb
		got = append(got, w.gpus(c)...)
	}
	w.mu.Unlock()
	if want := []int{1, 0}; !slices.Equal(got, want) {
		t.Fatalf("GPUs of handles 0xa and 0xb: %v, want %v (through CUDA_VISIBLE_DEVICES)", got, want)
	}
}
