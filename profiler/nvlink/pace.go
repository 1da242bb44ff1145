package nvlink

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Even pacing of the per-process readers. NVML does not serialize reads
// across processes, but the readers do not share the driver fairly either:
// on the 4x H200 box free-running reader processes got 216-342 reads/s
// each (docs/validation.md). The sampler counts each reader's reads per
// window and, when they differ by more than paceTolerance, caps every
// reader at just above the slowest one's rate; the fast ones then leave the
// slow one more room. While they are even, the cap is raised a step per
// window, so the shared rate climbs to the most the box gives every GPU.
const (
	// DefaultPaceWindow is how long reads are counted before the readers'
	// rates are compared.
	DefaultPaceWindow = 500 * time.Millisecond
	paceTolerance     = 0.03 // spread of rates, over their mean, still "even"
	paceStep          = 0.02 // first raise of the cap after an even window
	paceMaxClimb      = 3    // the raise doubles up to 2^3 steps (16%) in a row
	paceMargin        = 0.01 // the cap's headroom over the slowest reader
	// paceMinReads is the fewest reads of a reader that a window compares:
	// one read more or less is then 1%, well inside the tolerance. A window
	// stays open until the slowest reader made them, at most paceMaxWindows
	// long; slower readers (a low --nvml-hz) are not paced, their cap keeps
	// them even.
	paceMinReads   = 100
	paceMaxWindows = 8
)

// pacer keeps the reader processes at one rate; its methods are called by
// the GPUs' supervisors, each on its own goroutine.
type pacer struct {
	window int64   // ns
	userHz float64 // --nvml-hz, 0 none: the cap never goes above it
	mu     sync.Mutex
	from   int64   // monotonic ns the current window opened; 0: not yet
	cap    paceCap // the pacer's cap
	paced  map[int]*pacedReader
}

// pacedReader is one GPU's running reader process as the pacer sees it.
type pacedReader struct {
	control io.Writer
	first   int64 // monotonic ns of its first read; 0: none yet
	reads   int   // in the current window
	parked  bool  // its GPU is lost and only probed: not paced
	sent    float64
}

func newPacer(window time.Duration, userHz float64) *pacer {
	return &pacer{window: window.Nanoseconds(), userHz: userHz, paced: map[int]*pacedReader{}}
}

// attach adds a GPU's (re)started reader, which starts at the user's rate,
// and sets it to the rate the others run at.
func (p *pacer) attach(gpu int, control io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &pacedReader{control: control, sent: p.userHz}
	p.paced[gpu] = r
	p.send(r)
}

// detach removes a GPU whose reader ended.
func (p *pacer) detach(gpu int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.paced, gpu)
}

// read counts one read of gpu that ended at monoNs, and closes the window
// when it is due. A lost GPU (parked) is left out of the comparison: its
// probes would pull every reader down to one read a second.
func (p *pacer) read(gpu int, monoNs int64, parked bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.paced[gpu]
	if r == nil {
		return
	}
	r.reads++
	r.parked = parked
	if r.first == 0 {
		r.first = monoNs
	}
	if p.from == 0 {
		p.from = monoNs
	}
	if monoNs-p.from < p.window {
		return
	}
	rates, fewest := p.rates(monoNs)
	switch {
	case fewest >= paceMinReads:
		p.cap = nextCap(rates, p.cap)
	case monoNs-p.from < paceMaxWindows*p.window:
		return // too few reads to tell 3% apart: count on
	}
	p.from = monoNs
	for _, r := range p.paced {
		r.reads = 0
		p.send(r)
	}
}

// rates are the reads per second of the readers that ran the whole window;
// fewest is the fewest reads one of them made.
func (p *pacer) rates(now int64) (rates []float64, fewest int) {
	fewest = math.MaxInt
	for _, r := range p.paced {
		if r.first != 0 && r.first <= p.from && !r.parked {
			rates = append(rates, float64(r.reads)*1e9/float64(now-p.from))
			fewest = min(fewest, r.reads)
		}
	}
	return rates, fewest
}

// paceCap is the pacer's cap, how many windows in a row raised it, and the
// cap at which the readers last fell apart.
type paceCap struct {
	hz     float64 // 0: none
	climbs int
	fault  float64 // 0: none known
}

// nextCap is the cap after a window with these rates: just above the
// slowest reader when they are uneven; higher when they are even and the
// fastest reached the cap; unchanged otherwise. A raise doubles with each
// raise in a row (up to paceMaxClimb doublings), so the rate comes back
// quickly after the driver was busy for a while, but is one plain step
// around the cap where the readers last fell apart, so the even rate is
// not overshot time and again. Readers even well beyond that cap forget
// it: the driver has more room than then.
func nextCap(rates []float64, c paceCap) paceCap {
	if len(rates) < 2 {
		return c
	}
	lo, hi := slices.Min(rates), slices.Max(rates)
	mean := 0.0
	for _, r := range rates {
		mean += r / float64(len(rates))
	}
	switch {
	case hi-lo > paceTolerance*mean:
		fault := c.hz
		if fault == 0 {
			fault = hi
		}
		return paceCap{hz: lo * (1 + paceMargin), fault: fault}
	case c.hz > 0 && hi >= c.hz*(1-paceTolerance):
		if c.hz > c.fault*(1+paceTolerance) {
			c.fault = 0 // even well beyond it: the driver has more room now
		}
		step := paceStep * float64(int(1)<<min(c.climbs, paceMaxClimb))
		if c.fault > 0 && c.hz*(1+step) > c.fault*(1-paceTolerance) {
			step, c.climbs = paceStep, -1 // near the fault: no doubling
		}
		return paceCap{hz: c.hz * (1 + step), climbs: c.climbs + 1, fault: c.fault}
	}
	return c
}

// send tells a reader the rate it should keep, when that changed: the
// pacer's cap, within the user's. A failed write is left alone: the reader
// is gone, and its supervisor sees its output end and says so.
func (p *pacer) send(r *pacedReader) {
	hz := p.cap.hz
	if p.userHz > 0 && (hz == 0 || hz > p.userHz) {
		hz = p.userHz
	}
	if r.control == nil || hz == r.sent {
		return
	}
	r.sent = hz
	_, _ = fmt.Fprintf(r.control, "hz %s\n", strconv.FormatFloat(hz, 'g', 6, 64))
}
