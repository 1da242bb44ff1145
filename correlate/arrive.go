package correlate

import (
	"sync/atomic"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// Arrivals (docs/attribution.md, "Time bounds"). A collective moves no
// byte before the last rank of its communicator has entered it, so its
// earliest start is the latest enqueue among the ranks' matching calls.
// Calls match across processes by communicator and per-communicator
// sequence number. Communicators are matched by their creation: the
// k-th communicator of n ranks a process created is the k-th of every
// other process. Only communicators whose creation was recorded take
// part (their sequence numbers start together); point-to-point calls do
// not (ranks make different numbers of them).
//
// The router (one goroutine, file order) numbers the calls and counts
// arrivals; engines read them, behind the router by the reorder window.

// peerWaitNs is how long a launch waits for its peers before it may run
// anyway (a rank that never arrives: a hang, or a rank not recorded).
const peerWaitNs = 10_000_000_000

// arrivals numbers collective calls per communicator and gathers the
// ranks' arrivals at each.
type arrivals struct {
	groups  map[groupID]*commGroup
	created map[ordKey]int // communicators created per (process, size)
	members map[commKey]*member
}

type groupID struct {
	nranks  int32
	ordinal int
}

type ordKey struct {
	pid    uint32
	nranks int32
}

// commGroup is one communicator across the recorded processes.
type commGroup struct {
	nranks int32               // its size
	ranks  atomic.Int32        // recorded processes in it so far
	open   map[uint64]*arrival // by sequence number, until every rank arrived
	newest uint64              // the highest sequence number seen
}

// openSeqs bounds the collectives a communicator keeps open for ranks
// that never arrive (not recorded): older ones are forgotten.
const openSeqs = 1 << 12

type member struct {
	group *commGroup
	seq   uint64
}

// arrival is one collective of a communicator as its ranks enter it.
type arrival struct {
	group  *commGroup
	latest atomic.Int64 // the latest enqueue so far
	count  atomic.Int32 // ranks arrived
}

func newArrivals() *arrivals {
	return &arrivals{groups: map[groupID]*commGroup{}, created: map[ordKey]int{}, members: map[commKey]*member{}}
}

// observe registers communicator creations and marks each collective
// item with its arrival.
func (a *arrivals) observe(it *item) {
	ev := &it.ev
	switch {
	case ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0:
		a.created1(ev)
	case ev.Kind.IsCollective() && ev.Kind != trace.Send && ev.Kind != trace.Recv && it.phase != graphs.Capture:
		it.arrive = a.arrive(ev)
	}
}

func (a *arrivals) created1(ev *trace.Event) {
	if ev.Kind == trace.CommSplit || ev.NRanks < 2 || ev.Ret != 0 {
		return
	}
	k := ordKey{ev.Pid, ev.NRanks}
	id := groupID{ev.NRanks, a.created[k]}
	a.created[k]++
	g := a.groups[id]
	if g == nil {
		g = &commGroup{nranks: ev.NRanks, open: map[uint64]*arrival{}}
		a.groups[id] = g
	}
	g.ranks.Add(1)
	a.members[commKey{ev.Pid, ev.Comm}] = &member{group: g}
}

func (a *arrivals) arrive(ev *trace.Event) *arrival {
	m := a.members[commKey{ev.Pid, ev.Comm}]
	if m == nil {
		return nil
	}
	g := m.group
	seq := m.seq
	m.seq++
	s := g.open[seq]
	if s == nil {
		s = &arrival{group: g}
		g.open[seq] = s
	}
	if t := int64(ev.TsNs); t > s.latest.Load() {
		s.latest.Store(t)
	}
	// Other ranks may still be created: a collective closes when all of
	// the communicator's ranks arrived, or when it is far behind.
	if s.count.Add(1) >= g.nranks {
		delete(g.open, seq)
	}
	if seq > g.newest {
		g.newest = seq
		if seq >= openSeqs {
			delete(g.open, seq-openSeqs)
		}
	}
	return s
}

// all reports whether every rank arrived, and when the last did.
func (s *arrival) all() (int64, bool) {
	if s.count.Load() < s.group.ranks.Load() {
		return 0, false
	}
	return s.latest.Load(), true
}

// readyBefore reports whether the launch may move bytes before t: its
// host launch is earlier, and so are its peers' arrivals (waited for up to
// peerWaitNs).
func (l *launch) readyBefore(t int64) bool {
	for len(l.waits) > 0 {
		last := len(l.waits) - 1
		at, ok := l.waits[last].all()
		if !ok && t-l.readyNs < peerWaitNs {
			return false
		}
		if ok {
			l.readyNs = max(l.readyNs, at)
		}
		l.waits[last] = nil
		l.waits = l.waits[:last]
	}
	return l.readyNs < t
}
