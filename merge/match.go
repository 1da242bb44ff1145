package merge

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// alignHosts places every host's clock on the first's (align.go), one host
// at a time: next, the one that shares the most collectives with the hosts
// already placed. A host that shares none cannot be placed: its recording
// is of another job, or its communicators were created before its
// recorder attached.
func alignHosts(hosts []*host, clock string) error {
	placed := map[int]bool{0: true}
	for len(placed) < len(hosts) {
		best, bestEst := -1, []estimate(nil)
		for _, h := range hosts {
			if placed[h.idx] {
				continue
			}
			if est := estimates(hosts, h.idx, placed); len(est) > len(bestEst) {
				best, bestEst = h.idx, est
			}
		}
		if best < 0 && clock == ClockWall {
			best = firstUnplaced(hosts, placed) // one job by the user's word: its wall clock places it
		}
		if best < 0 {
			return unplaced(hosts, placed)
		}
		if err := place(hosts[best], bestEst, clock); err != nil {
			return err
		}
		placed[best] = true
	}
	return nil
}

// place aligns a host's clock by the rule asked for, and records how well
// the collectives and the wall clocks agree with the result.
func place(h *host, est []estimate, clock string) error {
	if len(est) > 0 {
		h.align, h.info.Clock = fit(est), ClockCollectives
	}
	if clock != ClockCollectives {
		w, err := wallAlignment(h)
		switch {
		case err != nil && clock == ClockWall:
			return err
		case err == nil && (clock == ClockWall || agree(w, h.align, est)):
			h.align, h.info.Clock = w, ClockWall
		}
	}
	h.info.Knots, h.info.Collectives = h.align.knots, len(est)
	h.info.OffsetNs = h.align.knots[len(h.align.knots)/2].OffsetNs
	res := make([]int64, len(est))
	for i, e := range est {
		res[i] = e.diff - h.align.offset(e.at)
	}
	if len(res) > 0 {
		h.info.CollectiveSkewNs = median(res)
	}
	h.info.SpreadNs = (quantile(res, 0.75) - quantile(res, 0.25)) / 2
	h.info.WallSkewNs = wallSkew(h)
	return nil
}

// agree reports whether the wall clocks place a host within AutoWallNs of
// where the collectives do, at the median collective: then the wall clocks
// are taken (--clock auto), as they do not absorb a host's lateness.
func agree(wall, coll *alignment, est []estimate) bool {
	at := make([]int64, len(est))
	for i, e := range est {
		at[i] = e.at
	}
	t := median(at)
	d := wall.offset(t) - coll.offset(t)
	return d >= -AutoWallNs && d <= AutoWallNs
}

// wallAlignment places a host's clock by the wall clocks (--clock wall):
// each of its clock pairs says where its monotonic time falls on the
// reference's, through the reference's pairs. Right when the hosts' wall
// clocks agree (NTP, PTP) better than their ranks' arrivals do.
func wallAlignment(h *host) (*alignment, error) {
	a := &alignment{}
	for _, c := range h.rec.pairs {
		if ref, ok := h.ref.WallToMono(c.WallNs); ok {
			a.knots = append(a.knots, trace.ClockKnot{AtNs: c.MonoNs, OffsetNs: c.MonoNs - ref})
		}
	}
	if len(a.knots) == 0 {
		return nil, fmt.Errorf("--clock wall: %s or the first recording has no clock pairs: use --clock collectives", h.rec.dir)
	}
	slices.SortFunc(a.knots, func(x, y trace.ClockKnot) int { return cmp.Compare(x.AtNs, y.AtNs) })
	return a, nil
}

func firstUnplaced(hosts []*host, placed map[int]bool) int {
	for _, h := range hosts {
		if !placed[h.idx] {
			return h.idx
		}
	}
	return -1
}

func unplaced(hosts []*host, placed map[int]bool) error {
	h := hosts[firstUnplaced(hosts, placed)]
	if h.refused != "" {
		return fmt.Errorf("%s (host %s) shares no collective with %s: %s; "+
			"if they are recordings of one job, place it by its wall clock alone: --clock wall", h.rec.dir, h.info.Name, hosts[0].rec.dir, h.refused)
	}
	return fmt.Errorf("%s (host %s) shares no collective with %s: are they recordings of one job? "+
		"(communicators match by NCCL unique id, or by size and creation order, when their creation was recorded, "+
		"else by their sequence of calls; recordings of one job whose calls do not tell the communicators apart "+
		"can be placed by their wall clocks: --clock wall)",
		h.rec.dir, h.info.Name, hosts[0].rec.dir)
}

// estimates lists, for each collective host b shares with the placed
// hosts, b's arrival (the median of its ranks' enqueue times, its clock)
// and its difference from the placed hosts' arrival (their ranks'
// median, on the reference's clock).
func estimates(hosts []*host, b int, placed map[int]bool) []estimate {
	mine, theirs := map[commKey][]timedMember{}, map[commKey][]timedMember{}
	for _, h := range hosts {
		for _, m := range h.rec.members {
			switch {
			case h.idx == b:
				mine[m.comm] = append(mine[m.comm], timedMember{m, nil})
			case placed[h.idx]:
				theirs[m.comm] = append(theirs[m.comm], timedMember{m, h.align})
			}
		}
	}
	var out []estimate
	for k, ms := range mine {
		ts := theirs[k]
		if len(ts) == 0 {
			continue
		}
		lo1, hi1 := span(ms)
		lo2, hi2 := span(ts)
		for seq := max(lo1, lo2); seq < min(hi1, hi2); seq++ {
			at, ok1 := arrival(ms, seq)
			ref, ok2 := arrival(ts, seq)
			if ok1 && ok2 {
				out = append(out, estimate{at: at, diff: at - ref})
			}
		}
	}
	return out
}

// timedMember is a member and its host's alignment (nil: its own clock).
type timedMember struct {
	m *member
	a *alignment
}

// arrival is the median time of the members' seq-th calls (on the
// reference's clock where they have an alignment); false when none made
// it.
func arrival(ms []timedMember, seq int) (int64, bool) {
	var v []int64
	for _, tm := range ms {
		i := seq - tm.m.first
		if i < 0 || i >= len(tm.m.times) {
			continue
		}
		t := tm.m.times[i]
		if tm.a != nil {
			t = tm.a.toRef(t)
		}
		v = append(v, t)
	}
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// span is the sequence numbers some member has a call for: [lo, hi).
func span(ms []timedMember) (lo, hi int) {
	lo = ms[0].m.first
	for _, tm := range ms {
		lo, hi = min(lo, tm.m.first), max(hi, tm.m.first+len(tm.m.times))
	}
	return lo, hi
}

// wallSkew is how far a host's wall clock is from the reference's once its
// monotonic clock is aligned: the median over its clock pairs.
func wallSkew(h *host) int64 {
	var v []int64
	for _, c := range h.rec.pairs {
		if ref, ok := h.ref.MonoToWall(h.align.toRef(c.MonoNs)); ok && c.WallNs != 0 {
			v = append(v, c.WallNs-ref)
		}
	}
	if len(v) == 0 {
		return 0
	}
	return median(v)
}
