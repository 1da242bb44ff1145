package profiler

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Capabilities linkprof needs: BPF maps and programs, uprobes through perf
// events, reading other processes' maps and memory, and ptrace for launch.
var neededCaps = []struct {
	bit  uint
	name string
}{
	{39, "CAP_BPF"},
	{38, "CAP_PERFMON"},
	{19, "CAP_SYS_PTRACE"},
	{21, "CAP_SYS_ADMIN"},
}

// MissingCapabilities lists the capabilities the process lacks.
func MissingCapabilities() []string {
	eff := effectiveCaps()
	var missing []string
	for _, c := range neededCaps {
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
