package merge

import "fmt"

// alignHosts places every host's clock on the first's (align.go), one host
// at a time: next, the one that shares the most collectives with the hosts
// already placed. A host that shares none cannot be placed: its recording
// is of another job, or its communicators were created before its
// recorder attached.
func alignHosts(hosts []*host) error {
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
		if best < 0 {
			return unplaced(hosts, placed)
		}
		h := hosts[best]
		h.align = fit(bestEst)
		h.info.Knots, h.info.Collectives, h.info.SpreadNs = h.align.knots, h.align.collectives, h.align.spreadNs
		h.info.OffsetNs = h.align.knots[len(h.align.knots)/2].OffsetNs
		h.info.WallSkewNs = wallSkew(h)
		placed[best] = true
	}
	return nil
}

func unplaced(hosts []*host, placed map[int]bool) error {
	for _, h := range hosts {
		if !placed[h.idx] {
			return fmt.Errorf("%s (host %s) shares no collective with %s: are they recordings of one job? "+
				"(communicators match by NCCL unique id, or by size and creation order; record every host from before "+
				"its communicators are created)", h.rec.dir, h.info.Name, hosts[0].rec.dir)
		}
	}
	return nil
}

// estimates lists, for each collective host b shares with the placed
// hosts, b's arrival (the median of its ranks' enqueue times, its clock)
// and its difference from the placed hosts' arrival (their ranks'
// median, on the reference's clock).
func estimates(hosts []*host, b int, placed map[int]bool) []estimate {
	mine, theirs := map[commKey][]*member{}, map[commKey][]timedMember{}
	for _, h := range hosts {
		for _, m := range h.rec.members {
			switch {
			case h.idx == b:
				mine[m.comm] = append(mine[m.comm], m)
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
		n := min(longest(len(ms), func(i int) []int64 { return ms[i].times }),
			longest(len(ts), func(i int) []int64 { return ts[i].m.times }))
		for seq := range n {
			at, ok1 := arrival(len(ms), seq, func(i int) []int64 { return ms[i].times }, nil)
			ref, ok2 := arrival(len(ts), seq, func(i int) []int64 { return ts[i].m.times }, func(i int) *alignment { return ts[i].a })
			if ok1 && ok2 {
				out = append(out, estimate{at: at, diff: at - ref})
			}
		}
	}
	return out
}

type timedMember struct {
	m *member
	a *alignment
}

// arrival is the median time of the n members' seq-th calls (mapped onto
// the reference's clock when align is given); false when none made it.
func arrival(n, seq int, times func(int) []int64, align func(int) *alignment) (int64, bool) {
	var v []int64
	for i := range n {
		ts := times(i)
		if seq >= len(ts) {
			continue
		}
		t := ts[seq]
		if align != nil {
			t = align(i).toRef(t)
		}
		v = append(v, t)
	}
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// longest is the most calls any of n members made.
func longest(n int, times func(int) []int64) int {
	l := 0
	for i := range n {
		l = max(l, len(times(i)))
	}
	return l
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
