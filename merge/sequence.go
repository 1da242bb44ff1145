package merge

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/trace"
)

// Communicators created before the recorders attached (docs/design.md,
// "Merging hosts"): no creation was recorded, so no unique id and no place
// in a creation order, and each recorder numbers a communicator's calls
// from its own attach, so two recorders' call numbers differ by an unknown
// offset. The calls themselves tie them together: every rank of a
// communicator makes the same collectives in the same order, with the same
// signature (op, count, dtype, root). Two handles of different processes
// are one communicator at the offset where their signatures agree, found
// by scoring every offset within maxShift calls. The recorder sees no size
// for an attached communicator (its calls carry none), so any two handles
// of different processes are candidates.
const (
	maxShift   = 4096 // the most calls one recorder may attach after another
	maxCompare = 512  // calls compared at each offset
	minOverlap = 16   // calls two handles must share at an offset to be compared
	minAgree   = 0.95 // the fraction of agreeing signatures a match needs
	tieMargin  = 0.01 // offsets scoring within this of the best are tied
	// wallRatio: the wall clocks break a tie (a loop of identical calls)
	// only when the runner-up offset's calls are this many times further
	// apart in wall time than the best's.
	wallRatio = 3
	// wallCandidates is how many tied offsets nearest the wall clocks'
	// guess have their wall gaps measured.
	wallCandidates = 6
)

// sig is what a collective call is matched by across recordings.
type sig struct {
	kind  trace.Kind
	dtype trace.DataType
	root  int32
	count uint64
}

// attachedComm is one process's calls on a communicator whose creation
// was not recorded, in order, with their enqueue times.
type attachedComm struct {
	sigs  []sig
	times []int64
}

func (r *recording) attachedCall(k handleKey, ev *trace.Event) {
	a := r.attached[k]
	if a == nil {
		a = &attachedComm{}
		r.attached[k] = a
	}
	if len(a.sigs) < maxShift+maxCompare { // all any offset compares
		a.sigs = append(a.sigs, sig{ev.Kind, ev.DataType, ev.Peer, ev.Count})
	}
	if len(a.times) < maxTimes {
		a.times = append(a.times, int64(ev.TsNs))
	}
}

// seqHandle is one process's handle of an attached communicator; first is
// its first call's number in its group, the group's first handle's 0.
type seqHandle struct {
	h     *host
	key   handleKey
	calls *attachedComm
	first int
	how   string // how it joined its group, for the note
}

func (x *seqHandle) String() string {
	return fmt.Sprintf("host %s's pid %d (communicator %#x, first call %s)", x.h.info.Name, x.key.pid, x.key.handle, x.calls.sigs[0].kind)
}

// seqGroup is one attached communicator across recordings.
type seqGroup struct {
	num     int // from 1
	members []*seqHandle
}

func (g *seqGroup) has(x *seqHandle) bool {
	return slices.ContainsFunc(g.members, func(m *seqHandle) bool { return m.h == x.h && m.key.pid == x.key.pid })
}

// matchAttached groups the hosts' attached handles into communicators,
// one handle at a time in host order, and makes each group's handles
// members of one communicator for the clock rule. Each match and each
// refusal is noted on the handle's host.
func matchAttached(hosts []*host) {
	var groups []*seqGroup
	for _, h := range hosts {
		for _, k := range slices.SortedFunc(maps.Keys(h.rec.attached), byHandle) {
			x := &seqHandle{h: h, key: k, calls: h.rec.attached[k]}
			if len(x.calls.sigs) < minOverlap {
				continue
			}
			g, err := bestGroup(groups, x)
			switch {
			case err != nil:
				h.refused = cmp.Or(h.refused, err.Error())
				h.notes = append(h.notes, trace.Note{Level: "warn", Text: "merge: " + err.Error()})
			case g != nil:
				g.members = append(g.members, x)
			default:
				groups = append(groups, &seqGroup{num: len(groups) + 1, members: []*seqHandle{x}})
			}
		}
	}
	for _, g := range groups {
		g.register()
	}
}

func byHandle(a, b handleKey) int {
	return cmp.Or(cmp.Compare(a.pid, b.pid), cmp.Compare(a.handle, b.handle))
}

// register makes a group of two handles or more one communicator.
func (g *seqGroup) register() {
	if len(g.members) < 2 {
		return
	}
	first := g.members[0]
	for _, x := range g.members {
		x.h.rec.members[x.key] = &member{comm: commKey{nranks: -1, attached: g.num}, times: x.calls.times, first: x.first}
		if x != first {
			x.h.notes = append(x.h.notes, trace.Note{Level: "info", Text: fmt.Sprintf(
				"merge: %s, created before the recorders attached, matched %s at call offset %+d (%s)", x, first, x.first, x.how)})
		}
	}
}

// bestGroup is the group x belongs to: the one whose first handle's
// calls agree with x's best; nil when none does. An error when x agrees
// with a group at several offsets the wall clocks cannot choose between.
func bestGroup(groups []*seqGroup, x *seqHandle) (*seqGroup, error) {
	var best *seqGroup
	var bestMatch offsetMatch
	var refusal error
	for _, g := range groups {
		if g.has(x) {
			continue
		}
		m, err := matchOffset(g.members[0], x)
		switch {
		case err != nil:
			refusal = cmp.Or(refusal, err)
		case m.agree > bestMatch.agree:
			best, bestMatch = g, m
		}
	}
	if best == nil {
		return nil, refusal
	}
	x.first, x.how = best.members[0].first+bestMatch.offset, bestMatch.how
	return best, nil
}

// offsetMatch is where handle x's calls fall in handle a's: x's i-th call
// is a's (i+offset)-th.
type offsetMatch struct {
	offset int
	agree  float64 // the fraction of signatures that agree there; 0: no match
	how    string
}

