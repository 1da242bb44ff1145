package nvlink

import (
	"fmt"
	"strings"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// describe reads a GPU's identity, links and supported counters.
func (s *Sampler) describe(d nvml.Device, index int, busIndex map[string]int) (*gpuState, error) {
	g := &gpuState{dev: d, info: trace.GPU{Index: index, CounterUnitKB: true, Simulated: s.Simulated()}}
	var ret nvml.Return
	if g.info.UUID, ret = d.GetUUID(); ret != nvml.SUCCESS {
		return nil, nvmlError("reading UUID", ret)
	}
	if g.info.Name, ret = d.GetName(); ret != nvml.SUCCESS {
		return nil, nvmlError("reading name", ret)
	}
	id, err := pciBusID(d)
	if err != nil {
		return nil, err
	}
	g.info.PCIBusID = id
	g.info.Links = readLinks(d, busIndex)
	g.info.PeakLinkBps = linkSpeeds(d, g.info.Links)
	g.info.ComputePids = computePids(d)
	for _, l := range g.info.Links {
		if l.Active {
			g.links = append(g.links, l.ID)
		}
	}
	s.probeFields(g)
	return g, nil
}

// simulator is an nvml.Interface that is not real hardware (simlink).
type simulator interface{ Simulated() bool }

// Simulated reports whether the NVML behind the sampler is a simulation:
// record marks the trace (trace.Start.Simulated) when it is.
func (s *Sampler) Simulated() bool {
	sim, ok := s.lib.(simulator)
	return ok && sim.Simulated()
}

func pciBusID(d nvml.Device) (string, error) {
	p, ret := d.GetPciInfo()
	if ret != nvml.SUCCESS {
		return "", nvmlError("reading PCI info", ret)
	}
	return cString(p.BusId[:]), nil
}

// cString reads a NUL-terminated C char array.
func cString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// normalizeBusID makes "00000000:19:00.0" and "0000:19:00.0" compare equal.
func normalizeBusID(id string) string {
	var dom, bus, dev, fn uint64
	if _, err := fmt.Sscanf(strings.ToLower(id), "%x:%x:%x.%x", &dom, &bus, &dev, &fn); err != nil {
		return strings.ToLower(id)
	}
	return fmt.Sprintf("%04x:%02x:%02x.%x", dom, bus, dev, fn)
}

// readLinks walks the GPU's links until NVML says there are no more. A GPU
// without NVLink answers NOT_SUPPORTED at link 0 and gets no links.
func readLinks(d nvml.Device, busIndex map[string]int) []trace.Link {
	var links []trace.Link
	for id := 0; id < nvml.NVLINK_MAX_LINKS; id++ {
		state, ret := d.GetNvLinkState(id)
		if ret != nvml.SUCCESS {
			break
		}
		l := trace.Link{ID: id, Active: state == nvml.FEATURE_ENABLED, PeerGPU: -1}
		if l.Active {
			if p, ret := d.GetNvLinkRemotePciInfo(id); ret == nvml.SUCCESS {
				l.PeerBusID = cString(p.BusId[:])
				if peer, ok := busIndex[normalizeBusID(l.PeerBusID)]; ok {
					l.PeerGPU = peer
				}
			}
		}
		links = append(links, l)
	}
	return links
}

// linkSpeeds reads each active link's speed (MB/s, one direction) in one
// call, sets GbpsPerDir (gigabits/s) and returns the GPU's peak bytes/s per
// direction over all links; 0 when NVML does not say.
func linkSpeeds(d nvml.Device, links []trace.Link) float64 {
	var req []nvml.FieldValue
	for _, l := range links {
		if l.Active {
			req = append(req, nvml.FieldValue{FieldId: nvml.FI_DEV_NVLINK_GET_SPEED, ScopeId: uint32(l.ID)})
		}
	}
	if len(req) == 0 || d.GetFieldValues(req) != nvml.SUCCESS {
		return 0
	}
	var peak float64
	for i := range req {
		mbps, _, ok := fieldValue(&req[i])
		if !ok {
			continue
		}
		for j := range links {
			if links[j].ID == int(req[i].ScopeId) {
				links[j].GbpsPerDir = float64(mbps) * 8 / 1000
			}
		}
		peak += float64(mbps) * 1e6
	}
	return peak
}

// computePids lists the processes running compute work on the GPU: the
// pid -> GPU fallback for communicators created before linkprof attached.
func computePids(d nvml.Device) []uint32 {
	procs, ret := d.GetComputeRunningProcesses()
	if ret != nvml.SUCCESS {
		return nil
	}
	pids := make([]uint32, 0, len(procs))
	for _, p := range procs {
		pids = append(pids, p.Pid)
	}
	return pids
}

// probeFields reads the aggregate counters once and keeps those the GPU
// supports: a field NVML refuses would otherwise turn every read into a gap.
func (s *Sampler) probeFields(g *gpuState) {
	if len(g.links) == 0 {
		s.notes = append(s.notes, fmt.Sprintf("GPU %d has no active NVLink: not sampled", g.info.Index))
		return
	}
	req := make([]nvml.FieldValue, len(counterFields))
	for i, f := range counterFields {
		req[i] = nvml.FieldValue{FieldId: f.id, ScopeId: scopeAllLinks}
	}
	if ret := g.dev.GetFieldValues(req); ret != nvml.SUCCESS {
		s.notes = append(s.notes, fmt.Sprintf("GPU %d: reading NVLink counters: %v: not sampled", g.info.Index, ret))
		return
	}
	for i, f := range counterFields {
		if _, _, ok := fieldValue(&req[i]); ok {
			g.fields = append(g.fields, f.id)
			g.slots = append(g.slots, i)
			g.info.SampleFields = append(g.info.SampleFields, f.name)
		}
	}
	if len(g.fields) == 0 {
		s.notes = append(s.notes, fmt.Sprintf("GPU %d: NVLink throughput counters not supported: not sampled", g.info.Index))
	}
	g.buf = make([]nvml.FieldValue, len(g.fields))
}
