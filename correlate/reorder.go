package correlate

import (
	"cmp"
	"slices"
)

// timedSample is a read of a link's counters at its time; state is the
// link's model (a GPU index, or netState).
type timedSample struct {
	t     int64
	nvml  bool
	state int
	r     counterRead
}

// sampleQueue holds one GPU's samples waiting for release.
type sampleQueue struct {
	g    *gpuState
	q    []timedSample
	head int
}

// reorder holds events and samples until nothing earlier can still arrive:
// the recorder writes ring-buffer batches and sampler batches as they come,
// so the file is in time order only within Options.ReorderNs.
//
// The two streams are held differently. A sample must wait for every event
// before it (a launch must be queued before the interval it runs in), but
// an event may be handled before earlier samples: the model never lets a
// launch take bytes of an interval that ended before it. So events, many,
// wait only eventWindowNs behind the newest event (the ring buffer's small
// inversions across CPUs), and samples, few, are released once the events
// have passed them, or Options.ReorderNs behind the newest sample. Memory
// is then a few milliseconds of events, not seconds.
type reorder struct {
	window    int64
	newestEv  int64
	newestSmp int64
	cut       int64 // everything at or before it has been processed
	events    []item
	evHead    int
	sorted    bool
	byGPU     []*sampleQueue // indexed by GPU index
	queues    []*sampleQueue // in order of first appearance
}

// eventWindowNs is how far behind the newest event an event may still
// arrive and be handled in order.
const eventWindowNs = 20_000_000

func (r *reorder) addEvent(e *Engine, it *item) {
	t := int64(it.ev.TsNs)
	if t <= r.cut {
		e.stats.LateItems++
		e.event(it)
		return
	}
	if n := len(r.events); n > r.evHead && r.events[n-1].ev.TsNs > it.ev.TsNs {
		r.sorted = false
	}
	r.events = append(r.events, *it)
	r.newestEv = max(r.newestEv, t)
	r.advance(e)
}

func (r *reorder) queue(e *Engine, i int) *sampleQueue {
	if i < len(r.byGPU) && r.byGPU[i] != nil {
		return r.byGPU[i]
	}
	if i >= len(r.byGPU) {
		r.byGPU = append(r.byGPU, make([]*sampleQueue, i+1-len(r.byGPU))...)
	}
	q := &sampleQueue{g: e.gpu(i)}
	r.byGPU[i] = q
	r.queues = append(r.queues, q)
	return q
}

// addSample queues a sample; one behind the cut is handled at once: the
// events before it are in, and its GPU's samples come in order.
func (r *reorder) addSample(e *Engine, ts *timedSample) {
	q := r.queue(e, ts.state)
	if ts.t <= r.cut && q.head == len(q.q) {
		e.seen(ts.t)
		e.sample(q.g, ts.t, &ts.r, ts.nvml)
		return
	}
	q.q = append(q.q, *ts)
	for j := len(q.q) - 1; j > q.head && q.q[j-1].t > q.q[j].t; j-- {
		q.q[j-1], q.q[j] = q.q[j], q.q[j-1]
	}
	r.newestSmp = max(r.newestSmp, ts.t)
	r.advance(e)
}

// advance releases in steps of an eighth of the event window, so each
// item is touched a bounded number of times.
func (r *reorder) advance(e *Engine) {
	cut := max(r.newestEv-eventWindowNs, r.newestSmp-r.window)
	if cut > r.cut+eventWindowNs/8 {
		r.release(e, cut)
	}
}

// release processes every queued item at or before cut, in time order;
// at equal times events go first, so a launch is ready for the interval
// it ends.
func (r *reorder) release(e *Engine, cut int64) {
	if !r.sorted {
		pending := r.events[r.evHead:]
		slices.SortStableFunc(pending, func(a, b item) int { return cmp.Compare(a.ev.TsNs, b.ev.TsNs) })
		r.sorted = true
	}
	for {
		var best *sampleQueue
		bt := cut
		for _, q := range r.queues {
			if q.head < len(q.q) && q.q[q.head].t <= cut && (best == nil || q.q[q.head].t < bt) {
				best, bt = q, q.q[q.head].t
			}
		}
		for r.evHead < len(r.events) && int64(r.events[r.evHead].ev.TsNs) <= bt {
			e.event(&r.events[r.evHead])
			r.evHead++
		}
		if best == nil {
			break
		}
		ts := &best.q[best.head]
		best.head++
		e.seen(ts.t)
		e.sample(best.g, ts.t, &ts.r, ts.nvml)
	}
	r.events, r.evHead = compact(r.events, r.evHead)
	for _, q := range r.queues {
		q.q, q.head = compact(q.q, q.head)
	}
	r.cut = max(r.cut, cut)
}

// compact drops a queue's released prefix once it is most of the slice,
// so the copying stays proportional to what was released.
func compact[T any](s []T, head int) ([]T, int) {
	if head == len(s) {
		return s[:0], 0
	}
	if head*2 < len(s) {
		return s, head
	}
	return s[:copy(s, s[head:])], 0
}
