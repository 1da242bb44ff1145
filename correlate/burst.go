package correlate

import (
	"slices"
	"strings"
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
	dirty       bool // a launch crossed its edge or mixed classes: no fit
}

// burstTracker finds runs of busy intervals on one GPU. Idle intervals
// inside a gap shorter than the merge limit stay part of the burst (their
// bytes count; its end is the last busy interval's).
type burstTracker struct {
	cur *burstAcc
	seq uint64
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
		t.cur = &burstAcc{seq: t.seq, b: Burst{GPU: iv.GPU, StartNs: iv.StartNs, Ops: map[string]*OpBytes{}}}
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
	op := c.Kind.Op()
	ob := a.b.Ops[op]
	if ob == nil {
		ob = &OpBytes{}
		a.b.Ops[op] = ob
	}
	if first {
		ob.Calls++
	}
	if d == tx {
		ob.TxBytes += b
	} else {
		ob.RxBytes += b
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
	ops := make([]string, 0, len(b.Ops))
	for op, ob := range b.Ops {
		attributed += ob.TxBytes + ob.RxBytes
		ops = append(ops, op)
	}
	if len(ops) == 0 || attributed < b.UnTx+b.UnRx {
		return "unattributed"
	}
	bytes := func(op string) float64 { return b.Ops[op].TxBytes + b.Ops[op].RxBytes }
	slices.SortFunc(ops, func(x, y string) int {
		if bx, by := bytes(x), bytes(y); bx != by {
			if bx > by {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	return strings.Join(ops, "+")
}
