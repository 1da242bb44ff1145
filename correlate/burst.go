package correlate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// Bursts (docs/attribution.md, "Bursts") are activity that stands out from
// its surroundings, measured against the recording itself: a segment is
// one burst, unless it is long and has a floor (learn.go) with stretches
// at hotRatio times that floor or more; then those stretches are the
// bursts and the floor between them is background (a served model's
// decode traffic under its prefill waves).
const hotRatio = 4

// labelShare is the share of a burst's attributed bytes one op must carry
// to name the burst alone; below it the label joins the ops, most bytes
// first, until they carry that share.
const labelShare = 0.9

// maxHeld bounds the finished launches held back until their burst
// closes (so their calls carry its label).
const maxHeld = 1 << 16

// Burst is a stretch of link activity on one GPU (Link NVLink) or on the
// host's network link (Link Net, GPU -1). Sinks must not keep the pointer.
type Burst struct {
	GPU              int
	Link             Link
	Host             int    // a network link's host, as Interval's
	Seq              uint64 // numbers the GPU's bursts from 1
	StartNs, EndNs   int64
	TxBytes, RxBytes float64
	UnTx, UnRx       float64
	PeakBps          float64   // highest interval rate, max of both directions
	Ops              []OpBytes // by bytes, most first
	Top              TopCall   // the collective signature that carried most
	label            string
}

// OpBytes is what one op contributed to a burst.
type OpBytes struct {
	Op      string
	Calls   int
	TxBytes float64
	RxBytes float64
}

// TopCall is a collective signature and what its calls carried in a burst.
type TopCall struct {
	Kind     trace.Kind
	DataType trace.DataType
	Count    uint64
	Calls    int
	TxBytes  float64
	RxBytes  float64
}

// Label names what caused the burst (labelShare).
func (b *Burst) Label() string {
	if b.label == "" {
		b.label = burstLabel(b)
	}
	return b.label
}

func burstLabel(b *Burst) string {
	var attributed float64
	for _, o := range b.Ops {
		attributed += o.TxBytes + o.RxBytes
	}
	if len(b.Ops) == 0 || attributed < b.UnTx+b.UnRx {
		return "unattributed"
	}
	var names []string
	var acc float64
	for _, o := range b.Ops {
		names = append(names, o.Op)
		acc += o.TxBytes + o.RxBytes
		if acc >= labelShare*attributed {
			break
		}
	}
	return strings.Join(names, "+")
}

// burstAcc is an open burst.
type burstAcc struct {
	b          Burst
	lastHotEnd int64
	ops        [maxKinds]opCount // by kind; Burst.Ops is filled at close
	sigs       [8]TopCall        // the heaviest signatures seen (approximate past 8)
}

type opCount struct {
	calls  int
	tx, rx float64
}

// maxKinds bounds trace.Kind values that carry calls (the library paths
// reach 43; a kind at or past it would count as kind % maxKinds).
const maxKinds = 64

// burstTracker finds one GPU's bursts: runs of hot intervals merged over
// gaps shorter than the segment gap.
type burstTracker struct {
	cur       *burstAcc
	seq       uint64
	threshold float64   // bytes/s an interval needs to be hot; 0: any active interval
	spare     *burstAcc // the last closed burst, reused: sinks never keep a Burst
	held      []*launch // finished in the open burst, emitted when it closes
	labels    map[uint64]string
}

func (t *burstTracker) open(gpu int, link Link, start int64) *burstAcc {
	a := t.spare
	t.spare = nil
	if a == nil {
		a = &burstAcc{}
	}
	t.seq++
	ops := a.b.Ops[:0]
	*a = burstAcc{b: Burst{GPU: gpu, Link: link, Seq: t.seq, StartNs: start, Ops: ops}}
	return a
}

// observe places one interval of the open segment. It returns the burst
// the interval proved finished (nil if none) before opening or extending
// the current one.
func (t *burstTracker) observe(iv *Interval, hot bool, gapNs int64, rate float64) (closed *burstAcc) {
	if c := t.cur; c != nil {
		if (hot && iv.StartNs-c.lastHotEnd > gapNs) || (!hot && iv.EndNs-c.lastHotEnd > gapNs) {
			closed, t.cur = c, nil
		}
	}
	if hot && t.cur == nil {
		t.cur = t.open(iv.GPU, iv.Link, iv.StartNs)
		t.cur.b.Host = iv.Host
	}
	if c := t.cur; c != nil {
		c.b.TxBytes += iv.TxBytes
		c.b.RxBytes += iv.RxBytes
		if hot {
			c.lastHotEnd, c.b.EndNs = iv.EndNs, iv.EndNs
			c.b.PeakBps = max(c.b.PeakBps, rate)
		}
	}
	return closed
}

