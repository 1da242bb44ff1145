package merge

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

// netHost writes host name's recording of one rank of a 2-rank
// communicator spread over two hosts: each step an 8 MiB all-reduce, whose
// ring leaves the host once, so the host's NIC sends and receives one
// rank's ring bytes (8 MiB) over two 1 ms intervals; steps 200 ms apart.
func netHost(t *testing.T, name string, t0 int64, rank int32, steps int) string {
	t.Helper()
	const payload = 8 << 20
	dir := filepath.Join(t.TempDir(), name)
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	start := trace.Clock{Source: "start", MonoNs: t0 - 1_000_000, WallNs: 1_800_000_000_000_000_000}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "linkprof", Host: name, Clock: start})
	w.WriteJSON(trace.RecNIC, trace.NIC{Index: 0, Name: "eth0", Kind: trace.NICKindNetdev, UnitBytes: 1, CounterBits: 64,
		SelectedBy: "auto: up, not virtual"})
	w.WriteJSON(trace.RecProcess, trace.Process{Pid: 1, Comm: "train", Rank: -1, LocalRank: -1, WorldSize: -1, GPU: -1})
	w.WriteEvents(trace.AppendEvent(nil, trace.Event{TsNs: uint64(t0) - 500_000, Pid: 1, Tid: 1, Kind: trace.CommInitRank,
		Flags: trace.FlagReturn, Comm: 0xc0, SendBuff: 0xabc, Rank: rank, NRanks: 2, StackID: -1}))
	var tx uint64 = 5 << 30
	round := uint64(0)
	for s := range steps {
		at := t0 + int64(s)*200_000_000
		w.WriteEvents(trace.AppendEvent(nil, trace.Event{TsNs: uint64(at), Pid: 1, Tid: 1, Kind: trace.AllReduce, Comm: 0xc0,
			Stream: 0x70, Count: payload / 4, DataType: 7, StackID: -1, Peer: -1, Rank: -1, NRanks: -1}))
		for ms := range 200 {
			if ms == 1 || ms == 2 {
				tx += payload / 2
			}
			m := at + int64(ms)*1_000_000 + 500_000
			w.WriteNICSamples(trace.NICSample{NIC: 0, Flags: trace.SampleOK, Round: round, MonoBeforeNs: m, MonoAfterNs: m + 1000,
				TxBytes: tx, RxBytes: tx})
			round++
		}
		w.Flush()
	}
	stop := trace.Clock{Source: "stop", MonoNs: t0 + int64(steps)*200_000_000, WallNs: start.WallNs + int64(steps)*200_000_000 + 1_000_000}
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: stop, Reason: "duration"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Merged, each host's NICs keep their host (index MergedNIC, host name),
// their samples come onto the reference's clock, and each host's NICs are
// that host's network link: the communicator spans the hosts, so each
// rank's network share is its ring bytes, on its own host's link.
func TestMergedNICsAreTheirHostsLinks(t *testing.T) {
	const steps = 20
	a := netHost(t, "a", 5e9, 0, steps)
	b := netHost(t, "b", 7e9, 1, steps)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Merge(Options{Dirs: []string{a, b}, Out: out, Clock: ClockCollectives}); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.NICs) != 2 || tr.NICs[0].Index != 0 || tr.NICs[0].Host != "a" || tr.NICs[1].Index != trace.MergedNIC(1, 0) ||
		tr.NICs[1].Host != "b" {
		t.Fatalf("NIC records %+v", tr.NICs)
	}
	var firstB int64
	for _, s := range tr.NICSamples {
		if h, nic := trace.SplitNIC(s.NIC); h == 1 && nic == 0 {
			firstB = s.MonoBeforeNs
			break
		}
	}
	if firstB != tr.NICSamples[0].MonoBeforeNs {
		t.Errorf("host b's first NIC read at %d, host a's at %d: want the same moment on the reference's clock", firstB,
			tr.NICSamples[0].MonoBeforeNs)
	}
	r := reportschema.Run(t, out, correlate.Options{}).Report
	ring := uint64(8 << 20)
	ar := r.Ops[0]
	if ar.Calls != 2*steps || ar.NetTxBytes < 2*steps*ring*99/100 || ar.NetTxBytes > 2*steps*ring*101/100 {
		t.Errorf("AllReduce %+v: want %d calls, %d network bytes", ar, 2*steps, 2*steps*ring)
	}
	if r.Net == nil || len(r.Net.NICs) != 2 || r.Net.TxBytes != r.Net.NICs[0].TxBytes+r.Net.NICs[1].TxBytes {
		t.Fatalf("net %+v", r.Net)
	}
	// net sums the hosts' bytes, but its read rate and duty cycle are
	// each link's, as its NICs' are: two hosts do not read twice as often.
	if a, b := r.Net.NICs[0], r.Net.NICs[1]; a.Host != "a" || b.Host != "b" {
		t.Errorf("NICs' hosts %q and %q, want a and b", a.Host, b.Host)
	}
	if hz := r.Net.NICs[0].SampleHz; math.Abs(r.Net.SampleHz-hz) > 0.01*hz {
		t.Errorf("net reads at %.1f/s, its NICs at %.1f/s each", r.Net.SampleHz, hz)
	}
	// The hosts' links were busy at the same moments: each one's duty
	// cycle is host a's own.
	own := reportschema.Run(t, a, correlate.Options{}).Report.Net
	if own.DutyCycle <= 0 || math.Abs(r.Net.DutyCycle-own.DutyCycle) > 0.05*own.DutyCycle {
		t.Errorf("net duty cycle %.4f, host a's own %.4f", r.Net.DutyCycle, own.DutyCycle)
	}
	// Each network burst names its host: both hosts burst at the same
	// moments, so the list holds as many of a's as of b's. A single
	// recording's bursts name none.
	perHost := map[string]int{}
	for _, b := range r.Net.BurstList {
		perHost[b.Host]++
	}
	if len(perHost) != 2 || perHost["a"] == 0 || perHost["a"] != perHost["b"] {
		t.Errorf("network bursts per host %v, want as many on a as on b and no other", perHost)
	}
	for _, b := range own.BurstList {
		if b.Host != "" {
			t.Errorf("a single recording's network burst names host %q", b.Host)
		}
	}
}

