package arrivals

import (
	"fmt"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

func create(m *Matcher, pid uint32, handle uint64, rank, n int32) {
	m.Observe(&trace.Event{Kind: trace.CommInitRank, Flags: trace.FlagReturn, Pid: pid, Comm: handle, Rank: rank, NRanks: n}, 0)
}

func call(m *Matcher, pid uint32, handle uint64, ts uint64) *Collective {
	return m.Observe(&trace.Event{Kind: trace.AllReduce, Pid: pid, Comm: handle, TsNs: ts}, 0)
}

// Two processes' k-th 2-rank communicators are one; their n-th calls on it
// are one collective, closed (handed to Closed, with every call) when the
// second rank enters it; point-to-point calls and unknown handles match
// nothing.
func TestMatchByCreationAndSequence(t *testing.T) {
	m := NewMatcher()
	m.Keep = true
	var closed []uint64
	m.Closed = func(s *Collective) {
		if len(s.Calls) != 2 {
			t.Errorf("collective %d closed with %d calls", s.Seq, len(s.Calls))
		}
		closed = append(closed, s.Seq)
	}
	create(m, 1, 0xa, 0, 2)
	create(m, 2, 0xb, 1, 2)
	a0 := call(m, 1, 0xa, 100)
	call(m, 1, 0xa, 200)
	if at, ok := a0.All(); ok || a0.count.Load() != 1 {
		t.Fatalf("seq 0 all=%v at %d after one rank", ok, at)
	}
	if b0 := call(m, 2, 0xb, 150); b0 != a0 {
		t.Fatal("the second rank's first call is another collective")
	}
	if at, ok := a0.All(); !ok || at != 150 {
		t.Errorf("seq 0: all=%v latest %d, want 150", ok, at)
	}
	if !m.Comms()[0].IsOpen(1) || len(closed) != 1 || closed[0] != 0 {
		t.Errorf("closed %v; seq 1 open %v", closed, m.Comms()[0].IsOpen(1))
	}
	if c := m.Observe(&trace.Event{Kind: trace.Send, Pid: 1, Comm: 0xa}, 0); c != nil {
		t.Error("a Send matched")
	}
	if c := call(m, 3, 0xc, 1); c != nil {
		t.Error("a call on a communicator never created matched")
	}
	if got := m.Comms()[0].Name(); got != "2-rank #1" {
		t.Errorf("name %q", got)
	}
}

// A communicator with a rank never recorded keeps at most OpenSeqs
// collectives open, counting the forgotten.
func TestOpenBounded(t *testing.T) {
	m := NewMatcher()
	m.Keep = true
	create(m, 1, 0xa, 0, 2)
	for i := range OpenSeqs + 10 {
		call(m, 1, 0xa, uint64(i))
	}
	c := m.Comms()[0]
	n := 0
	c.Open(func(*Collective) { n++ })
	if n != OpenSeqs || c.Forgotten != 10 || c.Recorded() != 1 {
		t.Errorf("open %d, forgotten %d, recorded %d", n, c.Forgotten, c.Recorded())
	}
}

// Communicators created with a unique id (format 1.2) match by it: two
// pairs of processes creating a 2-rank communicator each, with their own
// ids, are two communicators, named in order of first creation; by
// creation order alone (no ids) the four processes' first 2-rank
// communicators are one.
func TestMatchByUniqueID(t *testing.T) {
	for _, ids := range []bool{true, false} {
		m := NewMatcher()
		for pid := uint32(1); pid <= 4; pid++ {
			ev := trace.Event{Kind: trace.CommInitRankConfig, Flags: trace.FlagReturn, Pid: pid, Comm: 0xa,
				Rank: int32(pid-1) / 2, NRanks: 2}
			if ids {
				ev.SendBuff = 0x1000 + uint64(pid%2)
			}
			m.Observe(&ev, 0)
		}
		var got []string
		for _, c := range m.Comms() {
			got = append(got, fmt.Sprintf("%s %x %d", c.Name(), c.UniqueID, c.Recorded()))
		}
		want := "2-rank #1 1001 2,2-rank #2 1000 2"
		if !ids {
			want = "2-rank #1 0 4"
		}
		if strings.Join(got, ",") != want {
			t.Errorf("ids %v: communicators %q, want %q", ids, got, want)
		}
	}
}
