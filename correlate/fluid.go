package correlate

// Directions of link traffic, indexes of launch.exp and friends.
const (
	tx = 0
	rx = 1
)

// launch is one unit of GPU work on a stream: a call, or the calls of one
// NCCL group, which NCCL launches together at ncclGroupEnd.
type launch struct {
	calls    []*Call
	readyNs  int64      // no bytes before it: host launch, then the last peer's arrival
	hostNs   int64      // host launch time
	exp      [2]float64 // expected wire bytes per direction
	got      [2]float64 // attributed so far
	extra    [2]float64 // absorbed beyond exp under Options.Tolerance
	left     int        // directions with expected bytes not yet seen
	endNs    int64      // when its last direction finished
	counted  bool       // learning: counted in a row of the fit already (learn.go)
	burstSeq uint64     // the burst its last bytes landed in (0: none)
	waits    []*arrival // peers' arrivals not yet all in (arrive.go)
}

func (l *launch) remaining(d int) float64 { return l.exp[d] - l.got[d] }

// stream is one (process, stream) queue: work runs in launch order. Each
// direction has its own cursor, so a send-only launch does not hold up
// the receive traffic of the one behind it.
type stream struct {
	q    []*launch
	head int    // first launch not yet finished in both directions
	cur  [2]int // first launch not yet finished in each direction
}

// at is the launch direction d is working on, skipping launches that move
// nothing in that direction once they are launched.
func (s *stream) at(d int, t1 int64) *launch {
	for s.cur[d] < len(s.q) {
		l := s.q[s.cur[d]]
		if l.exp[d] > 0 || !l.readyBefore(t1) {
			return l
		}
		s.cur[d]++
	}
	return nil
}

// front is the oldest unfinished launch.
func (s *stream) front() *launch {
	if s.head < len(s.q) {
		return s.q[s.head]
	}
	return nil
}

// drop finishes the front launch in both directions.
func (s *stream) drop() {
	for d := range s.cur {
		s.cur[d] = max(s.cur[d], s.head+1)
	}
	s.compact()
}

// compact forgets launches both cursors have passed.
func (s *stream) compact() {
	for s.head < min(s.cur[tx], s.cur[rx]) {
		s.q[s.head] = nil
		s.head++
	}
	if s.head == len(s.q) {
		s.q, s.head, s.cur = s.q[:0], 0, [2]int{}
	} else if s.head > 64 && s.head*2 > len(s.q) {
		n := copy(s.q, s.q[s.head:])
		clear(s.q[n:])
		s.q = s.q[:n]
		s.cur[tx], s.cur[rx] = s.cur[tx]-s.head, s.cur[rx]-s.head
		s.head = 0
	}
}

// share is what one launch received in one direction of an interval.
type share struct {
	l    *launch
	dir  int
	amt  float64
	pos  float64 // bytes of the interval consumed before its round began; -1: tolerance
	end  float64 // bytes consumed when it finished (done only)
	done bool    // direction dir finished
}

// fill runs the fluid model over one direction of an interval: the GPU
// works through the heads of its streams, bytes split among concurrently
// running heads in proportion to their outstanding expected bytes. A head
// finishes when it has absorbed its expected bytes; the next launch on its
// stream starts if it was launched before the interval ended. It returns
// what is left over.
func fill(streams []*stream, d int, t1 int64, total float64, out []share) ([]share, float64) {
	rem := total
	for rem > 0 {
		var capSum float64
		n0 := len(out)
		for _, s := range streams {
			if l := s.at(d, t1); l != nil && l.readyBefore(t1) {
				out = append(out, share{l: l, dir: d, pos: total - rem})
				capSum += l.remaining(d)
			}
		}
		if len(out) == n0 {
			break
		}
		if rem < capSum {
			for i := n0; i < len(out); i++ {
				out[i].amt = rem * out[i].l.remaining(d) / capSum
			}
			return out, 0
		}
		for i := n0; i < len(out); i++ {
			out[i].amt, out[i].done = out[i].l.remaining(d), true
			out[i].end = total - rem + capSum
		}
		rem -= capSum
		for _, s := range streams {
			if l := s.at(d, t1); l != nil && l.readyBefore(t1) {
				s.cur[d]++
			}
		}
	}
	return out, rem
}

// earlyBytes is how much of a collective a rank's GPU may send before the
// last of its peers has entered it: NCCL's sender fills the receiver's
// staging buffers ahead of it (measured on H200: 16 MiB of a 32 MiB
// all-reduce moved 1.9 ms before the peer's call).
const earlyBytes = 16 << 20

// fillEarly gives bytes no ready launch took to launches still waiting for
// their peers, each up to earlyBytes in a direction, in proportion to
// what they may still take.
func fillEarly(streams []*stream, d int, t1 int64, total, rem float64, out []share) ([]share, float64) {
	n0 := len(out)
	var capSum float64
	for _, s := range streams {
		l := s.at(d, t1)
		if l == nil || l.hostNs >= t1 || l.readyBefore(t1) {
			continue
		}
		if c := min(l.remaining(d), earlyBytes-l.got[d]); c > 0 {
			out = append(out, share{l: l, dir: d, pos: total - rem, amt: c})
			capSum += c
		}
	}
	if capSum == 0 {
		return out, rem
	}
	give := min(rem, capSum)
	for i := n0; i < len(out); i++ {
		sh := &out[i]
		sh.amt *= give / capSum
		if sh.done = sh.amt >= sh.l.remaining(d); sh.done {
			sh.end = total - rem + give
		}
	}
	return out, rem - give
}

// unfinishedWithin reports whether the launches made by t that the model
// has not finished are expected to move at most budget bytes (TX + RX): a
// row of the fit cut at t counts them in the next, though some of those
// bytes, or all where the model expects too much, crossed the link before
// the cut (learn.go). Launches after t are not in the model's way yet
// (events may be handled ahead of the samples), nor are those counted in
// a row already (learn.go, countReadyBy).
func (g *gpuState) unfinishedWithin(t int64, budget float64) bool {
	var b float64
	for _, s := range g.streams {
		for _, l := range s.q[s.head:] {
			if l.hostNs > t {
				break
			}
			if l.left > 0 && !l.counted {
				if b += l.exp[tx] + l.exp[rx]; b > budget {
					return false
				}
			}
		}
	}
	return true
}
