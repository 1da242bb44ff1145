package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/simlink"
	"github.com/linkprof/linkprof/profiler"
)

// linkFlags configure NVLink sampling for record.
type linkFlags struct{ cfg nvlink.Config }

func (l *linkFlags) register(fs *pflag.FlagSet) {
	c := &l.cfg
	fs.IntSliceVar(&c.GPUs, "gpus", nil, "GPUs to sample by NVML index, e.g. 0,1 (default all)")
	fs.Float64Var(&c.Hz, "nvml-hz", 0, "cap on NVLink counter reads per GPU per second (default 0: as fast as NVML allows)")
	fs.Float64Var(&c.CPUPercent, "nvml-cpu", 0, "percent of a core each GPU's NVML reader may use; reads slow down to fit (default 0: no bound)")
	fs.BoolVar(&c.PerLink, "per-link", false, "also sample each NVLink's counters, at --per-link-hz")
	fs.Float64Var(&c.PerLinkHz, "per-link-hz", nvlink.DefaultPerLinkHz, "per-link reads per GPU per second")
	fs.BoolVar(&c.GPM, "gpm", false, "also sample GPM NVLink throughput where the GPU supports it")
	fs.DurationVar(&c.GPMInterval, "gpm-interval", nvlink.DefaultGPMInterval, "time between GPM samples (at least 100ms)")
	fs.StringVar(&c.Schedule, "nvml-schedule", nvlink.DefaultSchedule, "NVML read schedule: per-process (a reader process per GPU, paced to one rate), round-robin (one reader, ~1 core in all), burst, per-gpu-locked, per-gpu-free")
	fs.IntVar(&c.Burst, "nvml-burst", nvlink.DefaultBurst, "reads of one GPU in a row before the next (--nvml-schedule burst)")
	fs.BoolVar(&c.PinThreads, "nvml-pin", false, "lock each NVML reader to its own OS thread")
}

// check refuses sampling flags that are wrong, whether or not sampling is
// on: a wrong value is never silently ignored. The per-process schedule's
// readers are this binary again, running nvmlReaderCommand.
func (l *linkFlags) check(disabled bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding linkprof for the NVML reader processes: %w", err)
	}
	l.cfg.ReaderCmd = []string{self, nvmlReaderCommand}
	if err := l.cfg.Validate(); err != nil {
		return usageError{"record: " + err.Error()}
	}
	if disabled && len(l.cfg.GPUs) > 0 {
		return usagef("record: --gpus and --no-nvml contradict each other")
	}
	return nil
}

// open starts NVML. Without the library the recording goes on with
// collectives alone after a one-line warning, unless NVLink is all that was
// asked for (--nvml-only) or --gpus named the GPUs to sample.
func (l *linkFlags) open(disabled, only bool) (profiler.LinkSampler, func(), error) {
	return l.openWith(nvml.New(), disabled, only)
}

func (l *linkFlags) openWith(lib nvml.Interface, disabled, only bool) (profiler.LinkSampler, func(), error) {
	noop := func() {}
	if disabled {
		return nil, noop, nil
	}
	s, err := nvlink.Open(lib, l.cfg)
	switch {
	case err == nil:
		return s, func() { s.Close() }, nil
	case errors.Is(err, nvlink.ErrNoSuchGPU):
		return nil, noop, usageError{"record: " + err.Error()}
	case only:
		return nil, noop, fmt.Errorf("--nvml-only: %w", err)
	case len(l.cfg.GPUs) > 0:
		return nil, noop, fmt.Errorf("--gpus: %w (drop --gpus to record collectives only)", err)
	case errors.Is(err, nvlink.ErrNoNVML), errors.Is(err, nvlink.ErrNoGPU):
		slog.Warn("no NVLink counters (" + err.Error() + "): recording collectives only")
		return nil, noop, nil
	default:
		return nil, noop, fmt.Errorf("opening NVML: %w", err)
	}
}

// simulatedSampler samples the demo's simulated NVLink, whose counters
// follow the schedule the demo workload writes.
func simulatedSampler(schedule string, gpus int) (*nvlink.Sampler, error) {
	sim := simlink.New(schedule, gpus, simlink.Options{Serialize: true})
	s, err := nvlink.Open(sim, nvlink.Config{})
	if err != nil {
		return nil, fmt.Errorf("opening the simulated link: %w", err)
	}
	return s, nil
}
