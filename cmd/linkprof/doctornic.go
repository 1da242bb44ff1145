package main

import (
	"os"

	"github.com/linkprof/linkprof/nic"
	"github.com/linkprof/linkprof/profiler"
)

// nicChecks lists the network devices `record --nics auto` would sample,
// one check each with why it was picked, for pid's NCCL environment (0:
// doctor's own, so `NCCL_SOCKET_IFNAME=... linkprof doctor` shows what a
// command launched that way would get). root is the sysfs tree ("": /sys).
func nicChecks(root string, pid uint32) []profiler.Check {
	const name = "NICs (--nics auto)"
	all, err := nic.Discover(root)
	if err != nil {
		return []profiler.Check{{Name: name, Detail: err.Error(), Optional: true,
			Fix: "linkprof records without network counters (--nics none)"}}
	}
	picked, _ := nic.Select(all, nic.Spec{Auto: true}, doctorNCCLEnv(pid))
	if len(picked) == 0 {
		return []profiler.Check{{Name: name, Detail: "none picked; devices here: " + orNone(nicNames(all)), Optional: true,
			Fix: "no network bytes will be recorded: name devices with --nics, or run with NCCL_SOCKET_IFNAME as the job does"}}
	}
	var checks []profiler.Check
	for _, d := range picked {
		checks = append(checks, profiler.Check{Name: "NIC " + d.Name, OK: true, Optional: true, Detail: d.Kind + ", " + d.SelectedBy})
	}
	return checks
}

// doctorNCCLEnv is what NCCL's environment says about the network: the
// process's, else doctor's own.
func doctorNCCLEnv(pid uint32) nic.Env {
	if pid != 0 {
		return targetsNCCLEnv(profiler.Config{Pids: []uint32{pid}})
	}
	return nic.EnvOf(envMap(os.Environ()))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
