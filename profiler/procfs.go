// Package profiler finds target processes and their NCCL libraries, attaches
// the probes of package bpf, reads their events and writes the trace.
package profiler

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/internal/procstat"
	"github.com/linkprof/linkprof/nic"
)

// procRoot is where procfs is mounted; tests may point it elsewhere.
var procRoot = "/proc"

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perms      string
	Offset     uint64
	Dev        uint64 // makedev(major, minor)
	Inode      uint64
	Path       string
}

// Executable reports whether the mapping holds code.
func (m Mapping) Executable() bool { return strings.Contains(m.Perms, "x") }

// FileBacked reports whether the mapping comes from a file on disk.
func (m Mapping) FileBacked() bool { return m.Inode != 0 && strings.HasPrefix(m.Path, "/") }

// ReadMaps parses /proc/PID/maps.
func ReadMaps(pid uint32) ([]Mapping, error) {
	data, err := os.ReadFile(procPath(pid, "maps"))
	if err != nil {
		return nil, fmt.Errorf("reading maps of pid %d: %w", pid, err)
	}
	var maps []Mapping
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m, ok := parseMapsLine(sc.Text()); ok {
			maps = append(maps, m)
		}
	}
	return maps, sc.Err()
}

// parseMapsLine reads "start-end perms offset major:minor inode path".
func parseMapsLine(line string) (Mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return Mapping{}, false
	}
	var m Mapping
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return Mapping{}, false
	}
	var err1, err2, err3, err4 error
	m.Start, err1 = strconv.ParseUint(lo, 16, 64)
	m.End, err2 = strconv.ParseUint(hi, 16, 64)
	m.Perms = f[1]
	m.Offset, err3 = strconv.ParseUint(f[2], 16, 64)
	m.Inode, err4 = strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Mapping{}, false
	}
	if maj, min, ok := strings.Cut(f[3], ":"); ok {
		ma, _ := strconv.ParseUint(maj, 16, 32)
		mi, _ := strconv.ParseUint(min, 16, 32)
		m.Dev = mkdev(ma, mi)
	}
	if len(f) >= 6 {
		m.Path = strings.Join(f[5:], " ")
	}
	return m, true
}

// mkdev encodes a device number the way the kernel's new_encode_dev does,
// so it compares equal to stat's st_dev.
func mkdev(major, minor uint64) uint64 {
	return (minor & 0xff) | (major << 8) | ((minor &^ 0xff) << 12)
}

func procPath(pid uint32, name string) string {
	return filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10), name)
}

// HostPath is how linkprof opens a file a process maps: through the
// process's own root, so libraries inside containers resolve.
func HostPath(pid uint32, path string) string {
	return filepath.Join(procRoot, strconv.FormatUint(uint64(pid), 10), "root", path)
}

// ProcInfo is what procfs says about a process.
type ProcInfo struct {
	Pid     uint32
	PPid    uint32
	Comm    string
	Cmdline []string
	Exe     string
	Env     map[string]string // only the variables linkprof uses
}

// envKeys are the variables that name a process's rank, its GPUs, (in a
// pod) the pod, and NCCL's choices of transport and network device
// (nic.EnvKeys).
var envKeys = append([]string{"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "CUDA_VISIBLE_DEVICES", "HOSTNAME"},
	nic.EnvKeys...)

// ReadProcInfo reads a process's identity. Only an unreadable stat is an
// error: the rest is best effort (kernel threads have no cmdline, a process
// may exit midway).
func ReadProcInfo(pid uint32) (ProcInfo, error) {
	info := ProcInfo{Pid: pid, Env: map[string]string{}}
	stat, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return info, fmt.Errorf("reading pid %d: %w", pid, err)
	}
	st, _ := procstat.Parse(string(stat))
	info.Comm, info.PPid = st.Comm, st.PPid
	if raw, err := os.ReadFile(procPath(pid, "cmdline")); err == nil {
		info.Cmdline = splitNul(raw)
	}
	info.Exe, _ = os.Readlink(procPath(pid, "exe"))
	if raw, err := os.ReadFile(procPath(pid, "environ")); err == nil {
		for _, kv := range splitNul(raw) {
			k, v, _ := strings.Cut(kv, "=")
			for _, want := range envKeys {
				if k == want {
					info.Env[k] = v
				}
			}
		}
	}
	return info, nil
}

func splitNul(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// NCCLEnv is the process's NCCL variables that choose its transports and
// network devices (nic.EnvKeys), nil when none is set.
func (p ProcInfo) NCCLEnv() map[string]string {
	var out map[string]string
	for _, k := range nic.EnvKeys {
		if v, ok := p.Env[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// EnvInt returns an integer environment variable of the process, or -1.
func (p ProcInfo) EnvInt(key string) int {
	v, err := strconv.Atoi(p.Env[key])
	if err != nil {
		return -1
	}
	return v
}

// ListPids returns every process id in procfs.
func ListPids() ([]uint32, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	var pids []uint32
	for _, e := range entries {
		if p, err := strconv.ParseUint(e.Name(), 10, 32); err == nil {
			pids = append(pids, uint32(p))
		}
	}
	return pids, nil
}

// Descendants returns every live descendant of the given processes.
func Descendants(roots []uint32) []uint32 {
	pids, err := ListPids()
	if err != nil {
		return nil
	}
	children := map[uint32][]uint32{}
	for _, pid := range pids {
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []uint32
	queue := append([]uint32(nil), roots...)
	seen := map[uint32]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// Alive reports whether a process exists (and is not a zombie).
func Alive(pid uint32) bool {
	stat, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return false
	}
	st, ok := procstat.Parse(string(stat))
	return !ok || st.Live()
}
