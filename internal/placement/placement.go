// Package placement is the one rule that places work on GPUs, shared by
// the analysis and the recorder's live stall watch.
package placement

import (
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// Placement is the one rule that places work on GPUs. A communicator
// lives on the GPU it was created on (the creating thread's CUDA device,
// or ncclCommInitAll's device list), mapped through the process's
// CUDA_VISIBLE_DEVICES: one process may drive several GPUs (nccl-tests
// -g 2, ncclCommInitAll, a thread per GPU). Calls on communicators of
// unknown device, and processes' other work, go to the process's GPU: the
// GPU NVML lists it on, else its LOCAL_RANK, else, for a process neither
// names, its rank in a communicator of more than one rank (on one node,
// tensor-parallel rank r usually drives GPU r). A GPU once known is kept
// until a record names another.
type Placement struct {
	procs   map[uint32]int
	visible map[uint32][]string // CUDA_VISIBLE_DEVICES entries
	uuids   map[string]int      // GPU UUID -> index
	comms   map[commKey]int
}

type commKey struct {
	pid    uint32
	handle uint64
}

// New is an empty placement.
func New() *Placement {
	return &Placement{procs: map[uint32]int{}, visible: map[uint32][]string{}, uuids: map[string]int{},
		comms: map[commKey]int{}}
}

// GPU records a sampled GPU's identity (CUDA_VISIBLE_DEVICES may name
// GPUs by UUID).
func (m *Placement) GPU(g trace.GPU) {
	if g.UUID != "" {
		m.uuids[g.UUID] = g.Index
	}
}

// Process places a process from its record (the recorder writes one again
// when it learns more).
func (m *Placement) Process(p trace.Process) (gpu int, changed bool) {
	if p.CUDAVisibleDevices != "" {
		m.visible[p.Pid] = strings.Split(p.CUDAVisibleDevices, ",")
	}
	g := p.GPU
	if g < 0 {
		g = p.LocalRank
	}
	return m.setProcess(p.Pid, g, false)
}

// RankGuess places a process from a communicator it created, when nothing
// better did.
func (m *Placement) RankGuess(pid uint32, rank, nranks int32) (gpu int, changed bool) {
	if rank < 0 || nranks < 2 {
		return m.ProcessGPU(pid), false
	}
	return m.setProcess(pid, int(rank), true)
}

func (m *Placement) ProcessGPU(pid uint32) int {
	if g, ok := m.procs[pid]; ok {
		return g
	}
	return -1
}

// setProcess records gpu for pid: a guess only where nothing is known.
func (m *Placement) setProcess(pid uint32, gpu int, guess bool) (int, bool) {
	old, ok := m.procs[pid]
	if gpu < 0 || guess && ok && old >= 0 {
		if !ok {
			m.procs[pid] = -1
		}
		return m.ProcessGPU(pid), false
	}
	m.procs[pid] = gpu
	return gpu, !ok || old != gpu
}

// Comm places a communicator created on CUDA device dev of its process;
// ok is false when the device cannot be mapped to a GPU.
func (m *Placement) Comm(pid uint32, handle uint64, dev int) (gpu int, ok bool) {
	gpu = m.deviceGPU(pid, dev)
	if gpu < 0 {
		return -1, false
	}
	m.comms[commKey{pid, handle}] = gpu
	return gpu, true
}

// deviceGPU maps a process's CUDA device ordinal to a GPU index: through
// CUDA_VISIBLE_DEVICES (indexes or UUIDs) when set, else one to one.
func (m *Placement) deviceGPU(pid uint32, dev int) int {
	vis := m.visible[pid]
	if len(vis) == 0 {
		return dev
	}
	if dev < 0 || dev >= len(vis) {
		return -1
	}
	e := strings.TrimSpace(vis[dev])
	if i, err := strconv.Atoi(e); err == nil {
		return i
	}
	for uuid, i := range m.uuids {
		if strings.HasPrefix(uuid, e) {
			return i
		}
	}
	return -1
}

// CallGPU is the GPU a call on comm runs on.
func (m *Placement) CallGPU(pid uint32, comm uint64) int {
	if g, ok := m.comms[commKey{pid, comm}]; ok {
		return g
	}
	return m.ProcessGPU(pid)
}

// Processes is every placed process's GPU, -1 none.
func (m *Placement) Processes() map[uint32]int { return m.procs }
