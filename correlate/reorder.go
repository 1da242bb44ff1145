package correlate

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

type timedSample struct {
	t    int64
	nvml bool
	s    trace.Sample
}

// reorder holds events and samples until nothing earlier can still arrive:
// the recorder writes ring-buffer batches and sampler batches as they come,
// so the file is in time order only within Options.ReorderNs.
type reorder struct {
	window   int64
	newest   int64
	cut      int64 // everything at or before it has been processed
	events   []trace.Event
	sorted   bool
	samples  map[int][]timedSample
	gpuOrder []int
}

func (r *reorder) addEvent(e *Engine, ev trace.Event) {
	t := int64(ev.TsNs)
	if t <= r.cut {
		e.stats.LateItems++
		e.event(&ev)
		return
	}
	if n := len(r.events); n > 0 && r.events[n-1].TsNs > ev.TsNs {
		r.sorted = false
	}
	r.events = append(r.events, ev)
	r.advance(e, t)
}

func (r *reorder) addSample(e *Engine, ts timedSample) {
	if r.samples == nil {
		r.samples = map[int][]timedSample{}
	}
	i := int(ts.s.GPU)
	if ts.t <= r.cut {
		e.stats.LateItems++
		e.sample(e.gpu(i), ts.t, &ts.s, ts.nvml)
		return
	}
	q, ok := r.samples[i]
	if !ok {
		r.gpuOrder = append(r.gpuOrder, i)
		e.gpu(i)
	}
	q = append(q, ts)
	for j := len(q) - 1; j > 0 && q[j-1].t > q[j].t; j-- {
		q[j-1], q[j] = q[j], q[j-1]
	}
	r.samples[i] = q
	r.advance(e, ts.t)
}

// advance releases in steps of an eighth of the window, so each item is
// touched a bounded number of times.
func (r *reorder) advance(e *Engine, t int64) {
	r.newest = max(r.newest, t)
	if r.newest-r.window > r.cut+r.window/8 {
		r.release(e, r.newest-r.window)
	}
}

// release processes every queued item at or before cut, in time order;
// at equal times events go first, so a launch is ready for the interval
// it ends.
func (r *reorder) release(e *Engine, cut int64) {
	if !r.sorted {
		slices.SortStableFunc(r.events, func(a, b trace.Event) int { return cmp64(a.TsNs, b.TsNs) })
		r.sorted = true
	}
	heads := make([]int, len(r.gpuOrder))
	ei := 0
	for {
		best, bt := -1, int64(0)
		if ei < len(r.events) && int64(r.events[ei].TsNs) <= cut {
			best, bt = len(heads), int64(r.events[ei].TsNs)
		}
		for k, i := range r.gpuOrder {
			q := r.samples[i]
			if h := heads[k]; h < len(q) && q[h].t <= cut && (best < 0 || q[h].t < bt) {
				best, bt = k, q[h].t
			}
		}
		if best < 0 {
			break
		}
		if best == len(heads) {
			e.event(&r.events[ei])
			ei++
			continue
		}
		i := r.gpuOrder[best]
		ts := &r.samples[i][heads[best]]
		heads[best]++
		e.seen(ts.t)
		e.sample(e.gpus[i], ts.t, &ts.s, ts.nvml)
	}
	r.events = r.events[:copy(r.events, r.events[ei:])]
	for k, i := range r.gpuOrder {
		q := r.samples[i]
		r.samples[i] = q[:copy(q, q[heads[k]:])]
	}
	r.cut = max(r.cut, cut)
}

func cmp64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
