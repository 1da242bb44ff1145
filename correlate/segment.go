package correlate

import (
	"math"

	"github.com/linkprof/linkprof/internal/linkidle"
)

// Activity segments (docs/attribution.md, "Time bounds"). A GPU's counter
// stream is cut into segments of link activity separated by idle link.
// Once a collective's bytes start to move on NVLink they move in every
// sample interval until it ends (a 16 KiB message crosses in microseconds),
// so a link quiet for a few sample periods has nothing running on it:
// bytes never cross a segment boundary, and the collectives that ran in a
// segment retire when it ends.
const (
	// quietPeriods sample periods of quiet end a segment, but never less
	// than minQuietNs.
	quietPeriods = 3
	minQuietNs   = 2_000_000
	// maxPendingPerStream bounds the launches waiting on one stream: a
	// stream whose GPU never shows their bytes (a link NVML does not
	// count) retires its oldest, so memory stays bounded.
	maxPendingPerStream = 1 << 14
)

// segState is the open segment of one GPU.
type segState struct {
	open          bool
	seq           uint64
	startNs       int64
	lastActiveEnd int64
	// lastActiveStart is the start of the last active interval: a launch
	// ready before it could have taken that interval's bytes.
	lastActiveStart int64
	lastActiveBytes [2]float64 // the last active interval's bytes, tx and rx
	periodNs        float64    // running estimate of the sample period
	minQuietNs      int64      // the shortest quiet that ends a segment: minQuietNs, or minQuietNetNs
}

// quiet reports whether an interval moved (almost) nothing
// (internal/linkidle).
func quiet(iv *Interval) bool { return linkidle.Quiet(iv.TxBytes, iv.RxBytes, iv.EndNs-iv.StartNs) }

// observePeriod follows the sample period; intervals much longer than it
// (failed reads, a paused sampler) do not move it.
func (s *segState) observePeriod(dt float64) {
	switch {
	case s.periodNs == 0:
		s.periodNs = dt
	case dt < 4*s.periodNs:
		s.periodNs += (dt - s.periodNs) / 16
	}
}

// gapNs is how long the link must stay quiet to end a segment.
func (s *segState) gapNs() int64 {
	return max(s.minQuietNs, int64(math.Round(quietPeriods*s.periodNs)))
}

// ended reports whether the quiet since the last active interval, up to
// t, ends the open segment.
func (s *segState) ended(t int64) bool {
	return s.open && t-s.lastActiveEnd >= s.gapNs()
}

// retireRan retires, at the end of a segment, the launches of a stream
// that ran in it: those that received bytes, and behind one that got
// clearly less than it expected, those ready while the link still moved
// bytes (the link stopped serving the stream with work left: the model
// expected too much): ready before the last active interval, or during it
// and early enough to have moved their bytes at its rate before it ended
// (a learning pass modelling an uneven all-to-all at the table's 1.18 for
// the wire's 1.0 left the last nine launches of its phase, ready in the
// last interval, to the next phase's row: physim twocomms seed 8, Send
// +3.8%). A launch that received nothing behind a finished one stays, and
// so does one launched as the link went quiet: the stream paused (compute,
// a synchronize, a late peer) and it runs later.
func (e *Engine) retireRan(g *gpuState, s *stream) {
	stalled := false
	short := 1 - e.opts.Tolerance
	var lateDone int64 // when the last launch let in by couldFinish would have finished
	for l := s.front(); l != nil; l = s.front() {
		switch {
		case l.left == 0:
			// Finished, still queued because one direction never moved
			// its cursor: the tail emits it.
			s.drop()
			continue
		case l.got[tx]+l.got[rx] > 0:
			stalled = l.got[tx] < short*l.exp[tx] || l.got[rx] < short*l.exp[rx]
		case stalled && l.readyBefore(g.seg.lastActiveStart):
		case stalled && g.seg.couldFinish(l, &lateDone):
		default:
			return
		}
		s.drop()
		e.retire(g, l)
	}
}

// couldFinish reports whether a launch ready during the segment's last
// active interval could have moved its expected bytes, at that interval's
// rate in each direction and after the launches before it (done: when the
// last of them would have finished), before the interval ended.
func (s *segState) couldFinish(l *launch, done *int64) bool {
	if !l.readyBefore(s.lastActiveEnd) {
		return false
	}
	span := float64(s.lastActiveEnd - s.lastActiveStart)
	var needNs float64
	for d, exp := range l.exp {
		if exp <= 0 {
			continue
		}
		if s.lastActiveBytes[d] <= 0 {
			return false
		}
		needNs = max(needNs, exp/s.lastActiveBytes[d]*span)
	}
	end := max(l.readyNs, *done, s.lastActiveStart) + int64(needNs)
	if end > s.lastActiveEnd {
		return false
	}
	*done = end
	return true
}

// closeSegment ends the open segment: its burst, the launches that ran in
// it, and (learning) its row of the fit and its floor.
func (e *Engine) closeSegment(g *gpuState) {
	if c := g.bursts.cur; c != nil {
		g.bursts.cur = nil
		e.closeBurst(g, c)
	}
	for _, s := range g.streams {
		e.retireRan(g, s)
	}
	e.emitTail(g, math.MaxInt64)
	if e.learn != nil {
		e.learn.segmentEnd(g)
	}
	clear(g.bursts.labels)
	g.seg.open = false
}

// openSegment starts a segment at the start of an active interval.
func (e *Engine) openSegment(g *gpuState, iv *Interval) {
	g.seg.open, g.seg.startNs = true, iv.StartNs
	g.seg.seq++
	if e.learn != nil {
		e.learn.segmentStart(g, iv.StartNs)
	}
	g.bursts.threshold = e.burstThreshold(g, iv.StartNs)
}
