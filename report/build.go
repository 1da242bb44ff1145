package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// topN is how many signatures top_collectives lists.
const topN = 10

// opOrder is the op list of docs/design.md; report.json has one entry for
// each. CustomAllReduce (vLLM's and SGLang's, probed by profiler/extra)
// comes last of those. The other collectives outside NCCL follow by path
// (torch symmetric memory, FlashInfer, DeepEP, pplx, NVSHMEM), and
// CUDAGraph (launches of graphs captured before the recording, whose bytes
// per launch are fitted) after them, each only when it has calls.
var opOrder = append([]trace.Kind{trace.AllReduce, trace.AllGather, trace.ReduceScatter, trace.Broadcast,
	trace.Reduce, trace.AlltoAll, trace.Gather, trace.Scatter, trace.Send, trace.Recv, trace.CustomAllReduce},
	append(otherPaths(), trace.GraphLaunch)...)

// otherPaths are the kinds of collectives outside NCCL past
// CustomAllReduce, in kind order (which groups them by path).
func otherPaths() []trace.Kind {
	var out []trace.Kind
	for _, k := range trace.Kinds() {
		if k.IsCustomCollective() && k != trace.CustomAllReduce {
			out = append(out, k)
		}
	}
	return out
}

// alwaysListed reports whether ops lists k without calls: NCCL's ops and
// CustomAllReduce, as report.json always has.
func alwaysListed(k trace.Kind) bool { return k.IsCollective() || k == trace.CustomAllReduce }

// Build assembles report.json from an analysis and its aggregator.
func Build(res *correlate.Result, a *Aggregator, opts correlate.Options) *Report {
	r := &Report{
		Version: Version, DurationNs: res.DurationNs(), LostEvents: res.Meta.Lost,
		Truncated: res.Meta.Truncated, Simulated: res.Meta.Start.Simulated,
		Unattributed: Unattributed{Link: Link{TxBytes: round(a.unTx), RxBytes: round(a.unRx)}},
		Calibration:  res.Fit, Graphs: res.Graphs,
		Analysis: Analysis{Events: res.Stats.Events, UnmappedCalls: res.Stats.UnmappedCalls,
			LateItems: res.Stats.LateItems, CapturedCalls: res.Stats.CapturedCalls,
			ReplayedCalls: res.Stats.ReplayedCalls, GraphLaunches: res.Stats.GraphLaunches,
			GuessedCommCalls: res.Stats.GuessedCalls, GuessedNRanks: res.Stats.GuessedRanks},
	}
	if r.Graphs == nil {
		r.Graphs = []graphs.Summary{}
	}
	r.Notes = notes(res)
	if r.Calibration == nil {
		r.Calibration = []correlate.FitRow{}
	}
	for _, k := range opOrder {
		t, inc := a.ops[k], a.incomplete[k]
		if !alwaysListed(k) && t.calls == 0 {
			continue // only when graphs captured before the recording were launched, or the path ran
		}
		if k == trace.Broadcast {
			t.merge(&a.ops[trace.Bcast])
			inc += a.incomplete[trace.Bcast]
		}
		r.Ops = append(r.Ops, Op{Op: correlate.OpName(k), Traffic: t.traffic(), Incomplete: inc})
	}
	r.Paths = pathRows(a)
	f := a.fold()
	r.Processes = processes(res, f)
	r.GPUs = gpus(res)
	r.Bursts = bursts(a, r.GPUs, opts, Origin(res))
	r.Comms = comms(f)
	r.MessageSizes = sizes(f)
	r.TopCollectives = top(f)
	r.Unattributed.Hints = hints(r)
	r.Arrivals = a.arrivals.section(res.Arrivals)
	r.Stalls = stalls(res)
	r.Hosts = hostsOf(res)
	nameHosts(r, &res.Meta.Start)
	r.addNet(res, a, Origin(res))
	return r
}

// folded is the signatures summed per process, comm, size and signature.
type folded struct {
	procs    map[uint32]*tally
	procRank map[uint32]int
	comms    map[commKey]*tally
	commRank map[commKey][3]int // rank, nranks, GPU
	sizes    map[int]*tally
	top      map[topKey]*tally
}

