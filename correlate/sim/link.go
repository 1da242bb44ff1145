package sim

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// link is one GPU's traffic as segments of constant rate.
type link struct {
	segs           []Segment // by start; those ended are folded into done
	doneTx, doneRx float64
	// noise at the first and last successful read: what the counters saw
	firstNoise, lastNoise float64
	sampled               bool
}

func (l *link) add(s Segment) {
	i, _ := slices.BinarySearchFunc(l.segs, s.StartNs, func(a Segment, t int64) int {
		if a.StartNs <= t {
			return -1
		}
		return 1
	})
	l.segs = slices.Insert(l.segs, i, s)
}

// at is the cumulative traffic up to t; t never decreases between calls.
func (l *link) at(t int64) (tx, rx float64) {
	for len(l.segs) > 0 && l.segs[0].EndNs <= t {
		l.doneTx += l.segs[0].Tx
		l.doneRx += l.segs[0].Rx
		l.segs = l.segs[1:]
	}
	tx, rx = l.doneTx, l.doneRx
	for _, s := range l.segs {
		if s.StartNs >= t {
			break
		}
		f := min(1, float64(t-s.StartNs)/float64(s.EndNs-s.StartNs))
		tx += s.Tx * f
		rx += s.Rx * f
	}
	return tx, rx
}

// samplesUntil reads every GPU's counters at each sampling time before
// horizon, one GPU after another as NVML serializes them.
func (g *gen) samplesUntil(horizon int64) {
	c := g.cfg
	for g.nextSmp < horizon {
		ts := g.nextSmp
		if ts >= c.StartMonoNs+int64(g.clocks)*1e9 {
			g.periodicClock(ts)
		}
		for r, l := range g.links {
			g.read(r, l, ts+int64(r)*c.SampleNs/int64(2*c.Ranks))
		}
		step := c.SampleNs
		if c.JitterNs > 0 {
			step += g.rng.Int64N(2*c.JitterNs+1) - c.JitterNs
		}
		g.nextSmp += step
	}
	g.flushSamples()
}

func (g *gen) read(r int, l *link, t int64) {
	c := g.cfg
	g.nsmp++
	g.truth.Samples++
	before := t - c.NVMLCallNs/2 - g.rng.Int64N(c.NVMLCallNs/4+1)
	s := trace.Sample{GPU: uint32(r), MonoBeforeNs: before, MonoAfterNs: t + c.NVMLCallNs/2}
	if c.FailEvery > 0 && g.nsmp%uint64(c.FailEvery) == 0 {
		g.smpbuf = append(g.smpbuf, s)
		return
	}
	tx, rx := l.at(t)
	noise := c.NoiseBps * float64(t-c.StartMonoNs) / 1e9
	tx, rx = tx+noise, rx+noise
	s.Flags = trace.SampleOK
	if !c.NoNVMLTime {
		s.WallUs = (t + c.WallOffset) / 1000
	}
	s.DataTxKiB, s.DataRxKiB = uint64(tx/1024), uint64(rx/1024)
	s.RawTxKiB, s.RawRxKiB = uint64(tx*1.06/1024), uint64(rx*1.06/1024)
	g.smpbuf = append(g.smpbuf, s)
	if !l.sampled {
		l.firstNoise, l.sampled = noise, true
	}
	l.lastNoise = noise
}

func (g *gen) flushSamples() {
	if len(g.smpbuf) > 0 {
		_ = g.w.WriteSamples(g.smpbuf...)
		g.smpbuf = g.smpbuf[:0]
	}
}

// periodicClock writes a clock pair, as the recorder does every second.
func (g *gen) periodicClock(t int64) {
	g.clocks++
	_ = g.w.WriteJSON(trace.RecClock, trace.Clock{Source: "periodic", MonoNs: t, WallNs: t + g.cfg.WallOffset})
}
