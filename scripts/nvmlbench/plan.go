package main

import (
	"fmt"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
)

// measurement is one row of the table.
type measurement struct {
	name string
	run  func(lib nvml.Interface) (*result, error)
}

// plan lists the measurements after the ceiling, for a host with n GPUs.
func plan(o options, n int) []measurement {
	raw := func(name string, c rawCase) measurement {
		return measurement{name, func(lib nvml.Interface) (*result, error) { return rawLoop(lib, c, o.dur) }}
	}
	ms := []measurement{raw("raw: GPU 0, 4 fields in 1 call", rawCase{gpus: []int{0}, nfields: 4})}
	for i := 1; i < n && i < maxOf(o.gpus); i++ {
		ms = append(ms, raw(fmt.Sprintf("raw: GPU %d alone, 4 fields", i), rawCase{gpus: []int{i}, nfields: 4}))
	}
	// Does a read cost more when the GPU was not read for a while?
	for _, idle := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 8 * time.Millisecond} {
		ms = append(ms, raw(fmt.Sprintf("raw: GPU 0, %v idle between", idle), rawCase{gpus: []int{0}, nfields: 4, idle: idle}))
	}
	for _, g := range o.gpus {
		if g > n {
			break
		}
		ms = append(ms, gpuPlan(o, g, raw)...)
	}
	return ms
}

// gpuPlan is the measurements on GPUs 0..g-1.
func gpuPlan(o options, g int, raw func(string, rawCase) measurement) []measurement {
	first := make([]int, g)
	for i := range first {
		first[i] = i
	}
	smp := func(name string, cfg nvlink.Config) measurement {
		cfg.GPUs = first
		cfg.ReaderCmd = readerCmd(o.sim)
		return measurement{"sampler " + name, func(nvml.Interface) (*result, error) { return sampler(newLib(o.sim), cfg, o.dur, o.warmup) }}
	}
	var ms []measurement
	if g > 1 {
		ms = append(ms, raw("raw: alternate GPUs", rawCase{gpus: first, nfields: 4, burst: 1}))
	}
	ms = append(ms,
		smp("per-process", nvlink.Config{Schedule: nvlink.SchedulePerProcess}),
		smp("round-robin", nvlink.Config{}),
		smp("round-robin pinned", nvlink.Config{PinThreads: true}))
	if g > 1 {
		for _, k := range o.bursts {
			ms = append(ms, smp(fmt.Sprintf("burst %d", k), nvlink.Config{Schedule: nvlink.ScheduleBurst, Burst: k}))
		}
		ms = append(ms,
			smp("burst 8 pinned", nvlink.Config{Schedule: nvlink.ScheduleBurst, Burst: 8, PinThreads: true}),
			smp("per-gpu-locked", nvlink.Config{Schedule: nvlink.SchedulePerGPULocked}),
			smp("per-gpu-locked pinned", nvlink.Config{Schedule: nvlink.SchedulePerGPULocked, PinThreads: true}),
			smp("per-gpu-free", nvlink.Config{Schedule: nvlink.SchedulePerGPUFree}),
			measurement{"processes: 1 per GPU, 4 fields", func(nvml.Interface) (*result, error) { return processes(o.sim, g, o.dur) }})
	}
	return append(ms, smp(fmt.Sprintf("round-robin hz %g", o.capHz), nvlink.Config{Hz: o.capHz}),
		smp(fmt.Sprintf("per-process hz %g", o.capHz), nvlink.Config{Schedule: nvlink.SchedulePerProcess, Hz: o.capHz}),
		smp(fmt.Sprintf("per-process cpu %g%%", o.cpuPct), nvlink.Config{Schedule: nvlink.SchedulePerProcess, CPUPercent: o.cpuPct}))
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
