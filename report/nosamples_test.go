package report_test

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// A recording without NVLink samples (no NVML): calls and payload per op
// still count, link-byte fields are 0, and only collectives count as calls.
func TestReportWithoutSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteJSON(trace.RecStart, trace.Start{Clock: trace.Clock{MonoNs: 1_000, WallNs: 5_000}}))
	must(w.WriteJSON(trace.RecProcess, trace.Process{Pid: 7, Comm: "worker", Rank: 1, LocalRank: 1, WorldSize: 4, GPU: -1}))
	ev := func(k trace.Kind, ts, count uint64, dt trace.DataType, depth int32) trace.Event {
		return trace.Event{TsNs: ts, Pid: 7, Tid: 7, Kind: k, Count: count, DataType: dt, Comm: 0xc0, Stream: 1,
			StackID: -1, Peer: 0, GroupDepth: depth}
	}
	var raw []byte
	for _, e := range []trace.Event{
		{TsNs: 2_000, Pid: 7, Kind: trace.CommInitRank, Flags: trace.FlagReturn, Comm: 0xc0, Rank: 1, NRanks: 4},
		{TsNs: 2_500, Pid: 7, Kind: trace.LibraryLoad},
		ev(trace.AllReduce, 3_000, 1000, 9, 0), // 2000 bytes
		ev(trace.AllGather, 4_000, 10, 7, 0),   // sendcount 10 x 4
		ev(trace.Bcast, 5_000, 8, 0, 0),        // counts as Broadcast
		ev(trace.Broadcast, 5_500, 8, 0, 0),    // NCCL's ncclBcast calls ncclBroadcast: one collective
		ev(trace.Broadcast, 5_800, 8, 0, 0),    // a second one, of its own
		ev(trace.GroupStart, 6_000, 0, -1, 0),
		ev(trace.Send, 6_100, 100, 4, 1), // 800 bytes
		ev(trace.Recv, 6_200, 100, 4, 1),
		ev(trace.GroupEnd, 6_300, 0, -1, 1),
	} {
		raw = trace.AppendEvent(raw, e)
	}
	must(w.WriteEvents(raw))
	must(w.WriteJSON(trace.RecStop, trace.Stop{Clock: trace.Clock{MonoNs: 10_000, WallNs: 14_000}}))
	must(w.Close())

	out := reportschema.Run(t, dir, correlate.Options{})
	r := out.Report
	want := map[string][2]uint64{"AllReduce": {1, 2000}, "AllGather": {1, 40}, "Broadcast": {2, 16}, "Send": {1, 800}, "Recv": {1, 800}}
	for _, o := range r.Ops {
		w := want[o.Op]
		if o.Calls != w[0] || o.PayloadBytes != w[1] || o.TxBytes != 0 || o.RxBytes != 0 {
			t.Errorf("%s: %+v, want %d calls, %d payload bytes, no link bytes", o.Op, o, w[0], w[1])
		}
	}
	if r.DurationNs != 9_000 || len(r.GPUs) != 0 || r.Bursts.Count != 0 || r.Unattributed.Link != (report.Link{}) {
		t.Errorf("duration %d gpus %v bursts %+v unattributed %+v", r.DurationNs, r.GPUs, r.Bursts, r.Unattributed)
	}
	if len(r.Processes) != 1 || r.Processes[0].Rank != 1 || r.Processes[0].Calls != 6 {
		t.Errorf("processes %+v", r.Processes)
	}
	if len(r.Comms) != 1 || r.Comms[0].NRanks != 4 || r.Comms[0].Rank != 1 {
		t.Errorf("comms %+v", r.Comms)
	}
	if r.Analysis.UnmappedCalls != 6 {
		t.Errorf("unmapped calls %d, want 6 (no sampled GPU)", r.Analysis.UnmappedCalls)
	}
}
