package correlate

import "github.com/linkprof/linkprof/trace"

// nestedNs is how soon after ncclBcast its inner ncclBroadcast fires: the
// same thread, inside the same API call (10 us measured on H200).
const nestedNs = 1_000_000

type threadKey struct{ pid, tid uint32 }

// nestedCalls drops NCCL API calls made from inside another on the same
// thread: ncclBcast is implemented by calling ncclBroadcast, and both
// probes fire for one collective. Calls count executed collectives, so
// the outer call (the caller's stack) stays and the inner one goes.
type nestedCalls struct {
	bcast map[threadKey]trace.Event
}

// inner reports whether ev is the inner half of a nested pair.
func (n *nestedCalls) inner(ev *trace.Event) bool {
	switch ev.Kind {
	case trace.Bcast:
		if n.bcast == nil {
			n.bcast = map[threadKey]trace.Event{}
		}
		n.bcast[threadKey{ev.Pid, ev.Tid}] = *ev
	case trace.Broadcast:
		k := threadKey{ev.Pid, ev.Tid}
		outer, ok := n.bcast[k]
		if !ok {
			return false
		}
		delete(n.bcast, k)
		return ev.TsNs >= outer.TsNs && ev.TsNs-outer.TsNs < nestedNs && ev.Comm == outer.Comm &&
			ev.Count == outer.Count && ev.DataType == outer.DataType && ev.Peer == outer.Peer && ev.Stream == outer.Stream
	}
	return false
}
