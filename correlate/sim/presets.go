package sim

import "github.com/linkprof/linkprof/trace"

const bf16 = trace.DataType(9)

// TensorParallel is a small tensor-parallel serving pattern: per step two
// large all-reduces, an all-gather, a small (LL) all-reduce, with bursty
// arrivals, sampling gaps, background noise and two transfers no
// collective explains.
func TensorParallel(ranks, steps int) Config {
	return Config{Ranks: ranks, Steps: steps, StepGapNs: 12_000_000, SkewNs: 80_000, LagNs: 400_000,
		JitterNs: 150_000, FailEvery: 97, NoiseBps: 5e7, Stacks: true, Seed: 11,
		Ops: []Op{
			{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
			{Kind: trace.AllGather, Count: 1 << 20, DType: bf16},
			{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
			{Kind: trace.AllReduce, Count: 4 << 10, DType: bf16},
		},
		Blobs: []Blob{{AtNs: 36_000_000, GPU: 0, Bytes: 6e8}, {AtNs: 120_000_000, GPU: ranks - 1, Bytes: 6e8}}}
}

// Hour is the benchmark of issue 3: 8 GPUs sampled at 1 kHz for an hour
// and 10M events (8 ranks x 4 collectives every 11.52 ms).
func Hour() Config {
	c := TensorParallel(8, 312_500)
	c.StepGapNs = 11_520_000
	c.Stacks, c.FailEvery, c.Blobs = true, 0, nil
	return c
}

// PathMix alternates two phases of vLLM-like all-reduces on 2 ranks, each
// queued faster than the link drains it (docs/attribution.md, "Paths"):
// custom all-reduces of 256 KiB (exactly, a bucket's bound) and 1.5 MiB
// with torch symmetric-memory two-shot all-reduces of 3 MiB, then NCCL
// all-reduces of 192 KiB, 1.5 MiB (the size the custom all-reduce also
// took) and 32 MiB. The link is slow, 20 GB/s, so each size runs for
// several milliseconds a phase; 8 steps, 4 of each phase.
func PathMix(seed uint64) Config {
	var custom, nccl []Op
	for _, r := range []struct {
		n       int
		kind    trace.Kind
		payload uint64
		into    *[]Op
	}{
		{400, trace.CustomAllReduce, 256 << 10, &custom},
		{200, trace.CustomAllReduce, 1536 << 10, &custom},
		{100, trace.SymmMemTwoShotAllReduce, 3 << 20, &custom},
		{300, trace.AllReduce, 192 << 10, &nccl},
		{100, trace.AllReduce, 1536 << 10, &nccl},
		{10, trace.AllReduce, 32 << 20, &nccl},
	} {
		for range r.n {
			*r.into = append(*r.into, Op{Kind: r.kind, Count: r.payload / bf16.Size(), DType: bf16})
		}
	}
	return Config{Ranks: 2, Steps: 8, Seed: seed, StepGapNs: 60_000_000, HostGapNs: 2_000, LinkBps: 20e9,
		Stacks: true, Cycle: [][]Op{custom, nccl}}
}
