package physim

import "math"

// tag says what truth charges an item's bytes to.
type tag struct {
	txOp, rxOp string // "" for traffic no collective explains
	graph      int    // the hidden graph whose replays these are, else -1
	phase      int    // index into Truth.Phases, -1 outside any phase
}

// item is one piece of work on a stream lane: a transfer (latency, then
// bytes) or a compute kernel (durNs, no bytes). A lane runs its items in
// order, each no earlier than its ready time.
type item struct {
	ready int64
	latNs int64
	durNs int64
	wire  []dir   // per GPU; nil for compute
	solo  float64 // bytes/s of its busiest GPU with the link to itself
	tag   *tag
}

// most is the busiest GPU's bytes in either direction: progress is
// measured in it.
func (it *item) most() float64 {
	var m float64
	for _, d := range it.wire {
		m = max(m, d.tx, d.rx)
	}
	return m
}

type lane struct {
	queue []*item
	free  int64 // when its last item finished
	run   *running
}

type running struct {
	it        *item
	start     int64
	bytesFrom int64   // start + latency
	done      float64 // fraction of the bytes moved
}

// engine is a fluid model of every GPU's link: items whose bytes move at
// once share capBps bytes/s, each slowed in proportion to its solo rate.
// All communicators span every rank, so sharing is the same on each GPU.
type engine struct {
	capBps float64
	lanes  []*lane
	now    int64
	links  []*link
}

func (e *engine) push(l int, it *item) {
	for len(e.lanes) <= l {
		e.lanes = append(e.lanes, &lane{})
	}
	e.lanes[l].queue = append(e.lanes[l].queue, it)
}

// drain runs every queued item to completion and returns when the last
// one finished.
func (e *engine) drain() int64 {
	end := e.now
	for {
		t, ok := e.next()
		if !ok {
			return end
		}
		e.advance(t)
		for _, l := range e.lanes {
			if e.finish(l, t) {
				end = max(end, t)
			}
			e.start(l, t)
		}
	}
}

// moving reports whether r's bytes are flowing now.
func (e *engine) moving(r *running) bool {
	return r != nil && r.it.wire != nil && r.bytesFrom <= e.now && r.done < 1
}

// rates are the byte rates of the lanes' running items after sharing,
// by lane (0 for those not moving bytes).
func (e *engine) rates() []float64 {
	var sum float64
	for _, l := range e.lanes {
		if e.moving(l.run) {
			sum += l.run.it.solo
		}
	}
	scale := 1.0
	if sum > e.capBps {
		scale = e.capBps / sum
	}
	out := make([]float64, len(e.lanes))
	for i, l := range e.lanes {
		if e.moving(l.run) {
			out[i] = l.run.it.solo * scale
		}
	}
	return out
}

// next is the time of the next change: an item starts, its latency ends,
// it finishes.
func (e *engine) next() (int64, bool) {
	t, ok := int64(math.MaxInt64), false
	rates := e.rates()
	for i, l := range e.lanes {
		var at int64
		switch r := l.run; {
		case r == nil && len(l.queue) > 0:
			at = max(l.queue[0].ready, l.free, e.now)
		case r == nil:
			continue
		case r.it.wire == nil:
			at = r.start + r.it.durNs
		case r.bytesFrom > e.now:
			at = r.bytesFrom
		case r.done >= 1:
			at = e.now
		default:
			left := (1 - r.done) * r.it.most()
			at = e.now + int64(math.Ceil(left/rates[i]*1e9))
		}
		t, ok = min(t, at), true
	}
	return t, ok
}

// advance moves bytes from now to t at the current rates.
func (e *engine) advance(t int64) {
	if t <= e.now {
		return
	}
	for i, rate := range e.rates() {
		if rate == 0 {
			continue
		}
		r := e.lanes[i].run
		f := min(1-r.done, rate*float64(t-e.now)/1e9/r.it.most())
		if left := (1 - r.done - f) * r.it.most(); left < 1 {
			f = 1 - r.done // the last byte: make the sum exact
		}
		r.done += f
		for g, d := range r.it.wire {
			if d.tx+d.rx > 0 {
				e.links[g].add(seg{start: e.now, end: t, tx: d.tx * f, rx: d.rx * f, tag: r.it.tag})
			}
		}
	}
	e.now = t
}

func (e *engine) finish(l *lane, t int64) bool {
	r := l.run
	if r == nil {
		return false
	}
	switch {
	case r.it.wire == nil && r.start+r.it.durNs > t:
		return false
	case r.it.wire != nil && (r.bytesFrom > t || r.done < 1 && r.it.most() > 0):
		return false
	}
	l.run, l.free = nil, t
	return true
}

func (e *engine) start(l *lane, t int64) {
	if l.run != nil || len(l.queue) == 0 || max(l.queue[0].ready, l.free) > t {
		return
	}
	it := l.queue[0]
	l.queue = l.queue[1:]
	l.run = &running{it: it, start: t, bytesFrom: t + it.latNs}
	if it.wire != nil && it.most() == 0 {
		// nothing crosses the link: only the latency
		l.run.done = 1
	}
}