func (a *Aggregator) fold() *folded {
	f := &folded{procs: map[uint32]*tally{}, procRank: map[uint32]int{}, comms: map[commKey]*tally{},
		commRank: map[commKey][3]int{}, sizes: map[int]*tally{}, top: map[topKey]*tally{}}
	size := map[uint32]int{}
	for k, t := range a.sigs {
		get(f.procs, k.pid).merge(t)
		// A process's rank is its rank in its largest communicator: the
		// world's, the job's global rank (a group's rank says less).
		if n, ok := size[k.pid]; !ok || k.nranks > n || k.nranks == n && k.rank < f.procRank[k.pid] {
			f.procRank[k.pid], size[k.pid] = k.rank, k.nranks
		}
		ck := commKey{k.pid, k.comm}
		get(f.comms, ck).merge(t)
		f.commRank[ck] = [3]int{k.rank, k.nranks, k.gpu}
		get(f.sizes, correlate.SizeClass(k.count*k.dtype.Size())).merge(t)
		get(f.top, topKey{k.kind, k.dtype, k.count, k.nranks}).merge(t)
	}
	return f
}

func processes(res *correlate.Result, a *folded) []Process {
	// A process is recorded again when more is learnt of it (its NCCL
	// library, its GPU): the last record says the most.
	last := map[uint32]trace.Process{}
	var order []uint32
	for _, p := range res.Meta.Processes {
		if _, ok := last[p.Pid]; !ok {
			order = append(order, p.Pid)
		}
		last[p.Pid] = p
	}
	seen := map[uint32]bool{}
	out := []Process{} // [] rather than null without processes
	for _, pid := range order {
		p := last[pid]
		seen[pid] = true
		rank := p.Rank
		if r, ok := a.procRank[p.Pid]; ok && r >= 0 {
			rank = r
		}
		pr := Process{Pid: p.Pid, Comm: p.Comm, Rank: rank, GPU: placedGPU(res, p.Pid), Pod: p.Pod, PodNamespace: p.PodNamespace}
		if t := a.procs[p.Pid]; t != nil {
			pr.Traffic = t.traffic()
		}
		out = append(out, pr)
	}
	for pid, t := range a.procs {
		if !seen[pid] {
			out = append(out, Process{Pid: pid, Rank: a.procRank[pid], GPU: placedGPU(res, pid), Traffic: t.traffic()})
		}
	}
	slices.SortFunc(out, func(x, y Process) int { return cmp.Or(cmp.Compare(x.Rank, y.Rank), cmp.Compare(x.Pid, y.Pid)) })
	return out
}

// placedGPU is the GPU the analysis placed pid on, the one its calls'
// bytes were taken from (the profile's gpu label): a process record's own
// GPU is -1 when NVML did not list it and its communicator placed it.
func placedGPU(res *correlate.Result, pid uint32) int {
	if g, ok := res.ProcessGPUs[pid]; ok {
		return g
	}
	return -1
}

func gpus(res *correlate.Result) []GPU {
	ident := map[int]trace.GPU{}
	for _, g := range res.Meta.GPUs {
		ident[g.Index] = g
	}
	out := []GPU{} // [] rather than null without samples
	for _, s := range res.GPUs {
		id := ident[s.Index]
		g := GPU{Index: s.Index, UUID: id.UUID, Name: id.Name, Simulated: id.Simulated,
			Samples: s.Samples - s.Failed, FailedSamples: s.Failed,
			TxBytes: round(s.TxBytes), RxBytes: round(s.RxBytes),
			Unattributed: Link{TxBytes: round(s.UnTx), RxBytes: round(s.UnRx)}, Bursts: s.Bursts,
			PeakBytesPerS: s.PeakBps}
		if span := s.LastNs - s.FirstNs; span > 0 {
			g.SampleHz = float64(g.Samples-1) / (float64(span) / 1e9)
			g.DutyCycle = float64(s.BusyNs) / float64(span)
			g.MeanTxBytesPerS = s.TxBytes / (float64(span) / 1e9)
		}
		if s.Intervals > 0 {
			g.BusyFraction = float64(s.BusyIntervals) / float64(s.Intervals)
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y GPU) int { return cmp.Compare(x.Index, y.Index) })
	return out
}

// burstRule says in words what a burst is under opts.
func burstRule(opts correlate.Options) string {
	if opts.BurstThreshold > 0 {
		return fmt.Sprintf("intervals above %g%% of the peak link bandwidth", 100*opts.BurstThreshold)
	}
	return "activity between idle link; in long segments with a floor, stretches at 4x the floor or more"
}

