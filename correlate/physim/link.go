package physim

import (
	"math/rand/v2"

	"github.com/linkprof/linkprof/trace"
)

// seg is bytes that crossed one GPU's link at a constant rate.
type seg struct {
	start, end int64
	tx, rx     float64
	tag        *tag
}

// link is one GPU's traffic. Segments arrive in start order (the engine
// only moves forward); at reads the cumulative bytes at rising times.
type link struct {
	segs   []seg
	next   int   // first segment not yet started at the last read
	active []seg // started, not finished
	doneTx float64
	doneRx float64
}

func (l *link) add(s seg) {
	if s.end > s.start {
		l.segs = append(l.segs, s)
	}
}

// at is the traffic up to t; t never decreases between calls.
func (l *link) at(t int64) (tx, rx float64) {
	for l.next < len(l.segs) && l.segs[l.next].start < t {
		l.active = append(l.active, l.segs[l.next])
		l.next++
	}
	keep := l.active[:0]
	for _, s := range l.active {
		if s.end <= t {
			l.doneTx += s.tx
			l.doneRx += s.rx
			continue
		}
		keep = append(keep, s)
	}
	l.active = keep
	tx, rx = l.doneTx, l.doneRx
	for _, s := range l.active {
		f := float64(t-s.start) / float64(s.end-s.start)
		tx += s.tx * f
		rx += s.rx * f
	}
	return tx, rx
}

// sampler reads one GPU's counters the way the recorder's NVML reader
// does: a blocking call of 0.3-1 ms whose value is taken somewhere inside
// it, about every 1-1.3 ms, with rare failures and rare long stalls.
type sampler struct {
	rng   *rand.Rand
	gpu   int
	base  [2]uint64 // counters at driver load are not zero (KiB)
	rawF  float64   // RAW over DATA: protocol headers
	clock *clocks
}

func (s *sampler) run(l *link, from, until int64) []trace.Sample {
	var out []trace.Sample
	for t := from; t < until; {
		d := 300_000 + s.rng.Int64N(700_000)
		if s.rng.IntN(1000) == 0 {
			d += 3_000_000 + s.rng.Int64N(12_000_000) // the driver stalled
		}
		out = append(out, s.read(l, t, d))
		t = max(t+1_000_000+s.rng.Int64N(300_000), t+d+20_000)
	}
	return out
}

func (s *sampler) read(l *link, before, d int64) trace.Sample {
	smp := trace.Sample{GPU: uint32(s.gpu), MonoBeforeNs: before, MonoAfterNs: before + d}
	if s.rng.IntN(200) == 0 {
		return smp // failed read: a gap, never zeros that count
	}
	taken := before + d/4 + s.rng.Int64N(d/2)
	tx, rx := l.at(taken)
	smp.Flags = trace.SampleOK
	smp.WallUs = s.clock.wall(taken) / 1000
	smp.DataTxKiB = s.base[0] + uint64(tx/1024)
	smp.DataRxKiB = s.base[1] + uint64(rx/1024)
	smp.RawTxKiB = s.base[0] + uint64(tx*s.rawF/1024)
	smp.RawRxKiB = s.base[1] + uint64(rx*s.rawF/1024)
	return smp
}

// clocks is the host's wall clock against its monotonic one: a fixed
// offset plus a slow drift, as NTP slews it.
type clocks struct {
	startMono int64
	offset    int64
	driftPPM  float64
}

func (c *clocks) wall(mono int64) int64 {
	return mono + c.offset + int64(float64(mono-c.startMono)*c.driftPPM/1e6)
}

// pair is a clock record read at mono.
func (c *clocks) pair(source string, mono int64) trace.Clock {
	return trace.Clock{Source: source, MonoNs: mono, WallNs: c.wall(mono), UncertaintyNs: 400}
}
