package correlate

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

func TestWallToMonoInterpolates(t *testing.T) {
	var a Aligner
	if _, ok := a.WallToMono(5); ok {
		t.Fatal("converted without clock pairs")
	}
	// The wall clock runs 1000 ns fast over 1 s (NTP slewing it back).
	a.Add(trace.Clock{MonoNs: 2_000_000_000, WallNs: 1_002_000_000_000})
	a.Add(trace.Clock{MonoNs: 1_000_000_000, WallNs: 1_001_000_000_000})
	a.Add(trace.Clock{MonoNs: 3_000_000_000, WallNs: 1_003_000_001_000})
	cases := []struct{ wall, mono int64 }{
		{1_001_000_000_000, 1_000_000_000},
		{1_001_500_000_000, 1_500_000_000},
		{1_002_500_000_500, 2_500_000_000}, // halfway: offset halfway between
		{1_000_000_000_000, 0},             // before the first pair: its offset
		{1_004_000_001_000, 4_000_000_000}, // after the last: its offset
	}
	for _, c := range cases {
		if got, ok := a.WallToMono(c.wall); !ok || got != c.mono {
			t.Errorf("WallToMono(%d) = %d, %v; want %d", c.wall, got, ok, c.mono)
		}
	}
}

func TestSampleTime(t *testing.T) {
	var a Aligner
	a.Add(trace.Clock{MonoNs: 1_000_000_000, WallNs: 1_001_000_000_000})
	s := trace.Sample{MonoBeforeNs: 1_100_000_000, MonoAfterNs: 1_101_000_000, WallUs: 1_001_100_250}
	if got, nvml := a.SampleTime(&s); !nvml || got != 1_100_250_000 {
		t.Errorf("SampleTime = %d, %v; want NVML's 1100250000", got, nvml)
	}
	// An NVML timestamp far outside the host's readings is not trusted.
	s.WallUs = 1_001_500_000
	if got, nvml := a.SampleTime(&s); nvml || got != 1_100_500_000 {
		t.Errorf("SampleTime = %d, %v; want the midpoint 1100500000", got, nvml)
	}
	s.WallUs = 0
	if got, nvml := a.SampleTime(&s); nvml || got != 1_100_500_000 {
		t.Errorf("no NVML time: %d, %v", got, nvml)
	}
}

// MonoToWall undoes WallToMono, between pairs (the wall clock slewed) and
// beyond them.
func TestMonoToWallInvertsWallToMono(t *testing.T) {
	var a Aligner
	a.Add(trace.Clock{MonoNs: 1_000_000_000, WallNs: 5_000_000_000})
	a.Add(trace.Clock{MonoNs: 11_000_000_000, WallNs: 15_000_400_000}) // wall 40 ppm fast
	for _, mono := range []int64{0, 1_000_000_000, 6_000_000_123, 11_000_000_000, 20_000_000_000} {
		wall, ok := a.MonoToWall(mono)
		back, ok2 := a.WallToMono(wall)
		if !ok || !ok2 || back < mono-1 || back > mono+1 {
			t.Errorf("mono %d -> wall %d -> mono %d", mono, wall, back)
		}
	}
	if w, _ := a.MonoToWall(6_000_000_000); w != 10_000_200_000 {
		t.Errorf("midway: wall %d, want 10000200000", w)
	}
}
