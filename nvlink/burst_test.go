package nvlink_test

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

// switchHost is the GPU box's NVML as measured: 1 ms a call, 0.43 ms more
// when the call reads another GPU than the one before.
func switchHost(gpus int) (*nvmlfake.Server, *nvmlfake.Clock) {
	return fakeHost(nvmlfake.Options{GPUs: gpus, CallCost: time.Millisecond, SwitchCost: 430 * time.Microsecond})
}

// Round-robin pays the switch on every call: 1 s / 1.43 ms = 699.3 reads.
// So does a burst of 1.
func TestRoundRobinPaysEverySwitch(t *testing.T) {
	for _, cfg := range []nvlink.Config{{}, {Schedule: nvlink.ScheduleBurst, Burst: 1}} {
		srv, clk := switchHost(2)
		_, sink := runFor(t, srv, clk, cfg, time.Second)
		if n := len(sink.samples); n != 700 {
			t.Errorf("%s/%d: %d reads in 1 s at 1.43 ms a call, want 700", cfg.Schedule, cfg.Burst, n)
		}
		for i, s := range sink.samples {
			if s.GPU != uint32(i%2) {
				t.Fatalf("%s/%d: read %d went to GPU %d", cfg.Schedule, cfg.Burst, i, s.GPU)
			}
		}
	}
}

func TestBurstValidation(t *testing.T) {
	c := nvlink.Config{Schedule: nvlink.ScheduleBurst, Burst: -1}
	if err := c.Validate(); err == nil || err.Error() != "--nvml-burst -1: must be 1 or more" {
		t.Errorf("burst -1: %v", err)
	}
	c = nvlink.Config{Schedule: nvlink.ScheduleBurst}
	if err := c.Validate(); err != nil || c.Burst != nvlink.DefaultBurst {
		t.Errorf("burst 0: %v, burst %d, want the default %d", err, c.Burst, nvlink.DefaultBurst)
	}
}

// Burst 8 pays one switch per 8 reads: blocks of 8.43 ms. 118 blocks end
// at 994.74 ms, then 1.43 + 4 x 1 ms reach 1000.17 ms: 118 x 8 + 5 reads.
func TestBurstReadsEachGPUKTimesInARow(t *testing.T) {
	srv, clk := switchHost(2)
	_, sink := runFor(t, srv, clk, nvlink.Config{Schedule: nvlink.ScheduleBurst, Burst: 8}, time.Second)
	if n := len(sink.samples); n != 949 {
		t.Errorf("%d reads in 1 s, want 949", n)
	}
	for i, s := range sink.samples {
		if want := uint32(i / 8 % 2); s.GPU != want {
			t.Fatalf("read %d went to GPU %d, want %d (bursts of 8)", i, s.GPU, want)
		}
		cost := s.MonoAfterNs - s.MonoBeforeNs
		if want := int64(1_000_000) + map[bool]int64{true: 430_000}[i%8 == 0]; !s.OK() || cost != want {
			t.Fatalf("read %d: ok %v, %d ns, want %d", i, s.OK(), cost, want)
		}
	}
	if a, b := len(sink.gpuSamples(0)), len(sink.gpuSamples(1)); a != 477 || b != 472 {
		t.Errorf("GPU 0/1 got %d/%d reads, want 477/472", a, b)
	}
}

// Under --nvml-hz a burst keeps the rate: 4 reads back to back every 40 ms.
func TestBurstKeepsTheHzCap(t *testing.T) {
	srv, clk := switchHost(2)
	_, sink := runFor(t, srv, clk, nvlink.Config{Schedule: nvlink.ScheduleBurst, Burst: 4, Hz: 100}, time.Second)
	for gpu := uint32(0); gpu < 2; gpu++ {
		got := sink.gpuSamples(gpu)
		if len(got) != 100 {
			t.Errorf("GPU %d: %d reads in 1 s at 100 Hz, want 100", gpu, len(got))
		}
		for i := 1; i < len(got); i++ {
			back := got[i-1].MonoAfterNs == got[i].MonoBeforeNs
			fromFirst := got[i].MonoBeforeNs - got[0].MonoBeforeNs
			if i%4 != 0 && !back || i%4 == 0 && fromFirst != int64(i/4)*40_000_000 {
				t.Fatalf("GPU %d read %d: not in a burst of 4 every 40 ms: %+v after %+v", gpu, i, got[i], got[i-1])
			}
		}
	}
}

// --nvml-pin keeps each reader on one OS thread for the whole run.
func TestPinnedReadersKeepTheirThread(t *testing.T) {
	var mu sync.Mutex
	tids := map[int]map[int]bool{}
	var srv *nvmlfake.Server
	var clk *nvmlfake.Clock
	srv, clk = fakeHost(nvmlfake.Options{GPUs: 3, OnRead: func(gpu int) {
		if srv.Reads(gpu) == 1 {
			return // Open's probe of the fields, on the test's thread
		}
		mu.Lock()
		defer mu.Unlock()
		if tids[gpu] == nil {
			tids[gpu] = map[int]bool{}
		}
		tids[gpu][unix.Gettid()] = true
	}})
	_, sink := runFor(t, srv, clk, nvlink.Config{Schedule: nvlink.SchedulePerGPULocked, PinThreads: true}, time.Second)
	for gpu := range uint32(3) {
		// The fair lock makes the readers take turns once all are waiting.
		if n := len(sink.gpuSamples(gpu)); n < 100 {
			t.Errorf("GPU %d: %d of %d reads", gpu, n, len(sink.samples))
		}
	}
	seen := map[int]int{}
	for gpu := range 3 {
		if len(tids[gpu]) != 1 {
			t.Errorf("GPU %d was read from %d threads, want its reader's only", gpu, len(tids[gpu]))
		}
		for tid := range tids[gpu] {
			seen[tid]++
		}
	}
	if len(seen) != 3 {
		t.Errorf("%d threads in all, want one per reader: %v", len(seen), seen)
	}
}
