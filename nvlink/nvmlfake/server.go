// Package nvmlfake is an nvml.Interface for tests, benchmarks and the
// simulated link: go-nvml's dgxh100 mock server with the NVLink functions
// filled in, counters from a function, injectable errors, and NVML's
// serialization (one global lock, a cost per call) on an injected clock.
package nvmlfake

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/linkprof/linkprof/nvlink"
)

// CounterFunc gives a counter's raw value (KiB) for a GPU, field and scope
// (a link id or 0xFFFFFFFF for all links) at a monotonic time.
type CounterFunc func(gpu int, field, scope uint32, monoNs int64) (uint64, nvml.Return)

// Options shape the fake host.
type Options struct {
	GPUs      int    // default 2
	Links     int    // NVLinks per GPU, default 18
	NoNVLink  []int  // GPUs that answer NOT_SUPPORTED for NVLink
	LinkMBps  uint64 // per link and direction, default 25000
	Name      string // device name; default the mock's H100 name
	Counters  CounterFunc
	ValueType nvml.ValueType // of counter fields; default unsigned long long
	// NVML's serialization: every call holds one global lock for CallCost,
	// plus ScopeCost per link scope beyond the first, plus ContentionCost
	// when another call is already waiting (concurrent callers lower the
	// total, as measured on the GPU box).
	CallCost, ScopeCost, ContentionCost time.Duration
	// SwitchCost is added to a call that reads another GPU than the call
	// before it (the GPU box's NVML is slower when calls alternate GPUs).
	SwitchCost time.Duration
	// Fail injects an error into a GPU's n-th counter read (n from 1).
	Fail func(gpu, n int) nvml.Return
	// FieldFail injects an error into one field of a GPU's n-th counter read.
	FieldFail func(gpu, n int, field uint32) nvml.Return
	// OnRead, if set, is called by each counter read, on the caller's thread.
	OnRead func(gpu int)
	Pids   map[int][]uint32 // compute processes per GPU
	GPM    bool             // GPM supported
	Clock  nvlink.Clock     // default nvlink.SystemClock
}

// Server is the fake host.
type Server struct {
	*server.Server
	opts    Options
	mu      chan struct{} // NVML's global lock, FIFO so no caller starves
	lastGPU int           // GPU of the last call, under mu; -1: none yet
	waiting atomic.Int32
	reads   []atomic.Int64 // counter reads per GPU
	calls   atomic.Int64
}

// New builds a fake host.
func New(o Options) *Server {
	o.defaults()
	cfgs := gpus.Multiple(o.GPUs, gpus.H100_SXM5_80GB)
	s := &Server{Server: dgxh100.NewWithGPUs(cfgs...), opts: o, mu: make(chan struct{}, 1), lastGPU: -1, reads: make([]atomic.Int64, o.GPUs)}
	for i, d := range s.Devices {
		s.fillDevice(d.(*server.Device), i)
	}
	s.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i < 0 || i >= len(s.Devices) {
			return nil, nvml.ERROR_INVALID_ARGUMENT
		}
		return device{s.Devices[i].(*server.Device), s, i}, nvml.SUCCESS
	}
	s.GpmSampleAllocFunc = func() (nvml.GpmSample, nvml.Return) { return &gpmSample{}, nvml.SUCCESS }
	s.GpmMetricsGetFunc = s.gpmMetrics
	return s
}

func (o *Options) defaults() {
	if o.GPUs == 0 {
		o.GPUs = 2
	}
	if o.Links == 0 {
		o.Links = 18
	}
	if o.LinkMBps == 0 {
		o.LinkMBps = 25000
	}
	if o.ValueType == 0 {
		o.ValueType = nvml.VALUE_TYPE_UNSIGNED_LONG_LONG
	}
	if o.Clock == nil {
		o.Clock = nvlink.SystemClock{}
	}
}

// BusID is the PCI bus id of GPU i, as NVML writes it.
func BusID(i int) string { return fmt.Sprintf("00000000:%02X:00.0", 0x18+0x10*i) }

// shortBusID is the same id in the 4-digit-domain form, as some NVML calls
// return it: the sampler must match the two.
func shortBusID(i int) string { return fmt.Sprintf("0000:%02x:00.0", 0x18+0x10*i) }

// Peer is the GPU link l of GPU i reaches: links spread over the others.
func Peer(i, l, n int) int {
	if n < 2 {
		return -1
	}
	return (i + 1 + l%(n-1)) % n
}

// Calls is the number of NVML field and GPM calls served.
func (s *Server) Calls() int64 { return s.calls.Load() }

// Reads is the number of counter reads GPU i served.
func (s *Server) Reads(i int) int64 { return s.reads[i].Load() }

func (s *Server) hasNVLink(i int) bool {
	for _, g := range s.opts.NoNVLink {
		if g == i {
			return false
		}
	}
	return true
}

// serialize runs fn, a call on GPU gpu, under NVML's global lock after
// paying the call's cost.
func (s *Server) serialize(gpu, scopes int, fn func(monoNs int64)) {
	s.waiting.Add(1)
	s.mu <- struct{}{}
	s.waiting.Add(-1)
	cost := s.opts.CallCost
	if scopes > 1 {
		cost += time.Duration(scopes-1) * s.opts.ScopeCost
	}
	if s.waiting.Load() > 0 {
		cost += s.opts.ContentionCost
	}
	if s.lastGPU >= 0 && s.lastGPU != gpu {
		cost += s.opts.SwitchCost
	}
	s.lastGPU = gpu
	_ = s.opts.Clock.Sleep(context.Background(), cost)
	s.calls.Add(1)
	fn(s.opts.Clock.MonoNs())
	<-s.mu
}

// device serves counter reads without the mock's call log, which would grow
// by one entry per read for as long as a demo runs.
type device struct {
	*server.Device
	s *Server
	i int
}

// GetFieldValues reads counters and link speeds.
func (d device) GetFieldValues(v []nvml.FieldValue) nvml.Return { return d.s.fieldValues(d.i, v) }
