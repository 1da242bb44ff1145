// Package arrivals matches NCCL collective calls across the ranks of a
// communicator: the one rule the analysis (correlate: time bounds, arrival
// skew) and the recorder (live stall detection) share.
//
// Calls match across processes by communicator and per-communicator
// sequence number. Communicators are matched by their creation: by the
// hash of the ncclUniqueId their ranks were created with where the trace
// has it (format 1.2: processes, and hosts, that share an id share the
// communicator), else the k-th communicator of n ranks a process created
// is the k-th of every other process (which takes two disjoint groups of n
// ranks for one communicator). Only communicators whose creation was seen take part (their
// sequence numbers start together); point-to-point calls do not (ranks
// make different numbers of them), nor do calls captured into CUDA graphs.
package arrivals

import (
	"fmt"
	"sync/atomic"

	"github.com/linkprof/linkprof/trace"
)

// OpenSeqs bounds the collectives a communicator keeps open for ranks that
// have not arrived: older ones are forgotten (Comm.Forgotten).
const OpenSeqs = 1 << 12

// Matcher numbers collective calls per communicator and gathers each
// collective's arrivals. It is used from one goroutine; a Collective's
// All and Latest may be read from others.
type Matcher struct {
	comms   map[commID]*Comm
	list    []*Comm
	created map[ordKey]int // communicators without an id, per process and size
	sizes   map[int32]int  // communicators of each size, for their names
	members map[memberKey]*Member
	// Keep makes collectives keep every rank's call (Collective.Calls),
	// for skew and stalls; without it they only count.
	Keep bool
	// Closed, when set, receives each collective as its last rank
	// arrives, once.
	Closed func(*Collective)
}

// commID names a communicator across processes: its unique id's hash,
// else (uid 0) its size and place in each process's creation order.
type commID struct {
	uid     uint64
	nranks  int32
	ordinal int
}

type ordKey struct {
	pid    uint32
	nranks int32
}

type memberKey struct {
	pid    uint32
	handle uint64
}

// Comm is one communicator across the processes seen creating it.
type Comm struct {
	Index   int   // in order of first creation, from 0
	NRanks  int32 // its size
	Ordinal int   // the k-th communicator of NRanks ranks, from 0
	// UniqueID is the hash of the ncclUniqueId it was matched by, 0 when
	// matched by creation order.
	UniqueID uint64
	Members  []*Member
	// Forgotten counts collectives dropped OpenSeqs behind the newest
	// before every rank arrived.
	Forgotten uint64
	recorded  atomic.Int32
	open      map[uint64]*Collective
	newest    uint64
}

// Name names the communicator the same way in every process and every
// run: its size and its place among the communicators of that size in
// creation order ("2-rank #1").
func (c *Comm) Name() string { return fmt.Sprintf("%d-rank #%d", c.NRanks, c.Ordinal+1) }

// Recorded is how many of its ranks were seen creating it.
func (c *Comm) Recorded() int { return int(c.recorded.Load()) }

// Open calls fn for each collective some but not all ranks entered.
func (c *Comm) Open(fn func(*Collective)) {
	for _, s := range c.open {
		fn(s)
	}
}

// IsOpen reports whether collective seq is still waiting for ranks.
func (c *Comm) IsOpen(seq uint64) bool {
	_, ok := c.open[seq]
	return ok
}

// Member is one process's handle of a communicator.
type Member struct {
	Comm   *Comm
	Pid    uint32
	Handle uint64
	Rank   int32
	Next   uint64      // sequence number of its next collective
	Last   trace.Event // its last collective (valid when Next > 0)
}

// Call is one rank's call of a collective.
type Call struct {
	Member *Member
	Ev     trace.Event
	Tag    uint8 // the caller's (correlate: the call's graph phase)
}

// Collective is one collective of a communicator as its ranks enter it.
type Collective struct {
	Comm   *Comm
	Seq    uint64
	Calls  []Call // with Matcher.Keep, in the order they were seen
	latest atomic.Int64
	count  atomic.Int32
}

// NewMatcher starts with no communicators.
func NewMatcher() *Matcher {
	return &Matcher{comms: map[commID]*Comm{}, created: map[ordKey]int{}, sizes: map[int32]int{},
		members: map[memberKey]*Member{}}
}

// Comms lists the communicators in order of first creation.
func (m *Matcher) Comms() []*Comm { return m.list }

// Observe registers a communicator's creation (the return of its init)
// and numbers a collective call, returning the collective it arrived at
// (nil for other events and for calls on communicators not matched). tag
// is kept with the call.
func (m *Matcher) Observe(ev *trace.Event, tag uint8) *Collective {
	switch {
	case ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0:
		m.created1(ev)
	case Matchable(ev.Kind):
		return m.arrive(ev, tag)
	}
	return nil
}

// Matchable reports whether calls of kind are matched across ranks: the
// collectives every rank of a communicator enters (not point-to-point).
func Matchable(k trace.Kind) bool {
	return k.IsCollective() && k != trace.Send && k != trace.Recv
}

func (m *Matcher) created1(ev *trace.Event) {
	if ev.Kind == trace.CommSplit || ev.NRanks < 2 || ev.Ret != 0 {
		return
	}
	id := commID{uid: ev.CommUniqueID(), nranks: ev.NRanks}
	if id.uid == 0 {
		k := ordKey{ev.Pid, ev.NRanks}
		id.ordinal = m.created[k]
		m.created[k]++
	}
	c := m.comms[id]
	if c == nil {
		c = &Comm{Index: len(m.list), NRanks: ev.NRanks, Ordinal: m.sizes[ev.NRanks], UniqueID: id.uid,
			open: map[uint64]*Collective{}}
		m.sizes[ev.NRanks]++
		m.comms[id] = c
		m.list = append(m.list, c)
	}
	c.recorded.Add(1)
	mb := &Member{Comm: c, Pid: ev.Pid, Handle: ev.Comm, Rank: ev.Rank}
	c.Members = append(c.Members, mb)
	m.members[memberKey{ev.Pid, ev.Comm}] = mb
}

func (m *Matcher) arrive(ev *trace.Event, tag uint8) *Collective {
	mb := m.members[memberKey{ev.Pid, ev.Comm}]
	if mb == nil {
		return nil
	}
	c := mb.Comm
	seq := mb.Next
	mb.Next++
	mb.Last = *ev
	s := c.open[seq]
	if s == nil {
		s = &Collective{Comm: c, Seq: seq}
		c.open[seq] = s
	}
	if m.Keep {
		s.Calls = append(s.Calls, Call{Member: mb, Ev: *ev, Tag: tag})
	}
	if t := int64(ev.TsNs); t > s.latest.Load() {
		s.latest.Store(t)
	}
	// Other ranks may still be created: a collective closes when all of
	// the communicator's ranks arrived, or when it is far behind.
	if s.count.Add(1) >= c.NRanks {
		delete(c.open, seq)
		if m.Closed != nil {
			m.Closed(s)
		}
		s.Calls = nil
	}
	if seq > c.newest {
		c.newest = seq
		if seq >= OpenSeqs {
			if old, ok := c.open[seq-OpenSeqs]; ok {
				old.Calls = nil
				delete(c.open, seq-OpenSeqs)
				c.Forgotten++
			}
		}
	}
	return s
}

// All reports whether every rank seen creating the communicator arrived,
// and when the last did.
func (s *Collective) All() (int64, bool) {
	if s.count.Load() < s.Comm.recorded.Load() {
		return 0, false
	}
	return s.latest.Load(), true
}

// Latest is the latest arrival so far.
func (s *Collective) Latest() int64 { return s.latest.Load() }
