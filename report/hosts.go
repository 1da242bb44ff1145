package report

import (
	"fmt"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// A merged recording (linkprof merge) holds several hosts: report.json
// lists them (hosts), names each process's and GPU's host with its own pid
// and GPU index, and keeps the merged pids and GPU indexes everywhere else
// (trace/host.go says how they encode the host).

// hostsOf is a merged recording's hosts, nil for a recording of one host.
func hostsOf(res *correlate.Result) []trace.Host { return res.Meta.Start.Hosts }

// nameHosts fills in the host of each process and GPU of a merged
// recording.
func nameHosts(r *Report, start *trace.Start) {
	for i := range r.Processes {
		p := &r.Processes[i]
		if h := start.HostOf(p.Pid); h != nil {
			_, local := trace.SplitPid(p.Pid)
			p.Host, p.HostPid = h.Name, local
		}
	}
	for i := range r.GPUs {
		g := &r.GPUs[i]
		if h := start.HostOfGPU(g.Index); h != nil {
			idx := g.Index - h.GPUBase
			g.Host, g.HostIndex = h.Name, &idx
		}
	}
}

// PidName is how text names a process: its pid, with its host and its own
// pid in a merged recording ("b:4242").
func (r *Report) PidName(pid uint32) string {
	h, local := trace.SplitPid(pid)
	if h < len(r.Hosts) && len(r.Hosts) > 0 {
		return fmt.Sprintf("%s:%d", r.Hosts[h].Name, local)
	}
	return fmt.Sprint(pid)
}

// GPUName is how text names a GPU: its index, with its host's own index
// in a merged recording ("2 (b:0)").
func (r *Report) GPUName(gpu int) string {
	if gpu < 0 {
		return "-"
	}
	for _, h := range r.Hosts {
		if gpu >= h.GPUBase && gpu < h.GPUBase+h.GPUs {
			return fmt.Sprintf("%d (%s:%d)", gpu, h.Name, gpu-h.GPUBase)
		}
	}
	return fmt.Sprint(gpu)
}

// writeHosts says, for a merged recording, which recordings it was made of
// and how each host's clock was placed on the first's.
func writeHosts(p func(string, ...any), r *Report) {
	if len(r.Hosts) == 0 {
		return
	}
	p("hosts: %d recordings merged, times on %s's clock (docs/design.md, \"Merging hosts\")\n", len(r.Hosts), r.Hosts[0].Name)
	for _, h := range r.Hosts {
		gpus := "no GPU"
		if h.GPUs > 0 {
			gpus = fmt.Sprintf("GPUs %d-%d", h.GPUBase, h.GPUBase+h.GPUs-1)
		}
		clock := "the reference clock"
		if h.Index > 0 {
			clock = fmt.Sprintf("clock %s ahead by the %s; %d collectives shared, arrivals then %s apart (spread %s), wall clocks %s",
				dur(h.OffsetNs), h.Clock, h.Collectives, dur(h.CollectiveSkewNs), dur(h.SpreadNs), dur(h.WallSkewNs))
		}
		cut := ""
		if h.Truncated {
			cut = ", cut short"
		}
		p("  %s (%s): %s, %s%s\n", h.Name, h.Folder, gpus, clock, cut)
	}
	p("\n")
}
