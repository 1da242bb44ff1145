package pprofout

import (
	"fmt"
	"math"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// SampleTypes are the profile's values. Their names have no '-', which
// Pyroscope rejects in a sample type.
var SampleTypes = []*profile.ValueType{
	{Type: "calls", Unit: "count"},
	{Type: "payload", Unit: "bytes"},
	{Type: "nvlink_tx", Unit: "bytes"},
	{Type: "nvlink_rx", Unit: "bytes"},
	{Type: "gpu_time", Unit: "nanoseconds"},
	{Type: "wait", Unit: "nanoseconds"}, // for the last rank of the collective (docs/stragglers.md)
	{Type: "net_tx", Unit: "bytes"},     // on the host's network link (docs/attribution.md, Network links)
	{Type: "net_rx", Unit: "bytes"},
}

// SyntheticFile names the mapping of the frames linkprof makes up (the
// collective, process, rank, unattributed, GPU). It is the first mapping,
// which pprof takes for the main binary and shows as the profile's title.
const SyntheticFile = "linkprof"

// Profile builds the pprof profile of the calls the builder saw, using the
// analysis's metadata for stacks, mappings, process names and
// communicators.
func (b *Builder) Profile(res *correlate.Result, sym *Symbolizer) (*profile.Profile, error) {
	p := &profile.Profile{
		SampleType: SampleTypes, DefaultSampleType: "nvlink_tx",
		PeriodType: &profile.ValueType{Type: "nvlink_tx", Unit: "bytes"}, Period: 1,
		TimeNanos: res.Meta.Start.Clock.WallNs, DurationNanos: res.DurationNs(),
		Comments: []string{"linkprof: NVLink bytes attributed to NCCL collectives (gpu_time is modelled)"},
	}
	if res.Meta.Start.Simulated {
		p.Comments = append(p.Comments, "simulated link")
	}
	t := newTables(p, res, sym)
	comms := newCommNames(res.Meta.Comms, b.order)
	for _, k := range b.order {
		s := &profile.Sample{Location: t.stack(k), Value: ints(b.samples[k])}
		s.Label, s.NumLabel, s.NumUnit = labels(k, comms.name(k))
		if h := res.Meta.Start.HostOf(k.pid); h != nil {
			s.Label["host"] = []string{h.Name}
		}
		p.Sample = append(p.Sample, s)
	}
	for _, g := range b.gpus {
		s := &profile.Sample{
			Location: []*profile.Location{t.synthetic("unattributed"), t.synthetic(fmt.Sprintf("GPU %d", g))},
			Value:    ints(b.unattr[g]),
			Label:    map[string][]string{"op": {"unattributed"}, "link": {correlate.NVLink.String()}},
			NumLabel: map[string][]int64{"gpu": {int64(g)}},
			NumUnit:  map[string][]string{"gpu": {"gpu"}},
		}
		if h := res.Meta.Start.HostOfGPU(g); h != nil {
			s.Label["host"] = []string{h.Name}
		}
		p.Sample = append(p.Sample, s)
	}
	if b.netUn != nil {
		p.Sample = append(p.Sample, &profile.Sample{
			Location: []*profile.Location{t.synthetic("unattributed"), t.synthetic("network")},
			Value:    ints(b.netUn),
			Label:    map[string][]string{"op": {"unattributed"}, "link": {correlate.Net.String()}},
		})
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("building profile: %w", err)
	}
	return p, nil
}

func ints(v *values) []int64 {
	out := make([]int64, nValues)
	for i, x := range v {
		out[i] = int64(math.Round(x))
	}
	return out
}

// tables deduplicates functions, locations and mappings while samples
// are added (IDs are len+1, as pprof wants).
type tables struct {
	p      *profile.Profile
	res    *correlate.Result
	sym    *Symbolizer
	procs  map[uint32]trace.Process
	funcs  map[[2]string]*profile.Function
	synth  map[string]*profile.Location
	native map[[2]uint64]*profile.Location
	maps   map[[2]uint64]*profile.Mapping
	synthM *profile.Mapping
}

func newTables(p *profile.Profile, res *correlate.Result, sym *Symbolizer) *tables {
	t := &tables{p: p, res: res, sym: sym, procs: map[uint32]trace.Process{},
		funcs: map[[2]string]*profile.Function{}, synth: map[string]*profile.Location{},
		native: map[[2]uint64]*profile.Location{}, maps: map[[2]uint64]*profile.Mapping{}}
	for _, pr := range res.Meta.Processes {
		t.procs[pr.Pid] = pr
	}
	t.synthM = &profile.Mapping{ID: 1, File: SyntheticFile, HasFunctions: true}
	p.Mapping = append(p.Mapping, t.synthM)
	return t
}

func (t *tables) function(name, file string) *profile.Function {
	if f := t.funcs[[2]string{name, file}]; f != nil {
		return f
	}
	f := &profile.Function{ID: uint64(len(t.p.Function) + 1), Name: name, SystemName: name, Filename: file}
	t.p.Function = append(t.p.Function, f)
	t.funcs[[2]string{name, file}] = f
	return f
}

func (t *tables) synthetic(name string) *profile.Location {
	if l := t.synth[name]; l != nil {
		return l
	}
	l := &profile.Location{ID: uint64(len(t.p.Location) + 1), Mapping: t.synthM, Line: []profile.Line{{Function: t.function(name, "")}}}
	t.p.Location = append(t.p.Location, l)
	t.synth[name] = l
	return l
}

// stack is leaf first: the collective, the caller's frames, then the
// process name and rank as roots (the pid is a label, not a frame).
func (t *tables) stack(k key) []*profile.Location {
	name := k.kind.String()
	switch {
	case k.kind.IsCollective():
		name = "nccl" + name
	case k.kind == trace.GraphLaunch:
		// A launch of a graph captured before the recording: its contents
		// are unknown, its bytes per launch fitted.
		name = fmt.Sprintf("CUDA graph %d (captured before recording)", k.graph)
	}
	locs := []*profile.Location{t.synthetic(name)}
	if k.waitFor > 0 {
		locs = []*profile.Location{t.synthetic(fmt.Sprintf("wait for rank %d", k.waitFor-1)), locs[0]}
	}
	locs = append(locs, t.natives(k.pid, k.stack, k.caller)...)
	pr := t.procs[k.pid]
	comm := pr.Comm
	if comm == "" {
		comm = "process"
	}
	locs = append(locs, t.synthetic(comm), t.synthetic(rankName(k.rank)))
	return locs
}

func rankName(r int) string {
	if r < 0 {
		return "rank ?"
	}
	return fmt.Sprintf("rank %d", r)
}

// natives symbolizes a captured stack. Frames inside NCCL (the probed
// entry) are dropped, as the synthetic leaf names the call; the stack is
// cut at the first address outside every mapping, where unwinding went
// astray, so no garbage frame appears. caller, the return address the probe
// read at the function's entry, is the frame a frame-pointer walk from
// there skips: it goes first.
func (t *tables) natives(pid uint32, id int32, caller uint64) []*profile.Location {
	st, ok := t.res.Meta.Stacks[id]
	if id < 0 || !ok {
		return nil
	}
	maps := t.res.Meta.Mappings[pid]
	if len(maps) == 0 {
		maps = t.res.Meta.Mappings[st.Pid]
	}
	var out []*profile.Location
	addrs := st.Addrs
	if caller != 0 {
		addrs = withCaller(addrs, caller, func(a uint64) bool {
			m, ok := findMapping(maps, a)
			return ok && t.isNCCL(pid, m.Path)
		})
	}
	inNCCL := true
	for _, addr := range addrs {
		m, ok := findMapping(maps, addr)
		if addr == 0 || !ok {
			break
		}
		if inNCCL && t.isNCCL(pid, m.Path) {
			continue
		}
		inNCCL = false
		out = append(out, t.location(pid, m, addr))
	}
	return out
}

func (t *tables) isNCCL(pid uint32, path string) bool {
	if p := t.procs[pid].NCCLPath; p != "" {
		return path == p
	}
	return strings.Contains(path, "libnccl")
}

func (t *tables) location(pid uint32, m trace.Mapping, addr uint64) *profile.Location {
	if l := t.native[[2]uint64{uint64(pid), addr}]; l != nil {
		return l
	}
	pm := t.mapping(pid, m)
	// A return address points after the call: look up the call itself.
	off := addr - 1 - m.Start + m.Offset
	name, ok := t.sym.Func(m.Path, off)
	if !ok {
		name = fallbackName(m.Path, off+1)
	}
	l := &profile.Location{ID: uint64(len(t.p.Location) + 1), Mapping: pm, Address: addr,
		Line: []profile.Line{{Function: t.function(name, m.Path)}}}
	t.p.Location = append(t.p.Location, l)
	t.native[[2]uint64{uint64(pid), addr}] = l
	return l
}

func (t *tables) mapping(pid uint32, m trace.Mapping) *profile.Mapping {
	k := [2]uint64{uint64(pid), m.Start}
	if pm := t.maps[k]; pm != nil {
		return pm
	}
	pm := &profile.Mapping{ID: uint64(len(t.p.Mapping) + 1), Start: m.Start, Limit: m.End, Offset: m.Offset,
		File: m.Path, BuildID: m.BuildID, HasFunctions: true}
	t.p.Mapping = append(t.p.Mapping, pm)
	t.maps[k] = pm
	return pm
}

// withCaller puts the direct caller's return address after the leading
// NCCL frames, unless the walk already found it there.
func withCaller(addrs []uint64, caller uint64, inNCCL func(uint64) bool) []uint64 {
	i := 0
	for i < len(addrs) && inNCCL(addrs[i]) {
		i++
	}
	if i < len(addrs) && addrs[i] == caller {
		return addrs
	}
	out := make([]uint64, 0, len(addrs)+1)
	out = append(out, addrs[:i]...)
	out = append(out, caller)
	return append(out, addrs[i:]...)
}