func bursts(a *Aggregator, gs []GPU, opts correlate.Options, start int64) Bursts {
	s := &a.bursts
	b := Bursts{Count: s.count, DurationP50Ns: int64(s.durations.at(0.5)), DurationP99Ns: int64(s.durations.at(0.99)),
		PeakBytesPerS: s.peak, IdleGapP50Ns: int64(s.gaps.at(0.5)), IdleGapP99Ns: int64(s.gaps.at(0.99)),
		Labels: s.labels, UnattributedTx: round(s.unTx), Rule: burstRule(opts), List: slices.Clone(s.list), Omitted: s.omitted}
	slices.SortFunc(b.List, func(x, y BurstRow) int { return cmp.Or(cmp.Compare(x.StartNs, y.StartNs), cmp.Compare(x.GPU, y.GPU)) })
	// Each shard kept its first maxListedBursts, so the earliest of all
	// are here.
	if extra := len(b.List) - maxListedBursts; extra > 0 {
		b.List, b.Omitted = b.List[:maxListedBursts], b.Omitted+uint64(extra)
	}
	for i := range b.List {
		b.List[i].StartNs -= start
	}
	if b.List == nil {
		b.List = []BurstRow{}
	}
	for _, g := range gs {
		b.DutyCycle += g.DutyCycle / float64(len(gs))
	}
	return b
}

// Origin is the monotonic time the report's times (burst start_ns) count
// from: the recording's start, else its first event or sample.
func Origin(res *correlate.Result) int64 {
	if t := res.Meta.Start.Clock.MonoNs; t > 0 {
		return t
	}
	return res.Stats.FirstNs
}

func comms(a *folded) []Comm {
	out := make([]Comm, 0, len(a.comms))
	for k, t := range a.comms {
		rr := a.commRank[k]
		out = append(out, Comm{Pid: k.pid, Handle: fmt.Sprintf("%#x", k.handle), Rank: rr[0], NRanks: rr[1], GPU: rr[2],
			Traffic: t.traffic()})
	}
	slices.SortFunc(out, func(x, y Comm) int {
		return cmp.Or(cmp.Compare(x.Pid, y.Pid), cmp.Compare(x.Handle, y.Handle))
	})
	return out
}

func sizes(a *folded) []SizeBin {
	out := make([]SizeBin, 0, len(a.sizes))
	for c, t := range a.sizes {
		out = append(out, SizeBin{UpperBytes: uint64(1) << c, Traffic: t.traffic()})
	}
	slices.SortFunc(out, func(x, y SizeBin) int { return cmp.Compare(x.UpperBytes, y.UpperBytes) })
	return out
}

func top(a *folded) []Top {
	out := make([]Top, 0, len(a.top))
	for k, t := range a.top {
		w := correlate.RingWire(k.kind, k.count*k.dtype.Size(), 0, k.nranks, 0)
		out = append(out, Top{Op: correlate.OpName(k.kind), DataType: k.dtype.String(), Count: k.count, NRanks: k.nranks,
			Protocol: correlate.ProtocolOf(k.kind, w.Msg).String(), Traffic: t.traffic()})
	}
	slices.SortFunc(out, func(x, y Top) int {
		return cmp.Or(cmp.Compare(y.linkBytes(), x.linkBytes()), cmp.Compare(y.Calls, x.Calls),
			cmp.Compare(x.Op, y.Op), cmp.Compare(x.Count, y.Count), cmp.Compare(x.DataType, y.DataType))
	})
	return out[:min(len(out), topN)]
}

func notes(res *correlate.Result) []Note {
	out := []Note{}
	start := res.Meta.Start.Clock.MonoNs
	for _, n := range res.Meta.Notes {
		at := n.MonoNs - start
		if n.MonoNs == 0 || at < 0 {
			at = 0
		}
		out = append(out, Note{AtNs: at, Level: n.Level, Text: n.Text})
	}
	if st := res.Stats; st.GuessedCalls > 0 {
		out = append(out, Note{Level: "info", Source: "analysis", Text: fmt.Sprintf("%d calls ran on communicators created before linkprof attached: "+
			"their size was taken as %d, one rank per GPU of the NCCL processes (record from the start, or launch under linkprof, to see them created)",
			st.GuessedCalls, st.GuessedRanks)})
	}
	return out
}
