package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/profiler/nvlink"
	"github.com/linkprof/linkprof/profiler/nvlink/simlink"
)

// linkFlags configure NVLink sampling for record.
type linkFlags struct{ cfg nvlink.Config }

func (l *linkFlags) register(fs *pflag.FlagSet) { l.cfg.AddFlags(fs) }

// open starts NVML. Without the library the recording goes on with
// collectives alone after a one-line warning, unless NVLink is all that was
// asked for (--nvml-only).
func (l *linkFlags) open(disabled, only bool) (profiler.LinkSampler, func(), error) {
	noop := func() {}
	if disabled {
		return nil, noop, nil
	}
	if err := l.cfg.Validate(); err != nil {
		return nil, noop, usageError{"record: " + err.Error()}
	}
	s, err := nvlink.Open(nvml.New(), l.cfg)
	switch {
	case err == nil:
		return s, func() { s.Close() }, nil
	case only:
		return nil, noop, fmt.Errorf("--nvml-only: %w", err)
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
