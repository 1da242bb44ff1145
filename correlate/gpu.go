package correlate

import "github.com/linkprof/linkprof/trace"

// GPUSummary is what the analysis saw of one GPU.
type GPUSummary struct {
	Index      int
	Samples    uint64 // every read, failed ones included
	Failed     uint64 // reads without SampleOK: gaps, never zeros
	Resets     uint64 // counter wraps or resets: that interval is unknown
	NVMLTimes  uint64 // samples timed by NVML's own timestamp
	FirstNs    int64  // first and last successful sample
	LastNs     int64
	TxBytes    float64
	RxBytes    float64
	UnTx, UnRx float64
	Bursts     uint64
	BusyNs     int64 // sum of burst durations
	// Intervals between successive good samples, those above the burst
	// threshold, and the fastest one's rate (the larger of TX and RX).
	Intervals     uint64
	BusyIntervals uint64
	PeakBps       float64
}

// gpuState is the model of one sampled GPU, or of the host's network
// link (link Net, index netState): both are a pair of cumulative byte
// counters that the same model attributes.
type gpuState struct {
	index    int
	link     Link
	peakBps  float64
	streams  []*stream
	haveLast bool
	lastT    int64
	lastTx   uint64
	lastRx   uint64
	tail     []*launch // finished; may absorb tolerance bytes for one more interval
	doneAt   []int64
	shares   []share
	seg      segState
	bursts   burstTracker
	sum      GPUSummary
}

// counterRead is one read of a link's cumulative byte counters: an NVML
// sample (KiB, as bytes here) or a round of the NIC sampler, summed.
type counterRead struct {
	ok, wrapped bool
	tx, rx      uint64 // bytes
	monoAfterNs int64  // the latest the counters can have been read
}

// nvmlRead is an NVML sample's DATA counters in bytes.
func nvmlRead(s *trace.Sample) counterRead {
	return counterRead{ok: s.OK(), wrapped: s.Flags&trace.SampleWrapped != 0, tx: s.DataTxKiB * 1024, rx: s.DataRxKiB * 1024,
		monoAfterNs: s.MonoAfterNs}
}

// sample turns a read of the cumulative counters into an interval.
func (e *Engine) sample(g *gpuState, t int64, s *counterRead, fromNVML bool) {
	g.sum.Samples++
	if !s.ok {
		g.sum.Failed++
		return
	}
	if fromNVML {
		g.sum.NVMLTimes++
	}
	if g.haveLast && t <= g.lastT {
		return // out of order in time: the next interval spans it
	}
	reset := s.wrapped || s.tx < g.lastTx || s.rx < g.lastRx
	if g.haveLast && reset {
		g.sum.Resets++
	}
	if g.haveLast && !reset {
		e.interval(g, Interval{GPU: g.ivGPU(), Link: g.link, Host: g.netHost(), StartNs: g.lastT, EndNs: t, TxBytes: float64(s.tx - g.lastTx),
			RxBytes: float64(s.rx - g.lastRx), readLatestNs: max(t, s.monoAfterNs)})
	}
	if !g.haveLast {
		g.sum.FirstNs = t
	}
	g.haveLast, g.lastT, g.lastTx, g.lastRx = true, t, s.tx, s.rx
	g.sum.LastNs = t
}

// netHost is the host of a network link (netState+h); 0 for NVLink.
func (g *gpuState) netHost() int {
	if g.link != Net {
		return 0
	}
	return g.index - netState
}

// ivGPU is the GPU its intervals name: -1 for the network link.
func (g *gpuState) ivGPU() int {
	if g.link != NVLink {
		return -1
	}
	return g.index
}

// interval places one interval in its segment and burst and attributes
// its bytes. Outside a segment the link is quiet: its few bytes are noise
// no collective claims.
func (e *Engine) interval(g *gpuState, iv Interval) {
	dt := float64(iv.EndNs - iv.StartNs)
	rate := max(iv.TxBytes, iv.RxBytes) / dt * 1e9
	active := !quiet(&iv)
	g.seg.observePeriod(dt)
	g.sum.Intervals++
	g.sum.PeakBps = max(g.sum.PeakBps, rate)
	if g.seg.ended(iv.StartNs) || (!active && g.seg.ended(iv.EndNs)) {
		e.closeSegment(g)
	}
	if active && !g.seg.open {
		e.openSegment(g, &iv)
	}
	if !g.seg.open {
		iv.UnTx, iv.UnRx = iv.TxBytes, iv.RxBytes
		e.account(g, &iv)
		return
	}
	if active {
		g.seg.lastActiveStart, g.seg.lastActiveEnd = iv.StartNs, iv.EndNs
		g.seg.lastActiveBytes = [2]float64{iv.TxBytes, iv.RxBytes}
	}
	hot := active && rate >= g.bursts.threshold
	if hot {
		g.sum.BusyIntervals++
	}
	if closed := g.bursts.observe(&iv, hot, g.seg.gapNs(), rate); closed != nil {
		e.closeBurst(g, closed)
	}
	if e.learn != nil {
		e.learn.interval(g, &iv, rate, active)
	}
	e.attribute(g, &iv)
	if e.learn != nil {
		e.learn.attributed(g, &iv, rate, active)
	}
}

