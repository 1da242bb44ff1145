package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/internal/arrivals"
)

// Arrivals (docs/attribution.md, "Time bounds"). A collective moves no
// byte before the last rank of its communicator has entered it, so its
// earliest start is the latest enqueue among the ranks' matching calls.
// internal/arrivals matches the calls (communicator by creation order and
// size, then per-communicator sequence number); the router (one
// goroutine, file order) feeds it and hands each collective whose ranks
// all arrived to the arrival sink (skew.go). Engines read the arrivals,
// behind the router by the reorder window.

// peerWaitNs is how long a launch waits for its peers before it may run
// anyway (a rank that never arrives: a hang, or a rank not recorded).
const peerWaitNs = 10_000_000_000

// arrival is one collective as its ranks enter it.
type arrival = arrivals.Collective

// observeArrival registers communicator creations and marks each
// collective item with its arrival. Calls captured into a CUDA graph do
// not run then, so they arrive nowhere.
func (r *router) observeArrival(it *item) {
	ev := &it.ev
	if it.phase == graphs.Capture && ev.Kind.IsCollective() {
		return
	}
	it.arrive = r.match.Observe(ev, uint8(it.phase))
	if it.arrive == nil && arrivals.Matchable(ev.Kind) {
		r.res.Arrivals.UnmatchedCalls++
	}
}

// readyBefore reports whether the launch may move bytes before t: its
// host launch is earlier, and so are its peers' arrivals (waited for up to
// peerWaitNs).
func (l *launch) readyBefore(t int64) bool {
	for len(l.waits) > 0 {
		last := len(l.waits) - 1
		at, ok := l.waits[last].All()
		if !ok && t-l.readyNs < peerWaitNs {
			return false
		}
		if ok {
			l.readyNs = max(l.readyNs, at)
		}
		l.waits[last] = nil
		l.waits = l.waits[:last]
	}
	return l.readyNs < t
}
