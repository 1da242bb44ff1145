package correlate

import (
	"maps"
	"math"
	"slices"
)

// The first pass over a trace learns what the second applies to every
// call: the fitted wire factors and graph bytes (fit.go) and the floor
// rate of each long segment (bursts, burst.go).
const (
	// chunkNs cuts long segments into rows of the fit: a served model's
	// link may never go quiet, and one row per hour fits nothing. Calls
	// count in the chunk the model finished them in (the GPU may run far
	// behind the host: its launch time says little). A chunk ends after
	// at least chunkNs where a cut misplaces at most one interval's bytes
	// (attributed), outside the segment's waves (lowPoint: near the
	// segment's floor, or before the segment has a floor no faster
	// than cutRatio times the slowest of the last cutWindow intervals), or
	// after maxChunkNs (a collective running across the cut then moves a
	// little of a chunk's bytes into the next, which the many rows average
	// out).
	chunkNs    = 50_000_000
	maxChunkNs = 500_000_000
	// settleNs after the last wave of a chunk at least chunkNs long, the
	// chunk ends even though the model still runs launches ready before
	// the wave ended: in settleNs at the floor, a wave's calls are done,
	// and the model, which expected too much of them (the table's LL 2.0
	// for a prefill all-reduce NCCL ran LL128), would keep the chunk open
	// to maxChunkNs, across the next wave, and the fit could not tell the
	// two waves' classes apart (physim served-graphs-before seed 20 on 2
	// ranks: 1.63 and 0.80 for the simulator's 1.05 and 1.05).
	settleNs  = 25_000_000
	cutRatio  = 1.5
	cutWindow = 128
	// A segment of at least minFloorIntervals intervals has a floor: the
	// rate it spends floorQuantile of its time at or below.
	minFloorIntervals = 32
	floorQuantile     = 0.25
)

// learned is what the first pass hands the second.
type learned struct {
	fit    *Fitted
	floors map[int][]segFloor // per GPU, in time order
}

// segFloor is a long segment with a floor under its bursts.
type segFloor struct {
	startNs, endNs int64
	floorBps       float64
}

// learner collects a learning pass's rows and floors.
type learner struct {
	fit    *fitter
	model  *Fitted // the factors of classes of calls the pass models with (nil: the table's)
	gpus   map[int]*learnGPU
	floors map[int][]segFloor
}

func newLearner(model *Fitted) *learner {
	return &learner{fit: newFitter(), model: model, gpus: map[int]*learnGPU{}, floors: map[int][]segFloor{}}
}

// learnGPU is the open row and segment statistics of one GPU.
type learnGPU struct {
	gpu        int  // the GPU's index: its rows' sequence (fitmerge.go)
	afterCut   bool // the open chunk began at a chunk cut, not a segment's start
	chunkStart int64
	bytes      float64
	entries    []entry // the open chunk's calls
	waiting    []entry // launched while the link was idle: they run in the next segment
	ahead      []timedEntry
	hist       rateHist
	intervals  int
	maxBps     float64
	recent     [cutWindow]float64 // the last intervals' rates
	nRecent    int
	lastHotEnd int64 // the end of the last interval in a wave (lowPoint)
	// sinceHot is the bytes (the busier direction's) of the intervals
	// after lastHotEnd: their mean rate tells a wave's end from its
	// slower stretch (settled).
	sinceHot float64
	// Windows of launches of unknown bytes (launchsplit.go): the last per
	// stream, those counted in the open chunk, and a closed row they hold.
	chunkSeq uint64
	last     []*launchWindow
	inChunk  []*launchWindow
	waitingW []*launchWindow
	held     *heldRow
}

// remember keeps an active interval's rate for lowPoint.
func (lg *learnGPU) remember(bps float64) {
	lg.recent[lg.nRecent%cutWindow] = bps
	lg.nRecent++
}

// lowPoint reports whether bps, the rate just remembered, is outside the
// segment's waves: below warmRatio times its floor so far, or, before the
// segment has a floor (minFloorIntervals), near the lowest recent rate. A
// served model's decode traffic never goes quiet, and its slowest interval
// may carry almost nothing: near that alone, a chunk would rarely end
// between the waves. Not below the burst rule's hotRatio: a wave's tail,
// slowed by a rank late to its last all-reduces, runs between the two,
// and a chunk cut there left the rest of the wave's bytes to the decode
// steps after it (physim served seed 6 on 4 ranks: decode fitted 2.40 for
// the simulator's 1.98, the first wave's burst 2.4% short of its bytes).
func (lg *learnGPU) lowPoint(bps float64) bool {
	if lg.intervals >= minFloorIntervals {
		if floor := lg.hist.quantile(floorQuantile); floor > 0 {
			return bps < warmRatio*floor
		}
	}
	low := bps
	for _, r := range lg.recent[:min(lg.nRecent, cutWindow)] {
		low = min(low, r)
	}
	return bps <= cutRatio*low
}

