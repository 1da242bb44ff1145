package correlate_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// Torch symmetric memory names its group by a string, hashed into comm
// (FlagCommName): the group's size is the processes seen calling on it,
// not the world of the processes' environment (4 here) nor one process's
// view. A group seen from one process alone takes the environment's size.
// Each collective moves its peer-to-peer bytes (docs/attribution.md).
func TestSymmMemGroupSizeFromRanksSeen(t *testing.T) {
	const tp, solo = 0x7a11, 0x5010 // group name hashes
	const count = 3 << 18           // bf16 elements: 1.5 MiB
	var evs []trace.Event
	ts := uint64(100)
	call := func(pid uint32, k trace.Kind, group uint64, count uint64) {
		ts += 1000
		evs = append(evs, trace.Event{TsNs: ts, Pid: pid, Tid: pid, Kind: k, Flags: trace.FlagCommName,
			Comm: group, Count: count, DataType: bf16, Peer: -1, RedOp: -1, Rank: -1, NRanks: -1})
	}
	for _, k := range []trace.Kind{trace.SymmMemOneShotAllReduce, trace.SymmMemTwoShotAllReduce} {
		for pid := uint32(1); pid <= 3; pid++ {
			call(pid, k, tp, count)
		}
	}
	for pid := uint32(1); pid <= 3; pid++ {
		call(pid, trace.SymmMemReduceScatter, tp, count/3) // the output: per rank
	}
	call(4, trace.SymmMemOneShotAllReduce, solo, count)
	dir := writeTrace(t, func(w *trace.Writer) {
		for pid := uint32(1); pid <= 4; pid++ {
			w.WriteJSON(trace.RecProcess, trace.Process{Pid: pid, GPU: int(pid - 1), Rank: int(pid - 1), LocalRank: -1, WorldSize: 4})
			w.WriteJSON(trace.RecGPU, trace.GPU{Index: int(pid - 1)})
		}
		writeEvents(w, evs)
	})
	var got callList
	if _, err := correlate.Analyze(dir, correlate.Options{NoCalibrate: true}, &got); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, fmt.Sprintf("%d %s %d/%d tx %.0f rx %.0f msg %d %s", c.Pid, c.Kind, c.Rank, c.NRanks, c.ExpTx, c.ExpRx, c.Msg, c.Protocol))
	}
	slices.Sort(lines) // calls come per GPU
	var want []string
	for pid := 1; pid <= 3; pid++ {
		want = append(want,
			fmt.Sprintf("%d SymmMemOneShotAllReduce -1/3 tx 3145728 rx 3145728 msg 1572864 Simple", pid), // (n-1) x S
			fmt.Sprintf("%d SymmMemReduceScatter -1/3 tx 1048576 rx 1048576 msg 1572864 Simple", pid),    // (n-1) x S/n
			fmt.Sprintf("%d SymmMemTwoShotAllReduce -1/3 tx 2097152 rx 2097152 msg 1572864 Simple", pid)) // 2(n-1)/n x S
	}
	// Alone on its group: the environment's rank 3 of 4.
	want = append(want, "4 SymmMemOneShotAllReduce 3/4 tx 4718592 rx 4718592 msg 1572864 Simple")
	diff(t, lines, want)
}

func diff(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d calls, want %d:\n%q\nwant\n%q", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("call %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}
