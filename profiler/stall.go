package profiler

import (
	"sync"
	"time"

	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/internal/linkidle"
	"github.com/linkprof/linkprof/internal/placement"
	"github.com/linkprof/linkprof/trace"
)

// Live stall detection (docs/stragglers.md). The pump hands the watch every
// collective and communicator creation as it reads them; the sampler's
// writes show it the links. The loop checks every stallCheckEvery:
//
//   - missing-ranks: some ranks of a communicator entered a collective
//     and others did not, for longer than StallAfter, with the links of
//     the communicator's GPUs flat as long (or not sampled);
//   - no-progress: every rank entered the newest collective, no rank
//     entered another on that communicator and the links have not moved
//     since the last arrival, for longer than StallAfter (a hang inside
//     NCCL or on a peer). Only for collectives big enough to show on the
//     counters, on sampled GPUs.
//
// Calls match across ranks by the analysis's rule (internal/arrivals), so
// only communicators whose creation was recorded take part.

// stallCheckEvery is how often the loop looks for stalls.
const stallCheckEvery = 100 * time.Millisecond

// noProgressMinBytes is the smallest payload whose collective surely moves
// counter-visible bytes (the counters count KiB).
const noProgressMinBytes = 64 << 10

type stallWatch struct {
	after int64 // ns

	mu      sync.Mutex
	place   *placement.Placement // as the analysis places work, from the records written
	match   *arrivals.Matcher
	newest  map[*arrivals.Comm]*closedColl // the newest collective every rank entered
	stalls  map[stallKey]*liveStall
	nextID  int
	reports []trace.Stall // detected or ended since the last take

	linkMu sync.Mutex
	links  map[int]*linkState
}

type closedColl struct {
	ev     trace.Event // the last rank's call
	seq    uint64
	lastNs int64
	calls  []arrivals.Call
}

type stallKey struct {
	comm *arrivals.Comm
	seq  uint64
}

// liveStall is a stall being reported.
type liveStall struct {
	rec    trace.Stall
	seq    uint64
	lastNs int64 // no-progress: the last arrival, to see progress past it
}

// linkState is one GPU's counters as the sampler writes them.
type linkState struct {
	tx, rx   uint64 // KiB, at the last successful sample
	atNs     int64
	firstNs  int64 // the first successful sample
	activeNs int64 // the last sample whose interval moved bytes
}

func newStallWatch(after time.Duration) *stallWatch {
	w := &stallWatch{after: after.Nanoseconds(), place: placement.New(), match: arrivals.NewMatcher(),
		newest: map[*arrivals.Comm]*closedColl{}, stalls: map[stallKey]*liveStall{}, links: map[int]*linkState{}}
	w.match.Keep = true
	w.match.Closed = w.closed
	return w
}

// event takes a collective or a communicator's creation (pump goroutine).
func (w *stallWatch) event(ev *trace.Event) {
	w.mu.Lock()
	w.match.Observe(ev, 0)
	w.mu.Unlock()
}

// record takes a metadata record as it is written: processes, GPUs and
// communicators place the ranks on GPUs as the analysis will (any
// goroutine).
func (w *stallWatch) record(_ trace.RecordType, v any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch v := v.(type) {
	case trace.Process:
		w.place.Process(v)
	case trace.GPU:
		w.place.GPU(v)
	case trace.Comm:
		w.place.RankGuess(v.Pid, v.Rank, v.NRanks)
		if v.CUDADevice != nil {
			w.place.Comm(v.Pid, v.Handle, *v.CUDADevice)
		}
	}
}

// closed keeps a communicator's newest collective that every rank
// entered, and ends a missing-ranks stall on it (under w.mu).
func (w *stallWatch) closed(s *arrivals.Collective) {
	last := s.Calls[len(s.Calls)-1].Ev
	for _, c := range s.Calls {
		if c.Ev.TsNs > last.TsNs {
			last = c.Ev
		}
	}
	nc := w.newest[s.Comm]
	if nc == nil {
		nc = &closedColl{}
		w.newest[s.Comm] = nc
	}
	if nc.calls == nil || s.Seq > nc.seq {
		// The slice is reused: this runs for every collective.
		nc.ev, nc.seq, nc.lastNs, nc.calls = last, s.Seq, int64(last.TsNs), append(nc.calls[:0], s.Calls...)
	}
	if st := w.stalls[stallKey{s.Comm, s.Seq}]; st != nil && st.rec.Kind == stallMissing {
		w.end(stallKey{s.Comm, s.Seq}, int64(last.TsNs), "arrived")
	}
}

