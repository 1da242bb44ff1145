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

// checkPids verifies that every pid given with -p exists and is not
// linkprof's own.
func checkPids(pids []uint32) error {
	if err := checkNotOwn(pids); err != nil {
		return err
	}
	for _, pid := range pids {
		if !Alive(pid) {
			return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
		}
	}
	return nil
}

// Engines are the names --pid-of takes for serving engines, each standing
// for a pattern on the command lines of the engine's server and its
// worker processes (named by their process titles), so that
// `--pid-of vllm` finds vLLM's processes and not a shell tailing vllm.log.
var Engines = map[string]string{
	// `vllm serve`, `python -m vllm.entrypoints...`; V1 titles its
	// processes VLLM::EngineCore and VLLM::Worker_TP<n>.
	"vllm": `(^|[ /])vllm serve( |$)|(^|[ /])vllm\.entrypoints\.|^VLLM::`,
	// `python -m sglang.launch_server`, `sglang serve`; its processes
	// are titled sglang::scheduler_TP<n>, sglang::detokenizer.
	"sglang": `(^|[ /])sglang\.launch_server|(^|[ /])sglang serve( |$)|^sglang::`,
}

// CompilePidOf compiles --pid-of's pattern: an engine's name (Engines),
// several joined by | ("vllm|sglang"), or a regular expression.
func CompilePidOf(pattern string) (*regexp.Regexp, error) {
	pattern = enginesPattern(pattern)
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("--pid-of %q: %w", pattern, err)
	}
	return re, nil
}

// enginesPattern turns engine names into their patterns; anything else is
// left as it is.
func enginesPattern(pattern string) string {
	names := strings.Split(pattern, "|")
	pats := make([]string, len(names))
	for i, name := range names {
		p, ok := Engines[name]
		if !ok {
			return pattern
		}
		pats[i] = "(?:" + p + ")"
	}
	return strings.Join(pats, "|")
}

// PidsMatching returns the processes whose name or command line matches
// the pattern (CompilePidOf), leaving out linkprof and its parents (the
// shell or sudo that started linkprof holds the pattern in its command
// line).
func PidsMatching(pattern string) ([]uint32, error) {
	re, err := CompilePidOf(pattern)
	if err != nil {
		return nil, err
	}
	out, err := pidsMatching(re)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process matches --pid-of %q (linkprof and its parent processes are left out)", pattern)
	}
	return out, nil
}

func pidsMatching(re *regexp.Regexp) ([]uint32, error) {
	all, err := ListPids()
	if err != nil {
		return nil, err
	}
	own := ownLineage()
	var out []uint32
	for _, pid := range all {
		if own[pid] {
			continue
		}
		comm, cmdline, ok := nameAndCmdline(pid)
		if !ok {
			continue // gone, or a kernel thread
		}
		if re.MatchString(comm) || re.MatchString(cmdline) {
			out = append(out, pid)
		}
	}
	return out, nil
}

// nameAndCmdline reads only what --pid-of matches (a watching recorder
// reads it for every process, four times a second): the name and the
// command line, its arguments joined by spaces. A kernel thread has no
// command line.
func nameAndCmdline(pid uint32) (string, string, bool) {
	raw, err := os.ReadFile(procPath(pid, "cmdline"))
	if err != nil || len(raw) == 0 {
		return "", "", false
	}
	comm, err := os.ReadFile(procPath(pid, "comm"))
	if err != nil {
		return "", "", false
	}
	return strings.TrimSuffix(string(comm), "\n"), strings.Join(splitNul(raw), " "), true
}

// ncclFiles remembers which library files are NCCL, for --all.
type ncclFiles map[libKey]bool

// PidsMappingNCCL returns every process that maps an NCCL library, but
// linkprof's own lineage.
func (c ncclFiles) PidsMappingNCCL() []uint32 {
	all, _ := ListPids()
	own := ownLineage()
	var out []uint32
	for _, pid := range all {
		if !own[pid] && c.mapsNCCL(pid) {
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
