// Package pprofout writes the pprof profile of docs/design.md: one sample
// per distinct (stack, labels), the collective as leaf, the caller's native
// frames symbolized offline, synthetic roots naming process and rank, and
// unattributed samples for link bytes no collective explains. Frame and
// label names carry nothing that changes from run to run (no pids, no
// pointers), so two recordings of one workload diff frame by frame.
package pprofout

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Sample value indexes, in SampleTypes' order.
const (
	vCalls = iota
	vPayload
	vTx
	vRx
	vGPUTime
	vWait // appended last: older readers index the others unchanged
	vNetTx
	vNetRx // network link bytes (format 1.2 recordings with NICs), after wait
	nValues
)

// key is what makes two calls one pprof sample.
type key struct {
	pid     uint32
	stack   int32
	caller  uint64
	kind    trace.Kind
	dtype   trace.DataType
	count   uint64
	payload uint64
	comm    uint64
	rank    int
	nranks  int
	gpu     int
	grouped bool
	phase   graphs.Phase
	graph   int    // a graph captured before the recording (kind GraphLaunch)
	burst   string // the label of the burst the call's bytes landed in
	// waitFor is 1 + the rank a wait sample waited for (0: a call): its
	// own leaf, "wait for rank N", under the collective.
	waitFor int
	// link is the link whose bytes the sample holds: a call's network
	// share is a sample of its own (link net, no calls).
	link correlate.Link
}

type values [nValues]float64

// Builder is a correlate.Sink that aggregates calls into pprof samples.
// Capture-time calls (phase graph-capture) are samples with calls and
// payload but no link bytes or GPU time: they show where graphs were
// captured; the bytes go to the replays (phase graph-replay), whose stack
// is the capture site's.
// Memory is bounded by the distinct keys, not by the number of calls: a
// key holds the element count, so a workload of many distinct counts
// (serving with varying batch sizes) has as many samples per call site.
type Builder struct {
	samples map[key]*values
	order   []key     // first-seen order, so output is deterministic
	unattr  []*values // by GPU index
	gpus    []int     // GPUs with unattributed bytes, first seen first
	netUn   *values   // the network link's unattributed bytes, nil none
	last    *values   // the previous call's sample: runs of one kind are common
	lastKey key
}

// NewBuilder starts an empty profile.
func NewBuilder() *Builder {
	return &Builder{samples: map[key]*values{}}
}

// Call implements correlate.Sink.
func (b *Builder) Call(c *correlate.Call) {
	k := callKey(c)
	v := b.last
	if v == nil || k != b.lastKey {
		v = b.sample(k)
		b.last, b.lastKey = v, k
	}
	v[vCalls]++
	v[vPayload] += float64(c.Payload)
	v[vTx] += c.TxBytes
	v[vRx] += c.RxBytes
	v[vGPUTime] += float64(c.GPUTimeNs())
}

func callKey(c *correlate.Call) key {
	k := key{pid: c.Pid, stack: c.StackID, caller: c.Caller, kind: c.Kind, dtype: c.DataType, count: c.Count, payload: c.Payload,
		comm: c.Comm, rank: c.Rank, nranks: c.NRanks, gpu: c.GPU, grouped: c.Grouped, phase: c.Phase, burst: c.Burst, link: c.Link}
	if c.Kind == trace.GraphLaunch {
		k.graph = c.Graph
	}
	return k
}

// LinkCall implements correlate.LinkSink: a collective's network bytes,
// in a sample of their own (label link=net) under the same stack.
func (b *Builder) LinkCall(c *correlate.Call) {
	if !c.Executed() {
		return
	}
	v := b.sample(callKey(c))
	v[vNetTx] += c.TxBytes
	v[vNetRx] += c.RxBytes
	b.last = nil
}

// LinkInterval implements correlate.LinkSink.
func (b *Builder) LinkInterval(iv *correlate.Interval) {
	if iv.UnTx == 0 && iv.UnRx == 0 {
		return
	}
	if b.netUn == nil {
		b.netUn = &values{}
	}
	b.netUn[vNetTx] += iv.UnTx
	b.netUn[vNetRx] += iv.UnRx
}

// LinkBurst implements correlate.LinkSink.
func (b *Builder) LinkBurst(*correlate.Burst) {}

// sample is k's values, made (in order of first sight) when new.
func (b *Builder) sample(k key) *values {
	v := b.samples[k]
	if v == nil {
		v = &values{}
		b.samples[k] = v
		b.order = append(b.order, k)
	}
	return v
}

// Arrival implements correlate.ArrivalSink: each rank's wait for the last
// rank of a matched collective, a sample of its own whose leaf names the
// rank waited for. It must not share a builder with an engine (the router
// calls it): give it its own and Merge.
func (b *Builder) Arrival(a *correlate.Arrival) {
	last := a.Ranks[a.Last].Rank
	for _, r := range a.Ranks {
		if r.WaitNs <= 0 {
			continue
		}
		k := key{pid: r.Pid, stack: r.StackID, caller: r.Caller, kind: r.Kind, dtype: r.DataType, count: r.Count,
			payload: r.Payload, comm: r.Handle, rank: r.Rank, nranks: a.NRanks, gpu: r.GPU, phase: r.Phase, waitFor: last + 1}
		b.sample(k)[vWait] += float64(r.WaitNs)
	}
	b.last = nil
}

// Interval implements correlate.Sink.
func (b *Builder) Interval(iv *correlate.Interval) {
	if iv.UnTx == 0 && iv.UnRx == 0 {
		return
	}
	if iv.GPU < 0 {
		return
	}
	if iv.GPU >= len(b.unattr) {
		b.unattr = append(b.unattr, make([]*values, iv.GPU+1-len(b.unattr))...)
	}
	v := b.unattr[iv.GPU]
	if v == nil {
		v = &values{}
		b.unattr[iv.GPU] = v
		b.gpus = append(b.gpus, iv.GPU)
	}
	v[vTx] += iv.UnTx
	v[vRx] += iv.UnRx
}

// Burst implements correlate.Sink.
func (b *Builder) Burst(*correlate.Burst) {}

// Merge adds what another builder (of other GPUs) saw; o is not used
// afterwards.
func (b *Builder) Merge(o *Builder) {
	for _, k := range o.order {
		v := b.sample(k)
		for i, x := range o.samples[k] {
			v[i] += x
		}
	}
	for _, g := range o.gpus {
		if g >= len(b.unattr) {
			b.unattr = append(b.unattr, make([]*values, g+1-len(b.unattr))...)
		}
		if b.unattr[g] == nil {
			b.unattr[g] = &values{}
			b.gpus = append(b.gpus, g)
		}
		for i, x := range o.unattr[g] {
			b.unattr[g][i] += x
		}
	}
	if o.netUn != nil {
		if b.netUn == nil {
			b.netUn = &values{}
		}
		for i, x := range o.netUn {
			b.netUn[i] += x
		}
	}
	b.last = nil
}
