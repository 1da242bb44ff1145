package profiler

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ErrNoProcess is returned for a pid that does not exist.
var ErrNoProcess = errors.New("no such process")

// checkPids verifies that every pid given with -p exists.
func checkPids(pids []uint32) error {
	for _, pid := range pids {
		if !Alive(pid) {
			return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
	}
	return nil
}

// PidsMatching returns the processes whose name or command line matches
// the pattern, leaving out linkprof itself.
func PidsMatching(pattern string) ([]uint32, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("--pid-of %q: %w", pattern, err)
	}
	all, err := ListPids()
	if err != nil {
		return nil, err
	}
	self := uint32(os.Getpid())
	var out []uint32
	for _, pid := range all {
		if pid == self {
			continue
		}
		info, err := ReadProcInfo(pid)
		if err != nil || len(info.Cmdline) == 0 {
			continue // gone, or a kernel thread
		}
		if re.MatchString(info.Comm) || re.MatchString(strings.Join(info.Cmdline, " ")) {
			out = append(out, pid)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process matches --pid-of %q", pattern)
	}
	return out, nil
}

// ncclFiles remembers which library files are NCCL, for --all.
type ncclFiles map[libKey]bool

// PidsMappingNCCL returns every process that maps an NCCL library.
func (c ncclFiles) PidsMappingNCCL() []uint32 {
	all, _ := ListPids()
	self := uint32(os.Getpid())
	var out []uint32
	for _, pid := range all {
		if pid != self && c.mapsNCCL(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func (c ncclFiles) mapsNCCL(pid uint32) bool {
	maps, err := ReadMaps(pid)
	if err != nil {
		return false
	}
	for _, m := range maps {
		if !m.Executable() || !m.FileBacked() {
			continue
		}
		key := libKey{m.Dev, m.Inode}
		is, seen := c[key]
		if !seen {
			is = isNCCLFile(HostPath(pid, m.Path))
			c[key] = is
		}
		if is {
			return true
		}
	}
	return false
}

func isNCCLFile(path string) bool {
	c, err := classify(path, path, nil)
	return err == nil && c.has(roleNameNCCL)
}
