package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/simlink"
	"github.com/linkprof/linkprof/profiler"
)

// linkFlags configure NVLink sampling for record.
type linkFlags struct{ cfg nvlink.Config }

func (l *linkFlags) register(fs *pflag.FlagSet) { l.cfg.AddFlags(fs) }

// check refuses sampling flags that are wrong, whether or not sampling is
// on: a wrong value is never silently ignored.
func (l *linkFlags) check(disabled bool) error {
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
