package merge

import (
	"strconv"
	"strings"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// host qualifies one recording's records for the merged trace
// (trace/host.go): pids and tids into its pid range, GPUs past GPUBase,
// times onto the reference's monotonic clock, wall-clock stamps onto the
// reference's wall clock, stack ids into its own range.
type host struct {
	idx   int
	rec   *recording
	info  *trace.Host
	align *alignment
	ref   *correlate.Aligner // the reference's clock pairs
	// notes say how its attached communicators were matched (sequence.go);
	// refused is the first reason one was not.
	notes   []trace.Note
	refused string
}

// stackShift puts a host's index above its stack ids (the BPF stack map
// holds 16,384).
const stackShift = 16

func (h *host) pid(p uint32) uint32 {
	if p == 0 {
		return 0
	}
	return trace.MergedPid(h.idx, p)
}

func (h *host) gpu(g int) int {
	if g < 0 {
		return g
	}
	return h.info.GPUBase + g
}

// mono is a monotonic time on the reference's clock; 0 (unset) stays 0.
func (h *host) mono(t int64) int64 {
	if t == 0 {
		return 0
	}
	return h.align.toRef(t)
}

// wallUs restamps a wall-clock time (microseconds) onto the reference's
// wall clock through the host's clock pairs, the alignment and the
// reference's pairs; 0 when a step has no pairs (the analysis then times
// the sample by its monotonic readings).
func (h *host) wallUs(us int64) int64 {
	if us == 0 || h.idx == 0 {
		return us
	}
	mono, ok := h.rec.clocks.WallToMono(us * 1000)
	if !ok {
		return 0
	}
	wall, ok := h.ref.MonoToWall(h.align.toRef(mono))
	if !ok {
		return 0
	}
	return wall / 1000
}

func (h *host) stack(id int32) int32 {
	if id < 0 {
		return id
	}
	return int32(h.idx)<<stackShift | id
}

func (h *host) event(e *trace.Event) {
	e.TsNs = uint64(h.mono(int64(e.TsNs)))
	e.Pid, e.Tid = h.pid(e.Pid), h.pid(e.Tid)
	e.StackID = h.stack(e.StackID)
}

func (h *host) sample(s *trace.Sample) {
	s.GPU = uint32(h.gpu(int(s.GPU)))
	s.MonoBeforeNs, s.MonoAfterNs = h.mono(s.MonoBeforeNs), h.mono(s.MonoAfterNs)
	s.WallUs = h.wallUs(s.WallUs)
}

func (h *host) linkSample(s *trace.LinkSample) {
	s.GPU = uint32(h.gpu(int(s.GPU)))
	s.MonoBeforeNs, s.MonoAfterNs = h.mono(s.MonoBeforeNs), h.mono(s.MonoAfterNs)
	s.WallUs = h.wallUs(s.WallUs)
}

// nicSample qualifies a NIC read: its NIC into the host's range, its
// times onto the reference's clock.
func (h *host) nicSample(s *trace.NICSample) {
	s.NIC = uint32(trace.MergedNIC(h.idx, int(s.NIC)))
	s.MonoBeforeNs, s.MonoAfterNs = h.mono(s.MonoBeforeNs), h.mono(s.MonoAfterNs)
}

// meta qualifies a metadata record; keep is false for those the merged
// trace says once for all hosts (Start, Stop: emit.go; Lost: stream.go)
// or only from the reference (Clock: the merged trace speaks its clock
// pairs), known false for a type this function has no rule for (left out,
// and said so: emit.go).
func (h *host) meta(v any) (t trace.RecordType, out any, keep, known bool) {
	switch v := v.(type) {
	case trace.Start, trace.Stop:
		return 0, nil, false, true
	case trace.Process:
		return trace.RecProcess, h.process(v), true, true
	case trace.Library:
		v.Pid, v.AttachedNs = h.pid(v.Pid), h.mono(v.AttachedNs)
		return trace.RecLibrary, v, true, true
	case trace.Comm:
		v.Pid, v.TsNs = h.pid(v.Pid), uint64(h.mono(int64(v.TsNs)))
		return trace.RecComm, v, true, true
	case trace.GPU:
		return trace.RecGPU, h.gpuRecord(v), true, true
	case trace.Clock:
		return trace.RecClock, v, h.idx == 0, true
	case trace.Stack:
		v.ID, v.Pid = h.stack(v.ID), h.pid(v.Pid)
		return trace.RecStack, v, true, true
	case trace.Mappings:
		v.Pid, v.MonoNs = h.pid(v.Pid), h.mono(v.MonoNs)
		return trace.RecMappings, v, true, true
	case trace.Note:
		v.MonoNs, v.Text = h.mono(v.MonoNs), "host "+h.info.Name+": "+v.Text
		return trace.RecNote, v, true, true
	case trace.GPMSample:
		v.GPU, v.MonoNs = h.gpu(v.GPU), h.mono(v.MonoNs)
		return trace.RecGPUSamples, v, true, true
	case trace.Stall:
		return trace.RecStall, h.stall(v), true, true
	case trace.NIC:
		v.Index, v.Host = trace.MergedNIC(h.idx, v.Index), h.info.Name
		return trace.RecNIC, v, true, true
	}
	return 0, nil, false, false
}

// process qualifies a process record. Its GPU is where the host's own
// analysis placed it at the end (internal/placement, fed the host's
// records), so the merged analysis needs no guess that would ignore the
// host (a communicator rank taken for a GPU index); its CUDA device
// ordinals map onto merged GPUs through CUDA_VISIBLE_DEVICES, written out
// when it was unset (the host's GPUs in order).
func (h *host) process(p trace.Process) trace.Process {
	g, ok := h.rec.placed[p.Pid]
	if !ok {
		g = -1
	}
	p.Pid, p.PPid, p.SeenNs = h.pid(p.Pid), h.pid(p.PPid), h.mono(p.SeenNs)
	p.GPU, p.Host = h.gpu(g), h.info.Name
	p.CUDAVisibleDevices = h.visible(p.CUDAVisibleDevices)
	return p
}

// visible qualifies a CUDA_VISIBLE_DEVICES list: indexes move past the
// host's GPUBase, UUIDs stay (GPU records keep them).
func (h *host) visible(list string) string {
	var out []string
	if list == "" {
		for g := range h.info.GPUs {
			out = append(out, strconv.Itoa(h.gpu(g)))
		}
		return strings.Join(out, ",")
	}
	for _, e := range strings.Split(list, ",") {
		if i, err := strconv.Atoi(strings.TrimSpace(e)); err == nil {
			e = strconv.Itoa(h.gpu(i))
		}
		out = append(out, e)
	}
	return strings.Join(out, ",")
}

func (h *host) gpuRecord(g trace.GPU) trace.GPU {
	g.Index, g.Host = h.gpu(g.Index), h.info.Name
	links := make([]trace.Link, len(g.Links))
	for i, l := range g.Links {
		l.PeerGPU = h.gpu(l.PeerGPU)
		links[i] = l
	}
	g.Links = links
	pids := make([]uint32, len(g.ComputePids))
	for i, p := range g.ComputePids {
		pids[i] = h.pid(p)
	}
	g.ComputePids = pids
	return g
}

// stall qualifies a live stall report; its communicator is named the way
// its host's recorder named it, so the host says whose name it is.
func (h *host) stall(s trace.Stall) trace.Stall {
	s.ID = h.idx<<20 | s.ID
	s.MonoNs, s.SinceNs, s.EndNs = h.mono(s.MonoNs), h.mono(s.SinceNs), h.mono(s.EndNs)
	s.Comm = h.info.Name + ": " + s.Comm
	ranks := func(rs []trace.StallRank) []trace.StallRank {
		out := make([]trace.StallRank, len(rs))
		for i, r := range rs {
			r.Pid, r.GPU = h.pid(r.Pid), h.gpu(r.GPU)
			r.ArrivedNs, r.LastNs = h.mono(r.ArrivedNs), h.mono(r.LastNs)
			out[i] = r
		}
		return out
	}
	s.Arrived, s.Missing = ranks(s.Arrived), ranks(s.Missing)
	return s
}

// synthetic is the process record of a process its recorder placed but
// never described (it ended before it was looked at): without it the
// merged analysis would place it by a guess that ignores its host.
func (h *host) synthetic(pid uint32, gpu int) trace.Process {
	return trace.Process{Pid: h.pid(pid), Rank: -1, LocalRank: -1, WorldSize: -1, GPU: h.gpu(gpu),
		CUDAVisibleDevices: h.visible(""), Host: h.info.Name}
}