// sample takes one NVML sample (under the trace writer's lock: quick).
// An interval moved bytes when it is not quiet by the analysis's rule
// (internal/linkidle), or a counter went back (reset).
func (w *stallWatch) sample(s trace.Sample) {
	if !s.OK() {
		return
	}
	w.linkMu.Lock()
	defer w.linkMu.Unlock()
	l := w.links[int(s.GPU)]
	at := s.MonoAfterNs
	if l == nil {
		w.links[int(s.GPU)] = &linkState{tx: s.DataTxKiB, rx: s.DataRxKiB, atNs: at, firstNs: at, activeNs: at}
		return
	}
	if s.DataTxKiB < l.tx || s.DataRxKiB < l.rx ||
		!linkidle.Quiet(float64(s.DataTxKiB-l.tx)*1024, float64(s.DataRxKiB-l.rx)*1024, at-l.atNs) {
		l.activeNs = at
	}
	l.tx, l.rx, l.atNs = s.DataTxKiB, s.DataRxKiB, at
}

// lastActive is the latest time the links of gpus moved bytes, and
// whether any of them is sampled.
func (w *stallWatch) lastActive(gpus []int) (int64, bool) {
	w.linkMu.Lock()
	defer w.linkMu.Unlock()
	var at int64
	sampled := false
	for _, g := range gpus {
		if l := w.links[g]; l != nil {
			at, sampled = max(at, l.activeNs), true
		}
	}
	return at, sampled
}

// gpus are the GPUs of a communicator's recorded ranks (under w.mu).
func (w *stallWatch) gpus(c *arrivals.Comm) []int {
	var out []int
	for _, m := range c.Members {
		if g := w.place.CallGPU(m.Pid, m.Handle); g >= 0 {
			out = append(out, g)
		}
	}
	return out
}

// check looks for new stalls and ends old ones at now; it returns the
// stall records to write (loop goroutine).
func (w *stallWatch) check(now int64) []trace.Stall {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, st := range w.stalls {
		w.recheck(k, st, now)
	}
	for _, c := range w.match.Comms() {
		if c.Recorded() < int(c.NRanks) {
			continue // its collectives never match: no stall to see
		}
		w.checkComm(c, now)
	}
	out := w.reports
	w.reports = nil
	return out
}

func (w *stallWatch) checkComm(c *arrivals.Comm, now int64) {
	var oldest *arrivals.Collective
	c.Open(func(s *arrivals.Collective) {
		if oldest == nil || s.Seq < oldest.Seq {
			oldest = s
		}
	})
	gpus := w.gpus(c)
	active, sampled := w.lastActive(gpus)
	flat := int64(-1)
	if sampled {
		flat = now - active
	}
	if oldest != nil {
		since := firstArrival(oldest.Calls)
		if now-since > w.after && (flat < 0 || flat > w.after) {
			w.start(stallKey{c, oldest.Seq}, stallMissing, oldest.Calls, since, flat, now)
		}
		return
	}
	nc := w.newest[c]
	if nc == nil || !sampled || nc.ev.PayloadBytes() < noProgressMinBytes {
		return
	}
	if active <= nc.lastNs && now-nc.lastNs > w.after {
		w.startNoProgress(c, nc, flat, now)
	}
}

// recheck ends a stall that made progress.
func (w *stallWatch) recheck(k stallKey, st *liveStall, now int64) {
	switch st.rec.Kind {
	case stallMissing:
		if !k.comm.IsOpen(k.seq) {
			w.end(k, now, "forgotten") // closing would have ended it
		}
	case stallNoProgress:
		active, _ := w.lastActive(w.gpus(k.comm))
		nc := w.newest[k.comm]
		moved := nc == nil
		k.comm.Open(func(*arrivals.Collective) { moved = true })
		if moved || nc.seq != st.seq || active > st.lastNs {
			w.end(k, now, "progress")
		}
	}
}

func firstArrival(calls []arrivals.Call) int64 {
	var first int64
	for i, c := range calls {
		if t := int64(c.Ev.TsNs); i == 0 || t < first {
			first = t
		}
	}
	return first
}