func (ln *learner) of(g *gpuState) *learnGPU {
	lg := ln.gpus[g.index]
	if lg == nil {
		lg = &learnGPU{gpu: g.index}
		ln.gpus[g.index] = lg
	}
	return lg
}

func (ln *learner) segmentStart(g *gpuState, t int64) {
	lg := ln.of(g)
	ln.catchUp(g, lg, t)
	lg.chunkStart, lg.bytes = t, 0
	lg.entries = append(lg.entries[:0], lg.waiting...)
	lg.waiting = lg.waiting[:0]
	lg.startWaiting(t)
	lg.hist = rateHist{}
	lg.intervals, lg.maxBps = 0, 0
}

// interval adds an interval of the open segment.
// Quiet intervals inside it count toward its bytes, not its floor.
func (ln *learner) interval(g *gpuState, iv *Interval, bps float64, active bool) {
	lg := ln.of(g)
	ln.catchUp(g, lg, iv.EndNs)
	if active && len(lg.waiting) > 0 {
		for _, e := range lg.waiting {
			ln.place(lg, e, false)
		}
		lg.waiting = lg.waiting[:0]
		lg.startWaiting(iv.StartNs)
	}
	lg.bytes += iv.TxBytes + iv.RxBytes
	if active {
		lg.hist.add(bps, float64(iv.EndNs-iv.StartNs))
		lg.intervals++
		lg.maxBps = max(lg.maxBps, bps)
		lg.remember(bps)
		if !lg.lowPoint(bps) {
			lg.lastHotEnd, lg.sinceHot = iv.EndNs, 0
			return
		}
	}
	lg.sinceHot += max(iv.TxBytes, iv.RxBytes)
}

// attributed ends the open chunk after an interval the model has run,
// where a cut misplaces little: the launches made by its end and not
// finished are expected to move no more than the interval's bytes (they
// count in the next row), and the link has been outside the segment's
// waves for the segment's gap (inside one, the model may think a wave done
// that still runs, and a dip between its collectives is no end). Never in
// a segment's quiet tail: its calls retire at the end.
func (ln *learner) attributed(g *gpuState, iv *Interval, bps float64, active bool) {
	lg := ln.of(g)
	span := iv.EndNs - lg.chunkStart
	switch {
	case span >= maxChunkNs || span >= chunkNs && active && iv.EndNs-lg.lastHotEnd >= g.seg.gapNs() &&
		g.unfinishedWithin(iv.EndNs, iv.TxBytes+iv.RxBytes):
		ln.cut(g, lg, iv.EndNs)
	case span >= chunkNs && active && lg.lastHotEnd > lg.chunkStart && lg.settled(iv.EndNs):
		// The wave is long over, yet the model still runs some of it: it
		// expected more of its calls than they moved.
		ln.countReadyBy(g, lg, lg.lastHotEnd)
		ln.cut(g, lg, iv.EndNs)
	}
}

// settled reports whether the chunk's last wave ended settleNs or more
// before t, and the link has run at under 1/hotRatio of the segment's peak
// rate since. Outside a segment's floor, lowPoint's wave may end where a
// wave only slowed (a segment mostly of waves: a prefill wave paused for a
// late rank), and its calls still to run there are no model's excess
// (physim served-graphs-before seed 26 on 8 ranks: counted early, they
// left a decode graph's launch-only rows short, CUDAGraph +10%).
func (lg *learnGPU) settled(t int64) bool {
	since := t - lg.lastHotEnd
	return since >= settleNs && lg.sinceHot/float64(since)*1e9 < lg.maxBps/hotRatio
}

// countReadyBy counts in the open chunk the unfinished launches of known
// bytes ready by t, the end of the chunk's last wave (they stay in the
// model, which finishes them when it will; they count once).
func (ln *learner) countReadyBy(g *gpuState, lg *learnGPU, t int64) {
	for _, s := range g.streams {
		for _, l := range s.q[s.head:] {
			if l.hostNs > t {
				break
			}
			// A launch of unknown bytes (a graph captured before the
			// recording) counts over its window (launchsplit.go).
			if !l.counted && l.exp[tx]+l.exp[rx] > 0 && len(l.waits) == 0 && l.readyNs < t {
				ln.count(g, lg, l, nil)
				l.counted = true
			}
		}
	}
}

