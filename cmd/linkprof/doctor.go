package main

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/profiler"
)

const doctorUsage = "doctor [-p PID]"

func init() {
	register(command{name: "doctor", summary: "check this machine (and a process) for what recording needs", run: runDoctor})
}

func runDoctor(args []string) error {
	fs := newFlags("doctor")
	pid := fs.UintP("pid", "p", 0, "also show which NCCL library and symbols of `PID` would be probed")
	if err := parseFlags(fs, doctorUsage, args); err != nil {
		return err
	}
	checks := append(profiler.SystemChecks(), nvmlCheck())
	if *pid != 0 {
		checks = append(checks, profiler.ProcessChecks(uint32(*pid))...)
	}
	failed := 0
	for _, c := range checks {
		status := "OK     "
		if !c.OK {
			status = "MISSING"
			if !c.Optional {
				failed++
			}
		}
		fmt.Printf("%s %-20s %s\n", status, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Printf("        %-20s -> %s\n", "", c.Fix)
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d check(s) missing", failed)
	}
	return nil
}

// nvmlCheck looks for the NVIDIA driver's NVML library.
func nvmlCheck() profiler.Check {
	lib := nvml.New()
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return profiler.Check{Name: "NVML", Detail: nvml.ErrorString(ret), Optional: true,
			Fix: "no NVIDIA driver (libnvidia-ml.so.1): linkprof records collectives without NVLink counters"}
	}
	defer lib.Shutdown()
	driver, _ := lib.SystemGetDriverVersion()
	count, _ := lib.DeviceGetCount()
	return profiler.Check{Name: "NVML", OK: true, Detail: fmt.Sprintf("driver %s, %d GPUs", driver, count)}
}
