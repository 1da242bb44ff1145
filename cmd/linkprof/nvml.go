package main

import (
	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/profiler"
)

// linkFlags configure NVLink sampling for record.
type linkFlags struct{}

func (l *linkFlags) register(fs *pflag.FlagSet) {}

// open starts NVML; without it the recording goes on with collectives alone.
func (l *linkFlags) open(disabled, only bool) (profiler.LinkSampler, func(), error) {
	if only {
		return nil, func() {}, errNoSampler
	}
	return nil, func() {}, nil
}

// simulatedSampler samples the demo's simulated NVLink.
func simulatedSampler(schedule string, gpus int) (profiler.LinkSampler, error) {
	return nil, nil
}
