package correlate

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// Named groups. torch symmetric memory's collectives name their group by a
// string, not a communicator handle; the probe stores its hash as the comm
// (trace.FlagCommName), the same value in every process of the group. No
// creation event says the group's size, and the process's environment or
// NCCL communicators may describe another group (a tensor-parallel group
// inside a larger world), so the size is what the recording shows: the
// processes seen calling a collective on that name. The router, which sees
// every process's events in file order, keeps the members and tells the
// engines as each joins, before that process's call; an engine handles a
// call only after the reorder window (eventWindowNs) has passed, by when
// the other ranks' calls on the group, entered at the same moment, have
// joined. A group seen from one process alone (the others not recorded)
// takes the process's communicator size, as a custom all-reduce does.

// namedGroups are the members of each named group, by first call.
type namedGroups map[uint64][]uint32

// join adds pid to group, reporting whether it was new.
func (g namedGroups) join(group uint64, pid uint32) bool {
	if slices.Contains(g[group], pid) {
		return false
	}
	g[group] = append(g[group], pid)
	return true
}

// observeNamed registers the caller of a collective on a named group and
// tells the engines when it is a new member.
func (r *router) observeNamed(ev *trace.Event) {
	if ev.Flags&trace.FlagCommName == 0 || !ev.Kind.IsCustomCollective() {
		return
	}
	if r.named == nil {
		r.named = namedGroups{}
	}
	if !r.named.join(ev.Comm, ev.Pid) {
		return
	}
	group, pid := ev.Comm, ev.Pid
	r.sh.broadcast(func(e *Engine) { e.joinNamed(group, pid) })
}

// joinNamed records a member of a named group in the engine.
func (e *Engine) joinNamed(group uint64, pid uint32) {
	if e.named == nil {
		e.named = namedGroups{}
	}
	e.named.join(group, pid)
	for _, p := range e.procs {
		p.haveComm = false
	}
}

// namedRank is a call's rank and group size on a named group: the group's
// members; the rank is the one the process's environment or communicators
// give when their size agrees, else unknown (-1).
func (e *Engine) namedRank(pid uint32, group uint64) (rank, nranks int, guessed bool) {
	rank, nranks, guessed = e.rankOf(pid, group)
	switch n := len(e.named[group]); {
	case n < 2:
		return rank, nranks, guessed
	case n == nranks:
		return rank, n, false
	default:
		return -1, n, false
	}
}
