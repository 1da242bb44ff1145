package correlate_test

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/trace"
)

// One process drives two GPUs (nccl-tests -g 2: cudaSetDevice, then
// ncclCommInitRank per GPU inside a group; each step one group of an
// all-reduce per communicator): each communicator's calls and bytes belong
// to the GPU it was created on, not to the process's first GPU.
func TestOneProcessTwoGPUs(t *testing.T) {
	t.Run("own streams", func(t *testing.T) { oneProcessTwoGPUs(t, false) })
	// Both communicators on the default stream handle: the same number on
	// two GPUs names two streams.
	t.Run("default stream", func(t *testing.T) { oneProcessTwoGPUs(t, true) })
}

func oneProcessTwoGPUs(t *testing.T, defaultStream bool) {
	const pid, steps, payload = 9, 40, 32 << 20
	comms := []uint64{0xa0, 0xb0}
	var evs []trace.Event
	for i, c := range comms {
		evs = append(evs, trace.Event{TsNs: 1_000_000 + uint64(i), Pid: pid, Tid: pid, Kind: trace.CommInitRankConfig,
			Flags: trace.FlagReturn, Comm: c, Rank: int32(i), NRanks: 2, Count: uint64(i) + 1})
	}
	var samples []trace.Sample
	kib := [2]uint64{}
	sample := func(at int64, gpu int) {
		samples = append(samples, trace.Sample{GPU: uint32(gpu), Flags: trace.SampleOK, MonoBeforeNs: at, MonoAfterNs: at,
			DataTxKiB: kib[gpu], DataRxKiB: kib[gpu]})
	}
	for s := range steps {
		t0 := int64(10_000_000 + s*20_000_000)
		evs = append(evs, trace.Event{TsNs: uint64(t0), Pid: pid, Tid: pid, Kind: trace.GroupStart, GroupDepth: 0})
		for i, c := range comms {
			stream := 0x100 + uint64(i)
			if defaultStream {
				stream = 0
			}
			evs = append(evs, trace.Event{TsNs: uint64(t0 + 1000 + int64(i)), Pid: pid, Tid: pid, Kind: trace.AllReduce,
				Comm: c, Stream: stream, Count: payload / 2, DataType: bf16, StackID: -1, Peer: -1, GroupDepth: 1})
		}
		evs = append(evs, trace.Event{TsNs: uint64(t0 + 3000), Pid: pid, Tid: pid, Kind: trace.GroupEnd, GroupDepth: 1})
		for ms := range 20 {
			at := t0 + int64(ms)*1_000_000 + 500_000
			for gpu := range 2 {
				if ms == 1 || ms == 2 {
					kib[gpu] += payload / 2 / 1024 // half the ring bytes in each of two intervals
				}
				sample(at, gpu)
			}
		}
	}
	dir := writeTrace(t, func(w *trace.Writer) {
		w.WriteJSON(trace.RecProcess, trace.Process{Pid: pid, Comm: "all_reduce_perf", GPU: 0, Rank: -1, LocalRank: -1, WorldSize: -1})
		for g := range 2 {
			w.WriteJSON(trace.RecGPU, trace.GPU{Index: g, UUID: "GPU-" + string(rune('a'+g))})
		}
		writeEvents(w, evs)
		w.WriteSamples(samples...)
	})
	for _, shards := range []int{1, 2} {
		checkTwoGPUs(t, dir, shards, steps, payload)
	}
	// report.json names each communicator's rank and GPU.
	r := reportschema.Run(t, dir, correlate.Options{}).Report
	want := map[string][2]int{"0xa0": {0, 0}, "0xb0": {1, 1}}
	if len(r.Comms) != len(want) {
		t.Fatalf("report has %d communicators, want %d", len(r.Comms), len(want))
	}
	for _, c := range r.Comms {
		if w, ok := want[c.Handle]; !ok || c.Rank != w[0] || c.GPU != w[1] {
			t.Errorf("communicator %s: rank %d, GPU %d; want %v (rank, GPU)", c.Handle, c.Rank, c.GPU, w)
		}
	}
}

// checkTwoGPUs analyzes with one engine per GPU or one for both (the
// group's end must reach every engine that got its calls).
func checkTwoGPUs(t *testing.T, dir string, shards, steps, payload int) {
	t.Helper()
	lists := make([]callList, shards)
	sinks := make([]correlate.Sink, shards)
	for i := range sinks {
		sinks[i] = &lists[i]
	}
	if _, err := correlate.AnalyzeShards(dir, correlate.Options{}, sinks); err != nil {
		t.Fatal(err)
	}
	var got callList
	for _, l := range lists {
		got = append(got, l...)
	}
	perGPU := map[int]float64{}
	calls := map[int]int{}
	for _, c := range got {
		if c.Kind == trace.AllReduce {
			perGPU[c.GPU] += c.TxBytes
			calls[c.GPU]++
		}
	}
	want := float64(steps * payload)
	for gpu := range 2 {
		if calls[gpu] != steps || perGPU[gpu] < 0.98*want || perGPU[gpu] > 1.02*want {
			t.Errorf("%d engines, GPU %d: %d calls, %.0f bytes attributed; want %d calls, %.0f", shards, gpu, calls[gpu], perGPU[gpu], steps, want)
		}
	}
}
