package correlate_test

import (
	"os"
	"testing"

	"github.com/linkprof/linkprof/correlate/sim"
)

func TestZZNoise(t *testing.T) {
	if os.Getenv("ZZN") == "" {
		t.Skip()
	}
	os.RemoveAll("/tmp/zz-noise")
	cfg := sim.Config{Ranks: 8, Steps: 100, Ops: bigOps, StepGapNs: 40_000_000, SkewNs: 100_000,
		LagNs: 500_000, JitterNs: 100_000, Seed: 2, KeepSegments: true, NoiseBps: 2e9}
	if _, err := sim.Write("/tmp/zz-noise", cfg); err != nil {
		t.Fatal(err)
	}
}
