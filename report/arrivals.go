package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/linkprof/linkprof/correlate"
)

// Arrivals is who waits for whom (docs/stragglers.md): for each collective
// matched across every rank of its communicator, each rank's arrival (its
// call's enqueue) relative to the last rank's.
type Arrivals struct {
	Comms []CommArrivals `json:"comms"`
	// UnmatchedCalls are collective calls (not point-to-point) on
	// communicators whose creation was not recorded: no matching, no skew.
	UnmatchedCalls uint64 `json:"unmatched_calls"`
	// Notes say in words what the matching could not cover.
	Notes []string `json:"notes"`
}

// CommArrivals is one communicator across its processes.
type CommArrivals struct {
	Comm          string `json:"comm"` // "2-rank #1": size, then place in creation order
	NRanks        int    `json:"nranks"`
	RanksRecorded int    `json:"ranks_recorded"` // ranks seen creating it
	Collectives   uint64 `json:"collectives"`    // matched: every rank entered
	// Unmatched are collectives some ranks entered and others never did
	// by the end (or 4096 collectives later).
	Unmatched uint64 `json:"unmatched"`
	// Skew is the last arrival minus the first, per collective.
	SkewP50Ns int64          `json:"skew_p50_ns"`
	SkewP99Ns int64          `json:"skew_p99_ns"`
	Ranks     []RankArrivals `json:"ranks"`
}

// RankArrivals is one rank's waits for the last rank of its collectives.
type RankArrivals struct {
	Rank         int     `json:"rank"`
	Pid          uint32  `json:"pid"`
	GPU          int     `json:"gpu"`  // -1 unknown
	Last         uint64  `json:"last"` // collectives it entered last
	LastFraction float64 `json:"last_fraction"`
	WaitP50Ns    int64   `json:"wait_p50_ns"`
	WaitP99Ns    int64   `json:"wait_p99_ns"`
	WaitMaxNs    int64   `json:"wait_max_ns"`
	WaitTotalNs  int64   `json:"wait_total_ns"`
}

// ArrivalTally is the correlate.ArrivalSink behind report.json's arrivals:
// per communicator and rank, bounded by their number (quantiles fold into
// buckets past 65,536 values).
type ArrivalTally struct {
	comms map[string]*commTally
}

type commTally struct {
	matched uint64
	skew    quantiles
	ranks   map[int]*rankTally
}

type rankTally struct {
	pid         uint32
	gpu         int
	last        uint64
	waits       quantiles
	total, maxW int64
}

// NewArrivalTally starts empty.
func NewArrivalTally() *ArrivalTally { return &ArrivalTally{comms: map[string]*commTally{}} }

// Arrival implements correlate.ArrivalSink.
func (t *ArrivalTally) Arrival(a *correlate.Arrival) {
	c := t.comms[a.Comm]
	if c == nil {
		c = &commTally{ranks: map[int]*rankTally{}}
		t.comms[a.Comm] = c
	}
	c.matched++
	for i, r := range a.Ranks {
		rt := c.ranks[r.Rank]
		if rt == nil {
			rt = &rankTally{pid: r.Pid, gpu: r.GPU}
			c.ranks[r.Rank] = rt
		}
		if i == a.Last {
			rt.last++
		}
		rt.waits.add(float64(r.WaitNs))
		rt.total += r.WaitNs
		rt.maxW = max(rt.maxW, r.WaitNs)
	}
	c.skew.add(float64(a.SkewNs()))
}

// section builds report.json's arrivals from the tally and the matching's
// coverage.
func (t *ArrivalTally) section(s correlate.ArrivalSummary) Arrivals {
	out := Arrivals{Comms: []CommArrivals{}, UnmatchedCalls: s.UnmatchedCalls, Notes: []string{}}
	for _, cs := range s.Comms {
		ca := CommArrivals{Comm: cs.Comm, NRanks: cs.NRanks, RanksRecorded: cs.Recorded, Collectives: cs.Matched,
			Unmatched: cs.Open + cs.Forgotten, Ranks: []RankArrivals{}}
		if c := t.comms[cs.Comm]; c != nil {
			ca.SkewP50Ns, ca.SkewP99Ns = int64(c.skew.at(0.5)), int64(c.skew.at(0.99))
			for rank, rt := range c.ranks {
				ca.Ranks = append(ca.Ranks, rankRow(rank, rt, c.matched))
			}
			slices.SortFunc(ca.Ranks, func(x, y RankArrivals) int { return cmp.Compare(x.Rank, y.Rank) })
		}
		out.Comms = append(out.Comms, ca)
		if cs.Recorded < cs.NRanks {
			out.Notes = append(out.Notes, fmt.Sprintf("communicator %s: %d of its %d ranks recorded creating it; "+
				"its collectives never match, so no skew (record every rank, from its start)", cs.Comm, cs.Recorded, cs.NRanks))
		}
	}
	if s.UnmatchedCalls > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d collective calls ran on communicators whose creation was not recorded "+
			"(linkprof attached after ncclCommInitRank): no skew for them (launch under linkprof, or attach before the communicators are created)",
			s.UnmatchedCalls))
	}
	return out
}

func rankRow(rank int, rt *rankTally, matched uint64) RankArrivals {
	r := RankArrivals{Rank: rank, Pid: rt.pid, GPU: rt.gpu, Last: rt.last,
		WaitP50Ns: int64(rt.waits.at(0.5)), WaitP99Ns: int64(rt.waits.at(0.99)), WaitMaxNs: rt.maxW, WaitTotalNs: rt.total}
	if matched > 0 {
		r.LastFraction = float64(rt.last) / float64(matched)
	}
	return r
}
