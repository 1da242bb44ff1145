package correlate_test

import (
	"math"
	"sync"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// linkList keeps NVLink calls and network calls apart (a LinkSink).
type linkList struct {
	calls, net []correlate.Call
	netUn      [2]float64
	netBursts  []correlate.Burst
	nvIvs      int
}

func (l *linkList) Call(c *correlate.Call)       { l.calls = append(l.calls, *c) }
func (l *linkList) Interval(*correlate.Interval) { l.nvIvs++ }
func (l *linkList) Burst(*correlate.Burst)       {}
func (l *linkList) LinkCall(c *correlate.Call)   { l.net = append(l.net, *c) }
func (l *linkList) LinkBurst(b *correlate.Burst) { l.netBursts = append(l.netBursts, *b) }
func (l *linkList) LinkInterval(iv *correlate.Interval) {
	l.netUn[0] += iv.UnTx
	l.netUn[1] += iv.UnRx
}

// netRanks is a trace of ranks on one host talking over NCCL's network
// transport: each step every rank calls a collective, and the host's NICs
// (lo, and a second NIC carrying a quarter) count every rank's ring bytes,
// sent and received, over two 1 ms intervals; steps are 200 ms apart.
type netRanks struct {
	ranks, steps int
	payload      uint64
	env          map[string]string
	localWorld   int
	world        int
	nvlinkBytes  uint64 // per rank and step on NVLink (a multi-host ring's local hops)
	netShare     float64
	kind         trace.Kind
	// attached: the recorder attached after the communicator was created,
	// and the processes' environment names no rank (their ranks guessed).
	attached bool
}

func (n netRanks) write(t *testing.T) string {
	t.Helper()
	var evs []trace.Event // per step, written before its samples
	steps := make([]func(w *trace.Writer), 0, n.steps)
	for r := range n.ranks {
		if n.attached {
			break
		}
		pid := uint32(100 + r)
		evs = append(evs, trace.Event{TsNs: 1_000_000, Pid: pid, Tid: pid, Kind: trace.CommInitRank, Flags: trace.FlagReturn,
			Comm: 0xc0, Rank: int32(r), NRanks: int32(n.world), Count: uint64(r) + 1})
	}
	ring := float64(correlate.RingWire(n.kind, n.payload, 0, n.world, 0).Tx)
	var nics []trace.NICSample
	var gpus []trace.Sample
	nicTx := [2]uint64{1 << 30, 5 << 30} // counters that did not start at zero
	kib := make([]uint64, n.ranks)
	round := uint64(0)
	sample := func(at int64) {
		for i, tx := range nicTx {
			nics = append(nics, trace.NICSample{NIC: uint32(i), Flags: trace.SampleOK, Round: round, MonoBeforeNs: at + int64(i),
				MonoAfterNs: at + int64(i) + 1, TxBytes: tx, RxBytes: tx + 7})
		}
		round++
		for g := range n.ranks {
			gpus = append(gpus, trace.Sample{GPU: uint32(g), Flags: trace.SampleOK, MonoBeforeNs: at, MonoAfterNs: at,
				DataTxKiB: kib[g], DataRxKiB: kib[g]})
		}
	}
	for s := range n.steps {
		t0 := int64(10_000_000 + s*200_000_000) // steps apart by more than the network link's quiet gap
		for r := range n.ranks {
			pid := uint32(100 + r)
			evs = append(evs, trace.Event{TsNs: uint64(t0 + int64(r)), Pid: pid, Tid: pid, Kind: n.kind, Comm: 0xc0,
				Stream: 0x70, Count: n.payload / 2, DataType: bf16, StackID: -1, Peer: -1})
		}
		stepEvs := evs
		evs = nil
		first := len(nics)
		firstGPU := len(gpus)
		for ms := range 200 {
			if ms == 1 || ms == 2 {
				host := uint64(float64(n.ranks) * ring * n.netShare / 2)
				nicTx[0] += host - host/4
				nicTx[1] += host / 4
				for g := range kib {
					kib[g] += n.nvlinkBytes / 2 / 1024
				}
			}
			sample(t0 + int64(ms)*1_000_000 + 500_000)
		}
		stepGPUs, stepNICs := gpus[firstGPU:], nics[first:]
		steps = append(steps, func(w *trace.Writer) {
			writeEvents(w, stepEvs)
			w.WriteSamples(stepGPUs...)
			w.WriteNICSamples(stepNICs...)
			w.Flush() // as the recorder does, every 500 ms: the file stays in time order
		})
	}
	return writeTrace(t, func(w *trace.Writer) {
		for r := range n.ranks {
			p := trace.Process{Pid: uint32(100 + r), Comm: "python", GPU: r, Rank: r, LocalRank: r,
				WorldSize: n.world, LocalWorldSize: n.localWorld, NCCLEnv: n.env, NCCLPath: "/lib/libnccl.so.2"}
			if n.attached {
				p.Rank, p.LocalRank, p.WorldSize, p.LocalWorldSize = -1, -1, -1, -1
			}
			w.WriteJSON(trace.RecProcess, p)
			w.WriteJSON(trace.RecGPU, trace.GPU{Index: r, UUID: "GPU-" + string(rune('a'+r))})
		}
		w.WriteJSON(trace.RecNIC, trace.NIC{Index: 0, Name: "lo", Kind: trace.NICKindNetdev})
		w.WriteJSON(trace.RecNIC, trace.NIC{Index: 1, Name: "eth0", Kind: trace.NICKindNetdev, SpeedBps: 25e9 / 8})
		for _, step := range steps {
			step(w)
		}
	})
}

func analyzeLinks(t *testing.T, dir string, shards int) (*correlate.Result, *linkList) {
	t.Helper()
	lists := make([]linkList, shards)
	sinks := make([]correlate.Sink, shards)
	for i := range sinks {
		sinks[i] = &lists[i]
	}
	res, err := correlate.AnalyzeShards(dir, correlate.Options{}, sinks)
	if err != nil {
		t.Fatal(err)
	}
	var all linkList
	for _, l := range lists {
		all.calls = append(all.calls, l.calls...)
		all.net = append(all.net, l.net...)
		all.netBursts = append(all.netBursts, l.netBursts...)
		all.netUn[0] += l.netUn[0]
		all.netUn[1] += l.netUn[1]
	}
	return res, &all
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.01*want }

// Ranks of one host with NCCL_P2P_DISABLE and NCCL_SHM_DISABLE: every
// collective's ring bytes go to the network link (shared by the ranks),
// none is expected on NVLink, and each collective is counted once.
func TestNetworkTransportOnOneHost(t *testing.T) {
	env := map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1", "NCCL_NET": "Socket", "NCCL_SOCKET_IFNAME": "lo"}
	for _, kind := range []trace.Kind{trace.AllReduce, trace.AllGather} {
		n := netRanks{ranks: 2, world: 2, steps: 30, payload: 8 << 20, env: env, netShare: 1, kind: kind}
		dir := n.write(t)
		ring := correlate.RingWire(kind, n.payload, 0, 2, 0).Tx
		for _, shards := range []int{1, 2, 3} {
			res, got := analyzeLinks(t, dir, shards)
			if res.Stats.Calls != uint64(n.ranks*n.steps) || len(got.calls) != n.ranks*n.steps || len(got.net) != n.ranks*n.steps {
				t.Fatalf("%v, %d engines: %d calls counted, %d NVLink calls, %d network calls; want %d of each",
					kind, shards, res.Stats.Calls, len(got.calls), len(got.net), n.ranks*n.steps)
			}
			perRank := map[int]float64{}
			for _, c := range got.net {
				if c.Link != correlate.Net || c.Kind != kind || c.GPU != c.Rank {
					t.Fatalf("network call %+v", c)
				}
				perRank[c.Rank] += c.TxBytes
			}
			for _, c := range got.calls {
				if c.Link != correlate.NVLink || c.ExpTx != 0 || c.TxBytes != 0 {
					t.Fatalf("NVLink call %+v: want none expected, none attributed (P2P is off)", c)
				}
			}
			for r := range n.ranks {
				if want := float64(n.steps) * ring; !near(perRank[r], want) {
					t.Errorf("%v, %d engines: rank %d got %.0f network bytes, want %.0f", kind, shards, r, perRank[r], want)
				}
			}
			if res.Net == nil || !near(res.Net.TxBytes, float64(n.ranks*n.steps)*ring) || res.Net.Failed != 0 || got.netUn[0] > 0.01*res.Net.TxBytes {
				t.Errorf("%v, %d engines: network link %+v, unattributed %v", kind, shards, res.Net, got.netUn)
			}
			if len(got.netBursts) != n.steps || got.netBursts[0].Label() != kind.Op() || got.netBursts[0].GPU != -1 {
				t.Errorf("%v, %d engines: %d network bursts, want %d labelled %s", kind, shards, len(got.netBursts), n.steps, kind.Op())
			}
			if len(res.GPUs) != 2 {
				t.Errorf("GPU summaries %+v: the network link is not a GPU", res.GPUs)
			}
		}
	}
}

// A call whose rank is guessed counts once among the guessed calls, as
// among the calls, though its network share is routed as a call of its
// own (recorder attached after the communicator's creation, no RANK in
// the environment: one rank per GPU is guessed).
func TestGuessedCallsCountOnceWithANetworkShare(t *testing.T) {
	env := map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1", "NCCL_NET": "Socket", "NCCL_SOCKET_IFNAME": "lo"}
	n := netRanks{ranks: 2, world: 2, steps: 10, payload: 8 << 20, env: env, netShare: 1, kind: trace.AllReduce, attached: true}
	res, got := analyzeLinks(t, n.write(t), 1)
	want := uint64(n.ranks * n.steps)
	if len(got.net) != int(want) || res.Stats.Calls != want || res.Stats.GuessedCalls != want {
		t.Errorf("%d network shares, %d calls, %d of them guessed: want %d, %d, %d", len(got.net), res.Stats.Calls,
			res.Stats.GuessedCalls, want, want, want)
	}
}

// Each NIC is counted on its own; the link is their sum.
func TestNICSummaries(t *testing.T) {
	n := netRanks{ranks: 2, world: 2, steps: 10, payload: 4 << 20, netShare: 1, kind: trace.AllReduce,
		env: map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1"}}
	res, _ := analyzeLinks(t, n.write(t), 1)
	if len(res.NICs) != 2 || res.NICs[0].Name != "lo" || res.NICs[1].Name != "eth0" || len(res.Meta.NICs) != 2 {
		t.Fatalf("NICs %+v", res.NICs)
	}
	sum := res.NICs[0].TxBytes + res.NICs[1].TxBytes
	if !near(res.NICs[1].TxBytes, sum/4) || sum != res.Net.TxBytes || res.NICs[0].Samples != res.Net.Samples {
		t.Errorf("NIC tx %.0f + %.0f, link %.0f (%d samples, NIC 0 %d)", res.NICs[0].TxBytes, res.NICs[1].TxBytes,
			res.Net.TxBytes, res.Net.Samples, res.NICs[0].Samples)
	}
}

// A communicator with ranks on other hosts (4 ranks, 2 here, the job's
// local ranks all recorded): the ring leaves and enters the host once, so
// the host's NICs carry one rank's ring bytes, half per local rank; NVLink
// keeps its own expectation.
func TestCommunicatorAcrossHosts(t *testing.T) {
	n := netRanks{ranks: 2, world: 4, localWorld: 2, steps: 30, payload: 8 << 20, netShare: 0.5, kind: trace.AllReduce,
		nvlinkBytes: 6 << 20}
	res, got := analyzeLinks(t, n.write(t), 2)
	ring := correlate.RingWire(trace.AllReduce, n.payload, 0, 4, 0).Tx
	var net, nv float64
	for _, c := range got.net {
		net += c.TxBytes
	}
	for _, c := range got.calls {
		nv += c.TxBytes
	}
	if want := float64(n.steps) * ring; !near(net, want) {
		t.Errorf("network bytes %.0f, want %.0f (one rank's ring bytes per step)", net, want)
	}
	if want := float64(n.ranks*n.steps) * float64(n.nvlinkBytes); !near(nv, want) {
		t.Errorf("NVLink bytes %.0f, want %.0f", nv, want)
	}
	if res.Stats.Calls != uint64(n.ranks*n.steps) {
		t.Errorf("%d calls", res.Stats.Calls)
	}
	// Without calibration the fit does not rescale: each rank expects half
	// a ring's bytes on the network (8 MiB messages: Simple, factor 1).
	var l linkList
	if _, err := correlate.Analyze(n.write(t), correlate.Options{NoCalibrate: true}, &l); err != nil {
		t.Fatal(err)
	}
	for _, c := range l.net {
		if c.ExpTx != ring/2 || c.ExpRx != ring/2 || !c.Complete {
			t.Fatalf("network call expects %.0f/%.0f bytes (complete %v), want %.0f", c.ExpTx, c.ExpRx, c.Complete, ring/2)
		}
	}
	if len(l.net) != n.ranks*n.steps {
		t.Errorf("%d network calls", len(l.net))
	}
}

// A sink that is no LinkSink sees what it saw before: NVLink only.
func TestPlainSinkSeesNVLinkOnly(t *testing.T) {
	n := netRanks{ranks: 2, world: 2, steps: 5, payload: 1 << 20, netShare: 1, kind: trace.AllReduce,
		env: map[string]string{"NCCL_P2P_DISABLE": "1", "NCCL_SHM_DISABLE": "1"}}
	var l plainList
	if _, err := correlate.Analyze(n.write(t), correlate.Options{}, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.calls) != 10 || l.ivs == 0 {
		t.Errorf("%d calls, %d intervals", len(l.calls), l.ivs)
	}
	for _, c := range l.calls {
		if c.Link != correlate.NVLink {
			t.Fatalf("a plain sink got %+v", c)
		}
	}
}

type plainList struct {
	mu    sync.Mutex
	calls []correlate.Call
	ivs   int
}

func (l *plainList) Call(c *correlate.Call) {
	l.mu.Lock()
	l.calls = append(l.calls, *c)
	l.mu.Unlock()
}
func (l *plainList) Interval(iv *correlate.Interval) {
	if iv.Link != correlate.NVLink || iv.GPU < 0 {
		panic("a plain sink got a network interval")
	}
	l.ivs++
}
func (l *plainList) Burst(b *correlate.Burst) {
	if b.Link != correlate.NVLink {
		panic("a plain sink got a network burst")
	}
}
