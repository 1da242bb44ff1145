package correlate_test

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

// feed runs a loaded trace through an engine, events delayed by delayNs
// behind the samples (as a ring buffer read late would place them).
func feed(tr *trace.Trace, delayNs int64) *collect {
	c := newCollect()
	e := correlate.New(correlate.Options{}, c)
	for _, p := range tr.Processes {
		e.AddProcess(p)
	}
	for _, g := range tr.GPUs {
		e.AddGPU(g)
	}
	for _, k := range tr.Clocks {
		e.AddClock(k)
	}
	evs := tr.Events
	for _, s := range tr.Samples {
		for len(evs) > 0 && int64(evs[0].TsNs)+delayNs <= s.MonoAfterNs {
			e.AddEvent(evs[0])
			evs = evs[1:]
		}
		e.AddSample(s)
	}
	for _, ev := range evs {
		e.AddEvent(ev)
	}
	e.Finish()
	return c
}

func TestReorderWindow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 200, Ops: bigOps, StepGapNs: 30_000_000, Seed: 8, LagNs: 300_000})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	inOrder, late := feed(tr, 0), feed(tr, 1_500_000_000)
	for op := range truth.OpTx {
		if a, b := inOrder.tx[op], late.tx[op]; a != b || a == 0 {
			t.Errorf("%s: %.0f bytes in order, %.0f with events 1.5 s late", op, a, b)
		}
	}
	if s := rightShare(truth, late); s < 0.98 {
		t.Errorf("late events: right share %.4f", s)
	}
}