// matchOffset scores every offset by the fraction of agreeing signatures
// over the calls both handles have there. A unique best of minAgree or
// more is the match; several tied (repeated identical calls) are told
// apart by the wall clocks, else refused.
func matchOffset(a, x *seqHandle) (offsetMatch, error) {
	as, xs := a.calls.sigs, x.calls.sigs
	var scores []offsetMatch
	best := 0.0
	for d := -min(maxShift, len(xs)-minOverlap); d <= min(maxShift, len(as)-minOverlap); d++ {
		lo, n := overlap(len(as), len(xs), d)
		if n < minOverlap {
			continue
		}
		s := agreement(as, xs, d, lo, n)
		scores = append(scores, offsetMatch{offset: d, agree: s})
		best = max(best, s)
	}
	if best < minAgree {
		return offsetMatch{}, nil
	}
	var tied []offsetMatch
	for _, s := range scores {
		if s.agree >= best-tieMargin {
			tied = append(tied, s)
		}
	}
	if len(tied) == 1 {
		m := tied[0]
		_, n := overlap(len(as), len(xs), m.offset)
		m.how = fmt.Sprintf("by its calls: %.0f%% of %d agree, no other offset does", 100*m.agree, n)
		return m, nil
	}
	return byWallClock(a, x, tied)
}

// agreement is the fraction of x's n calls from lo whose signatures are
// a's at offset d; 0 once too few can agree for a match or a tie.
func agreement(as, xs []sig, d, lo, n int) float64 {
	allowed := int((1 - minAgree + tieMargin) * float64(n))
	differ := 0
	for i := lo; i < lo+n; i++ {
		if xs[i] != as[i+d] {
			if differ++; differ > allowed {
				return 0
			}
		}
	}
	return float64(n-differ) / float64(n)
}

// overlap is the first of x's calls that a also has at offset d, and how
// many of them to compare.
func overlap(na, nx, d int) (lo, n int) {
	lo = max(0, -d)
	return lo, min(nx-lo, na-lo-d, maxCompare)
}

// byWallClock picks among tied offsets the one whose matched calls' wall
// times agree best, when the runner-up's are wallRatio times further
// apart: the hosts' wall clocks must agree to within a fraction of the
// calls' period, which NTP or PTP gives and nothing else checks.
func byWallClock(a, x *seqHandle, tied []offsetMatch) (offsetMatch, error) {
	aw, okA := wallTimes(a)
	xw, okX := wallTimes(x)
	offsets := func() string {
		var s []string
		for i, m := range tied[:min(len(tied), 4)] {
			s = append(s, fmt.Sprintf("%+d", m.offset))
			if i == 3 && len(tied) > 4 {
				s = append(s, "...")
			}
		}
		return strings.Join(s, " ")
	}
	if !okA || !okX {
		return offsetMatch{}, fmt.Errorf("%s agrees with %s at %d call offsets (%s) and a recording has no wall clock to choose",
			x, a, len(tied), offsets())
	}
	// The calls are in time order, so the wall gap grows with an offset's
	// distance from where the wall clocks put x's first call: only the
	// nearest few tied offsets can be the best or the runner-up.
	guess := wallOffset(aw, xw)
	near := slices.Clone(tied)
	slices.SortStableFunc(near, func(p, q offsetMatch) int { return cmp.Compare(abs(p.offset-guess), abs(q.offset-guess)) })
	tied, near = near, near[:min(len(near), wallCandidates)]
	gaps := make([]int64, len(near))
	for i, m := range near {
		gaps[i] = wallGap(aw, xw, m.offset)
	}
	order := make([]int, len(near))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(gaps[i], gaps[j]) })
	best, next := order[0], order[1]
	if gaps[next] < wallRatio*max(gaps[best], 1) {
		return offsetMatch{}, fmt.Errorf("%s agrees with %s at %d call offsets (%s) and the wall clocks do not tell them apart "+
			"(their calls %s apart at %+d, %s at %+d)", x, a, len(tied), offsets(),
			units.Duration(gaps[best]), near[best].offset, units.Duration(gaps[next]), near[next].offset)
	}
	m := near[best]
	m.how = fmt.Sprintf("by the wall clocks among %d offsets where its calls agree: its calls %s from the other's, %s at the next best (%+d)",
		len(tied), units.Duration(gaps[best]), units.Duration(gaps[next]), near[next].offset)
	return m, nil
}

// wallTimes is a handle's first calls' times on its host's wall clock.
func wallTimes(x *seqHandle) ([]int64, bool) {
	n := min(len(x.calls.times), maxShift+maxCompare)
	w := make([]int64, n)
	for i, t := range x.calls.times[:n] {
		v, ok := x.h.rec.clocks.MonoToWall(t)
		if !ok {
			return nil, false
		}
		w[i] = v
	}
	return w, true
}

// wallOffset is the offset the wall clocks alone give: the number of
// a's calls before x's first, or minus x's before a's first.
func wallOffset(aw, xw []int64) int {
	if xw[0] >= aw[0] {
		i, _ := slices.BinarySearch(aw, xw[0])
		return i
	}
	i, _ := slices.BinarySearch(xw, aw[0])
	return -i
}

func abs(v int) int { return max(v, -v) }

// wallGap is the median wall-time distance between the calls matched at
// offset d.
func wallGap(aw, xw []int64, d int) int64 {
	lo, n := overlap(len(aw), len(xw), d)
	if n <= 0 {
		return 1 << 62
	}
	v := make([]int64, n)
	for i := range n {
		v[i] = max(xw[lo+i]-aw[lo+i+d], aw[lo+i+d]-xw[lo+i])
	}
	return median(v)
}
