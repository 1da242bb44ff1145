package correlate_test

import (
	"path/filepath"

	"github.com/linkprof/linkprof/trace"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
)

// collect keeps what an analysis emits, summed per op.
type collect struct {
	calls      map[string]uint64 // executed
	captured   map[string]uint64
	phases     map[string]uint64 // executed and captured, per phase
	tx, rx     map[string]float64
	unTx       float64
	unRx       float64
	intervals  int
	bursts     []correlate.Burst
	incomplete int
	lastEnd    map[uint64]int64
	// capturedRan counts capture-time calls with bytes or GPU time.
	capturedRan int
}

func newCollect() *collect {
	return &collect{calls: map[string]uint64{}, captured: map[string]uint64{}, phases: map[string]uint64{}, tx: map[string]float64{}, rx: map[string]float64{}, lastEnd: map[uint64]int64{}}
}

func (c *collect) Call(call *correlate.Call) {
	op := call.Kind.Op()
	c.phases[call.Phase.String()]++
	if !call.Executed() {
		c.captured[op]++
		if call.TxBytes+call.RxBytes+call.ExpTx+call.ExpRx != 0 || call.GPUTimeNs() != 0 {
			c.capturedRan++
		}
		return
	}
	c.calls[op]++
	c.tx[op] += call.TxBytes
	c.rx[op] += call.RxBytes
	if !call.Complete && call.ExpTx+call.ExpRx > 0 {
		c.incomplete++
	}
}

func (c *collect) Interval(iv *correlate.Interval) {
	c.intervals++
	c.unTx += iv.UnTx
	c.unRx += iv.UnRx
}

func (c *collect) Burst(b *correlate.Burst) { c.bursts = append(c.bursts, *b) }

// run records cfg and analyzes it.
func run(t *testing.T, cfg sim.Config, opts correlate.Options) (*sim.Truth, *collect, *correlate.Result) {
	t.Helper()
	dir := t.TempDir() + "/rec"
	truth, err := sim.Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollect()
	res, err := correlate.Analyze(dir, opts, c)
	if err != nil {
		t.Fatal(err)
	}
	return truth, c, res
}

// rightShare is the fraction of true link bytes (both directions) that
// landed on the op that caused them.
func rightShare(truth *sim.Truth, c *collect) float64 {
	var right, all float64
	for op, v := range truth.OpTx {
		all += v + truth.OpRx[op]
		right += min(v, c.tx[op]) + min(truth.OpRx[op], c.rx[op])
	}
	return right / all
}

// writeTrace writes a recording folder: a start record, what body
// writes, a stop record.
func writeTrace(t *testing.T, body func(w *trace.Writer)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "test", Clock: trace.Clock{Source: "start", MonoNs: 1, WallNs: 1}})
	body(w)
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: trace.Clock{Source: "stop", MonoNs: 10_000_000_000, WallNs: 10_000_000_000}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeEvents(w *trace.Writer, evs []trace.Event) {
	var raw []byte
	for _, e := range evs {
		raw = trace.AppendEvent(raw, e)
	}
	w.WriteEvents(raw)
}
