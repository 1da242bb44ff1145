package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// Pid and Comm name rank r's process and communicator handle.
func Pid(r int) uint32  { return uint32(4000 + r) }
func Comm(r int) uint64 { return 0x7f0000001000 + uint64(r)<<20 }

// Stream is the CUDA stream every rank issues on.
const Stream = 0x5a5a000

type gen struct {
	cfg     Config
	w       *trace.Writer
	rng     *rand.Rand
	truth   *Truth
	links   []*link
	gpuFree int64 // end of the last collective on the (shared) GPU timeline
	nextSmp int64
	nsmp    uint64
	blobs   []Blob
	evbuf   []byte
	events  []trace.Event
	smpbuf  []trace.Sample
	clocks  int
}

type rec struct {
	t trace.RecordType
	v any
}

// Write records the workload into a new folder dir.
func Write(dir string, cfg Config) (*Truth, error) {
	cfg = cfg.withDefaults()
	w, err := trace.Create(dir, false)
	if err != nil {
		return nil, err
	}
	g := &gen{cfg: cfg, w: w, rng: rand.New(rand.NewPCG(cfg.Seed, 7)), blobs: slices.Clone(cfg.Blobs),
		truth: &Truth{Calls: map[string]uint64{}, Payload: map[string]uint64{}, OpTx: map[string]float64{}, OpRx: map[string]float64{},
			Captured: map[string]uint64{}}}
	for r := 0; r < cfg.Ranks; r++ {
		g.links = append(g.links, &link{})
	}
	if err := g.header(); err != nil {
		w.Close()
		return nil, err
	}
	g.gpuFree, g.nextSmp = cfg.StartMonoNs, cfg.StartMonoNs
	for s := 0; s < cfg.Steps; s++ {
		g.step(s, cfg.StartMonoNs+int64(s)*cfg.StepGapNs+cfg.StepGapNs/2)
	}
	g.samplesUntil(g.gpuFree + 5*cfg.SampleNs)
	g.flushSamples()
	g.truth.EndNs = g.nextSmp
	for _, l := range g.links {
		g.truth.UnexplTx += l.lastNoise - l.firstNoise
		g.truth.UnexplRx += l.lastNoise - l.firstNoise
	}
	if err := g.footer(); err != nil {
		w.Close()
		return nil, err
	}
	return g.truth, w.Close()
}

func (c Config) withDefaults() Config {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.HostGapNs, 20_000)
	def(&c.StepGapNs, 10_000_000)
	def(&c.SampleNs, 1_000_000)
	def(&c.NVMLCallNs, 300_000)
	def(&c.WallOffset, 1_780_000_000_000_000_000)
	def(&c.StartMonoNs, 5_000_000_000)
	if c.LinkBps == 0 {
		c.LinkBps = 300e9
	}
	if c.PeakBps == 0 {
		c.PeakBps = 450e9
	}
	if c.Ranks == 0 {
		c.Ranks = 2
	}
	return c
}

func (g *gen) factor(p correlate.Protocol) float64 {
	if f, ok := g.cfg.Factors[p]; ok {
		return f
	}
	return p.Factor()
}

// header writes what the recorder writes before any data.
func (g *gen) header() error {
	c := g.cfg
	start := trace.Clock{Source: "start", MonoNs: c.StartMonoNs, WallNs: c.StartMonoNs + c.WallOffset}
	if err := g.w.WriteJSON(trace.RecStart, trace.Start{Tool: "linkprof sim", Host: "sim", Clock: start, Simulated: true}); err != nil {
		return err
	}
	recs := []rec{{trace.RecClock, start}, {trace.RecClock, trace.Clock{Source: "nvml-start", MonoNs: c.StartMonoNs + 1000, WallNs: c.StartMonoNs + 1000 + c.WallOffset}}}
	for r := 0; r < c.Ranks; r++ {
		proc := trace.Process{Pid: Pid(r), Comm: "python3", Exe: "/usr/bin/python3", Rank: r, LocalRank: r, WorldSize: c.Ranks,
			GPU: r, NCCLPath: "/opt/nccl/libnccl.so.2"}
		if c.AttachedLate {
			// As the recorder writes it: when first seen, then again once
			// its NCCL library is noted and NVML named its GPU.
			proc.Rank, proc.LocalRank, proc.WorldSize = -1, -1, -1
			seen := proc
			seen.GPU, seen.NCCLPath = -1, ""
			recs = append(recs, rec{trace.RecProcess, seen})
		}
		recs = append(recs,
			rec{trace.RecProcess, proc},
			rec{trace.RecGPU, trace.GPU{Index: r, UUID: fmt.Sprintf("GPU-sim-%d", r), Name: "Simulated H100", PeakLinkBps: c.PeakBps, Simulated: true, SampleFields: []string{"DATA_TX", "DATA_RX", "RAW_TX", "RAW_RX"}, CounterUnitKB: true}})
	}
	for _, rec := range recs {
		if err := g.w.WriteJSON(rec.t, rec.v); err != nil {
			return err
		}
	}
	if c.AttachedLate {
		return nil
	}
	return g.commInit()
}

// commInit writes each rank's ncclCommInitRank return and Comm record.
func (g *gen) commInit() error {
	for r := 0; r < g.cfg.Ranks; r++ {
		ev := trace.Event{TsNs: uint64(g.cfg.StartMonoNs + 2000), Pid: Pid(r), Tid: Pid(r), Kind: trace.CommInitRank,
			Flags: trace.FlagReturn, StackID: -1, Comm: Comm(r), Rank: int32(r), NRanks: int32(g.cfg.Ranks), DataType: -1, RedOp: -1, Peer: -1}
		if err := g.w.WriteEvents(trace.AppendEvent(nil, ev)); err != nil {
			return err
		}
		c := trace.Comm{Pid: Pid(r), Handle: Comm(r), Rank: int32(r), NRanks: int32(g.cfg.Ranks), Kind: "CommInitRank", TsNs: ev.TsNs}
		if err := g.w.WriteJSON(trace.RecComm, c); err != nil {
			return err
		}
	}
	if g.cfg.Stacks {
		return g.writeStacks()
	}
	return nil
}

func (g *gen) footer() error {
	end := trace.Clock{Source: "stop", MonoNs: g.nextSmp, WallNs: g.nextSmp + g.cfg.WallOffset}
	return g.w.WriteJSON(trace.RecStop, trace.Stop{Clock: end, Reason: "duration", Events: g.truth.Events})
}
