package main

import (
	"fmt"
	"io"
	"os"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/profiler"
)

const doctorUsage = "doctor [-p PID] [--json]"

func init() {
	register(command{name: "doctor", summary: "check this machine (and a process) for what recording needs", run: runDoctor})
}

func runDoctor(args []string) error {
	fs := newFlags("doctor")
	pid := fs.UintP("pid", "p", 0, "also show which NCCL library and symbols of `PID` would be probed")
	asJSON := fs.Bool("json", false, "print the checks as JSON (the exit code is the same)")
	sysfs := fs.String("sysfs-root", "", "read network devices under `DIR` instead of /sys (tests)")
	_ = fs.MarkHidden("sysfs-root")
	if err := parseFlags(fs, doctorUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("doctor: unexpected argument %q (usage: linkprof %s)", fs.Arg(0), doctorUsage)
	}
	checks := append(profiler.SystemChecks(), nvmlCheck())
	checks = append(checks, nicChecks(*sysfs, uint32(*pid))...)
	if *pid != 0 {
		checks = append(checks, profiler.ProcessChecks(uint32(*pid))...)
	}
	failed := 0
	for _, c := range checks {
		if !c.OK && !c.Optional {
			failed++
		}
	}
	if *asJSON {
		if err := doctorJSON(os.Stdout, checks, failed); err != nil {
			return err
		}
	} else {
		printChecks(checks)
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d check(s) missing", failed)
	}
	return nil
}

// checkedItem is one check of doctor --json.
type checkedItem struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Optional bool   `json:"optional"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

func doctorJSON(w io.Writer, checks []profiler.Check, failed int) error {
	out := struct {
		OK     bool          `json:"ok"` // no required check missing
		Checks []checkedItem `json:"checks"`
	}{OK: failed == 0, Checks: []checkedItem{}}
	for _, c := range checks {
		out.Checks = append(out.Checks, checkedItem{c.Name, c.OK, c.Optional, c.Detail, c.Fix})
	}
	return writeJSON(w, out)
}

func printChecks(checks []profiler.Check) {
	for _, c := range checks {
		status := "OK     "
		if !c.OK {
			status = "MISSING"
		}
		fmt.Printf("%s %-20s %s\n", status, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Printf("        %-20s -> %s\n", "", c.Fix)
		}
	}
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
