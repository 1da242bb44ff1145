// Package simlink is a simulated NVLink for the demo and the tests: an
// nvml.Interface whose counters follow a ground-truth schedule file that the
// demo workload appends to as it runs. Every GPU it reports is marked
// simulated in the trace.
package simlink

import (
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

// Name is the device name the simulated GPUs report.
const Name = "Simulated H100 (linkprof demo)"

// RawFactor is RAW (payload + protocol) over DATA, as measured on the GPU box.
const (
	rawNum = 1064
	rawDen = 1000
)

// NVML's cost on the GPU box (docs/nccl-facts.md): ~1.1 ms per call under one global
// lock, about 12x that for all 18 link scopes in one call, and a lower total
// when callers overlap.
const (
	CallCost       = 1100 * time.Microsecond
	ScopeCost      = 710 * time.Microsecond
	ContentionCost = 650 * time.Microsecond
)

// Options shape the simulation.
type Options struct {
	// Serialize emulates NVML's global lock and per-call cost, so read
	// schedules behave as on real hardware.
	Serialize bool
	Clock     nvlink.Clock // default nvlink.SystemClock
}

// Sim is the simulated host.
type Sim struct {
	*nvmlfake.Server
	sched *schedule
	links int
}

// New simulates gpus GPUs whose NVLink counters follow the schedule file at
// schedulePath (it may not exist yet).
func New(schedulePath string, gpus int, o Options) *Sim {
	s := &Sim{sched: newSchedule(schedulePath, gpus), links: 18}
	fo := nvmlfake.Options{GPUs: gpus, Links: s.links, Name: Name, Counters: s.counter, Clock: o.Clock}
	if o.Serialize {
		fo.CallCost, fo.ScopeCost, fo.ContentionCost = CallCost, ScopeCost, ContentionCost
	}
	s.Server = nvmlfake.New(fo)
	shutdown := s.ShutdownFunc
	s.ShutdownFunc = func() nvml.Return {
		s.sched.close()
		return shutdown()
	}
	return s
}

// Simulated marks the GPUs as simulated in the trace (nvlink checks it).
func (s *Sim) Simulated() bool { return true }

// Err is the first malformed schedule line, if any (those lines are skipped).
func (s *Sim) Err() error {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	return s.sched.err
}

// counter is the NVML counter: KiB, floored; RAW is DATA x 1.064; a link
// scope gets an even share of the GPU's traffic.
func (s *Sim) counter(gpu int, field, scope uint32, mono int64) (uint64, nvml.Return) {
	tx, rx := s.sched.bytes(gpu, mono)
	var b uint64
	switch field {
	case nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX:
		b = tx
	case nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
		b = rx
	case nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_TX:
		b = tx/rawDen*rawNum + tx%rawDen*rawNum/rawDen
	case nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX:
		b = rx/rawDen*rawNum + rx%rawDen*rawNum/rawDen
	default:
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	if scope != 0xFFFFFFFF {
		b /= uint64(s.links)
	}
	return b / 1024, nvml.SUCCESS
}
