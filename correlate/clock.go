package correlate

import (
	"sort"

	"github.com/linkprof/linkprof/trace"
)

// sampleSlackNs is how far NVML's own timestamp may fall outside the host's
// before/after readings and still be trusted (clock pairs are good to a
// few microseconds; NTP slews far less than this over a recording).
const sampleSlackNs = 2_000_000

// Aligner maps wall-clock times (NVML timestamps) onto CLOCK_MONOTONIC, the
// clock of the BPF events, from the recorder's clock pairs.
type Aligner struct {
	pairs []trace.Clock // sorted by MonoNs
}

// Add records a clock pair. Pairs arrive in time order; a late one is
// inserted in place.
func (a *Aligner) Add(c trace.Clock) {
	if c.WallNs == 0 {
		return
	}
	i := sort.Search(len(a.pairs), func(i int) bool { return a.pairs[i].MonoNs > c.MonoNs })
	a.pairs = append(a.pairs, trace.Clock{})
	copy(a.pairs[i+1:], a.pairs[i:])
	a.pairs[i] = c
}

// Pairs is the number of clock pairs seen.
func (a *Aligner) Pairs() int { return len(a.pairs) }

// WallToMono converts a wall-clock time. The offset between the clocks is
// interpolated between the pairs around the time (the wall clock may be
// slewed by NTP); ok is false without any pair.
func (a *Aligner) WallToMono(wallNs int64) (int64, bool) {
	n := len(a.pairs)
	if n == 0 {
		return 0, false
	}
	off := func(c trace.Clock) int64 { return c.WallNs - c.MonoNs }
	i := sort.Search(n, func(i int) bool { return a.pairs[i].WallNs > wallNs })
	switch {
	case i == 0:
		return wallNs - off(a.pairs[0]), true
	case i == n:
		return wallNs - off(a.pairs[n-1]), true
	}
	lo, hi := a.pairs[i-1], a.pairs[i]
	span := hi.WallNs - lo.WallNs
	if span <= 0 {
		return wallNs - off(hi), true
	}
	frac := float64(wallNs-lo.WallNs) / float64(span)
	o := float64(off(lo)) + frac*float64(off(hi)-off(lo))
	return wallNs - int64(o), true
}

// MonoToWall is WallToMono's inverse: between two pairs both clocks move
// on one line, so interpolating by monotonic time gives the same line.
func (a *Aligner) MonoToWall(monoNs int64) (int64, bool) {
	n := len(a.pairs)
	if n == 0 {
		return 0, false
	}
	off := func(c trace.Clock) int64 { return c.WallNs - c.MonoNs }
	i := sort.Search(n, func(i int) bool { return a.pairs[i].MonoNs > monoNs })
	switch {
	case i == 0:
		return monoNs + off(a.pairs[0]), true
	case i == n:
		return monoNs + off(a.pairs[n-1]), true
	}
	lo, hi := a.pairs[i-1], a.pairs[i]
	span := hi.MonoNs - lo.MonoNs
	if span <= 0 {
		return monoNs + off(hi), true
	}
	frac := float64(monoNs-lo.MonoNs) / float64(span)
	return monoNs + int64(float64(off(lo))+frac*float64(off(hi)-off(lo))), true
}

// SampleTime is the monotonic time a sample's counters were read: NVML's
// own timestamp when the clock pairs place it within the host's
// before/after readings, else the middle of those readings.
func (a *Aligner) SampleTime(s *trace.Sample) (t int64, fromNVML bool) {
	mid := s.MonoBeforeNs + (s.MonoAfterNs-s.MonoBeforeNs)/2
	if s.WallUs == 0 {
		return mid, false
	}
	m, ok := a.WallToMono(s.WallUs * 1000)
	if !ok || m < s.MonoBeforeNs-sampleSlackNs || m > s.MonoAfterNs+sampleSlackNs {
		return mid, false
	}
	return m, true
}
