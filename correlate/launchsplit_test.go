package correlate

import (
	"math"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// splitRig drives a learner's rows by hand: one GPU whose link is active,
// one stream, launches of a graph captured before the recording and a
// known column that keeps every row out of the launch sums, so the rows'
// launch counts can be read back.
type splitRig struct {
	ln    *learner
	g     *gpuState
	s     *stream
	graph int
	other int
}

func newSplitRig() *splitRig {
	ln := newLearner(nil)
	g := &gpuState{index: 0}
	g.seg.open, g.seg.lastActiveEnd, g.lastT = true, math.MaxInt64, math.MaxInt64
	r := &splitRig{ln: ln, g: g, s: &stream{}}
	r.graph = ln.fit.col(column{kind: trace.GraphLaunch, pid: 7, graph: 1})
	r.other = ln.fit.col(column{kind: trace.AllReduce, class: 80, nranks: 2})
	return r
}

const ms = 1_000_000

// launchAt launches the graph at t ms.
func (r *splitRig) launchAt(t int64) {
	c := &Call{Kind: trace.GraphLaunch, Pid: 7, Graph: 1, baseTx: 0.5, baseRx: 0.5}
	r.ln.launchedUnknown(r.g, &launch{calls: []*Call{c}, hostNs: t * ms}, r.s)
}

// knownAt queues a launch of known bytes on the same stream at t ms.
func (r *splitRig) knownAt(t int64) {
	r.ln.queued(r.g, &launch{hostNs: t * ms}, r.s)
}

// cutAt ends the open row at t ms, with a known call in it.
func (r *splitRig) cutAt(t int64) {
	lg := r.ln.of(r.g)
	r.ln.place(lg, entry{col: r.other, a: 1e6}, false)
	lg.bytes += 1e6
	r.ln.cut(r.g, lg, t*ms)
}

// launches are the graph's launch counts of the rows the fit holds.
func (r *splitRig) launches() []float64 {
	var out []float64
	for _, row := range r.ln.fit.rows {
		n := 0.0
		for _, e := range row.entries {
			if e.col == r.graph {
				n += e.a
			}
		}
		out = append(out, n)
	}
	return out
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// A launch runs from its launch time to its stream's next work: cut a
// quarter into that window, the row holds a quarter of it and the next
// row the rest; the row waits for the next launch to know the window.
func TestLaunchSplitAtCutByItsWindow(t *testing.T) {
	r := newSplitRig()
	r.launchAt(0)
	r.launchAt(20)
	r.cutAt(25)
	if got := r.launches(); len(got) != 0 {
		t.Fatalf("rows %v before the launch at 20 ms knows its end: want the row held", got)
	}
	r.launchAt(40)
	if got, want := r.launches(), []float64{1.25}; !near(got, want) {
		t.Fatalf("rows count %v launches, want %v (the launch at 20 ms ran 20-40 ms: a quarter before the cut at 25)", got, want)
	}
	r.cutAt(50) // nothing follows the launch at 40 ms: the next cut closes its window
	r.cutAt(60)
	if got, want := r.launches(), []float64{1.25, 1.25, 0.5}; !near(got, want) {
		t.Errorf("rows count %v launches, want %v (the launch at 40 ms taken to run 40-60 ms)", got, want)
	}
}

// Known work queued on the stream ends a launch's window: cut after it,
// the launch belongs to its row whole, and the row is not held.
func TestLaunchWindowEndsAtKnownWork(t *testing.T) {
	r := newSplitRig()
	r.launchAt(0)
	r.knownAt(10)
	r.cutAt(25)
	if got, want := r.launches(), []float64{1}; !near(got, want) {
		t.Errorf("rows count %v launches, want %v", got, want)
	}
	r.launchAt(30)
	r.knownAt(40)
	r.cutAt(35)
	if got, want := r.launches(), []float64{1, 0.5}; !near(got, want) {
		t.Errorf("rows count %v launches, want %v (the launch at 30 ms ran until the call at 40)", got, want)
	}
}

// A launch made while the link was quiet starts with its next active
// interval, not at its launch time.
func TestWaitingLaunchStartsWithTheLink(t *testing.T) {
	r := newSplitRig()
	r.g.seg.lastActiveEnd = 5 * ms
	r.launchAt(10)
	lg := r.ln.of(r.g)
	r.ln.interval(r.g, &Interval{StartNs: 30 * ms, EndNs: 31 * ms, TxBytes: 1e6, RxBytes: 1e6}, 1e9, true)
	r.knownAt(50)
	r.cutAt(40)
	if got, want := r.launches(), []float64{0.5}; !near(got, want) || len(lg.waiting) != 0 {
		t.Errorf("rows count %v launches (waiting %v), want %v: the launch ran 30-50 ms", got, lg.waiting, want)
	}
}