// attribute runs the fluid model over one interval of a segment.
func (e *Engine) attribute(g *gpuState, iv *Interval) {
	e.emitTail(g, iv.StartNs)
	shares := g.shares[:0]
	var left [2]float64
	readBy := max(iv.EndNs, iv.readLatestNs)
	for d, total := range [2]float64{iv.TxBytes, iv.RxBytes} {
		shares, left[d] = fill(g.streams, d, readBy, total, shares)
	}
	for _, s := range g.streams {
		s.compact()
	}
	e.split(g, iv, shares)
	shares = shares[:0]
	for d := range left {
		if left[d] > 0 {
			left[d] = e.absorbExtra(g, d, left[d])
		}
		if left[d] > 0 {
			shares, left[d] = fillEarly(g.streams, d, readBy, [2]float64{iv.TxBytes, iv.RxBytes}[d], left[d], shares)
		}
	}
	if len(shares) > 0 { // usually nothing was early or extra
		e.split(g, iv, shares)
		for _, s := range g.streams {
			s.compact()
		}
	}
	g.shares = shares[:0]
	iv.UnTx, iv.UnRx = left[tx], left[rx]
	e.account(g, iv)
}

// account adds an attributed interval to the summaries and the sink.
func (e *Engine) account(g *gpuState, iv *Interval) {
	g.sum.TxBytes += iv.TxBytes
	g.sum.RxBytes += iv.RxBytes
	g.sum.UnTx += iv.UnTx
	g.sum.UnRx += iv.UnRx
	if b := g.bursts.cur; b != nil {
		b.b.UnTx += iv.UnTx
		b.b.UnRx += iv.UnRx
	}
	e.out.interval(iv)
}

// absorbExtra gives bytes nothing pending explains to launches that just
// finished, up to the tolerance: counters lag and round to KiB.
func (e *Engine) absorbExtra(g *gpuState, d int, rem float64) float64 {
	var capSum float64
	for _, l := range g.tail {
		capSum += max(0, e.opts.Tolerance*l.exp[d]-l.extra[d])
	}
	if capSum <= 0 {
		return rem
	}
	give := min(rem, capSum)
	for _, l := range g.tail {
		c := max(0, e.opts.Tolerance*l.exp[d]-l.extra[d])
		if c <= 0 {
			continue
		}
		amt := give * c / capSum
		l.extra[d] += amt
		for _, call := range l.calls {
			b := part(amt, call.exp(d), l.exp[d])
			call.addBytes(d, b)
			if a := g.bursts.cur; a != nil {
				a.addCall(call, d, b, false)
			}
		}
	}
	return rem - give
}

// split hands each share to the launch's calls, sets modelled start and end
// times, and moves finished launches to the tail.
func (e *Engine) split(g *gpuState, iv *Interval, shares []share) {
	cur := g.bursts.cur
	at := func(d int, pos float64) int64 {
		total := [2]float64{iv.TxBytes, iv.RxBytes}[d]
		return iv.StartNs + int64(float64(iv.EndNs-iv.StartNs)*pos/total)
	}
	for _, sh := range shares {
		l := sh.l
		first := l.got[tx]+l.got[rx] == 0 && sh.amt > 0
		l.got[sh.dir] += sh.amt
		if cur != nil && sh.amt > 0 {
			l.burstSeq = cur.b.Seq
		}
		complete := false
		if sh.done {
			l.left--
			l.endNs = max(l.endNs, at(sh.dir, sh.end))
			complete = l.left == 0
		}
		for _, c := range l.calls {
			b := part(sh.amt, c.exp(sh.dir), l.exp[sh.dir])
			c.addBytes(sh.dir, b)
			if first {
				c.StartNs = max(at(sh.dir, sh.pos), l.readyNs)
			}
			c.EndNs = iv.EndNs
			if complete {
				c.EndNs, c.Complete = max(l.endNs, c.StartNs), true
			}
			if cur != nil {
				cur.addCall(c, sh.dir, b, first)
			}
		}
		if complete {
			g.tail, g.doneAt = append(g.tail, l), append(g.doneAt, iv.EndNs)
		}
	}
}

func part(v, w, sum float64) float64 {
	if sum <= 0 {
		return 0
	}
	return v * w / sum
}

// emitTail hands finished launches to the sink once they can no longer
// absorb tolerance bytes (finished before the interval starting at t0).
func (e *Engine) emitTail(g *gpuState, t0 int64) {
	n := 0
	for i, l := range g.tail {
		if g.doneAt[i] >= t0 {
			g.tail[n], g.doneAt[n] = l, g.doneAt[i]
			n++
			continue
		}
		e.retire(g, l)
	}
	clear(g.tail[n:])
	g.tail, g.doneAt = g.tail[:n], g.doneAt[:n]
}
