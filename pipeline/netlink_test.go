package pipeline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

// Two ranks on one host with NCCL's P2P and SHM transports off: each
// step, each rank's all-reduce sends its ring bytes (payload, for two
// ranks) through lo; the NVLink counters stay flat. 64 KiB of lo traffic
// between the steps is nobody's.
func writeNetRecording(t *testing.T) (dir string, steps int, payload uint64) {
	t.Helper()
	steps, payload = 20, 16<<20
	dir = filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	const mono0 = int64(1e9)
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "test", Clock: trace.Clock{Source: "start", MonoNs: mono0, WallNs: 5e9}})
	env := map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1", "NCCL_SOCKET_IFNAME": "lo"}
	var raw []byte // the communicators' creations, then each step's calls before its samples
	for r := range 2 {
		pid := uint32(200 + r)
		w.WriteJSON(trace.RecProcess, trace.Process{Pid: pid, Comm: "python", Rank: r, LocalRank: r, WorldSize: 2, GPU: r,
			NCCLEnv: env, NCCLPath: "/lib/libnccl.so.2"})
		w.WriteJSON(trace.RecGPU, trace.GPU{Index: r, UUID: "GPU-" + string(rune('a'+r))})
		raw = trace.AppendEvent(raw, trace.Event{TsNs: uint64(mono0 + 1000), Pid: pid, Tid: pid, Kind: trace.CommInitRank,
			Flags: trace.FlagReturn, Comm: 0xc0, Rank: int32(r), NRanks: 2, Count: uint64(r) + 1, StackID: -1})
	}
	w.WriteJSON(trace.RecNIC, trace.NIC{Index: 0, Name: "lo", Kind: trace.NICKindNetdev, UnitBytes: 1, CounterBits: 64,
		SelectedBy: "auto: NCCL_SOCKET_IFNAME=lo"})
	var lo uint64 = 1 << 30
	round := uint64(0)
	for s := range steps {
		t0 := mono0 + 10_000_000 + int64(s)*400_000_000 // apart by more than the network link's 150 ms quiet
		for r := range 2 {
			raw = trace.AppendEvent(raw, trace.Event{TsNs: uint64(t0 + int64(r)), Pid: uint32(200 + r), Tid: uint32(200 + r),
				Kind: trace.AllReduce, Comm: 0xc0, Stream: 0x70, Count: payload / 2, DataType: 9, StackID: -1, Peer: -1})
		}
		w.WriteEvents(raw)
		raw = raw[:0]
		for ms := range 400 {
			switch ms {
			case 1, 2:
				lo += payload // two ranks, half the step's bytes each interval
			case 200:
				lo += 64 << 10
			}
			at := t0 + int64(ms)*1_000_000 + 500_000
			w.WriteNICSamples(trace.NICSample{NIC: 0, Flags: trace.SampleOK, Round: round, MonoBeforeNs: at, MonoAfterNs: at + 2000,
				TxBytes: lo, RxBytes: lo})
			round++
			for g := range 2 {
				w.WriteSamples(trace.Sample{GPU: uint32(g), Flags: trace.SampleOK, MonoBeforeNs: at, MonoAfterNs: at})
			}
		}
		w.Flush() // as the recorder does, every 500 ms: the file stays in time order
	}
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: trace.Clock{Source: "stop", MonoNs: mono0 + 9e9, WallNs: 14e9}, Reason: "duration"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, steps, payload
}

// report.json, report.txt, the profile and the timeline show the network
// link: bytes per link, per NIC and per op, pprof samples labelled
// link=net, and the NIC's counter track.
func TestNetworkLinkOutputs(t *testing.T) {
	dir, steps, payload := writeNetRecording(t)
	reportschema.WriteAll(t, dir, false)
	r, err := report.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(2*steps) * payload
	near := func(got, want uint64) bool {
		return float64(got) > 0.99*float64(want) && float64(got) < 1.01*float64(want)
	}
	ar := r.Ops[0]
	if ar.Op != "AllReduce" || ar.Calls != uint64(2*steps) || !near(ar.NetTxBytes, want) || ar.TxBytes != 0 {
		t.Errorf("AllReduce %+v: want %d calls, %d network bytes, none on NVLink", ar, 2*steps, want)
	}
	n := r.Net
	if n == nil || len(n.NICs) != 1 || n.NICs[0].Name != "lo" || n.NICs[0].TxBytes != n.TxBytes || n.SampleHz < 999 {
		t.Fatalf("net %+v", n)
	}
	// Each step is a burst of its all-reduces, and the 64 KiB after it
	// one of nobody's.
	labels := map[string]int{}
	for _, b := range n.BurstList {
		labels[b.Label]++
		if b.GPU != -1 {
			t.Errorf("network burst on GPU %d", b.GPU)
		}
	}
	if n.Bursts != uint64(2*steps) || labels["AllReduce"] != steps || labels["unattributed"] != steps {
		t.Errorf("%d network bursts, labels %v", n.Bursts, labels)
	}
	if u := n.Unattributed.NetTxBytes; u < uint64(steps-1)*64<<10 || u > uint64(steps)*64<<10+8<<10 {
		t.Errorf("unattributed network tx %d, want the 64 KiB between steps, %d times", u, steps)
	}
	if len(r.Links) != 2 || r.Links[1].Link != "net" || !near(r.Links[1].AttributedTx, want) || r.Links[0].TxBytes != 0 {
		t.Errorf("links %+v", r.Links)
	}
	if len(r.Processes) != 2 || !near(r.Processes[0].NetTxBytes, want/2) {
		t.Errorf("processes %+v", r.Processes)
	}
	text, _ := os.ReadFile(filepath.Join(dir, "report.txt"))
	for _, s := range []string{"bytes per link", "net: the sampled NICs summed (lo)", "auto: NCCL_SOCKET_IFNAME=lo"} {
		if !strings.Contains(string(text), s) {
			t.Errorf("report.txt lacks %q:\n%s", s, text)
		}
	}
	checkNetProfile(t, dir, want)
	checkNetTimeline(t, dir, steps)
}

func checkNetProfile(t *testing.T, dir string, want uint64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "profile.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, st := range p.SampleType {
		idx[st.Type] = i
	}
	var net, calls, un int64
	for _, s := range p.Sample {
		switch {
		case s.Label["link"][0] == "net" && s.Label["op"][0] == "unattributed":
			un += s.Value[idx["net_tx"]]
		case s.Label["link"][0] == "net":
			net += s.Value[idx["net_tx"]]
			if s.Value[idx["calls"]] != 0 || s.Value[idx["nvlink_tx"]] != 0 {
				t.Errorf("a network sample holds calls or NVLink bytes: %v", s.Value)
			}
		default:
			calls += s.Value[idx["calls"]]
		}
	}
	if float64(net) < 0.99*float64(want) || calls != 40 || un == 0 {
		t.Errorf("profile: %d network bytes on calls (want %d), %d calls, %d unattributed", net, want, calls, un)
	}
}

func checkNetTimeline(t *testing.T, dir string, steps int) {
	t.Helper()
	var f timeline.File
	data, err := os.ReadFile(filepath.Join(dir, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range f.TraceEvents {
		switch {
		case e.Ph == "C":
			count[e.Name]++
		case e.Cat == "net-burst", e.Cat == "net":
			count[e.Cat]++
		}
	}
	if count["NIC lo GB/s"] == 0 || count["network GB/s"] == 0 || count["net-burst"] != 2*steps || count["net"] != 2*steps {
		t.Errorf("timeline events %v: want NIC and network counters, %d network bursts, %d transfers", count, 2*steps, 2*steps)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
