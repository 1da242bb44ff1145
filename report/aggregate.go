package report

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// sigKey is a collective signature in one process: every per-process,
// per-comm, per-size and top-list figure folds from these at the end, so a
// call costs one map lookup.
type sigKey struct {
	pid    uint32
	comm   uint64
	kind   trace.Kind
	dtype  trace.DataType
	count  uint64
	rank   int
	nranks int
	gpu    int // the communicator's GPU, -1 unknown
}

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

// maxKinds bounds trace.Kind values that carry calls (TestKindsFit).
const maxKinds = 64

// tally accumulates bytes as floats (attribution splits bytes) and
// rounds once at the end.
type tally struct {
	calls, payload uint64
	tx, rx         float64
	netTx, netRx   float64 // on the network link (LinkCall)
	gpuNs          int64
}

func (t *tally) add(c *correlate.Call) {
	t.calls++
	t.payload += c.Payload
	t.tx += c.TxBytes
	t.rx += c.RxBytes
	t.gpuNs += c.GPUTimeNs()
}

func (t *tally) merge(o *tally) {
	t.calls += o.calls
	t.payload += o.payload
	t.tx += o.tx
	t.rx += o.rx
	t.netTx += o.netTx
	t.netRx += o.netRx
	t.gpuNs += o.gpuNs
}

func (t *tally) traffic() Traffic {
	return Traffic{Calls: t.calls, PayloadBytes: t.payload, GPUTimeNs: t.gpuNs,
		Link: Link{TxBytes: round(t.tx), RxBytes: round(t.rx)}, NetBytes: NetBytes{round(t.netTx), round(t.netRx)}}
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
	ops        [maxKinds]tally // by trace.Kind; Bcast merges into Broadcast in Build
	incomplete [maxKinds]uint64
	sigs       map[sigKey]*tally
	last       *tally // the previous call's signature: runs of one kind are common
	lastKey    sigKey
	// paths are the path table's calls per row and GPU (paths.go).
	paths       map[pathKey]*pathTally
	lastPath    *pathTally
	lastPathKey pathKey
	unTx, unRx  float64
	bursts      burstStats
	net         netTally // the network link (LinkSink)
	// arrivals is fed by the goroutine that reads the trace (Arrivals),
	// not by an engine: no other field is shared with it.
	arrivals *ArrivalTally
}

// NewAggregator starts an empty report.
func NewAggregator() *Aggregator {
	return &Aggregator{sigs: map[sigKey]*tally{}, paths: map[pathKey]*pathTally{}, bursts: newBurstStats(), arrivals: NewArrivalTally()}
}

// Arrivals is the sink for correlate.AnalyzeArrivals whose tally Build
// reports; one aggregator's (the one Build is given) is enough.
func (a *Aggregator) Arrivals() *ArrivalTally { return a.arrivals }

func get[K comparable](m map[K]*tally, k K) *tally {
	t := m[k]
	if t == nil {
		t = &tally{}
		m[k] = t
	}
	return t
}

// Call implements correlate.Sink. Capture-time calls are no executions:
// report.json lists them per graph (graphs[].captured), not in ops.
func (a *Aggregator) Call(c *correlate.Call) {
	if !c.Executed() {
		return
	}
	k := int(c.Kind) % maxKinds
	a.ops[k].add(c)
	if !c.Complete && c.ExpTx+c.ExpRx > 0 {
		a.incomplete[k]++
	}
	key := sigKey{c.Pid, c.Comm, c.Kind, c.DataType, c.Count, c.Rank, c.NRanks, c.GPU}
	if a.last == nil || key != a.lastKey {
		a.last, a.lastKey = get(a.sigs, key), key
	}
	a.last.add(c)
	if c.Kind.Path() != "" {
		a.addPath(c)
	}
}

// Interval implements correlate.Sink.
func (a *Aggregator) Interval(iv *correlate.Interval) {
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
	list      []BurstRow // start times on the monotonic clock until Build
	omitted   uint64
}

// maxListedBursts bounds report.json's burst list (about 300 bytes each):
// past it bursts are counted, not listed.
const maxListedBursts = 100_000

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
	if len(s.list) >= maxListedBursts {
		s.omitted++
		return
	}
	s.list = append(s.list, burstRow(b))
}

func burstRow(b *correlate.Burst) BurstRow {
	r := BurstRow{GPU: b.GPU, StartNs: b.StartNs, DurationNs: b.EndNs - b.StartNs,
		TxBytes: round(b.TxBytes), RxBytes: round(b.RxBytes), UnattributedTx: round(b.UnTx),
		PeakBytesPerS: b.PeakBps, Label: b.Label(), Ops: []BurstOp{}}
	for _, o := range b.Ops {
		r.Ops = append(r.Ops, BurstOp{Op: o.Op, Calls: o.Calls, TxBytes: round(o.TxBytes), RxBytes: round(o.RxBytes)})
	}
	if t := b.Top; t.Calls > 0 {
		r.Top = &BurstTop{Op: correlate.OpName(t.Kind), DataType: t.DataType.String(), Count: t.Count, Calls: t.Calls,
			TxBytes: round(t.TxBytes), RxBytes: round(t.RxBytes)}
	}
	return r
}
