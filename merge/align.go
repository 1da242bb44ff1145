package merge

import (
	"cmp"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// The clock rule (docs/design.md, "Merging hosts"). Hosts' monotonic
// clocks are unrelated (each counts from its own boot), so a host's clock
// is placed on the first host's from the collectives both recorded: every
// rank of a communicator enters its n-th collective at about the same
// moment (the ranks wait for each other in the collective before it). For
// each collective both sides saw, the difference between the host's
// arrival (the median of its ranks' enqueue times) and the aligned hosts'
// is one estimate of the offset; the offset is the median of the
// estimates in each window of windowNs of the host's time, interpolated
// between the windows and extrapolated past the first and last (two clocks
// may drift apart by tens of microseconds a second).
//
// The error of a window's median is the median of the true differences
// between the hosts' arrivals: it is at most B whenever more than half of
// the window's collectives had the hosts arrive within B of each other. A
// host whose ranks are always late by S cannot be told from a clock S
// ahead: its lateness is absorbed into the offset.
const (
	windowNs  = 10_000_000_000
	minWindow = 16 // collectives a window needs to have its own median
)

// estimate is one collective's view of a host's offset: at the host's
// time at, its clock is diff ahead of the reference's.
type estimate struct{ at, diff int64 }

// alignment maps one host's monotonic clock onto the reference's.
type alignment struct {
	knots []trace.ClockKnot // by AtNs
}

// offset is the host's clock minus the reference's at host time t.
func (a *alignment) offset(t int64) int64 {
	k := a.knots
	switch {
	case len(k) == 0:
		return 0
	case len(k) == 1:
		return k[0].OffsetNs
	case t <= k[0].AtNs:
		return line(k[0], k[1], t)
	case t >= k[len(k)-1].AtNs:
		return line(k[len(k)-2], k[len(k)-1], t)
	}
	i, _ := slices.BinarySearchFunc(k, t, func(x trace.ClockKnot, t int64) int { return cmp.Compare(x.AtNs, t) })
	return line(k[i-1], k[i], t)
}

// line is the offset at t on the line through two knots.
func line(lo, hi trace.ClockKnot, t int64) int64 {
	if hi.AtNs == lo.AtNs {
		return hi.OffsetNs
	}
	frac := float64(t-lo.AtNs) / float64(hi.AtNs-lo.AtNs)
	return lo.OffsetNs + int64(frac*float64(hi.OffsetNs-lo.OffsetNs))
}

// toRef is host time t on the reference's clock.
func (a *alignment) toRef(t int64) int64 { return t - a.offset(t) }

// fit estimates an alignment from a host's estimates (at least one).
func fit(est []estimate) *alignment {
	slices.SortFunc(est, func(x, y estimate) int { return cmp.Compare(x.at, y.at) })
	a := &alignment{}
	for lo := 0; lo < len(est); {
		hi := lo
		for hi < len(est) && est[hi].at-est[lo].at < windowNs {
			hi++
		}
		if w := est[lo:hi]; len(w) >= minWindow {
			a.knots = append(a.knots, knotOf(w))
		}
		lo = hi
	}
	if len(a.knots) == 0 {
		a.knots = []trace.ClockKnot{knotOf(est)}
	}
	return a
}

// knotOf is a window's median time and median difference.
func knotOf(w []estimate) trace.ClockKnot {
	at, diff := make([]int64, len(w)), make([]int64, len(w))
	for i, e := range w {
		at[i], diff[i] = e.at, e.diff
	}
	return trace.ClockKnot{AtNs: median(at), OffsetNs: median(diff)}
}

// median of v (reordered): the mean of the middle two for an even count.
func median(v []int64) int64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return v[n/2-1] + (v[n/2]-v[n/2-1])/2
}

// quantile of v (reordered), the nearest rank.
func quantile(v []int64, q float64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[int(q*float64(len(v)-1)+0.5)]
}
