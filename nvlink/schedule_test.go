package nvlink_test

import (
	"testing"
	"time"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

// One reader on a host that serializes calls at 1.1 ms gets the whole
// ceiling, split evenly, in strict turns.
func TestRoundRobinTakesTheWholeCeilingEvenly(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2})
	_, sink := runFor(t, srv, clk, nvlink.Config{}, time.Second)
	// 1 s / 1.1 ms = 909 calls; the one that crosses the end still counts.
	if n := len(sink.samples); n != 910 {
		t.Errorf("%d reads in 1 s at 1.1 ms a call, want 910", n)
	}
	for i, s := range sink.samples {
		if s.GPU != uint32(i%2) {
			t.Fatalf("read %d went to GPU %d: not round-robin", i, s.GPU)
		}
		if !s.OK() || s.MonoAfterNs-s.MonoBeforeNs != 1_100_000 {
			t.Fatalf("read %d: %+v", i, s)
		}
		if i > 0 && s.MonoBeforeNs != sink.samples[i-1].MonoAfterNs {
			t.Fatalf("read %d: %d ns idle before it", i, s.MonoBeforeNs-sink.samples[i-1].MonoAfterNs)
		}
	}
}

// --nvml-hz caps each GPU's rate exactly, on schedule.
func TestHzCapsEachGPU(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 100}, time.Second)
	for gpu := uint32(0); gpu < 2; gpu++ {
		got := sink.gpuSamples(gpu)
		if len(got) != 100 && len(got) != 101 {
			t.Errorf("GPU %d: %d reads in 1 s at 100 Hz", gpu, len(got))
		}
		for i := 1; i < len(got); i++ {
			if d := got[i].MonoBeforeNs - got[i-1].MonoBeforeNs; d != 10_000_000 {
				t.Fatalf("GPU %d read %d: %d ns after the previous, want 10 ms", gpu, i, d)
			}
		}
	}
}

// Per-GPU readers sharing a lock cannot beat the serialized ceiling.
func TestPerGPULockedStaysUnderCeiling(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 4})
	_, sink := runFor(t, srv, clk, nvlink.Config{Schedule: nvlink.SchedulePerGPULocked}, time.Second)
	n := len(sink.samples)
	// Each reader may finish the call it was in when time ran out.
	if n < 909 || n > 909+4 {
		t.Errorf("%d reads in 1 s, want 909-913", n)
	}
	for gpu := uint32(0); gpu < 4; gpu++ {
		if len(sink.gpuSamples(gpu)) == 0 {
			t.Errorf("GPU %d never read", gpu)
		}
	}
}

// Free-running readers still read every GPU and cannot beat the ceiling.
// (How much contention costs on real NVML is for the GPU benchmark.)
func TestFreeReadersReadEveryGPU(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2, ContentionCost: 1100 * time.Microsecond})
	_, sink := runFor(t, srv, clk, nvlink.Config{Schedule: nvlink.SchedulePerGPUFree}, time.Second)
	if n := len(sink.samples); n > 911 {
		t.Errorf("%d reads in 1 s, more than 1.1 ms calls allow", n)
	}
	if len(sink.gpuSamples(0)) == 0 || len(sink.gpuSamples(1)) == 0 {
		t.Error("a GPU was never read")
	}
}

func TestClockPairs(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 1})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 10, ClockEvery: 100 * time.Millisecond}, time.Second)
	c := sink.clocks
	if len(c) < 2 || c[0].Source != "nvml-start" || c[len(c)-1].Source != "nvml-stop" {
		t.Fatalf("clocks = %+v", c)
	}
	periodic := 0
	for _, x := range c {
		if x.WallNs-x.MonoNs != wallAhead {
			t.Errorf("%s pair: wall-mono = %d, want %d", x.Source, x.WallNs-x.MonoNs, wallAhead)
		}
		if x.Source == "periodic" {
			periodic++
		}
	}
	if periodic != 9 && periodic != 10 {
		t.Errorf("%d periodic pairs in 1 s at 100 ms", periodic)
	}
}

func TestRates(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2})
	s, _ := runFor(t, srv, clk, nvlink.Config{Hz: 50}, time.Second)
	r := s.Rates()
	for gpu := 0; gpu < 2; gpu++ {
		if r[gpu] < 49 || r[gpu] > 51.1 {
			t.Errorf("GPU %d rate %.2f, want 50", gpu, r[gpu])
		}
	}
}
