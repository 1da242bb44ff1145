// Command nvmlbench measures NVML NVLink counter reads on a GPU box: the
// single-GPU single-reader ceiling, then each read schedule of the sampler
// with 1, 2 and 4 GPUs (total and per-GPU reads/s, latency, sampler CPU).
//
// Build here (cgo) and carry the binary to the GPU box, which has no Go:
//
//	CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" go build -o nvmlbench ./scripts/nvmlbench
//	sudo ./nvmlbench -d 5s
//
// --sim runs against the simulated link (NVML's cost emulated) to check the
// tool without a GPU; its figures describe the emulation, not hardware.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/profiler/nvlink"
	"github.com/linkprof/linkprof/profiler/nvlink/simlink"
	"github.com/linkprof/linkprof/trace"
)

func main() {
	dur := flag.Duration("d", 5*time.Second, "time per measurement")
	sim := flag.Int("sim", 0, "measure the simulated link with this many GPUs instead of NVML")
	flag.Parse()
	if err := run(*dur, *sim); err != nil {
		fmt.Fprintln(os.Stderr, "nvmlbench:", err)
		os.Exit(1)
	}
}

func newLib(sim int) nvml.Interface {
	if sim > 0 {
		return simlink.New("/nonexistent/linkprof-schedule", sim, simlink.Options{Serialize: true})
	}
	return nvml.New()
}

func run(dur time.Duration, sim int) error {
	lib := newLib(sim)
	if err := nvmlCheck("initializing NVML", lib.Init()); err != nil {
		return err
	}
	defer lib.Shutdown()
	n, ret := lib.DeviceGetCount()
	if err := nvmlCheck("counting GPUs", ret); err != nil {
		return err
	}
	fmt.Printf("nvmlbench: %d GPUs, %v per measurement\n\n", n, dur)
	fmt.Printf("%-28s %4s %9s %15s %8s %8s %7s %9s %8s\n",
		"case", "GPUs", "reads/s", "per GPU", "p50 ms", "p99 ms", "CPU %", "CPU %/GPU", "of ceil")
	ceil, err := rawLoop(lib, 1, dur)
	if err != nil {
		return err
	}
	ceil.print("ceiling: 1 field, 1 reader", 0)
	four, err := rawLoop(lib, 4, dur)
	if err != nil {
		return err
	}
	four.print("raw: 4 fields in 1 call", ceil.total)
	for _, g := range []int{1, 2, 4} {
		if g > n {
			break
		}
		for _, sch := range []string{nvlink.ScheduleRoundRobin, nvlink.SchedulePerGPULocked, nvlink.SchedulePerGPUFree} {
			r, err := sampler(newLib(sim), g, sch, dur)
			if err != nil {
				return err
			}
			r.print("sampler "+sch, ceil.total)
		}
	}
	return nil
}

func nvmlCheck(step string, ret nvml.Return) error {
	if ret != nvml.SUCCESS {
		return fmt.Errorf("%s: %v", step, ret)
	}
	return nil
}

// result is one measurement.
type result struct {
	gpus     int
	total    float64   // reads/s, all GPUs
	perGPU   []float64 // reads/s
	lat      []int64   // ns per call
	cpuShare float64   // of one core
}

func (r *result) print(name string, ceiling float64) {
	slices.Sort(r.lat)
	pct := func(p float64) float64 {
		if len(r.lat) == 0 {
			return 0
		}
		return float64(r.lat[int(p*float64(len(r.lat)-1))]) / 1e6
	}
	lo, hi := slices.Min(r.perGPU), slices.Max(r.perGPU)
	of := "-"
	if ceiling > 0 {
		of = fmt.Sprintf("%.1f%%", 100*r.total/ceiling)
	}
	fmt.Printf("%-28s %4d %9.0f %7.0f-%-7.0f %8.2f %8.2f %7.2f %9.2f %8s\n", name, r.gpus, r.total, lo, hi,
		pct(0.50), pct(0.99), 100*r.cpuShare, 100*r.cpuShare/float64(r.gpus), of)
}

// cpuNow is the process's user+system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawLoop reads GPU 0's aggregate counters in a tight loop, nfields per call.
func rawLoop(lib nvml.Interface, nfields int, dur time.Duration) (*result, error) {
	d, ret := lib.DeviceGetHandleByIndex(0)
	if err := nvmlCheck("opening GPU 0", ret); err != nil {
		return nil, err
	}
	v := make([]nvml.FieldValue, nfields)
	clk := nvlink.SystemClock{}
	r := &result{gpus: 1}
	cpu0, start := cpuNow(), clk.MonoNs()
	for clk.MonoNs()-start < dur.Nanoseconds() {
		for i := range v {
			v[i] = nvml.FieldValue{FieldId: uint32(nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX + i), ScopeId: 0xFFFFFFFF}
		}
		t0 := clk.MonoNs()
		if ret := d.GetFieldValues(v); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("reading counters: %v", ret)
		}
		r.lat = append(r.lat, clk.MonoNs()-t0)
	}
	secs := float64(clk.MonoNs()-start) / 1e9
	r.total = float64(len(r.lat)) / secs
	r.perGPU = []float64{r.total}
	r.cpuShare = (cpuNow() - cpu0).Seconds() / secs
	return r, nil
}

// sampler runs the linkprof sampler on GPUs 0..g-1 with a schedule.
func sampler(lib nvml.Interface, g int, schedule string, dur time.Duration) (*result, error) {
	gpus := make([]int, g)
	for i := range gpus {
		gpus[i] = i
	}
	s, err := nvlink.Open(lib, nvlink.Config{GPUs: gpus, Schedule: schedule})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sink := &countSink{perGPU: make([]int, g)}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	cpu0, start := cpuNow(), time.Now()
	if err := s.RunTo(ctx, sink); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	r := &result{gpus: g, lat: sink.lat, cpuShare: (cpuNow() - cpu0).Seconds() / secs}
	for _, c := range sink.perGPU {
		r.perGPU = append(r.perGPU, float64(c)/secs)
		r.total += float64(c) / secs
	}
	return r, nil
}

// countSink counts good samples and keeps each call's latency.
type countSink struct {
	mu     sync.Mutex
	perGPU []int
	lat    []int64
}

func (c *countSink) WriteSamples(s ...trace.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range s {
		if x.OK() {
			c.perGPU[x.GPU]++
			c.lat = append(c.lat, x.MonoAfterNs-x.MonoBeforeNs)
		}
	}
	return nil
}

func (c *countSink) WriteJSON(trace.RecordType, any) error   { return nil }
func (c *countSink) WriteRaw(trace.RecordType, []byte) error { return nil }