// cut closes the open chunk at t: its row goes to the fit, or is held
// while a launch of unknown bytes that counted in it may still run
// (launchsplit.go).
func (ln *learner) cut(g *gpuState, lg *learnGPU, t int64) {
	ln.release(lg, t)
	ln.countTail(g, lg)
	carry, open := ln.splitAtCut(lg, t, nil)
	if len(open) > 0 {
		lg.held = &heldRow{b: lg.bytes, entries: slices.Clone(lg.entries), cutNs: t, open: open, joinsPrev: lg.afterCut}
	} else {
		ln.fit.addOn(lg.gpu, lg.afterCut, lg.bytes, lg.entries)
	}
	lg.afterCut = true
	lg.bytes, lg.entries = 0, lg.entries[:0]
	lg.chunkSeq++
	for _, e := range carry {
		addEntry(&lg.entries, e.col, e.a)
	}
	lg.chunkStart = t
}

// countTail counts the launches that finished by now but are still held
// for tolerance bytes (gpu.go) in the open chunk: they finished in it.
func (ln *learner) countTail(g *gpuState, lg *learnGPU) {
	for _, l := range g.tail {
		if !l.counted {
			ln.count(g, lg, l, nil)
			l.counted = true
		}
	}
}

// flush makes the open chunk a row and starts the next (a segment ended:
// the windows of its launches closed with the link's last bytes).
func (ln *learner) flush(lg *learnGPU, lastActive int64) {
	ln.release(lg, lastActive)
	ln.fit.addOn(lg.gpu, lg.afterCut, lg.bytes, lg.entries)
	lg.afterCut = false
	lg.bytes, lg.entries = 0, lg.entries[:0]
	lg.inChunk = lg.inChunk[:0]
	lg.chunkSeq++
}

// finished counts a finished launch's calls in the open chunk's row, or,
// between segments, in the next segment's first, unless they counted
// already (countTail, launchedUnknown).
//
// A launch that finishes as it is queued (its bytes unknown yet: a graph
// captured before the recording) may be queued ahead of the samples
// (events are handled before earlier samples): it counts once the samples
// reach its launch time.
func (ln *learner) finished(g *gpuState, l *launch) {
	if !l.counted {
		ln.count(g, ln.of(g), l, nil)
	}
}

// queued follows a launch of known bytes queued on stream s: its stream
// started other work than a launch of unknown bytes before it.
func (ln *learner) queued(g *gpuState, l *launch, s *stream) {
	ln.nextWork(ln.of(g), s, l.hostNs)
}

// launchedUnknown counts a launch that moves no expected bytes (a graph
// captured before the recording, in the first pass) on stream s.
func (ln *learner) launchedUnknown(g *gpuState, l *launch, s *stream) {
	lg := ln.of(g)
	ln.nextWork(lg, s, l.hostNs)
	ln.count(g, lg, l, s)
	l.counted = true
}

// count places a finished launch's calls; s is its stream when the launch
// is of unknown bytes and followed to the next work on it (launchsplit.go).
func (ln *learner) count(g *gpuState, lg *learnGPU, l *launch, s *stream) {
	byLaunch := l.exp[tx]+l.exp[rx] == 0
	for _, c := range l.calls {
		col := c.column()
		e := entry{col: ln.fit.col(col), a: c.base()}
		ln.fit.expect(col, e.a, c.Protocol.Factor())
		var w *launchWindow
		if byLaunch && s != nil && ln.fit.cols[e.col].isGraph() {
			w = lg.window(s, e.col, e.a, l.hostNs)
		}
		switch {
		case !byLaunch:
			ln.place(lg, e, !g.seg.open)
		case l.hostNs > g.lastT:
			lg.ahead = append(lg.ahead, timedEntry{t: l.hostNs, e: e, w: w})
		default:
			ln.placeAt(g, lg, e, l.hostNs, w)
		}
	}
}

// timedEntry is a launch's entry waiting for the samples to reach it.
type timedEntry struct {
	t int64
	e entry
	w *launchWindow // nil: not followed
}

// placeAt places an entry launched at t: one launched while the link
// was quiet (between segments, or in a segment's quiet tail) runs when the
// link next moves bytes, not in the stretch that just ended.
func (ln *learner) placeAt(g *gpuState, lg *learnGPU, e entry, t int64, w *launchWindow) {
	waiting := !g.seg.open || t >= g.seg.lastActiveEnd
	ln.place(lg, e, waiting)
	if w != nil {
		lg.placed(w, waiting)
	}
}

