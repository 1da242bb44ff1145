package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/trace"
)

// Arrival is one collective matched across every rank of its
// communicator, handed to the ArrivalSink as its last rank enters it: each
// rank's arrival (its call's enqueue) and how long it waited for the last
// rank. Sinks must not keep the pointer.
type Arrival struct {
	Comm   string // the communicator across processes (arrivals.Comm.Name)
	NRanks int
	Seq    uint64 // per-communicator sequence number, from 0
	LastNs int64  // the last rank's arrival
	Last   int    // index in Ranks of the last rank to arrive
	Ranks  []RankArrival
}

// SkewNs is how long the first rank to arrive waited for the last.
func (a *Arrival) SkewNs() int64 {
	first := a.LastNs
	for i := range a.Ranks {
		first = min(first, a.Ranks[i].EnqueueNs)
	}
	return a.LastNs - first
}

// RankArrival is one rank's call of a matched collective.
type RankArrival struct {
	Pid, Tid  uint32
	Rank      int
	GPU       int    // -1 unknown
	Handle    uint64 // the communicator in this process
	Kind      trace.Kind
	DataType  trace.DataType
	Count     uint64
	Payload   uint64
	StackID   int32
	Caller    uint64
	Phase     graphs.Phase
	EnqueueNs int64
	WaitNs    int64 // until the last rank arrived
}

// ArrivalSink receives matched collectives from the goroutine that reads
// the trace (not an engine's), in the order their last rank's call is read.
type ArrivalSink interface {
	Arrival(a *Arrival)
}

// ArrivalSummary says what the matching covered: per communicator whose
// creation was recorded, how many ranks created it and how many of its
// collectives every rank entered.
type ArrivalSummary struct {
	Comms []CommArrivals
	// UnmatchedCalls are collective calls (not point-to-point) on
	// communicators whose creation was not recorded: no skew for them.
	UnmatchedCalls uint64
}

// CommArrivals is one communicator's matching.
type CommArrivals struct {
	Comm     string
	NRanks   int
	Recorded int    // ranks seen creating it
	Matched  uint64 // collectives every rank entered
	// Open are collectives some ranks entered and others never did
	// (by the end of the recording); Forgotten, those dropped
	// arrivals.OpenSeqs behind the newest.
	Open, Forgotten uint64
}

// closed counts a collective every rank entered and hands it to the sink.
func (r *router) closed(s *arrivals.Collective) {
	r.matched[s.Comm.Index]++
	if r.arrSink == nil || len(s.Calls) < 2 {
		return
	}
	a := &r.arr
	a.Comm, a.NRanks, a.Seq, a.LastNs, a.Last = s.Comm.Name(), int(s.Comm.NRanks), s.Seq, s.Latest(), 0
	a.Ranks = a.Ranks[:0]
	for i, c := range s.Calls {
		ev := &c.Ev
		if int64(ev.TsNs) == a.LastNs {
			a.Last = i
		}
		a.Ranks = append(a.Ranks, RankArrival{Pid: ev.Pid, Tid: ev.Tid, Rank: int(c.Member.Rank), GPU: r.place.CallGPU(ev.Pid, ev.Comm),
			Handle: ev.Comm, Kind: ev.Kind, DataType: ev.DataType, Count: ev.Count, Payload: ev.PayloadBytes(),
			StackID: ev.StackID, Caller: callerOf(ev), Phase: graphs.Phase(c.Tag),
			EnqueueNs: int64(ev.TsNs), WaitNs: a.LastNs - int64(ev.TsNs)})
	}
	r.arrSink.Arrival(a)
}

// arrivalSummary is the matching's coverage at the end of the trace.
func (r *router) arrivalSummary() {
	for _, c := range r.match.Comms() {
		ca := CommArrivals{Comm: c.Name(), NRanks: int(c.NRanks), Recorded: c.Recorded(), Matched: r.matched[c.Index],
			Forgotten: c.Forgotten}
		c.Open(func(*arrivals.Collective) { ca.Open++ })
		r.res.Arrivals.Comms = append(r.res.Arrivals.Comms, ca)
	}
}
