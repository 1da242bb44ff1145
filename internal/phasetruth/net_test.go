package phasetruth

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// The network truth sums a round's NICs, maps their monotonic times to the
// wall clock through the start pair, and brackets the phase with good
// rounds only.
func TestNetTxDuring(t *testing.T) {
	tr := &trace.Trace{Start: trace.Start{Clock: trace.Clock{MonoNs: 1e9, WallNs: 101e9}}}
	tx := [2]uint64{}
	for r := range uint64(30) { // a round every 100 ms from wall 100.0 s
		if r >= 10 && r < 20 {
			tx[0] += 1000
			tx[1] += 10
		}
		for nic := range 2 {
			s := trace.NICSample{NIC: uint32(nic), Flags: trace.SampleOK, Round: r, MonoAfterNs: int64(r) * 100e6, TxBytes: tx[nic]}
			if r == 15 && nic == 1 {
				s.Flags = 0 // a failed read: the round is no truth
			}
			tr.NICSamples = append(tr.NICSamples, s)
		}
	}
	reads := NetReads(tr)
	if len(reads) != 30 || reads[0].WallS != 100 || reads[15].OK || reads[29].TxB != 10100 {
		t.Fatalf("reads %+v", reads)
	}
	// Phase from 100.95 s to 101.95 s: rounds 9 (before) and 20 (end + 150 ms).
	if got := NetTxDuring(reads, 100.95, 101.95); got != 10100 {
		t.Errorf("phase moved %.0f, want 10100", got)
	}
	ps := &Phases{World: 2, Phases: []Phase{{Name: "ar", Ops: map[string]OpCalls{"AllReduce": {Calls: 10, PayloadBytes: 1}},
		StartWall: 100.95, EndWall: 101.95}}}
	if truth := ps.MeasureNet(tr); truth["AllReduce"] != 10100 || ps.Phases[0].Moved != 10100 {
		t.Errorf("truth %v, moved %.0f", truth, ps.Phases[0].Moved)
	}
}