// A merged trace's timeline has a network track per host: each host's link
// rate on its own counter, not the hosts' reads interleaved on one track
// named as their sum (both hosts' NICs are eth0, sending 4 MiB/ms at the
// same moments).
func TestMergedTimelineHasANetworkTrackPerHost(t *testing.T) {
	const steps = 5
	a := netHost(t, "a", 5e9, 0, steps)
	b := netHost(t, "b", 7e9, 1, steps)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Merge(Options{Dirs: []string{a, b}, Out: out, Clock: ClockCollectives}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := pipeline.Run(out, correlate.Options{}, &buf); err != nil {
		t.Fatal(err)
	}
	var f timeline.File
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	tracks := map[uint64]string{}
	links, nics := map[uint64]int{}, map[uint64]int{}
	for _, e := range f.TraceEvents {
		switch {
		case e.Ph == "M" && e.Name == "process_name":
			tracks[e.Pid], _ = e.Args["name"].(string)
		case e.Ph == "C" && e.Name == "network GB/s":
			links[e.Pid]++
		case e.Ph == "C" && e.Name == "NIC eth0 GB/s":
			nics[e.Pid]++
		}
	}
	if len(links) != 2 || len(nics) != 2 {
		t.Fatalf("network counters on tracks %v, NIC counters on %v: want each on both hosts' own", links, nics)
	}
	for pid, n := range links {
		if name := tracks[pid]; !strings.Contains(name, "host a") && !strings.Contains(name, "host b") || n != 2*steps {
			t.Errorf("track %q has %d link counter points, want %d (a rise and a fall per step)", name, n, 2*steps)
		}
		if nics[pid] != 2*steps {
			t.Errorf("track %q has %d NIC counter points, want %d", tracks[pid], nics[pid], 2*steps)
		}
	}
}
