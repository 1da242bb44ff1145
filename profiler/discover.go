package profiler

import (
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// libRole says what a mapped file is to linkprof.
type libRole int

const (
	roleOther libRole = iota
	roleNCCL
	roleLoader
)

// libState is what linkprof knows about one library file (inode).
type libState struct {
	role    libRole
	info    *LibraryInfo
	version string
	probed  []string
	missing []string
	err     error // attach failed; not retried
}

// procState is what linkprof knows about one target process.
type procState struct {
	rec      trace.Process
	mappings map[libKey]bool // executable files seen mapped
}

// discoverer finds NCCL (and the dynamic loader) in target processes and
// attaches probes to each library file once.
type discoverer struct {
	probes *Probes
	w      *trace.Writer
	clock  func() int64

	onLibrary func(trace.Library) // optional
	gpuOf     func(uint32) int    // optional: NVML's pid -> GPU
	extra     []extra.Probe       // nil: extra.Table

	mu    sync.Mutex
	libs  map[libKey]*libState
	procs map[uint32]*procState
}

func newDiscoverer(p *Probes, w *trace.Writer, clock func() int64) *discoverer {
	return &discoverer{probes: p, w: w, clock: clock, libs: map[libKey]*libState{}, procs: map[uint32]*procState{}}
}

// scan reads a process's maps and attaches to any NCCL or loader not yet
// probed. It reports whether the process maps NCCL.
func (d *discoverer) scan(pid uint32) (bool, error) {
	maps, err := ReadMaps(pid)
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := d.process(pid)
	changed, hasNCCL := false, false
	for _, m := range maps {
		if !m.Executable() || !m.FileBacked() {
			continue
		}
		key := libKey{m.Dev, m.Inode}
		if !ps.mappings[key] {
			ps.mappings[key] = true
			changed = true
		}
		lib := d.library(pid, key, m.Path)
		if lib.role == roleNCCL && lib.err == nil {
			hasNCCL = true
			d.noteNCCL(ps, m.Path, lib)
		}
	}
	if changed {
		d.writeMappings(pid, maps)
	}
	return hasNCCL, nil
}

// process returns the state of pid, writing its Process record when new.
func (d *discoverer) process(pid uint32) *procState {
	if ps, ok := d.procs[pid]; ok {
		return ps
	}
	info, _ := ReadProcInfo(pid)
	pod := PodOf(pid, info.Env)
	ps := &procState{mappings: map[libKey]bool{}, rec: trace.Process{
		Pid: pid, PPid: info.PPid, Comm: info.Comm, Cmdline: info.Cmdline, Exe: info.Exe,
		SeenNs: d.clock(), Rank: info.EnvInt("RANK"), LocalRank: info.EnvInt("LOCAL_RANK"),
		WorldSize: info.EnvInt("WORLD_SIZE"), GPU: -1, CUDAVisibleDevices: info.Env["CUDA_VISIBLE_DEVICES"],
		PodUID: pod.UID, Pod: pod.Name, PodNamespace: pod.Namespace, ContainerID: pod.Container,
		LocalWorldSize: max(info.EnvInt("LOCAL_WORLD_SIZE"), 0), NCCLEnv: info.NCCLEnv(),
	}}
	d.procs[pid] = ps
	d.writeProcess(ps)
	return ps
}

func (d *discoverer) noteNCCL(ps *procState, path string, lib *libState) {
	if ps.rec.NCCLPath == path {
		return
	}
	ps.rec.NCCLPath = path
	ps.rec.NCCLBuildID = lib.info.BuildID
	ps.rec.NCCLVersion = lib.version
	d.lookupGPU(ps)
	d.writeProcess(ps)
}

// lookupGPU asks NVML which GPU the process computes on, if still unknown.
func (d *discoverer) lookupGPU(ps *procState) bool {
	if ps.rec.GPU >= 0 || d.gpuOf == nil {
		return false
	}
	ps.rec.GPU = d.gpuOf(ps.rec.Pid)
	return ps.rec.GPU >= 0
}

// resolveGPU learns a NCCL process's GPU when it becomes known (its CUDA
// context exists by the time it creates a communicator) and rewrites its
// record, so analysis knows it before the collectives that follow.
func (d *discoverer) resolveGPU(pid uint32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ps, ok := d.procs[pid]; ok && ps.rec.NCCLPath != "" && d.lookupGPU(ps) {
		d.writeProcess(ps)
	}
}

// resolveGPUs retries every NCCL process whose GPU is still unknown.
func (d *discoverer) resolveGPUs() {
	d.mu.Lock()
	var pids []uint32
	for pid, ps := range d.procs {
		if ps.rec.NCCLPath != "" && ps.rec.GPU < 0 {
			pids = append(pids, pid)
		}
	}
	d.mu.Unlock()
	for _, pid := range pids {
		d.resolveGPU(pid)
	}
}

func (d *discoverer) writeProcess(ps *procState) {
	if err := d.w.WriteJSON(trace.RecProcess, ps.rec); err != nil {
		slog.Debug("writing process record", "err", err)
	}
}

// library classifies a mapped file once and attaches probes to it.
func (d *discoverer) library(pid uint32, key libKey, path string) *libState {
	if lib, ok := d.libs[key]; ok {
		return lib
	}
	lib := &libState{}
	host := openPath(pid, key, path)
	if isLoaderName(path) {
		d.attachLoader(pid, key, host, path, lib)
	} else {
		d.attachProbes(pid, key, host, path, lib)
	}
	// A process that exits while it is scanned (a short-lived child) takes
	// its /proc/PID/root view of the file with it: a failure then says
	// nothing about the file, so the next process that maps it tries again.
	if (lib.info == nil || lib.err != nil) && !Alive(pid) {
		return lib
	}
	d.libs[key] = lib
	return lib
}

// attachProbes puts every probe a library calls for on it in one step:
// NCCL, the CUDA runtime and driver graph API, extra collectives. Each is
// found by its symbols, so copies linked into other libraries count too.
func (d *discoverer) attachProbes(pid uint32, key libKey, host, path string, lib *libState) {
	c, err := classify(host, path, d.extraTable())
	if err != nil {
		slog.Debug("inspecting library", "path", path, "err", err)
		return
	}
	if len(c.specs) == 0 {
		return
	}
	lib.info = c.info
	if c.has(roleNameNCCL) {
		lib.role = roleNCCL
		lib.version = NCCLVersion(host)
	}
	lib.probed, lib.missing, lib.err = d.probes.attach(host, key, c.info, c.specs)
	if lib.err != nil {
		slog.Warn("attaching probes", "pid", pid, "path", path, "roles", c.roles, "err", lib.err)
		return
	}
	slog.Debug("attached probes", "pid", pid, "path", path, "roles", c.roles, "probes", len(lib.probed), "missing", lib.missing)
	d.writeLibrary(pid, key, path, lib, c.roleName())
}

func (d *discoverer) attachLoader(pid uint32, key libKey, host, path string, lib *libState) {
	info, err := InspectELF(host, map[string]bool{loaderProbe.symbol: true})
	if err != nil || !info.Has(loaderProbe.symbol) {
		return
	}
	lib.role, lib.info = roleLoader, info
	if lib.err = d.probes.AttachLoader(host, key.dev, key.inode, info); lib.err != nil {
		slog.Debug("attaching loader probe", "path", path, "err", lib.err)
		return
	}
	lib.probed = []string{loaderProbe.symbol}
	d.writeLibrary(pid, key, path, lib, "loader")
}

func (d *discoverer) extraTable() []extra.Probe {
	if d.extra != nil {
		return d.extra
	}
	return extra.Table
}

func (d *discoverer) writeLibrary(pid uint32, key libKey, path string, lib *libState, role string) {
	rec := trace.Library{Pid: pid, Path: path, Dev: key.dev, Inode: key.inode, BuildID: lib.info.BuildID,
		Version: lib.version, Role: role, Probed: lib.probed, Missing: lib.missing, AttachedNs: d.clock()}
	if d.onLibrary != nil {
		d.onLibrary(rec)
	}
	if err := d.w.WriteJSON(trace.RecLibrary, rec); err != nil {
		slog.Debug("writing library record", "err", err)
	}
}

func (d *discoverer) writeMappings(pid uint32, maps []Mapping) {
	rec := trace.Mappings{Pid: pid, MonoNs: d.clock()}
	for _, m := range maps {
		if m.Executable() && m.FileBacked() {
			rec.Mappings = append(rec.Mappings, trace.Mapping{Start: m.Start, End: m.End, Offset: m.Offset, Path: m.Path})
		}
	}
	if err := d.w.WriteJSON(trace.RecMappings, rec); err != nil {
		slog.Debug("writing mappings record", "err", err)
	}
}

// ncclProcesses counts scanned processes that map NCCL.
func (d *discoverer) ncclProcesses() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ps := range d.procs {
		if ps.rec.NCCLPath != "" {
			n++
		}
	}
	return n
}

// openPath picks how to open a mapped file: by its own path when that names
// the same file in linkprof's mount namespace, which stays valid when the
// process exits mid-attach; else through the process's root (containers).
func openPath(pid uint32, key libKey, path string) string {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) == nil && uint64(st.Dev) == key.dev && st.Ino == key.inode {
		return path
	}
	return HostPath(pid, path)
}

func isLoaderName(path string) bool {
	base := filepath.Base(path)
	return strings.HasPrefix(base, "ld-linux") || strings.HasPrefix(base, "ld-musl") || base == "ld.so"
}
