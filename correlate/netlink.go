package correlate

import "github.com/linkprof/linkprof/trace"

// A host's network link (docs/attribution.md, "Network links") is
// modelled like a GPU's NVLink: a pair of cumulative counters (the host's
// sampled NICs summed, round by round), cut into segments and bursts,
// drained by queues of collectives. It has a state of its own in the
// engine that owns it, numbered past any GPU index: netState for the
// recording's host, netState+h for host h of a merged trace.
const netState = 1 << 12

// DefaultNetPeakBps is the network link's peak when no NIC says its speed
// (lo has none): only --burst-threshold uses it.
const DefaultNetPeakBps = 50e9

// minQuietNetNs is the shortest quiet that ends a segment of the network
// link (docs/attribution.md, "Network links"). NVLink moves a collective's
// bytes in every sample interval until it ends; a network transfer is
// driven by CPU threads (NCCL's proxy, the kernel's TCP stack), which pause
// when descheduled: on the loaded 2-core development VM transfers over lo
// paused for up to 55 ms midway. Eight recordings of netranks there: at
// 50 ms two lost 0.3% and 8% of a phase to such pauses, at 250 ms two
// merged their phases 300 ms apart, at 150 ms all eight were right.
const minQuietNetNs = 150_000_000

func minQuietOf(l Link) int64 {
	if l == Net {
		return minQuietNetNs
	}
	return minQuietNs
}

func linkOf(state int) Link {
	if state >= netState {
		return Net
	}
	return NVLink
}

// addNet records a network link and its peak (its NICs' speeds summed).
func (e *Engine) addNet(state int, peakBps float64) {
	g := e.gpu(state)
	g.peakBps = DefaultNetPeakBps
	if peakBps > 0 {
		g.peakBps = peakBps
	}
}

// netSummaries is what the analysis saw of each network link, by state.
func (e *Engine) netSummaries() map[int]GPUSummary {
	out := map[int]GPUSummary{}
	for _, g := range e.gpuList {
		if g.link == Net {
			s := g.sum
			s.Index = -1
			out[g.index] = s
		}
	}
	return out
}

// addLink adds one network link's summary to o, the recording's (hosts
// of a merged trace summed).
func (o *GPUSummary) addLink(s GPUSummary) {
	if o.Samples == 0 && o.Intervals == 0 {
		*o = s
		return
	}
	o.Samples += s.Samples
	o.Failed += s.Failed
	o.Resets += s.Resets
	o.FirstNs, o.LastNs = min(o.FirstNs, s.FirstNs), max(o.LastNs, s.LastNs)
	o.TxBytes += s.TxBytes
	o.RxBytes += s.RxBytes
	o.UnTx += s.UnTx
	o.UnRx += s.UnRx
	o.Bursts += s.Bursts
	o.BusyNs += s.BusyNs
	o.Intervals += s.Intervals
	o.BusyIntervals += s.BusyIntervals
	o.PeakBps = max(o.PeakBps, s.PeakBps)
}

// linkOut hands results to the sink by link: NVLink to the Sink, other
// links to its LinkSink side, and to nothing for a sink without one.
type linkOut struct {
	sink  Sink
	links LinkSink
}

func newLinkOut(s Sink) linkOut {
	ls, _ := s.(LinkSink)
	return linkOut{sink: s, links: ls}
}

func (o linkOut) call(c *Call) {
	switch {
	case c.Link == NVLink:
		o.sink.Call(c)
	case o.links != nil:
		o.links.LinkCall(c)
	}
}

func (o linkOut) interval(iv *Interval) {
	switch {
	case iv.Link == NVLink:
		o.sink.Interval(iv)
	case o.links != nil:
		o.links.LinkInterval(iv)
	}
}

func (o linkOut) burst(b *Burst) {
	switch {
	case b.Link == NVLink:
		o.sink.Burst(b)
	case o.links != nil:
		o.links.LinkBurst(b)
	}
}

// NICSummary is what the analysis counted on one NIC.
type NICSummary struct {
	trace.NIC
	Samples  uint64 // every read, failed ones included
	Failed   uint64
	Resets   uint64 // counter wraps: that interval is unknown
	FirstNs  int64  // first and last successful read
	LastNs   int64
	TxBytes  float64
	RxBytes  float64
	haveLast bool
	lastTx   uint64
	lastRx   uint64
}

// add counts one read of the NIC at time t and returns the interval it
// ends, if the previous read was good and no counter wrapped.
func (n *NICSummary) add(s *trace.NICSample, t int64) (iv nicInterval, ok bool) {
	n.Samples++
	if !s.OK() {
		n.Failed++
		return iv, false
	}
	reset := s.Flags&trace.SampleWrapped != 0 || s.TxBytes < n.lastTx || s.RxBytes < n.lastRx
	switch {
	case !n.haveLast:
		n.FirstNs = t
	case reset:
		n.Resets++
	case t > n.LastNs:
		iv = nicInterval{startNs: n.LastNs, endNs: t, tx: float64(s.TxBytes - n.lastTx), rx: float64(s.RxBytes - n.lastRx)}
		n.TxBytes += iv.tx
		n.RxBytes += iv.rx
		ok = true
	}
	n.haveLast, n.lastTx, n.lastRx, n.LastNs = true, s.TxBytes, s.RxBytes, t
	return iv, ok
}

type nicInterval struct {
	startNs, endNs int64
	tx, rx         float64
}

// NICSink wants each NIC's traffic between two successive good reads, in
// file order, from the goroutine that reads the trace (the timeline's
// per-NIC counter tracks). The router calls it on its arrival sink.
type NICSink interface {
	NICInterval(nic *trace.NIC, startNs, endNs int64, txBytes, rxBytes float64)
}
