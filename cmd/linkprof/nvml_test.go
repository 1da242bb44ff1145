package main

import (
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

// --gpus is checked against the GPUs NVML reports: a GPU it does not see is
// a usage error (exit 2); without NVML, GPUs asked for by number cannot be
// sampled, which fails the recording (exit 1) instead of dropping sampling.
func TestGPUsFlagCheckedAgainstNVML(t *testing.T) {
	noLibrary := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	cases := []struct {
		name string
		lib  nvml.Interface
		gpus []int
		code int
		want string
	}{
		{"GPU 99 of 2", nvmlfake.New(nvmlfake.Options{GPUs: 2}), []int{99}, exitUsage, "--gpus 99: no such GPU (NVML sees 2 GPUs, 0-1)"},
		{"no NVML, --gpus", noLibrary, []int{0}, exitFailure, "--gpus: initializing NVML: NVML library not found"},
		{"no NVML, all GPUs", noLibrary, nil, exitOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := linkFlags{cfg: nvlink.Config{GPUs: c.gpus, Schedule: nvlink.ScheduleRoundRobin}}
			s, closeSampler, err := l.openWith(c.lib, false, false)
			defer closeSampler()
			var stderr strings.Builder
			if code := exitCode(err, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
			if c.code != exitOK && s != nil {
				t.Errorf("a sampler was opened despite the error")
			}
		})
	}
}
