package correlate

import "github.com/linkprof/linkprof/trace"

// processGPUs is the one rule that places a process on a GPU: the GPU
// NVML lists it on, else its LOCAL_RANK, else, for a process neither
// names, its rank in a communicator of more than one rank (on one node,
// tensor-parallel rank r usually drives GPU r). A GPU once known is kept
// until a record names another.
type processGPUs map[uint32]int

// process places a process from its record (the recorder writes one again
// when it learns more).
func (m processGPUs) process(p trace.Process) (gpu int, changed bool) {
	g := p.GPU
	if g < 0 {
		g = p.LocalRank
	}
	return m.set(p.Pid, g, false)
}

// comm places a process from a communicator it created, when nothing
// better did.
func (m processGPUs) comm(pid uint32, rank, nranks int32) (gpu int, changed bool) {
	if rank < 0 || nranks < 2 {
		return m.get(pid), false
	}
	return m.set(pid, int(rank), true)
}

func (m processGPUs) get(pid uint32) int {
	if g, ok := m[pid]; ok {
		return g
	}
	return -1
}

// set records gpu for pid: a guess only where nothing is known.
func (m processGPUs) set(pid uint32, gpu int, guess bool) (int, bool) {
	old, ok := m[pid]
	switch {
	case gpu < 0, guess && ok && old >= 0:
		if !ok {
			m[pid] = -1
		}
		return m.get(pid), false
	}
	m[pid] = gpu
	return gpu, !ok || old != gpu
}
