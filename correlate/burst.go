package correlate

import (
	"slices"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// burstAcc is an open burst and what calibration needs to know about it.
type burstAcc struct {
	b           Burst
	seq         uint64
	lastBusyEnd int64
	inflight    int     // launches that started in it and have not finished
	calBase     float64 // ring-algorithm bytes of launches wholly inside it
	class       classKey
	classes     int
	dirty       bool              // a launch crossed its edge or mixed classes: no fit
	ops         [maxKinds]opCount // by kind; Burst.Ops is filled at close
}

type opCount struct {
	calls  int
	tx, rx float64
}

// maxKinds bounds trace.Kind values that carry calls.
const maxKinds = 32

// finish fills Burst.Ops from the per-kind counts, most bytes first.
func (a *burstAcc) finish() {
	for k, c := range a.ops {
		if c == (opCount{}) {
			continue
		}
		ob := OpBytes{Op: trace.Kind(k).Op(), Calls: c.calls, TxBytes: c.tx, RxBytes: c.rx}
		if i := slices.IndexFunc(a.b.Ops, func(o OpBytes) bool { return o.Op == ob.Op }); i >= 0 {
			a.b.Ops[i].Calls += ob.Calls
			a.b.Ops[i].TxBytes += ob.TxBytes
			a.b.Ops[i].RxBytes += ob.RxBytes
			continue
		}
		a.b.Ops = append(a.b.Ops, ob)
	}
	bytes := func(o OpBytes) float64 { return o.TxBytes + o.RxBytes }
	slices.SortFunc(a.b.Ops, func(x, y OpBytes) int {
		if bx, by := bytes(x), bytes(y); bx != by {
			if bx > by {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Op, y.Op)
	})
}

// burstTracker finds runs of busy intervals on one GPU. Idle intervals
// inside a gap shorter than the merge limit stay part of the burst (their
// bytes count; its end is the last busy interval's).
type burstTracker struct {
	cur   *burstAcc
	seq   uint64
	spare *burstAcc // the last closed burst, reused: sinks never keep a Burst
}

func (t *burstTracker) open(gpu int, start int64) *burstAcc {
	a := t.spare
	t.spare = nil
	if a == nil {
		a = &burstAcc{}
	}
	ops := a.b.Ops[:0]
	*a = burstAcc{seq: t.seq, b: Burst{GPU: gpu, StartNs: start, Ops: ops}}
	return a
}

// observe places one interval. It returns the burst that the interval
// proved finished (nil if none) before opening or extending the current one.
func (t *burstTracker) observe(iv *Interval, busy bool, gapNs int64, rate float64) (closed *burstAcc) {
	if c := t.cur; c != nil {
		if (busy && iv.StartNs-c.lastBusyEnd > gapNs) || (!busy && iv.EndNs-c.lastBusyEnd > gapNs) {
			closed, t.cur = c, nil
		}
	}
	if busy && t.cur == nil {
		t.seq++
		t.cur = t.open(iv.GPU, iv.StartNs)
	}
	if c := t.cur; c != nil {
		c.b.TxBytes += iv.TxBytes
		c.b.RxBytes += iv.RxBytes
		if busy {
			c.lastBusyEnd, c.b.EndNs = iv.EndNs, iv.EndNs
			c.b.PeakBps = max(c.b.PeakBps, rate)
		}
	}
	return closed
}

// addCall counts a call's bytes of one interval in the burst.
func (a *burstAcc) addCall(c *Call, d int, b float64, first bool) {
	oc := &a.ops[int(c.Kind)%maxKinds]
	if first {
		oc.calls++
	}
	if d == tx {
		oc.tx += b
	} else {
		oc.rx += b
	}
}

// launchStarted and launchDone keep the calibration bookkeeping.
func (a *burstAcc) launchStarted(l *launch) {
	l.burstSeq = a.seq
	a.inflight++
}

func (a *burstAcc) launchDone(l *launch) {
	if l.burstSeq != a.seq {
		a.dirty = true
		return
	}
	a.inflight--
	a.calBase += l.base
	switch {
	case l.mixedClass:
		a.dirty = true
	case a.classes == 0:
		a.class, a.classes = l.class, 1
	case a.class != l.class:
		a.dirty = true
	}
}

// fitRatio is the burst's observed wire factor when one class alone
// explains it.
func (a *burstAcc) fitRatio() (classKey, float64, bool) {
	if a.dirty || a.inflight != 0 || a.classes != 1 || a.calBase <= 0 {
		return classKey{}, 0, false
	}
	return a.class, (a.b.TxBytes + a.b.RxBytes) / a.calBase, true
}

func burstLabel(b *Burst) string {
	var attributed float64
	for _, o := range b.Ops {
		attributed += o.TxBytes + o.RxBytes
	}
	if len(b.Ops) == 0 || attributed < b.UnTx+b.UnRx {
		return "unattributed"
	}
	if len(b.Ops) == 1 {
		return b.Ops[0].Op
	}
	names := make([]string, len(b.Ops))
	for i, o := range b.Ops {
		names[i] = o.Op
	}
	return strings.Join(names, "+")
}
