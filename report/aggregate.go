package report

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// topKey is a collective signature for the top list.
type topKey struct {
	kind   trace.Kind
	dtype  trace.DataType
	count  uint64
	nranks int
}

type commKey struct {
	pid    uint32
	handle uint64
}

// tally accumulates bytes as floats (attribution splits bytes) and
// rounds once at the end.
type tally struct {
	calls, payload uint64
	tx, rx         float64
	gpuNs          int64
}

func (t *tally) add(c *correlate.Call) {
	t.calls++
	t.payload += c.Payload
	t.tx += c.TxBytes
	t.rx += c.RxBytes
	t.gpuNs += c.GPUTimeNs()
}

func (t *tally) traffic() Traffic {
	return Traffic{Calls: t.calls, PayloadBytes: t.payload, GPUTimeNs: t.gpuNs,
		Link: Link{TxBytes: round(t.tx), RxBytes: round(t.rx)}}
}

func round(v float64) uint64 {
	if v <= 0 {
		return 0
	}
	return uint64(v + 0.5)
}

// Aggregator is the correlate.Sink behind report.json. Its memory is
// bounded by the number of distinct processes, comms, sizes and signatures.
type Aggregator struct {
	ops        map[string]*tally
	incomplete map[string]uint64
	procs      map[uint32]*tally
	procRank   map[uint32]int
	comms      map[commKey]*tally
	commRank   map[commKey][2]int
	sizes      map[int]*tally
	top        map[topKey]*tally
	unTx, unRx float64
	bursts     burstStats
}

// NewAggregator starts an empty report.
func NewAggregator() *Aggregator {
	return &Aggregator{ops: map[string]*tally{}, incomplete: map[string]uint64{}, procs: map[uint32]*tally{},
		procRank: map[uint32]int{}, comms: map[commKey]*tally{}, commRank: map[commKey][2]int{},
		sizes: map[int]*tally{}, top: map[topKey]*tally{}, bursts: newBurstStats()}
}

func get[K comparable](m map[K]*tally, k K) *tally {
	t := m[k]
	if t == nil {
		t = &tally{}
		m[k] = t
	}
	return t
}

// Call implements correlate.Sink.
func (a *Aggregator) Call(c *correlate.Call) {
	op := c.Kind.Op()
	get(a.ops, op).add(c)
	if !c.Complete && c.ExpTx+c.ExpRx > 0 {
		a.incomplete[op]++
	}
	get(a.procs, c.Pid).add(c)
	a.procRank[c.Pid] = c.Rank
	ck := commKey{c.Pid, c.Comm}
	get(a.comms, ck).add(c)
	a.commRank[ck] = [2]int{c.Rank, c.NRanks}
	get(a.sizes, correlate.SizeClass(c.Payload)).add(c)
	get(a.top, topKey{c.Kind, c.DataType, c.Count, c.NRanks}).add(c)
}

// Interval implements correlate.Sink.
func (a *Aggregator) Interval(iv correlate.Interval) {
	a.unTx += iv.UnTx
	a.unRx += iv.UnRx
}

// Burst implements correlate.Sink.
func (a *Aggregator) Burst(b *correlate.Burst) { a.bursts.add(b) }

// burstStats keeps burst durations, idle gaps and labels.
type burstStats struct {
	count     uint64
	durations quantiles
	gaps      quantiles
	peak      float64
	lastEnd   map[int]int64
	labels    map[string]uint64
	unTx      float64
}

func newBurstStats() burstStats {
	return burstStats{lastEnd: map[int]int64{}, labels: map[string]uint64{}}
}

func (s *burstStats) add(b *correlate.Burst) {
	s.count++
	s.durations.add(float64(b.EndNs - b.StartNs))
	if end, ok := s.lastEnd[b.GPU]; ok && b.StartNs > end {
		s.gaps.add(float64(b.StartNs - end))
	}
	s.lastEnd[b.GPU] = b.EndNs
	s.peak = max(s.peak, b.PeakBps)
	s.labels[b.Label()]++
	s.unTx += b.UnTx
}
