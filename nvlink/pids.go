package nvlink

// GPUOf returns the index of the sampled GPU on which pid runs compute work,
// or -1. It is how the recorder learns a process's GPU when neither its
// environment nor its communicators say. It holds the NVML lock, so it does
// not overlap the sampler's reads; callers should ask rarely.
func (s *Sampler) GPUOf(pid uint32) int {
	s.lock.Lock()
	defer s.lock.Unlock()
	for _, g := range s.gpus {
		for _, p := range computePids(g.dev) {
			if p == pid {
				return g.info.Index
			}
		}
	}
	return -1
}