// addCall counts a call's bytes of one interval in the burst.
func (a *burstAcc) addCall(c *Call, d int, b float64, first bool) {
	oc := &a.ops[int(c.Kind)%maxKinds]
	sig := a.sig(c)
	if first {
		oc.calls++
		sig.Calls++
	}
	if d == tx {
		oc.tx += b
		sig.TxBytes += b
	} else {
		oc.rx += b
		sig.RxBytes += b
	}
}

// sig finds the call's signature among the kept ones, or takes the place
// of the lightest.
func (a *burstAcc) sig(c *Call) *TopCall {
	light := 0
	for i := range a.sigs {
		s := &a.sigs[i]
		if s.Kind == c.Kind && s.Count == c.Count && s.DataType == c.DataType {
			return s
		}
		if s.TxBytes+s.RxBytes < a.sigs[light].TxBytes+a.sigs[light].RxBytes {
			light = i
		}
	}
	a.sigs[light] = TopCall{Kind: c.Kind, DataType: c.DataType, Count: c.Count}
	return &a.sigs[light]
}

// finish fills Burst.Ops (Bcast counted as Broadcast) and Burst.Top.
func (a *burstAcc) finish() {
	for k, c := range a.ops {
		if c == (opCount{}) {
			continue
		}
		op := OpName(trace.Kind(k))
		i := slices.IndexFunc(a.b.Ops, func(o OpBytes) bool { return o.Op == op })
		if i < 0 {
			a.b.Ops = append(a.b.Ops, OpBytes{Op: op})
			i = len(a.b.Ops) - 1
		}
		o := &a.b.Ops[i]
		o.Calls += c.calls
		o.TxBytes += c.tx
		o.RxBytes += c.rx
	}
	bytes := func(o OpBytes) float64 { return o.TxBytes + o.RxBytes }
	slices.SortFunc(a.b.Ops, func(x, y OpBytes) int {
		return cmp.Or(cmp.Compare(bytes(y), bytes(x)), strings.Compare(x.Op, y.Op))
	})
	for _, s := range a.sigs {
		if s.TxBytes+s.RxBytes > a.b.Top.TxBytes+a.b.Top.RxBytes {
			a.b.Top = s
		}
	}
}

// OpName is the report's op name of a kind: launches of graphs captured
// before the recording (whose bytes per launch are fitted) are "CUDAGraph".
func OpName(k trace.Kind) string {
	if k == trace.GraphLaunch {
		return graphOp
	}
	return k.Op()
}

// burstThreshold is the rate an interval of a segment starting at t needs
// to be part of a burst: Options.BurstThreshold of the peak when set,
// hotRatio times the segment's floor when the first pass found one, else
// hotRatio times the floor of the GPU's nearest segment with one, else
// none (the whole segment is a burst). A segment too short to have a floor
// of its own (a served model's decode steps before a pause, 25 ms) is
// background where the GPU has background: it stands out only where it
// is faster.
func (e *Engine) burstThreshold(g *gpuState, t int64) float64 {
	if e.opts.BurstThreshold > 0 {
		return e.opts.BurstThreshold * g.peakBps
	}
	if e.known == nil {
		return 0
	}
	floors := e.known.floors[g.index]
	i, _ := slices.BinarySearchFunc(floors, t, func(f segFloor, t int64) int { return cmp.Compare(f.endNs, t) })
	switch {
	case i < len(floors) && floors[i].startNs <= t:
	case i > 0 && (i == len(floors) || t-floors[i-1].endNs < floors[i].startNs-t):
		i-- // the nearest ended before t
	case i == len(floors):
		return 0
	}
	return hotRatio * floors[i].floorBps
}

// closeBurst ends a burst: the sink gets it, and the calls held for its
// label are emitted.
func (e *Engine) closeBurst(g *gpuState, a *burstAcc) {
	a.finish()
	g.sum.Bursts++
	g.sum.BusyNs += a.b.EndNs - a.b.StartNs
	if g.bursts.labels == nil {
		g.bursts.labels = map[uint64]string{}
	}
	g.bursts.labels[a.b.Seq] = a.b.Label()
	e.out.burst(&a.b)
	held := g.bursts.held
	for _, l := range held {
		e.emit(g, l)
	}
	clear(held)
	g.bursts.held = held[:0]
	g.bursts.spare = a
}

// retire emits a finished launch, or holds it until the burst it ran in
// closes (not when learning: no sink wants the label, and the fit's rows
// want the launch when it finished).
func (e *Engine) retire(g *gpuState, l *launch) {
	if c := g.bursts.cur; c != nil && l.burstSeq == c.b.Seq && len(g.bursts.held) < maxHeld && e.learn == nil {
		g.bursts.held = append(g.bursts.held, l)
		return
	}
	e.emit(g, l)
}
