package profiler

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Capabilities linkprof needs: BPF maps and programs, uprobes through perf
// events, reading other processes' maps and memory (and their files
// through /proc/PID/root), and ptrace for launch. CAP_SYS_ADMIN stands in
// for CAP_BPF and CAP_PERFMON on kernels older than 5.8. Optional ones
// lower what is recorded when missing, without stopping it.
var neededCaps = []struct {
	bit      uint
	name     string
	optional string // why, for an optional one
}{
	{39, "CAP_BPF", ""},
	{38, "CAP_PERFMON", ""},
	{19, "CAP_SYS_PTRACE", ""},
	{21, "CAP_SYS_ADMIN", ""},
	{2, "CAP_DAC_READ_SEARCH", "cannot read /proc/PID/environ of other users' processes (RANK, CUDA_VISIBLE_DEVICES)"},
}

// ContainerCapabilities is what a container that records needs, and all it
// needs (deploy/, docs/fleet.md): linkprof's kernels (5.15+) have CAP_BPF
// and CAP_PERFMON, so CAP_SYS_ADMIN is not among them.
func ContainerCapabilities() []string {
	var out []string
	for _, c := range neededCaps {
		if c.name != "CAP_SYS_ADMIN" {
			out = append(out, c.name)
		}
	}
	return out
}

// MissingOptionalCapabilities says which optional capabilities the process
// lacks and what is lost without each.
func MissingOptionalCapabilities() map[string]string {
	eff := effectiveCaps()
	out := map[string]string{}
	for _, c := range neededCaps {
		if c.optional != "" && eff&(1<<c.bit) == 0 {
			out[c.name] = c.optional
		}
	}
	return out
}

// MissingCapabilities lists the required capabilities the process lacks.
func MissingCapabilities() []string {
	eff := effectiveCaps()
	var missing []string
	for _, c := range neededCaps {
		if c.optional != "" {
			continue
		}
		if c.name == "CAP_SYS_ADMIN" && eff&(1<<39) != 0 && eff&(1<<38) != 0 {
			continue // CAP_BPF + CAP_PERFMON replace it on kernels >= 5.8
		}
		if c.name == "CAP_SYS_ADMIN" && eff&(1<<21) == 0 && (eff&(1<<39) == 0 || eff&(1<<38) == 0) {
			continue // reported as CAP_BPF/CAP_PERFMON instead
		}
		if eff&(1<<c.bit) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}

// CheckPrivileges returns a one-line error naming what is missing.
func CheckPrivileges() error {
	missing := MissingCapabilities()
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s (uid %d): run as root (sudo linkprof)", strings.Join(missing, ", "), os.Geteuid())
}

func effectiveCaps() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return caps
		}
	}
	return 0
}
