package correlate_test

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

const bf16 = trace.DataType(9)

// tpLayers is a tensor-parallel decode step: four bf16 all-reduces of
// activation size plus a small one (LL protocol).
var tpLayers = []sim.Op{
	{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
	{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
	{Kind: trace.AllGather, Count: 2 << 20, DType: bf16},
	{Kind: trace.AllReduce, Count: 8 << 10, DType: bf16},
}

func baseConfig() sim.Config {
	return sim.Config{Ranks: 4, Steps: 300, Ops: tpLayers, SkewNs: 50_000, LagNs: 200_000,
		JitterNs: 100_000, Seed: 1, KeepSegments: true}
}

func TestAttributionGroundTruth(t *testing.T) {
	cases := map[string]func(*sim.Config){
		"plain":        func(c *sim.Config) {},
		"lag":          func(c *sim.Config) { c.LagNs = 4_000_000 },
		"jitter":       func(c *sim.Config) { c.JitterNs = 400_000; c.SkewNs = 500_000 },
		"gaps":         func(c *sim.Config) { c.FailEvery = 7 },
		"no-nvml-time": func(c *sim.Config) { c.NoNVMLTime = true },
		// Communicators created before linkprof attached: their size is
		// the number of NCCL processes on distinct GPUs.
		"attached-late": func(c *sim.Config) { c.AttachedLate = true },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := baseConfig()
			mod(&cfg)
			truth, c, _ := run(t, cfg, correlate.Options{})
			for op, n := range truth.Calls {
				if c.calls[op] != n {
					t.Errorf("%s calls = %d, want %d", op, c.calls[op], n)
				}
			}
			if s := rightShare(truth, c); s < 0.98 {
				t.Errorf("right share %.4f < 0.98; truth %v got %v un %.0f", s, truth.OpTx, c.tx, c.unTx)
			}
			t.Logf("right share %.4f unattributed %.0f bursts %d", rightShare(truth, c), c.unTx, len(c.bursts))
		})
	}
}

// bigOps span many sampling intervals back to back.
var bigOps = []sim.Op{
	{Kind: trace.AllReduce, Count: 128 << 20, DType: bf16},
	{Kind: trace.ReduceScatter, Count: 16 << 20, DType: bf16},
	{Kind: trace.AllGather, Count: 16 << 20, DType: bf16},
	{Kind: trace.AlltoAll, Count: 1 << 20, DType: trace.DataType(7)},
	{Kind: trace.Broadcast, Count: 4 << 20, DType: bf16},
}

func TestAttributionLongCollectives(t *testing.T) {
	cases := map[string]func(*sim.Config){
		"plain":  func(c *sim.Config) {},
		"lag":    func(c *sim.Config) { c.LagNs = 20_000_000 },
		"jitter": func(c *sim.Config) { c.JitterNs = 400_000; c.SkewNs = 2_000_000 },
		"gaps":   func(c *sim.Config) { c.FailEvery = 5 },
		"noise":  func(c *sim.Config) { c.NoiseBps = 2e9 },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := sim.Config{Ranks: 8, Steps: 100, Ops: bigOps, StepGapNs: 40_000_000, SkewNs: 100_000,
				LagNs: 500_000, JitterNs: 100_000, Seed: 2, KeepSegments: true}
			mod(&cfg)
			truth, c, _ := run(t, cfg, correlate.Options{})
			s := rightShare(truth, c)
			if s < 0.98 {
				t.Errorf("right share %.4f < 0.98; truth %v got %v un %.0f", s, truth.OpTx, c.tx, c.unTx)
			}
			t.Logf("right share %.4f unattributed %.3g (truth %.3g) bursts %d incomplete %d", s, c.unTx, truth.UnexplTx, len(c.bursts), c.incomplete)
		})
	}
}
