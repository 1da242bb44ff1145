package nvlink

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

// Even pacing of the per-process readers. NVML does not serialize reads
// across processes, but the readers do not share the driver fairly either:
// on the 4x H200 box free-running reader processes got 216-342 reads/s
// each (docs/validation.md). The sampler counts each reader's reads per
// window and lets the slowest reader read as fast as it can while it caps
// the others just above its rate (moving their cap half way each window,
// so the lead does not swap back and forth): they then leave it more room,
// it speeds up, they follow it, and all settle at the most the box gives
// every GPU.
// A reader that reads at its cap says nothing of how fast it could read, so
// the slowest is picked among the readers that fell short of their cap; the
// uncapped one always does, and when the driver frees up it speeds up at
// once and the others follow a window later.
const (
	// DefaultPaceWindow is how long reads are counted before the readers'
	// rates are compared.
	DefaultPaceWindow = 500 * time.Millisecond
	paceTolerance     = 0.03 // a reader below its cap by more than this fell short of it
	paceMargin        = 0.01 // the others' headroom over the slowest reader
	// paceMinReads is the fewest reads of a reader that a window compares:
	// one read more or less is then 1%. A window stays open until the
	// slowest reader made them, at most paceMaxWindows long; slower readers
	// (a low --nvml-hz) are not paced, their cap keeps them even.
	paceMinReads   = 100
	paceMaxWindows = 8
)

// pacer keeps the reader processes at one rate; its methods are called by
// the GPUs' supervisors, each on its own goroutine.
type pacer struct {
	window int64   // ns
	userHz float64 // --nvml-hz, 0 none: no cap goes above it
	mu     sync.Mutex
	from   int64   // monotonic ns the current window opened; 0: not yet
	follow float64 // the cap of all but the slowest reader; 0: none yet
	paced  map[int]*pacedReader
}

// pacedReader is one GPU's running reader process as the pacer sees it.
type pacedReader struct {
	control io.Writer
	first   int64   // monotonic ns of its first read; 0: none yet
	reads   int     // in the current window
	parked  bool    // its GPU is lost and only probed: not paced
	capHz   float64 // the pacer's cap; 0: none (the slowest reader)
	sent    float64 // the rate it was last told
}

func newPacer(window time.Duration, userHz float64) *pacer {
	return &pacer{window: window.Nanoseconds(), userHz: userHz, paced: map[int]*pacedReader{}}
}

// attach adds a GPU's (re)started reader, which starts at the user's rate,
// and sets it to the rate the others follow.
func (p *pacer) attach(gpu int, control io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &pacedReader{control: control, capHz: p.follow, sent: p.userHz}
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
	counted, fewest := p.counted()
	switch {
	case fewest >= paceMinReads:
		p.pace(counted, float64(monoNs-p.from)/1e9)
	case monoNs-p.from < paceMaxWindows*p.window:
		return // too few reads to tell 1% apart: count on
	}
	p.from = monoNs
	for _, r := range p.paced {
		r.reads = 0
		p.send(r)
	}
}

// counted are the readers that ran the whole window and are not lost;
// fewest is the fewest reads one of them made.
func (p *pacer) counted() (counted []*pacedReader, fewest int) {
	fewest = math.MaxInt
	for _, r := range p.paced {
		if r.first != 0 && r.first <= p.from && !r.parked {
			counted = append(counted, r)
			fewest = min(fewest, r.reads)
		}
	}
	return counted, fewest
}

// pace sets the caps after a window of secs: the slowest reader that fell
// short of its cap goes uncapped, the others are capped just above it. When
// every reader read at its cap (the user's, or one the pacer set), the
// pacer's caps move up toward the fastest one's rate.
func (p *pacer) pace(counted []*pacedReader, secs float64) {
	if len(counted) < 2 {
		return
	}
	var slowest, fastest *pacedReader
	for _, r := range counted {
		if fastest == nil || r.reads > fastest.reads {
			fastest = r
		}
		rate := float64(r.reads) / secs
		if limit := p.limit(r); limit > 0 && rate >= limit*(1-paceTolerance) {
			continue // read at its cap: could have read faster
		}
		if slowest == nil || r.reads < slowest.reads {
			slowest = r
		}
	}
	lead := slowest
	if lead == nil {
		lead = fastest // every reader at its cap: let the pacer's caps up to the highest
	}
	follow := float64(lead.reads) / secs * (1 + paceMargin)
	if p.follow > 0 {
		// The uncapped reader takes the room the others leave it: move
		// their cap half way, or they would take it back all at once and
		// the lead would swap every window.
		follow = (follow + p.follow) / 2
	}
	p.follow = follow
	for _, r := range counted {
		r.capHz = p.follow
	}
	if slowest != nil {
		slowest.capHz = 0
	}
}

// limit is the rate a reader may read at: the pacer's cap within the user's.
func (p *pacer) limit(r *pacedReader) float64 {
	hz := r.capHz
	if p.userHz > 0 && (hz == 0 || hz > p.userHz) {
		hz = p.userHz
	}
	return hz
}

// send tells a reader the rate it should keep, when that changed. A failed write is left alone: the reader
// is gone, and its supervisor sees its output end and says so.
func (p *pacer) send(r *pacedReader) {
	hz := p.limit(r)
	if r.control == nil || hz == r.sent {
		return
	}
	r.sent = hz
	_, _ = fmt.Fprintf(r.control, "hz %s\n", strconv.FormatFloat(hz, 'g', 6, 64))
}