// place adds an entry to the open chunk's row, or to those waiting for the
// link's next active interval.
func (ln *learner) place(lg *learnGPU, e entry, waiting bool) {
	list := &lg.entries
	if waiting {
		list = &lg.waiting
	}
	if i := slices.IndexFunc(*list, func(x entry) bool { return x.col == e.col }); i >= 0 {
		(*list)[i].a += e.a
	} else {
		*list = append(*list, e)
	}
}

// catchUp places the entries launched by t.
func (ln *learner) catchUp(g *gpuState, lg *learnGPU, t int64) {
	n := 0
	for _, te := range lg.ahead {
		if te.t <= t {
			ln.placeAt(g, lg, te.e, te.t, te.w)
			continue
		}
		lg.ahead[n] = te
		n++
	}
	lg.ahead = lg.ahead[:n]
}

// segmentEnd closes the segment's last row and keeps its floor when it
// is long enough to have one and has bursts that stand out above it.
func (ln *learner) segmentEnd(g *gpuState) {
	lg := ln.of(g)
	ln.flush(lg, g.seg.lastActiveEnd)
	if lg.intervals < minFloorIntervals {
		return
	}
	floor := lg.hist.quantile(floorQuantile)
	if floor > 0 && lg.maxBps >= hotRatio*floor && lg.hist.standsOut(floor, lg.hist.total/float64(lg.intervals)) {
		ln.floors[g.index] = append(ln.floors[g.index], segFloor{startNs: g.seg.startNs, endNs: g.seg.lastActiveEnd, floorBps: floor})
	}
}

// merge adds another first-pass engine's learning (other GPUs).
func (ln *learner) merge(o *learner) {
	ln.fit.merge(o.fit)
	for gpu, f := range o.floors {
		ln.floors[gpu] = append(ln.floors[gpu], f...)
	}
}

func (ln *learner) result() *learned {
	for _, gpu := range slices.Sorted(maps.Keys(ln.gpus)) { // the same trace fits the same
		if lg := ln.gpus[gpu]; lg.held != nil { // a segment left open: its windows end at the cut
			ln.release(lg, lg.held.cutNs)
		}
	}
	for _, f := range ln.floors {
		slices.SortFunc(f, func(a, b segFloor) int { return int(a.startNs - b.startNs) })
	}
	return &learned{fit: ln.fit.solve(), floors: ln.floors}
}

// rateHist is a time-weighted histogram of link rates in quarter-octave
// bins from 1 MB/s: constant memory for a segment of any length.
type rateHist struct {
	w     [160]float64
	total float64
}

func rateBin(bps float64) int {
	if bps < 1e6 {
		return 0
	}
	return min(159, 1+int(4*math.Log2(bps/1e6)))
}

// Bursts over a floor stand out from it (standsOut): between twice the
// floor and the bursts' rates lies an octave of rates (gapBins bins) the
// link spent less than gapShare of the bursts' time in, and the bursts
// last at least minBurstIntervals intervals together.
const (
	gapBins           = 4
	gapShare          = 0.125
	minBurstIntervals = 2
)

// standsOut reports whether the segment's fast intervals stand out from
// its floor, as bursts over background do, rather than being the fast end
// of one activity of varying rate. Over a served model's decode traffic
// the link reaches its prefill waves' rate within an interval, so an
// octave of rates between lies empty but for the waves' edges (a stand-in
// server on 2 H200s: none of its time from 8 to 16 times its floor); an
// uneven all-to-all's rate wanders over two octaves with no such gap, and
// its fastest intervals are no bursts of their own. meanNs is the
// segment's mean interval.
func (h *rateHist) standsOut(floor, meanNs float64) bool {
	var above [len(h.w) + 1]float64 // time in bins i and up
	for i := len(h.w) - 1; i >= 0; i-- {
		above[i] = above[i+1] + h.w[i]
	}
	for i := rateBin(warmRatio * floor); i+gapBins < len(h.w); i++ {
		over := above[i+gapBins]
		if over < minBurstIntervals*meanNs {
			break
		}
		if above[i]-over < gapShare*over {
			return true
		}
	}
	return false
}

// warmRatio times the floor is where a gap between it and the bursts
// may start: the floor's own intervals vary about it.
const warmRatio = 2

func (h *rateHist) add(bps, weight float64) {
	h.w[rateBin(bps)] += weight
	h.total += weight
}

// quantile is the rate at or below which fraction q of the time was
// spent (the bin's lower edge; 0 for the quiet bin).
func (h *rateHist) quantile(q float64) float64 {
	var acc float64
	for i, w := range h.w {
		acc += w
		if acc >= q*h.total {
			if i == 0 {
				return 0
			}
			return 1e6 * math.Exp2(float64(i-1)/4)
		}
	}
	return 0
}
