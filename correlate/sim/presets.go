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
