package profiler

import (
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"

	"github.com/linkprof/linkprof/profiler/extra"
)

// Check is one line of `linkprof doctor`.
type Check struct {
	Name   string
	OK     bool
	Detail string // what was found
	Fix    string // what to do when not OK
	// Optional checks lower what linkprof can do without stopping it.
	Optional bool
}

// SystemChecks inspects what recording needs from the kernel and the user.
func SystemChecks() []Check {
	checks := []Check{privilegeCheck()}
	checks = append(checks, optionalPrivilegeChecks()...)
	checks = append(checks, kernelCheck(), fileCheck("BTF", "/sys/kernel/btf/vmlinux",
		"a kernel built with CONFIG_DEBUG_INFO_BTF=y (follows children with a BTF tracepoint)"),
		fileCheck("uprobes", "/sys/bus/event_source/devices/uprobe", "a kernel built with CONFIG_UPROBES=y"))
	checks = append(checks, featureCheck("ring buffer", features.HaveMapType(ebpf.RingBuf), "kernel 5.8 or newer"))
	multi := featureCheck("uprobe_multi links", features.HaveBPFLinkUprobeMulti(),
		"kernel 6.6+; without it probes attach one by one and detach slowly")
	multi.Optional = true
	checks = append(checks, multi)
	return append(checks, loadCheck())
}

func privilegeCheck() Check {
	c := Check{Name: "privileges", OK: true, Detail: fmt.Sprintf("uid %d, all capabilities needed", os.Geteuid())}
	if missing := MissingCapabilities(); len(missing) > 0 {
		c.OK, c.Detail = false, "missing "+strings.Join(missing, ", ")
		c.Fix = "run as root (sudo linkprof ...)"
	}
	return c
}

// optionalPrivilegeChecks names each optional capability missing.
func optionalPrivilegeChecks() []Check {
	var out []Check
	for name, why := range MissingOptionalCapabilities() {
		out = append(out, Check{Name: "privileges", Optional: true, Detail: "missing " + name + ": " + why,
			Fix: "add " + name + " (a container: docs/fleet.md)"})
	}
	return out
}

func kernelCheck() Check {
	rel := kernelRelease()
	c := Check{Name: "kernel", OK: true, Detail: rel}
	var major, minor int
	fmt.Sscanf(rel, "%d.%d", &major, &minor)
	if major < 5 || (major == 5 && minor < 15) {
		c.OK, c.Fix = false, "kernel 5.15 or newer (BPF cookies name the probed function)"
	}
	return c
}

func fileCheck(name, path, fix string) Check {
	if _, err := os.Stat(path); err != nil {
		return Check{Name: name, Detail: path + " not found", Fix: fix}
	}
	return Check{Name: name, OK: true, Detail: path}
}

func featureCheck(name string, err error, fix string) Check {
	if err != nil {
		return Check{Name: name, Detail: err.Error(), Fix: fix}
	}
	return Check{Name: name, OK: true, Detail: "supported"}
}

// loadCheck loads linkprof's BPF programs for real: the verifier's verdict.
func loadCheck() Check {
	p, err := LoadProbes(ProbeOptions{RingBytes: 1 << 16})
	if err != nil {
		return Check{Name: "BPF programs", Detail: err.Error(), Fix: "see the checks above"}
	}
	p.Close()
	return Check{Name: "BPF programs", OK: true, Detail: "loaded and verified"}
}

// ProcessChecks says which NCCL libraries pid maps and which symbols would
// be probed in each.
func ProcessChecks(pid uint32) []Check {
	info, err := ReadProcInfo(pid)
	if err != nil {
		return []Check{{Name: fmt.Sprintf("pid %d", pid), Detail: err.Error(), Fix: "give a running process"}}
	}
	maps, err := ReadMaps(pid)
	if err != nil {
		return []Check{{Name: fmt.Sprintf("pid %d", pid), Detail: err.Error(), Fix: "run as root"}}
	}
	var checks []Check
	seen := map[libKey]bool{}
	for _, m := range maps {
		key := libKey{m.Dev, m.Inode}
		if !m.Executable() || !m.FileBacked() || seen[key] {
			continue
		}
		seen[key] = true
		if c, ok := libraryCheck(pid, m.Path); ok {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return []Check{{Name: fmt.Sprintf("pid %d (%s)", pid, info.Comm), Detail: "maps no NCCL library",
			Fix: "is it a GPU worker? its children may be: linkprof record -p PID --children"}}
	}
	return checks
}

// libraryCheck says what linkprof would probe in one mapped file, if any:
// the same classification and plan the recorder uses.
func libraryCheck(pid uint32, path string) (Check, bool) {
	host := HostPath(pid, path)
	c, err := classify(host, path, extra.Table)
	if err != nil || len(c.specs) == 0 {
		return Check{}, false
	}
	_, _, probed, missing := planProbes(c.info, c.specs, path)
	detail := fmt.Sprintf("%s: would probe %s", path, strings.Join(probed, " "))
	if c.has(roleNameNCCL) {
		detail = fmt.Sprintf("%s (NCCL %s): would probe %s", path, orUnknown(NCCLVersion(host)), strings.Join(probed, " "))
	}
	if len(missing) > 0 {
		detail += "; absent (older version): " + strings.Join(missing, " ")
	}
	return Check{Name: strings.ToUpper(c.roleName()), OK: true, Detail: detail}, true
}

func orUnknown(s string) string {
	if s == "" {
		return "version unknown"
	}
	return s
}
