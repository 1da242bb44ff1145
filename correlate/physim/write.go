package physim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// jsonRec is a metadata record due at a time of the recording.
type jsonRec struct {
	at int64
	t  trace.RecordType
	v  any
}

func (w *world) record(at int64, t trace.RecordType, v any) {
	w.recs = append(w.recs, jsonRec{at, t, v})
}

func (w *world) newComm() *comm {
	c := &comm{id: len(w.comms), lane: len(w.comms)}
	w.comms = append(w.comms, c)
	return c
}

func newWorld(s Scenario) *world {
	rng := rand.New(rand.NewPCG(s.Seed, 0x9e3779b97f4a7c15))
	w := &world{rng: rng, n: s.Ranks, scale: s.Scale, proto: drawProtocols(rng), phase: -1,
		baseBps: 250e9 + 130e9*rng.Float64(), truth: newTruth(s.Ranks)}
	w.start = 3_600_000_000_000 + rng.Int64N(1_000_000_000_000)
	w.clock = &clocks{startMono: w.start, offset: 1_780_000_000_000_000_000 + rng.Int64N(1e15),
		driftPPM: 40*rng.Float64() - 20}
	w.eng = &engine{capBps: 0.95 * peakBps, now: w.start}
	for range s.Ranks {
		w.host = append(w.host, w.start+20_000_000+rng.Int64N(10_000_000))
		w.eng.links = append(w.eng.links, &link{})
	}
	w.truth.Scenario, w.truth.Seed, w.truth.Protocols, w.truth.StartNs = s.Name, s.Seed, w.proto, w.start
	return w
}

// peakBps is an H200's NVLink bandwidth per direction (18 links).
const peakBps = 450e9

// Write simulates s and records it into the new folder dir, as linkprof
// record would have; it returns what really happened.
func Write(dir string, s Scenario) (*Truth, error) {
	s, err := s.check()
	if err != nil {
		return nil, err
	}
	w := newWorld(s)
	presets[s.Name](w)
	w.sync()
	end := w.latest() + 30_000_000
	w.truth.EndNs = end
	w.truth.charge(w.eng.links)
	samples := w.sample(end)
	tw, err := trace.Create(dir, false)
	if err != nil {
		return nil, err
	}
	if err := w.write(tw, s, samples, end); err != nil {
		tw.Close()
		return nil, err
	}
	return w.truth, tw.Close()
}

// sample reads every GPU's counters from just after the start to end and
// books the counter deltas in the truth.
func (w *world) sample(end int64) []trace.Sample {
	var all []trace.Sample
	for g, l := range w.eng.links {
		s := &sampler{rng: w.rng, gpu: g, clock: w.clock, rawF: 1.05 + 0.03*w.rng.Float64(),
			base: [2]uint64{w.rng.Uint64N(1 << 36), w.rng.Uint64N(1 << 36)}}
		got := s.run(l, w.start+2_000_000+w.rng.Int64N(500_000), end)
		var first, last *trace.Sample
		for i := range got {
			if got[i].OK() {
				first = cmp.Or(first, &got[i])
				last = &got[i]
			}
		}
		if first != nil {
			w.truth.GPUs[g].CounterTxBytes = float64(last.DataTxKiB-first.DataTxKiB) * 1024
			w.truth.GPUs[g].CounterRxBytes = float64(last.DataRxKiB-first.DataRxKiB) * 1024
		}
		all = append(all, got...)
	}
	slices.SortStableFunc(all, func(a, b trace.Sample) int { return cmp.Compare(a.MonoAfterNs, b.MonoAfterNs) })
	w.truth.Samples = uint64(len(all))
	return all
}

// header is what the recorder writes before any data.
func (w *world) header(tw *trace.Writer, s Scenario) error {
	recs := []jsonRec{
		{0, trace.RecStart, trace.Start{Tool: "linkprof physim", Host: "physim", Kernel: "6.18.0",
			Clock: w.clock.pair("start", w.start), Simulated: true, Workload: s.Name}},
		{0, trace.RecClock, w.clock.pair("start", w.start)},
		{0, trace.RecClock, w.clock.pair("nvml-start", w.start+1_500_000)},
	}
	for r := range w.n {
		p := trace.Process{Pid: Pid(r), PPid: 5000, Comm: "python3", Cmdline: []string{"python3", "serve.py"},
			Exe: "/usr/bin/python3.12", SeenNs: w.start, Launched: true, Rank: r, LocalRank: r, WorldSize: w.n,
			GPU: r, NCCLPath: "/venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2", NCCLVersion: "2.28.9"}
		if s.attachedLate() {
			// as the recorder writes it: when first seen, then once NVML
			// named its GPU and its NCCL library was found
			p.Launched, p.Rank, p.LocalRank, p.WorldSize = false, -1, -1, -1
			seen := p
			seen.GPU, seen.NCCLPath, seen.NCCLVersion = -1, "", ""
			recs = append(recs, jsonRec{0, trace.RecProcess, seen})
		}
		recs = append(recs, jsonRec{0, trace.RecProcess, p}, jsonRec{0, trace.RecGPU, trace.GPU{Index: r,
			UUID: fmt.Sprintf("GPU-5e1f%04x-%04d", s.Seed&0xffff, r), Name: "NVIDIA H200", Driver: "580.159.04",
			PeakLinkBps: peakBps, ComputePids: []uint32{Pid(r)}, Simulated: true,
			SampleFields: []string{"DATA_TX", "DATA_RX", "RAW_TX", "RAW_RX"}, CounterUnitKB: true}})
	}
	for _, rec := range recs {
		if err := tw.WriteJSON(rec.t, rec.v); err != nil {
			return err
		}
	}
	return nil
}
