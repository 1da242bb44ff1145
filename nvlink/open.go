package nvlink

import (
	"fmt"
	"sync/atomic"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// Sampler reads the NVLink counters of a set of GPUs.
type Sampler struct {
	lib    nvml.Interface
	cfg    Config
	clock  Clock
	gpus   []*gpuState
	notes  []string     // facts found at Open, written into the trace by Run
	lock   fairLock     // NVML calls of the round-robin and per-gpu-locked schedules
	pace   *pacer       // evens out the reader processes' rates (per-process schedule)
	start  atomic.Int64 // monotonic ns Run started; 0 before
	closed bool
}

// gpuState is one GPU's identity, what to read, and its counters.
type gpuState struct {
	info    trace.GPU
	dev     nvml.Device
	fields  []uint32 // aggregate fields read, a subset of counterFields
	slots   []int    // Sample slot of each field
	buf     []nvml.FieldValue
	ctr     [4]counter
	lastOK  int64 // MonoAfterNs of the last good read, for the wrap bound
	links   []int // active link ids, for --per-link
	linkBuf []nvml.FieldValue
	linkCtr map[int]*[2]counter
	gpm     *gpmState
	health  health
	parked  atomic.Bool // lost: only probed, every LostProbe; per-link and GPM reads pause
	reads   atomic.Int64
	good    atomic.Int64
}

// sampled reports whether the GPU has counters to read.
func (g *gpuState) sampled() bool { return len(g.fields) > 0 }

// Open initializes NVML and reads the identity and topology of the GPUs to
// sample. Without the NVML library it returns an error wrapping ErrNoNVML.
func Open(lib nvml.Interface, cfg Config) (*Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := nvmlError("initializing NVML", lib.Init()); err != nil {
		return nil, err
	}
	s := &Sampler{lib: lib, cfg: cfg, clock: cfg.Clock, lock: newFairLock(),
		pace: newPacer(cfg.PaceWindow, cfg.Hz)}
	if err := s.discover(); err != nil {
		lib.Shutdown()
		return nil, err
	}
	return s, nil
}

// discover finds the chosen GPUs and reads what the trace needs of them.
func (s *Sampler) discover() error {
	driver, ret := s.lib.SystemGetDriverVersion()
	if err := nvmlError("reading driver version", ret); err != nil {
		return err
	}
	version, ret := s.lib.SystemGetNVMLVersion()
	if err := nvmlError("reading NVML version", ret); err != nil {
		return err
	}
	all, err := s.allDevices()
	if err != nil {
		return err
	}
	indexes, err := chooseGPUs(s.cfg.GPUs, len(all))
	if err != nil {
		return err
	}
	busIndex := map[string]int{}
	for i, d := range all {
		if id, err := pciBusID(d); err == nil {
			busIndex[normalizeBusID(id)] = i
		}
	}
	for _, i := range indexes {
		g, err := s.describe(all[i], i, busIndex)
		if err != nil {
			return fmt.Errorf("GPU %d: %w", i, err)
		}
		g.info.Driver, g.info.NVMLVersion = driver, version
		s.gpus = append(s.gpus, g)
	}
	if s.cfg.GPM {
		s.setupGPM()
	}
	return nil
}

func (s *Sampler) allDevices() ([]nvml.Device, error) {
	n, ret := s.lib.DeviceGetCount()
	if err := nvmlError("counting GPUs", ret); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrNoGPU
	}
	devs := make([]nvml.Device, n)
	for i := range devs {
		d, ret := s.lib.DeviceGetHandleByIndex(i)
		if err := nvmlError(fmt.Sprintf("opening GPU %d", i), ret); err != nil {
			return nil, err
		}
		devs[i] = d
	}
	return devs, nil
}

// chooseGPUs checks the --gpus list against the GPU count; empty means all.
func chooseGPUs(want []int, n int) ([]int, error) {
	if len(want) == 0 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	for _, g := range want {
		if g >= n {
			return nil, fmt.Errorf("--gpus %d: %w (NVML sees %d GPUs, 0-%d)", g, ErrNoSuchGPU, n, n-1)
		}
	}
	return append([]int(nil), want...), nil
}

// GPUs returns the identity and topology of every chosen GPU.
func (s *Sampler) GPUs() []trace.GPU {
	out := make([]trace.GPU, len(s.gpus))
	for i, g := range s.gpus {
		out[i] = g.info
	}
	return out
}

// Rates returns the achieved aggregate reads per second of each GPU since
// Run started, keyed by NVML index.
func (s *Sampler) Rates() map[int]float64 {
	out := map[int]float64{}
	start := s.start.Load()
	if start == 0 {
		return out
	}
	secs := float64(s.clock.MonoNs()-start) / 1e9
	for _, g := range s.gpus {
		if g.sampled() && secs > 0 {
			out[g.info.Index] = float64(g.reads.Load()) / secs
		}
	}
	return out
}

// Close shuts NVML down. Call it after Run returned.
func (s *Sampler) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.freeGPM()
	return nvmlError("shutting NVML down", s.lib.Shutdown())
}
